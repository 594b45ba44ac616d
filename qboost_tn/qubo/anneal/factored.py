"""Annealing of wide least-squares problems in factored form: ``Q = F Fᵀ + diag(d)``, O(N) per move.

With P features and N ≪ P samples the dense P × P coupling matrix of the learner's energy is mostly
redundant: ``Q`` has rank at most N plus its diagonal. :class:`~qboost_tn.qubo.model.FactoredLayeredProblem`
keeps ``F`` (P × N) instead, and this annealer keeps the N predictions ``u = Fᵀ W`` instead of the P fields, so
a proposal costs O(N), an accepted move O(N) (the dense annealer: O(1) and O(P)), and memory is O(N·P).

Same schedule (:func:`qboost_tn.qubo.anneal.schedule.beta_range`), same random starts and proposals per seed, and the
same closing descent over single and pair moves as :func:`qboost_tn.qubo.anneal.layered.anneal_layered`.
:class:`~qboost_tn.qubo.anneal.layered.LayeredAnnealingSolver` calls this for factored problems whose dense ``Q``
would exceed ``anneal.layered.DENSE_KERNEL_BYTES`` (smaller ones it anneals on ``Q`` formed once: the closing
pair search then reads couplings instead of forming them each pass). Its warm start,
:func:`relaxed_factored_start`, needs no P × P matrix either way.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from .common import NO_START, check_start, lattice_round, replica_seeds, schedule_range
from .kernels import anneal_factored_sums
from ..model import FactoredLayeredProblem, check_count, one_blas_thread
from .schedule import beta_range as problem_beta_range

# Descent passes cap, as in anneal.layered (the descent stops on its own when nothing improves).
DESCENT_PASSES = 1000
# Rows of F F^T formed at once when computing the exact pair-search bound (chunk x P floats of scratch).
REACH_CHUNK = 256
# Rows of the candidates' coupling matrix formed at once in the pair search of the closing descent.
PAIR_BLOCK = 512
# Above this many multiply-adds (N · P²) the pair-search bound falls back to Cauchy–Schwarz, O(N · P).
EXACT_REACH_FLOPS = 2e10


def pair_reach(factor) -> np.ndarray:
    """Per feature, an upper bound of ``8 max_{k≠j} |Q_jk|`` (``Q_jk = F_j · F_k`` off the diagonal).

    Exact (from ``F Fᵀ`` formed :data:`REACH_CHUNK` rows at a time, never whole) while ``N · P²`` stays below
    :data:`EXACT_REACH_FLOPS`; beyond that ``8 ‖F_j‖ max_{k≠j} ‖F_k‖``. A looser bound only widens the pair
    search of the closing descent.
    """
    P, N = factor.shape
    if P < 2:
        return np.zeros(P)
    if N * P * P <= EXACT_REACH_FLOPS:
        reach = np.empty(P)
        for start in range(0, P, REACH_CHUNK):
            block = np.abs(factor[start:start + REACH_CHUNK] @ factor.T)
            rows = np.arange(block.shape[0])
            block[rows, start + rows] = 0.0
            reach[start:start + REACH_CHUNK] = block.max(axis=1)
        return 8.0 * reach
    norms = np.sqrt(np.einsum("jn,jn->j", factor, factor))
    top2 = np.sort(norms)[-2:]
    others = np.where(norms == top2[1], top2[0], top2[1])  # the largest norm among the other features
    return 8.0 * norms * others


def relaxed_factored_start(problem: FactoredLayeredProblem) -> np.ndarray:
    """:func:`qboost_tn.qubo.anneal.layered.relaxed_start` of a factored problem, without a P × P matrix.

    With every ``d_j > 0``, ``Q = F Fᵀ + D`` is positive definite and, by the Woodbury identity, the
    continuous minimiser is ``w = D⁻¹ (b − F c)`` with ``b = −h / 2`` and ``(I + Fᵀ D⁻¹ F) c = Fᵀ D⁻¹ b``:
    one N × N system, O(P·N²). Otherwise (some ``d_j <= 0``) ``Q`` may be singular: empty, no start.
    """

    F, d = problem.factor, problem.diag
    if not np.all(d > 0):
        return NO_START
    b = -0.5 * problem.h
    with one_blas_thread():
        scaled = F / d[:, None]  # D⁻¹ F
        system = np.eye(F.shape[1]) + F.T @ scaled
        try:
            c = scipy.linalg.cho_solve(scipy.linalg.cho_factor(system, lower=True, check_finite=False),
                                       scaled.T @ b, check_finite=False)
        except np.linalg.LinAlgError:
            return NO_START
        return lattice_round((b - F @ c) / d, problem.n_layers)


def anneal_factored(problem: FactoredLayeredProblem, *, num_reads=1, num_sweeps=1000, beta_range=None,
                    seed=None, start=None):
    """Anneal a :class:`FactoredLayeredProblem` over its layer sums ``W_j ∈ {−L, −L+2, …, L}``.

    Parameters
    ----------
    problem : FactoredLayeredProblem
    num_reads : int, default=1
        Independent replicas, all run in one compiled call.
    num_sweeps : int, default=1000
        Sweeps over the P variables along a geometric β schedule; each replica ends with a greedy descent.
    beta_range : (float, float), optional
        (hot, cold); default :func:`qboost_tn.qubo.anneal.schedule.beta_range`.
    seed : int, optional
        Fixes every replica; read r's result depends only on ``seed`` and r.
    start : array of int of shape (P,), optional
        Layer sums for read 0 to descend from without sweeps (e.g. :func:`relaxed_factored_start`).

    Returns
    -------
    sums : ndarray of int64, shape (num_reads, P)
    energies : ndarray of float64, shape (num_reads,)
        Recomputed with numpy, offset included.
    info : dict
        ``beta_range`` used (NaN when the only read descends from ``start``) and ``anneal_seconds``.
    """

    if not isinstance(problem, FactoredLayeredProblem):
        raise TypeError(f"anneal_factored needs a FactoredLayeredProblem, got {type(problem).__name__}")
    num_reads = check_count(num_reads, "num_reads")
    num_sweeps = check_count(num_sweeps, "num_sweeps")
    start = check_start(start, problem.n_features, problem.n_layers)
    hot, cold = schedule_range(beta_range, num_reads, start, lambda: problem_beta_range(problem))
    betas = np.geomspace(hot, cold, num_sweeps)
    began = time.perf_counter()
    sums = anneal_factored_sums(problem.factor, problem.diag, problem.h, problem.n_layers, betas,
                                replica_seeds(seed, num_reads), DESCENT_PASSES, start, pair_reach(problem.factor),
                                PAIR_BLOCK)
    seconds = time.perf_counter() - began
    energies = problem.energy_of_sums(sums)
    return sums, energies, {"beta_range": (hot, cold), "anneal_seconds": seconds}
