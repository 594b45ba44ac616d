"""TT-SVD: a weight matrix into tensor-train (MPO) cores by one left-to-right sweep of truncated SVDs."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .shapes import clip_bonds, n_core_params


@dataclass
class TTResult:
    """Output of :func:`tt_svd`.

    Attributes
    ----------
    cores : list of Tensor
        Core ``k`` has shape ``(chi_{k-1}, b_k, a_k, chi_k)``; ``chi_0 = chi_n = 1``.
    singular_values : list of Tensor
        Full spectrum met at each cut during the sweep (kept and discarded), descending.
    max_bond : list of int
        Kept bond dimension at each cut.
    discarded_weight : float
        Sum of the squared singular values dropped over all cuts. Because the sweep keeps the left cores
        orthonormal this equals ``||W_pad - W_tt||_F^2`` exactly (up to rounding), where ``W_pad`` is the
        weight zero-padded to the mode products.
    rel_error : float
        ``sqrt(discarded_weight) / ||W||_F``. With padding, part of the error falls into the padded rows and
        columns, which the layer never uses, so this bounds the layer's own error from above
        (:attr:`MPOLinear.rel_error` style figures in :func:`compress` are measured on the real weight).
    """

    cores: list
    singular_values: list
    max_bond: list
    discarded_weight: float
    rel_error: float


def _check_criteria(max_bond, rel_tol, param_fraction):
    given = [n for n, v in (("max_bond", max_bond), ("rel_tol", rel_tol), ("param_fraction", param_fraction))
             if v is not None]
    if len(given) > 1:
        raise ValueError(f"tt_svd: give at most one of max_bond, rel_tol, param_fraction (got {given})")
    if rel_tol is not None and not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must lie in (0, 1), got {rel_tol}")
    if param_fraction is not None and not param_fraction > 0:
        raise ValueError(f"param_fraction must be > 0, got {param_fraction}")


def bond_for_fraction(param_fraction, in_modes, out_modes, dense_params) -> int:
    """Largest uniform bond whose cores hold at most ``param_fraction * dense_params`` numbers."""
    budget = param_fraction * dense_params
    if n_core_params(in_modes, out_modes, clip_bonds(1, in_modes, out_modes)) > budget:
        need = n_core_params(in_modes, out_modes, clip_bonds(1, in_modes, out_modes))
        raise ValueError(f"param_fraction {param_fraction} allows {budget:.0f} parameters but even bond 1 "
                         f"needs {need} with modes {tuple(in_modes)} -> {tuple(out_modes)}; use fewer "
                         "cores or a larger fraction")
    top = max(clip_bonds(10 ** 9, in_modes, out_modes) or [1])
    lo, hi = 1, top  # parameters grow monotonically with the bond: bisect for the last one within budget
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if n_core_params(in_modes, out_modes, clip_bonds(mid, in_modes, out_modes)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def tt_svd(weight, in_modes, out_modes, max_bond=None, rel_tol=None, param_fraction=None) -> TTResult:
    """Factor ``weight`` (out x in, padded with zeros up to the mode products) into MPO cores.

    Parameters
    ----------
    weight : Tensor of shape (out_features, in_features)
        Must be finite. Computed in float64; cores are returned in ``weight``'s floating dtype.
    in_modes, out_modes : sequence of int, same length n
        ``prod(in_modes) >= in_features``, ``prod(out_modes) >= out_features``; the excess is zero-padding.
    max_bond : int or sequence of n - 1 int, optional
        Keep at most this many singular values per cut (>= 1).
    rel_tol : float in (0, 1), optional
        Keep ``||W - W_tt||_F <= rel_tol * ||W||_F``; the squared-error budget is shared out over the cuts
        as the sweep goes (each cut may use what the earlier ones left unused).
    param_fraction : float > 0, optional
        Largest uniform bond whose cores have at most this fraction of ``out_features * in_features``.

    With none of the three, the factorisation is exact (bonds clipped to their largest useful size).

    Returns
    -------
    TTResult
    """
    _check_criteria(max_bond, rel_tol, param_fraction)
    weight = torch.as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"tt_svd: weight must be 2-D (out x in), got shape {tuple(weight.shape)}")
    if not torch.isfinite(weight).all():
        raise ValueError("tt_svd: weight contains NaN or inf")
    in_modes, out_modes = tuple(int(a) for a in in_modes), tuple(int(b) for b in out_modes)
    if len(in_modes) != len(out_modes):
        raise ValueError(f"tt_svd: {len(in_modes)} in-modes but {len(out_modes)} out-modes")
    out_f, in_f = weight.shape
    if math.prod(in_modes) < in_f or math.prod(out_modes) < out_f:
        raise ValueError(f"tt_svd: modes {in_modes} -> {out_modes} (product {math.prod(in_modes)} -> "
                         f"{math.prod(out_modes)}) cannot hold a {out_f} x {in_f} weight")
    n = len(in_modes)
    if param_fraction is not None:
        max_bond = bond_for_fraction(param_fraction, in_modes, out_modes, out_f * in_f)
    limits = clip_bonds(max_bond if max_bond is not None else 10 ** 9, in_modes, out_modes)
    dtype = weight.dtype if weight.is_floating_point() else torch.get_default_dtype()

    padded = torch.zeros(math.prod(out_modes), math.prod(in_modes), dtype=torch.float64)
    padded[:out_f, :in_f] = weight.detach().to(torch.float64)
    # (b_1..b_n, a_1..a_n) -> (b_1, a_1, b_2, a_2, ...): each site's out- and in-index side by side.
    order = [i for k in range(n) for i in (k, n + k)]
    rest = padded.reshape(*out_modes, *in_modes).permute(*order).reshape(-1)
    total = float(padded.pow(2).sum())
    budget = (rel_tol ** 2) * total if rel_tol is not None else 0.0

    cores, spectra, bonds, discarded, left = [], [], [], 0.0, 1
    for k in range(n - 1):
        site = in_modes[k] * out_modes[k]
        u, s, vh = torch.linalg.svd(rest.reshape(left * site, -1), full_matrices=False)
        keep = min(limits[k], len(s))
        if rel_tol is not None:
            # tail[j] = squared weight dropped when keeping j values; share what is left of the budget
            # evenly among the cuts still to come.
            tail = torch.flip(torch.cumsum(torch.flip(s ** 2, [0]), 0), [0]).tolist() + [0.0]
            allowed = (budget - discarded) / (n - 1 - k)
            keep = next(j for j in range(1, len(s) + 1) if tail[j] <= allowed)
        discarded += float((s[keep:] ** 2).sum())
        spectra.append(s.to(dtype))
        bonds.append(keep)
        cores.append(u[:, :keep].reshape(left, out_modes[k], in_modes[k], keep))
        rest = s[:keep, None] * vh[:keep]
        left = keep
    cores.append(rest.reshape(left, out_modes[-1], in_modes[-1], 1))
    rel_error = math.sqrt(discarded / total) if total > 0 else 0.0
    return TTResult([c.to(dtype).contiguous() for c in cores], spectra, bonds, discarded, rel_error)
