"""Pieces every annealing kernel shares: the empty start, lattice rounding, replica seeds, the β schedule's
range and the start check."""
from __future__ import annotations

import numpy as np

from .schedule import check_beta_range

NO_START = np.empty(0, dtype=np.int64)


def lattice_round(w, n_layers) -> np.ndarray:
    """The layer sums ``{−L, −L+2, …, L}`` nearest real weights ``w`` (clipped to ±L), as int64."""
    L = int(n_layers)
    return np.clip(2 * np.round((np.asarray(w, dtype=np.float64) + L) / 2) - L, -L, L).astype(np.int64)


def replica_seeds(seed, num_reads) -> np.ndarray:
    """One generator seed per read from ``seed``; read r's seed does not depend on ``num_reads``."""
    return np.random.SeedSequence(seed).generate_state(num_reads, np.uint32).astype(np.int64)


def schedule_range(beta_range, num_reads, start, default) -> tuple[float, float]:
    """(hot, cold): the caller's ``beta_range`` (checked), else ``default()`` — or NaN when the only read
    descends from ``start`` and no schedule is used."""
    if beta_range is not None:
        return check_beta_range(beta_range)
    if num_reads > 1 or not start.size:
        return default()
    return float("nan"), float("nan")


def check_start(start, n_features, n_layers) -> np.ndarray:
    """``start`` as C-contiguous int64 layer sums of length P on the lattice, or empty for None."""
    if start is None or len(start) == 0:
        return NO_START
    start = np.ascontiguousarray(start, dtype=np.int64)
    if start.shape != (n_features,) or np.any(np.abs(start) > n_layers) or np.any((start + n_layers) % 2):
        raise ValueError(f"start must hold {n_features} layer sums in {{-L, -L+2, ..., L}} for L = {n_layers}")
    return start
