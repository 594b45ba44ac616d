"""Checks on user numbers that float arithmetic would otherwise turn into inf, NaN or a RuntimeWarning.

Shared by the data layer and the learners, so each refusal names the column (or parameter) and the reason
the same way everywhere.
"""
from __future__ import annotations

import numpy as np

from ._text import shown
from .errors import DataError, QBoostTNError

FLOAT32_MAX = float(np.finfo(np.float32).max)
# The smallest range whose reciprocal is still a finite float64 (ranges below are subnormal numbers).
SMALLEST_INVERTIBLE = 1.0 / float(np.finfo(np.float64).max)


def column_label(names, j: int) -> str:
    return f"feature {shown(names[j], 80)} (column {j})" if names is not None else f"feature column {j}"


def _labels(names, columns) -> str:
    shown_cols = [column_label(names, int(j)) for j in columns[:5]]
    return ", ".join(shown_cols) + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")


def check_float32(X, names=None, where: str = "") -> None:
    """Refuse float values that a float32 copy would turn into inf (with a RuntimeWarning), naming columns."""
    X = np.asarray(X)
    if X.dtype.kind != "f" or X.dtype.itemsize <= 4 or X.size == 0:
        return
    with np.errstate(invalid="ignore"):
        over = np.abs(X) > FLOAT32_MAX  # NaN compares False: NaN is reported by the callers' own checks
    if over.any():
        columns = np.unique(np.nonzero(over)[1]) if X.ndim == 2 else np.array([0])
        raise DataError(f"{where}{_labels(names, columns)}: values beyond float32's range (about ±3.4e+38), "
                        "the precision features are kept in; rescale (e.g. other units) or drop")


def inverse_ranges(lo, hi, names=None) -> np.ndarray:
    """``1 / (hi - lo)`` per column, 0 for constant columns, for min-max scaling.

    Raises :class:`DataError` naming the column when the range overflows float64, or is so small (a
    subnormal number, e.g. a column spanning [0, 1e-309]) that its reciprocal overflows.
    """
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        span = hi - lo
    bad = np.flatnonzero(~np.isfinite(span))
    if bad.size:
        j = int(bad[0])
        raise DataError(f"{column_label(names, j)} spans {lo[j]:g} to {hi[j]:g}: its range overflows float64, "
                        "so it cannot be scaled; rescale or drop it")
    tiny = np.flatnonzero((span > 0) & (span < SMALLEST_INVERTIBLE))
    if tiny.size:
        j = int(tiny[0])
        raise DataError(f"{column_label(names, j)} spans only {lo[j]:g} to {hi[j]:g}: a range this small has no "
                        "finite reciprocal in float64, so it cannot be scaled; multiply it by a large factor, or "
                        "drop it (it is as good as constant)")
    return np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)


def standard_scaling(X, names=None, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, 1 / standard deviation)`` per column, scale 0 for constant columns, for standardising; with
    row ``weights``, the weighted ones (an integer weight counts as that many copies of the row).

    Raises :class:`DataError` naming the column when its deviation overflows float64 (values beyond about
    1e154, whose squares overflow) or has no finite reciprocal.
    """
    X = np.asarray(X, dtype=np.float64)
    mean = np.average(X, axis=0, weights=weights)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        squares = X - mean
        squares *= squares  # in place: one working copy of X, as the learner's memory check counts
        spread = np.sqrt(np.average(squares, axis=0, weights=weights))
    bad = np.flatnonzero(~np.isfinite(spread) | ((spread > 0) & (spread < SMALLEST_INVERTIBLE)))
    if bad.size:
        j = int(bad[0])
        raise DataError(f"{column_label(names, j)}: its standard deviation has no finite float64 value or "
                        "reciprocal, so it cannot be standardised; rescale it (e.g. other units) or drop it")
    return mean, np.divide(1.0, spread, out=np.zeros_like(spread), where=spread > 0)


def rbf_gamma(bandwidth: float, median: float, kind: str) -> tuple[float, float]:
    """``(sigma, gamma)`` of an RBF map, ``sigma = bandwidth * median`` and ``gamma = 1 / (2 sigma^2)``.

    Raises :class:`QBoostTNError` naming ``bandwidth`` when either is not a finite positive float64.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        sigma = np.float64(bandwidth) * np.float64(median)
        gamma = 1.0 / (2.0 * sigma * sigma)
        inverse = 1.0 / sigma
    if not (np.isfinite(sigma) and sigma > 0 and np.isfinite(gamma) and gamma > 0 and np.isfinite(inverse)
            and inverse > 0):
        raise QBoostTNError(f"features={kind!s}: bandwidth={bandwidth:g} gives an RBF width of {float(sigma):g} "
                            f"(bandwidth x the median distance {median:g} between training rows), too "
                            f"{'large' if not sigma < 1 else 'small'} for float64 (1/(2 width^2) = "
                            f"{float(gamma):g}); bandwidths of order 0.1 to 10 are the useful range")
    return float(sigma), float(gamma)


__all__ = ["FLOAT32_MAX", "SMALLEST_INVERTIBLE", "check_float32", "column_label", "inverse_ranges", "rbf_gamma"]
