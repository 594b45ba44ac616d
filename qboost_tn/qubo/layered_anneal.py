"""Simulated annealing of layered Ising problems over the P layer sums instead of the P·L spins.

The learner's energy ``E(s) = Wᵀ Q W + hᵀ W + offset`` depends on the spins ``s`` (L × P) only through the
layer sums ``W = s.sum(axis=0)``: the L spins of a feature are interchangeable. So instead of flipping P·L
spins whose every flip updates P·L local fields, this annealer moves each ``W_j`` by ±2 within [−L, L] and
updates P fields — about L² times less work per sweep and no (P·L)² coupling matrix — then returns a valid spin
assignment of the same Hamiltonian (``W_j = m`` -> the first ``(L + m) / 2`` layers +1, the rest −1).
"""
from __future__ import annotations

import time

import dimod
import numpy as np

from ._anneal_kernels import anneal_sums
from .model import check_arrays, check_count

# Descent ending each replica: it stops as soon as no single or pair move lowers the energy, usually after a few
# passes; the cap only bounds the pathological case.
DESCENT_PASSES = 1000
# Random states whose typical move cost sets the hot end of the schedule.
PROBE_STATES = 8


def check_beta_range(beta_range):
    """``beta_range`` as (hot, cold) floats with 0 < hot <= cold, or a ValueError."""
    try:
        hot, cold = (float(b) for b in beta_range)
    except (TypeError, ValueError):
        raise ValueError(f"beta_range must be a pair (hot, cold) of numbers, got {beta_range!r}") from None
    if not (np.isfinite(hot) and np.isfinite(cold) and 0 < hot <= cold):
        raise ValueError(f"beta_range must satisfy 0 < hot <= cold (finite), got {beta_range!r}")
    return hot, cold


def default_beta_range(Q, h, n_layers) -> tuple[float, float]:
    """(hot, cold) inverse temperatures for ±2 moves of the layer sums, from the problem's energy scales.

    Hot: a typical (median) move from a random state is accepted with probability 1/2 — the start is then
    as good as random, and dwave-neal's worst-case bound (every field adding up) spends most of the schedule
    hotter than that on dense problems. Cold: a move of the typical smallest cost is accepted with
    probability 1 % — for L > 1 that cost is the curvature ``2 Q_jj`` (the two moves out of a local minimum
    of ``W_j`` cost ``8 Q_jj`` together), for L = 1 the typical field or coupling. O(P²) numpy from a few
    random states; no loop over couplers.
    """
    P = h.shape[0]
    rng = np.random.default_rng(0)  # a property of the problem, not of the run's seed
    probes = 2 * rng.binomial(n_layers, 0.5, size=(PROBE_STATES, P)) - n_layers
    diag = np.diag(Q)
    costs = np.abs(2.0 * (2.0 * probes @ Q + h)) + 4.0 * np.abs(diag)
    typical = float(np.median(costs)) if P else 0.0
    if n_layers > 1 and (diag > 0).any():
        smallest = 2.0 * float(np.median(diag[diag > 0]))
    else:
        terms = np.concatenate([2.0 * np.abs(h), 4.0 * np.abs(Q[np.triu_indices(P, k=1)])])
        terms = terms[terms > 1e-12 * max(float(costs.max(initial=0.0)), 1e-300)]
        smallest = float(np.median(terms)) if terms.size else typical
    if not (typical > 0 and smallest > 0):  # no energy scale at all (Q = 0, h = 0): any β does
        return 1.0, 10.0
    hot = np.log(2.0) / typical
    cold = max(np.log(100.0) / smallest, 10.0 * hot)
    return float(hot), float(cold)


def replica_seeds(seed, num_reads) -> np.ndarray:
    """One generator seed per read from ``seed``; read r's seed does not depend on ``num_reads``."""
    return np.random.SeedSequence(seed).generate_state(num_reads, np.uint32).astype(np.int64)


def anneal_layered(Q, h, n_layers, *, num_reads=1, num_sweeps=1000, beta_range=None, seed=None):
    """Anneal ``E(W) = Wᵀ Q W + hᵀ W`` over layer sums ``W_j ∈ {−L, −L+2, …, L}``.

    Parameters
    ----------
    Q : array of shape (P, P)
        Symmetric couplings (float64).
    h : array of shape (P,)
    n_layers : int
        ``L >= 1``. With ``L = 1`` this is single-spin-flip annealing of a dense Ising problem.
    num_reads : int, default=1
        Independent replicas, all run in one compiled call.
    num_sweeps : int, default=1000
        Sweeps over the P variables along a geometric β schedule; each replica ends with a greedy descent,
        so every returned state is a local minimum under ±2 moves.
    beta_range : (float, float), optional
        (hot, cold) inverse temperatures; default :func:`default_beta_range`.
    seed : int, optional
        Fixes every replica; the same seed gives the same result on any machine and thread count.

    Returns
    -------
    sums : ndarray of int64, shape (num_reads, P)
    energies : ndarray of float64, shape (num_reads,)
        ``Wᵀ Q W + hᵀ W`` recomputed with numpy (no offset).
    info : dict
        ``beta_range`` used and ``anneal_seconds``.
    """
    Q, h, L = check_arrays(Q, h, n_layers)
    num_reads = check_count(num_reads, "num_reads")
    num_sweeps = check_count(num_sweeps, "num_sweeps")
    hot, cold = default_beta_range(Q, h, L) if beta_range is None else check_beta_range(beta_range)
    betas = np.geomspace(hot, cold, num_sweeps)
    start = time.perf_counter()
    sums = anneal_sums(Q, h, L, betas, replica_seeds(seed, num_reads), DESCENT_PASSES)
    seconds = time.perf_counter() - start
    Wf = sums.astype(np.float64)
    energies = np.einsum("ri,ri->r", Wf @ Q, Wf) + Wf @ h
    return sums, energies, {"beta_range": (hot, cold), "anneal_seconds": seconds}


def layer_spins(sums, n_layers) -> np.ndarray:
    """Spins (…, L, P) in {−1, +1} whose layer sums are ``sums``: the first ``(L + W_j) / 2`` layers are +1."""
    sums = np.asarray(sums)
    L = check_count(n_layers, "n_layers (L)")
    if np.any(np.abs(sums) > L) or np.any((sums + L) % 2):
        raise ValueError(f"layer sums must lie in {{-L, -L+2, ..., L}} for L = {L}")
    ups = (L + sums) // 2
    return np.where(np.arange(L)[:, None] < ups[..., None, :], 1, -1).astype(np.int8)


class LayeredAnnealingSolver:
    """Anneals a :class:`~qboost_tn.qubo.model.LayeredProblem` over its P layer sums, not its P·L spins.

    Pass it as ``solver=`` to the learners: :func:`qboost_tn.qubo.solvers.solve` calls
    :meth:`sample_layered`. For a plain BQM use :class:`~qboost_tn.qubo.dense_anneal.DenseSimulatedAnnealingSampler`
    (or any dimod sampler on ``problem.to_bqm()``).

    Every read ends with a descent over single and pair moves, which does most of the deep work on the
    learner's correlated features; so at equal time more reads beat more sweeps. ``num_reads=16,
    num_sweeps=50`` fits the 10 MNIST 20x20 problems (P = 400, L = 3) in under a tenth of dwave-neal's default
    time at lower energy (``benchmarks/anneal_speed.py``).

    Parameters
    ----------
    beta_range : (float, float), optional
        Fixed (hot, cold) inverse temperatures; default: :func:`default_beta_range` per problem.

    Examples
    --------
    >>> import numpy as np
    >>> from qboost_tn.qubo.model import LayeredProblem
    >>> problem = LayeredProblem(np.eye(3), np.array([-3.0, 0.5, 2.0]), 0.0, n_layers=3)
    >>> ss = LayeredAnnealingSolver().sample_layered(problem, num_reads=4, num_sweeps=100, seed=0)
    >>> best = problem.spins_from_sampleset(ss)[ss.record.energy.argmin()]
    >>> best.sum(axis=0)  # W minimises W² − 3W, W² + W/2, W² + 2W over the odd W in [−3, 3]
    array([ 1, -1, -1])
    """

    def __init__(self, beta_range=None):
        self.beta_range = beta_range

    def sample_layered(self, problem, *, num_reads=1, num_sweeps=1000, seed=None) -> dimod.SampleSet:
        """SampleSet over ``problem.to_bqm()``'s variables (``l * P + j``), energies including the offset.

        Parameters
        ----------
        problem : LayeredProblem
            Anything with ``Q``, ``h``, ``offset`` and ``n_layers``.
        num_reads, num_sweeps, seed
            See :func:`anneal_layered`.
        """
        sums, energies, info = anneal_layered(problem.Q, problem.h, problem.n_layers, num_reads=num_reads,
                                              num_sweeps=num_sweeps, beta_range=self.beta_range, seed=seed)
        L, P = int(problem.n_layers), sums.shape[1]
        samples = layer_spins(sums, L).reshape(len(sums), L * P)
        return dimod.SampleSet.from_samples((samples, range(L * P)), dimod.SPIN,
                                            energy=energies + float(problem.offset), info=info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(beta_range={self.beta_range!r})"
