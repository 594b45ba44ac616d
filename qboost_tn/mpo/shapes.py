"""How a layer size is split into tensor-train modes: factorisation, zero-padding and selectable patterns."""
from __future__ import annotations

import math

import numpy as np

from .._text import shown

PATTERNS = ("balanced", "ascending", "descending", "pow2")


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    if n > 1:
        factors.append(n)
    return factors


def _balanced(n: int, n_cores: int) -> list[int]:
    """Largest primes first into the currently smallest mode (LPT): modes as even as the primes allow."""
    modes = [1] * n_cores
    for p in sorted(_prime_factors(n), reverse=True):
        modes[int(np.argmin(modes))] *= p
    return sorted(modes, reverse=True)


def _acceptable(modes, size: int, n_cores: int) -> bool:
    # A mode far above the n-th root makes the cores large; a mode of 1 wastes a core. Either means the size
    # factors badly and a slightly larger, zero-padded size is better.
    limit = 2 * math.ceil(size ** (1.0 / n_cores))
    return max(modes) <= limit and (min(modes) >= 2 or size < 2 ** n_cores)


def factorize(size: int, n_cores: int, pattern="balanced") -> tuple[int, ...]:
    """Modes ``(m_1, ..., m_n)`` whose product is ``size`` or the smallest well-factoring size above it.

    Parameters
    ----------
    size : int
        Features of one side of the layer (e.g. 62, 784, 4096).
    n_cores : int
        Number of modes.
    pattern : {"balanced", "ascending", "descending", "pow2"} or sequence of int
        ``balanced`` (default): modes as equal as possible, larger ones first; ``ascending`` / ``descending``:
        the same modes sorted; ``pow2``: pad to the next power of two, then balance (the hands-on's
        4 x 4 x 4 x 4 for 256). An explicit sequence is checked and returned: its product may exceed ``size``
        (the excess is zero-padding) but not fall short.

    Returns
    -------
    tuple of int
        ``prod(modes) >= size``; the difference is zero-padding.

    Examples
    --------
    >>> factorize(4096, 4), factorize(784, 4), factorize(62, 4)
    ((8, 8, 8, 8), (7, 7, 4, 4), (4, 4, 2, 2))
    """
    size, n_cores = int(size), int(n_cores)
    if size < 1:
        raise ValueError(f"factorize: size must be >= 1, got {size}")
    if n_cores < 1:
        raise ValueError(f"factorize: n_cores must be >= 1, got {n_cores}")
    if not isinstance(pattern, str):
        modes = tuple(int(m) for m in pattern)
        if len(modes) != n_cores or min(modes) < 1:
            raise ValueError(f"factorize: modes {modes} must be {n_cores} positive integers")
        if math.prod(modes) < size:
            raise ValueError(f"factorize: modes {modes} multiply to {math.prod(modes)}, fewer than the "
                             f"{size} features of the layer")
        return modes
    if pattern not in PATTERNS:
        raise ValueError(f"factorize: unknown pattern {shown(pattern)}; use one of {PATTERNS} or a tuple of modes")
    if pattern == "pow2":
        padded = 1 << (size - 1).bit_length()
        return tuple(_balanced(padded, n_cores))
    padded = size
    while not _acceptable(_balanced(padded, n_cores), padded, n_cores):
        padded += 1
    modes = _balanced(padded, n_cores)
    return tuple(sorted(modes) if pattern == "ascending" else modes)


def tensorize_shape(in_features: int, out_features: int, n_cores=4, in_modes=None, out_modes=None,
                    pattern="balanced") -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(in_modes, out_modes)`` for a layer, each of length ``n_cores`` (taken from explicit modes if given).

    Raises ``ValueError`` when explicit modes multiply to less than the layer's size or differ in length.
    """
    if in_modes is not None:
        n_cores = len(in_modes)
    elif out_modes is not None:
        n_cores = len(out_modes)
    in_modes = factorize(in_features, n_cores, pattern if in_modes is None else in_modes)
    out_modes = factorize(out_features, n_cores, pattern if out_modes is None else out_modes)
    return in_modes, out_modes


def max_bonds(in_modes, out_modes) -> list[int]:
    """Largest useful bond at each of the ``n - 1`` cuts: the smaller side of the unfolding matrix."""
    sites = [a * b for a, b in zip(in_modes, out_modes)]
    return [min(math.prod(sites[:k]), math.prod(sites[k:])) for k in range(1, len(sites))]


def clip_bonds(max_bond, in_modes, out_modes) -> list[int]:
    """``max_bond`` (an int or a per-cut list) checked (>= 1) and clipped to :func:`max_bonds`, one per cut."""
    limits = max_bonds(in_modes, out_modes)
    bonds = [max_bond] * len(limits) if np.isscalar(max_bond) else list(max_bond)
    if len(bonds) != len(limits):
        raise ValueError(f"max_bond: {len(bonds)} values given for {len(limits)} cuts between {len(in_modes)} "
                         "cores")
    for b in bonds:
        if int(b) != b or b < 1:
            raise ValueError(f"max_bond: bond dimensions must be integers >= 1, got {max_bond}")
    return [min(int(b), lim) for b, lim in zip(bonds, limits)]


def core_shapes(in_modes, out_modes, bonds) -> list[tuple[int, int, int, int]]:
    """Shapes ``(chi_{k-1}, b_k, a_k, chi_k)`` of the cores for out-modes ``b`` and in-modes ``a``."""
    full = [1, *bonds, 1]
    return [(full[k], b, a, full[k + 1]) for k, (a, b) in enumerate(zip(in_modes, out_modes))]


def n_core_params(in_modes, out_modes, bonds) -> int:
    return sum(math.prod(s) for s in core_shapes(in_modes, out_modes, bonds))


def check_params_fit(what: str, n_params: int, dtype=None) -> None:
    """Refuse a layer of ``n_params`` numbers (of ``dtype``, default torch's) that would not fit in memory,
    before its parameters are allocated: bonds, ranks and sizes are a user's numbers."""
    import torch

    from .._memory import check_memory, number

    itemsize = torch.empty((), dtype=dtype or torch.get_default_dtype()).element_size()
    check_memory(n_params * itemsize, f"{what} ({number(n_params)} parameters)",
                 "lower max_bond or rank (bonds are already clipped to their largest useful size) or the sizes")
