"""How an integer weight ``W_j ∈ {−L, −L+2, …, L}`` is spelled in spins on hardware: unary or binary.

The learner's energy depends on spins only through ``W_j``. Both encodings write ``W_j = Σ_b c_b σ_{b,j}``
over K spins with integer coefficients ``c``:

* ``"unary"``: ``c = (1, …, 1)``, K = L spins — the problem's own BQM (:meth:`to_bqm`);
* ``"binary"``: ``c = (1, 2, 4, …, 2^(K−2), L − 2^(K−1) + 1)``, K = ⌈log₂(L+1)⌉ spins. With
  ``x_b = (1 + σ_b) / 2`` the count ``m = (W + L) / 2 = Σ_b c_b x_b`` runs over exactly 0..L (the last
  coefficient is cut so it never exceeds L), so every spin state is a valid weight.

So ``W = C σ`` and the encoded BQM is ``σᵀ (c cᵀ ⊗ Q) σ + (c ⊗ h)ᵀ σ + offset``, spin ``(b, j)`` labelled
``b * P + j`` like the problem's own layout. Binary needs fewer spins (L = 4: 3 instead of 4; L = 3: 2 instead
of 3; L ≤ 2: the same) but couplings up to ``c_max²`` times larger, which a QPU's fixed coupling range and
its precision pay for.
"""
from __future__ import annotations

import math

import dimod
import numpy as np

from ...errors import QBoostTNError
from ..._text import shown

ENCODINGS = ("unary", "binary")


def weight_coefficients(n_layers, encoding="unary") -> np.ndarray:
    """The integer coefficients ``c`` (length K) with ``W = Σ_b c_b σ_b`` spanning {−L, …, L} in steps of 2."""
    L = int(n_layers)
    if encoding == "unary":
        return np.ones(L, dtype=np.int64)
    if encoding != "binary":
        raise QBoostTNError(f"unknown weight encoding {shown(encoding)}; use one of {list(ENCODINGS)}")
    K = max(1, math.ceil(math.log2(L + 1)))
    coefficients = 2 ** np.arange(K, dtype=np.int64)
    coefficients[-1] = L - (2 ** (K - 1) - 1)  # 1 + 2 + … + 2^(K−2) + last = L
    return coefficients


def spins_per_weight(n_layers, encoding="unary") -> int:
    """K: spins one weight takes in ``encoding``."""
    return len(weight_coefficients(n_layers, encoding))


def encoded_bqm(Q, h, offset, coefficients) -> dimod.BinaryQuadraticModel:
    """SPIN BQM over ``K · P`` spins (label ``b * P + j``) whose energy is ``Wᵀ Q W + hᵀ W + offset`` at
    ``W = Σ_b c_b σ_{b, ·}``; with ``c = 1`` it is the problem's own :meth:`to_bqm`."""
    c = np.asarray(coefficients, dtype=np.float64)
    return dimod.BQM(np.kron(c, h), np.kron(np.outer(c, c), Q), float(offset), dimod.SPIN)


def decode_sums(spins, coefficients) -> np.ndarray:
    """Layer sums ``W`` (R, P) of encoded spins (R, K · P) in label order ``b * P + j``."""
    c = np.asarray(coefficients, dtype=np.int64)
    spins = np.asarray(spins, dtype=np.int64)
    return np.einsum("b,rbp->rp", c, spins.reshape(spins.shape[0], len(c), -1))
