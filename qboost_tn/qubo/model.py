"""The layered Ising problem of one binary task: energy as a function of W = sum of L spin layers, and its BQM.

Every training problem of the shallow-wide learner (and of classic QBoost, with L = 1) has the form

    E(s) = Wᵀ Q W + hᵀ W + offset,    W = s.sum(axis=0),    s ∈ {−1, +1}^(L × P)

so a solver may either anneal the P·L spins of :meth:`LayeredProblem.to_bqm` (any dimod sampler) or exploit
that the L spins of a feature are interchangeable.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import dimod
import numpy as np


def check_count(value, name) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_arrays(Q, h, n_layers):
    """Validated (Q, h, L): Q square, symmetric and finite (as C-contiguous float64), h of length P."""
    L = check_count(n_layers, "n_layers (L)")
    Q = np.ascontiguousarray(Q, dtype=np.float64)
    h = np.ascontiguousarray(h, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ValueError(f"Q must be a square matrix, got shape {Q.shape}")
    if h.shape != (Q.shape[0],):
        raise ValueError(f"h has shape {h.shape}, expected ({Q.shape[0]},) to match Q")
    if not np.isfinite(Q).all():
        raise ValueError("Q contains NaN or inf: it must be finite")
    if not np.isfinite(h).all():
        raise ValueError("h contains NaN or inf: it must be finite")
    scale = float(np.abs(Q).max(initial=0.0))
    if not np.allclose(Q, Q.T, rtol=1e-10, atol=1e-12 * max(scale, 1e-300)):
        raise ValueError("Q must be symmetric (E = Wᵀ Q W only sees Q + Qᵀ; pass (Q + Q.T) / 2)")
    return Q, h, L


@dataclass(frozen=True, eq=False)
class LayeredProblem:
    """Quadratic energy of the layer sum ``W`` of ``n_layers`` spin layers over ``P`` features.

    Attributes
    ----------
    Q : ndarray of shape (P, P), float64
        Symmetric coupling matrix of the layer sums.
    h : ndarray of shape (P,), float64
        Fields on the layer sums.
    offset : float
        Constant energy.
    n_layers : int
        Number of spin layers ``L``; the BQM has ``P * L`` spins, spin ``(l, j)`` labelled ``l * P + j``.
    """

    Q: np.ndarray
    h: np.ndarray
    offset: float
    n_layers: int

    def __post_init__(self):
        Q, h, L = check_arrays(self.Q, self.h, self.n_layers)
        if not np.isfinite(self.offset):
            raise ValueError("LayeredProblem: offset must be finite")
        object.__setattr__(self, "Q", (Q + Q.T) / 2)
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "offset", float(self.offset))
        object.__setattr__(self, "n_layers", L)

    @property
    def n_features(self) -> int:
        return self.h.shape[0]

    @property
    def n_variables(self) -> int:
        return self.n_features * self.n_layers

    def energy_of_sums(self, W) -> np.ndarray:
        """Energy of layer sums ``W`` of shape (..., P)."""
        W = np.asarray(W, dtype=np.float64)
        return np.einsum("...i,ij,...j->...", W, self.Q, W) + W @ self.h + self.offset

    def energy(self, spins) -> np.ndarray:
        """Energy of spins of shape (..., L, P) with values in {−1, +1}."""
        spins = np.asarray(spins)
        if spins.shape[-2:] != (self.n_layers, self.n_features):
            raise ValueError(f"energy: spins must end in shape ({self.n_layers}, {self.n_features}), "
                             f"got {spins.shape}")
        return self.energy_of_sums(spins.sum(axis=-2))

    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """The SPIN BQM over ``P * L`` variables (label ``l * P + j``) whose energy equals :meth:`energy`.

        Every pair of spins ``(l, j), (m, k)`` couples with ``Q[j, k]``: the dense ``(P L)²`` matrix
        ``kron(ones(L, L), Q)``. dimod adds its symmetric halves into one coupler and moves the diagonal
        (``s² = 1``) into the offset, so the energies agree exactly.
        """
        L = self.n_layers
        J = np.kron(np.ones((L, L)), self.Q)
        return dimod.BQM(np.tile(self.h, L), J, self.offset, dimod.SPIN)

    def spins_from_sample(self, sample) -> np.ndarray:
        """(L, P) spins from one sample of :meth:`to_bqm` (a mapping label -> spin, or a row in label order)."""
        if isinstance(sample, dict) or hasattr(sample, "keys"):
            row = np.array([sample[v] for v in range(self.n_variables)])
        else:
            row = np.asarray(sample)
        if row.shape != (self.n_variables,):
            raise ValueError(f"spins_from_sample: expected {self.n_variables} values, got shape {row.shape}")
        return row.reshape(self.n_layers, self.n_features).astype(np.int8)

    def spins_from_sampleset(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """(n_samples, L, P) spins of a SampleSet over :meth:`to_bqm`'s variables, in the set's order."""
        labels = list(sampleset.variables)
        missing = set(range(self.n_variables)) - set(labels)
        if missing or len(labels) != self.n_variables:
            raise ValueError(f"the sampler returned {len(labels)} variables; the problem has {self.n_variables} "
                             f"labelled 0..{self.n_variables - 1}")
        order = np.argsort(np.asarray(labels))
        records = np.asarray(sampleset.record.sample)[:, order]
        if sampleset.vartype is dimod.BINARY:
            records = 2 * records - 1
        return records.reshape(-1, self.n_layers, self.n_features).astype(np.int8)


def least_squares_problem(X, y, *, scale, lam, regularizer, n_layers, curvature=None,
                          sample_weight=None) -> LayeredProblem:
    """Squared loss of ``f(x) = scale · Wᵀ x + b`` plus λ·R(W), with the bias ``b`` minimised out.

    Energy (a weighted mean over samples, so λ means the same for any number of samples):

        Σ_i v_i (scale · Wᵀ x̃_i − ỹ_i)² + λ · u · R(W),    Σ_i v_i = 1 (v_i = 1/N without weights)

    with ``x̃``, ``ỹ`` centred on their (weighted) means — minimising over a free bias leaves exactly this,
    and the best bias is then ``b = ȳ − scale · Wᵀ x̄`` — and ``R(W) = Σ_j W_j²`` (``"squared"``) or
    ``Σ_j W_j`` (``"linear"``). ``u = scale² · curvature`` puts λ in units of the data term's curvature, by
    default the mean feature variance, so λ keeps its meaning when features are rescaled or their number
    changes.
    """
    v, Xc, yc = _centred(X, y, sample_weight)
    if curvature is None:
        curvature = feature_curvature(Xc)
    Q = scale**2 * (Xc.T @ (v[:, None] * Xc))
    h = -2.0 * scale * (Xc.T @ (v * yc))
    unit = lam * scale**2 * curvature
    if regularizer == "squared":
        Q = Q + unit * np.eye(X.shape[1])
    elif regularizer == "linear":
        h = h + unit
    else:
        raise ValueError(f"unknown regularizer {regularizer!r}; use 'squared' or 'linear'")
    return LayeredProblem(Q, h, float(v @ yc**2), n_layers)


def ridge_weights(X, y, *, lam, curvature, sample_weight=None) -> np.ndarray:
    """Continuous minimiser ``w`` of the same loss with ``scale · W`` relaxed to real weights ``w``.

    In ``w`` the squared regulariser is ``λ · curvature · ||w||²`` whatever the scale, so this is ridge
    regression with ``α = λ · curvature``; it tells which weight sizes the spins must represent.
    """
    v, Xc, yc = _centred(X, y, sample_weight)
    gram = Xc.T @ (v[:, None] * Xc)
    # A tiny floor keeps λ = 0 solvable when features outnumber samples.
    alpha = max(lam * curvature, 1e-8 * curvature)
    return np.linalg.solve(gram + alpha * np.eye(X.shape[1]), Xc.T @ (v * yc))


def _centred(X, y, sample_weight):
    """(weights summing to 1, X and y centred on their weighted means): minimising out a free bias."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    v = np.full(X.shape[0], 1.0 / X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    v = v / v.sum()
    return v, X - v @ X, y - v @ y


def feature_curvature(Xc) -> float:
    """Mean variance of centred features (1.0 when every feature is constant, so λ stays finite)."""
    value = float(np.mean(np.asarray(Xc) ** 2)) if np.size(Xc) else 0.0
    return value if value > 0 else 1.0
