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
from .model import BaseLayeredProblem, FactoredLayeredProblem, check_arrays, check_count
from .schedule import check_beta_range, dense_beta_range
from .solvers import LayeredSolver

# Descent ending each replica: it stops as soon as no single or pair move lowers the energy, usually after a few
# passes; the cap only bounds the pathological case.
DESCENT_PASSES = 1000


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
        (hot, cold) inverse temperatures; default :func:`qboost_tn.qubo.schedule.dense_beta_range`.
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
    hot, cold = dense_beta_range(Q, h, L) if beta_range is None else check_beta_range(beta_range)
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


class LayeredAnnealingSolver(LayeredSolver):
    """Anneals a layered problem over its P layer sums, not its P·L spins: the project's default solver.

    A :class:`~qboost_tn.qubo.solvers.LayeredSolver`: :func:`qboost_tn.qubo.solvers.solve` calls
    :meth:`sample_layered`. A dense :class:`~qboost_tn.qubo.model.LayeredProblem` is annealed by
    :func:`anneal_layered` (O(P) per accepted move), a
    :class:`~qboost_tn.qubo.model.FactoredLayeredProblem` by :func:`qboost_tn.qubo.factored.anneal_factored`
    (O(N) per move, no P × P matrix). For a plain BQM use
    :class:`~qboost_tn.qubo.dense_anneal.DenseSimulatedAnnealingSampler` (or any dimod sampler on
    ``problem.to_bqm()``).

    Every read ends with a descent over single and pair moves, which does most of the deep work on the
    learner's correlated features; so at equal time more reads beat more sweeps: ``default_budget`` (16 reads
    of 50 sweeps) fits the 10 MNIST 20x20 problems (P = 400, L = 3) in under a tenth of dwave-neal's default
    time at lower energy (``benchmarks/anneal_speed.py``).

    Parameters
    ----------
    beta_range : (float, float), optional
        Fixed (hot, cold) inverse temperatures; default: :func:`qboost_tn.qubo.schedule.beta_range` per
        problem.

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

    default_budget = (16, 50)
    parameters = {"num_reads": [], "num_sweeps": [], "seed": []}
    properties = {"problem_types": ("LayeredProblem", "FactoredLayeredProblem"),
                  "beta_schedule_type": "geometric"}

    def __init__(self, beta_range=None):
        self.beta_range = beta_range

    def sample_layered(self, problem, *, num_reads=1, num_sweeps=1000, seed=None) -> dimod.SampleSet:
        """SampleSet over ``problem.to_bqm()``'s variables (``l * P + j``), energies including the offset.

        Parameters
        ----------
        problem : LayeredProblem or FactoredLayeredProblem
        num_reads, num_sweeps, seed
            See :func:`anneal_layered`.
        """
        if isinstance(problem, FactoredLayeredProblem):
            from .factored import anneal_factored

            sums, energies, info = anneal_factored(problem, num_reads=num_reads, num_sweeps=num_sweeps,
                                                   beta_range=self.beta_range, seed=seed)
        elif isinstance(problem, BaseLayeredProblem):
            sums, energies, info = anneal_layered(problem.dense_couplings(), problem.h, problem.n_layers,
                                                  num_reads=num_reads, num_sweeps=num_sweeps,
                                                  beta_range=self.beta_range, seed=seed)
            energies = energies + float(problem.offset)
        else:
            raise TypeError(f"{type(self).__name__} solves layered problems (qboost_tn.qubo.model), "
                            f"got {type(problem).__name__}")
        L, P = int(problem.n_layers), sums.shape[1]
        samples = layer_spins(sums, L).reshape(len(sums), L * P)
        return dimod.SampleSet.from_samples((samples, range(L * P)), dimod.SPIN, energy=energies, info=info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(beta_range={self.beta_range!r})"
