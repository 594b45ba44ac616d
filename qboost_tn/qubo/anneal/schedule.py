"""The project's one β-range heuristic: (hot, cold) inverse temperatures of an annealing schedule.

Every annealer here (the layered annealer on ``W_j``, the factored annealer, the dense BQM sampler, and any
dimod sampler wrapped by :class:`~qboost_tn.qubo.solvers.DimodLayeredSolver`) moves in steps that change one
layer sum ``W_j`` by ±2: flipping spin ``(l, j)`` of the P·L-spin BQM does exactly that. So one rule, computed
from the layered energy ``E(W) = Wᵀ Q W + hᵀ W``, serves them all. It is pure numpy (no loop over couplers)
and needs from ``Q`` only products ``Q W``, its diagonal and a sample of its couplings, so it works on a
factored ``Q`` without forming the P × P matrix.
"""
from __future__ import annotations

import numpy as np

from ..._text import shown

# Random states whose typical move cost sets the hot end of the schedule.
PROBE_STATES = 8
# Off-diagonal couplings examined for the cold end when L = 1: all of them up to this many pairs (the MNIST
# 20x20 problems have 79,800), a fixed random sample of this size beyond (a median needs no more).
MAX_PAIRS = 200_000


def check_beta_range(beta_range) -> tuple[float, float]:
    """``beta_range`` as (hot, cold) floats with 0 < hot <= cold, or a ValueError."""
    try:
        hot, cold = (float(b) for b in beta_range)
    except (TypeError, ValueError):
        raise ValueError(f"beta_range must be a pair (hot, cold) of numbers, got {shown(beta_range)}") from None
    if not (np.isfinite(hot) and np.isfinite(cold) and 0 < hot <= cold):
        raise ValueError(f"beta_range must satisfy 0 < hot <= cold (finite), got {shown(beta_range)}")
    return hot, cold


def beta_range(problem) -> tuple[float, float]:
    """(hot, cold) for a layered problem (dense or factored): see :func:`beta_range_from`."""
    return beta_range_from(problem.h, problem.n_layers, problem.diagonal(), problem.fields, problem.couplings)


def dense_beta_range(Q, h, n_layers) -> tuple[float, float]:
    """(hot, cold) for ``Wᵀ Q W + hᵀ W`` given as a dense symmetric ``Q``: see :func:`beta_range_from`."""
    return beta_range_from(h, n_layers, np.diag(Q), lambda W: W @ Q, lambda rows, cols: Q[rows, cols])


def beta_range_from(h, n_layers, diagonal, fields, couplings) -> tuple[float, float]:
    """(hot, cold) inverse temperatures for ±2 moves of the layer sums, from the problem's energy scales.

    Hot: a typical (median) move from a random state is accepted with probability 1/2 — the start is then
    as good as random, and dwave-neal's worst-case bound (every field adding up) spends most of the schedule
    hotter than that on dense problems. Cold: a move of the typical smallest cost is accepted with
    probability 1 % — for L > 1 that cost is the curvature ``2 Q_jj`` (the two moves out of a local minimum
    of ``W_j`` cost ``8 Q_jj`` together), for L = 1 the typical field or coupling.

    Parameters
    ----------
    h : ndarray of shape (P,)
    n_layers : int
    diagonal : ndarray of shape (P,)
        ``Q_jj``.
    fields : callable
        ``W`` of shape (R, P) -> ``Q W`` row by row, shape (R, P).
    couplings : callable
        ``(rows, cols)`` index arrays -> ``Q[rows, cols]``.

    Returns
    -------
    (hot, cold) : tuple of float
        ``(1, 10)`` when the problem has no energy scale at all (Q = 0, h = 0): any β does.
    """
    P = h.shape[0]
    rng = np.random.default_rng(0)  # a property of the problem, not of the run's seed
    probes = (2 * rng.binomial(n_layers, 0.5, size=(PROBE_STATES, P)) - n_layers).astype(np.float64)
    costs = np.abs(2.0 * (2.0 * fields(probes) + h)) + 4.0 * np.abs(diagonal)
    typical = float(np.median(costs)) if P else 0.0
    if n_layers > 1 and (diagonal > 0).any():
        smallest = 2.0 * float(np.median(diagonal[diagonal > 0]))
    else:
        rows, cols = _pairs(P, rng)
        terms = np.concatenate([2.0 * np.abs(h), 4.0 * np.abs(couplings(rows, cols))])
        terms = terms[terms > 1e-12 * max(float(costs.max(initial=0.0)), 1e-300)]
        smallest = float(np.median(terms)) if terms.size else typical
    if not (typical > 0 and smallest > 0):
        return 1.0, 10.0
    hot = np.log(2.0) / typical
    cold = max(np.log(100.0) / smallest, 10.0 * hot)
    return float(hot), float(cold)


def _pairs(P, rng):
    """Index arrays of the pairs j < k: all of them, or :data:`MAX_PAIRS` drawn at random for large P."""
    if P * (P - 1) // 2 <= MAX_PAIRS:
        return np.triu_indices(P, k=1)
    rows = rng.integers(0, P, size=MAX_PAIRS)
    cols = (rows + rng.integers(1, P, size=MAX_PAIRS)) % P  # never equal to rows
    return rows, cols
