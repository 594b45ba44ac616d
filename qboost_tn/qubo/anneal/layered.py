"""Simulated annealing of layered Ising problems over the P layer sums instead of the P·L spins.

The learner's energy ``E(s) = Wᵀ Q W + hᵀ W + offset`` depends on the spins ``s`` (L × P) only through the
layer sums ``W = s.sum(axis=0)``: the L spins of a feature are interchangeable. So instead of flipping P·L
spins whose every flip updates P·L local fields, this annealer moves each ``W_j`` by ±2 within [−L, L] and
updates P fields — about L² times less work per sweep and no (P·L)² coupling matrix — then returns a valid spin
assignment of the same Hamiltonian (``W_j = m`` -> the first ``(L + m) / 2`` layers +1, the rest −1).
"""
from __future__ import annotations

import time
import weakref

import dimod
import numpy as np
import scipy.linalg

from ..model import (BaseLayeredProblem, FactoredLayeredProblem, LayeredProblem, check_arrays, check_count,
                     one_blas_thread)
from ..protocol import LayeredSolver
from .common import NO_START, check_start, lattice_round, replica_seeds, schedule_range
from .factored import anneal_factored, relaxed_factored_start
from .kernels import anneal_sums
from .schedule import dense_beta_range

# Descent ending each replica: it stops as soon as no single or pair move lowers the energy, usually after a few
# passes; the cap only bounds the pathological case.
DESCENT_PASSES = 1000
# The solver's work budget: default_budget's reads at this many features; a larger problem gets reads in
# proportion to 1 / P² (a read's closing pair search costs O(P²) per pass), at least one.
BUDGET_FEATURES = 400
# A factored problem whose dense Q takes at most this many bytes (P <= 4,096) is annealed by the dense kernel
# on Q = F Fᵀ + D, formed once: the closing pair search then reads couplings from Q's rows, O(P²) per pass,
# where the factored kernel forms them anew each pass, O(P² N) (at P = 1,600, N = 150 the descent is about
# eight times faster). The factored kernel, O(N·P) memory, takes the problems too wide for that.
DENSE_KERNEL_BYTES = 128 * 2**20



def relaxed_start(Q, h, n_layers) -> np.ndarray:
    """Layer sums nearest the continuous minimiser ``−Q⁻¹ h / 2`` of ``Wᵀ Q W + hᵀ W``; empty unless Q is
    positive definite (then that minimiser is unique; every least-squares problem with λ > 0 is such).

    One Cholesky factorisation, O(P³): 55 ms at P = 1,600, small next to annealing up to P of a few thousand.
    """
    try:
        with one_blas_thread():
            factor = scipy.linalg.cho_factor(Q, lower=True, check_finite=False)
            w = scipy.linalg.cho_solve(factor, -0.5 * h, check_finite=False)
    except np.linalg.LinAlgError:
        return NO_START
    return lattice_round(w, n_layers)


def anneal_layered(Q, h, n_layers, *, num_reads=1, num_sweeps=1000, beta_range=None, seed=None, start=None):
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
        (hot, cold) inverse temperatures; default :func:`qboost_tn.qubo.anneal.schedule.dense_beta_range`.
    seed : int, optional
        Fixes every replica; the same seed gives the same result on any machine and thread count.
    start : array of int of shape (P,), optional
        Layer sums on the lattice (e.g. :func:`relaxed_start`): read 0 is then the closing descent from
        ``start`` alone, without sweeps; the other reads anneal from random states as without it.

    Returns
    -------
    sums : ndarray of int64, shape (num_reads, P)
    energies : ndarray of float64, shape (num_reads,)
        ``Wᵀ Q W + hᵀ W`` recomputed with numpy (no offset).
    info : dict
        ``beta_range`` used (NaN when the only read descends from ``start``) and ``anneal_seconds``.
    """
    Q, h, L = check_arrays(Q, h, n_layers)
    return _anneal(Q, h, L, num_reads=num_reads, num_sweeps=num_sweeps, beta_range=beta_range, seed=seed,
                   start=start)


def _anneal(Q, h, L, *, num_reads, num_sweeps, beta_range, seed, start):
    """:func:`anneal_layered` on arrays already checked (a LayeredProblem's, checked when it was built)."""
    num_reads = check_count(num_reads, "num_reads")
    num_sweeps = check_count(num_sweeps, "num_sweeps")
    start = check_start(start, Q.shape[0], L)
    hot, cold = schedule_range(beta_range, num_reads, start, lambda: dense_beta_range(Q, h, L))
    betas = np.geomspace(hot, cold, num_sweeps)
    began = time.perf_counter()
    sums = anneal_sums(Q, h, L, betas, replica_seeds(seed, num_reads), DESCENT_PASSES, start)
    seconds = time.perf_counter() - began
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
    :class:`~qboost_tn.qubo.model.FactoredLayeredProblem` by the same kernel on its ``Q`` formed once while
    that takes at most :data:`DENSE_KERNEL_BYTES`, beyond by :func:`qboost_tn.qubo.anneal.factored.anneal_factored`
    (O(N) per move, no P × P matrix). For a plain BQM use
    :class:`~qboost_tn.qubo.anneal.dense.DenseSimulatedAnnealingSampler` (or any dimod sampler on
    ``problem.to_bqm()``).

    Every read ends with a descent over single and pair moves, which does most of the deep work on the
    learner's correlated features; so at equal time more reads beat more sweeps: ``default_budget`` (16 reads
    of 50 sweeps) fits the 10 MNIST 20x20 problems (P = 400, L = 3) in under a tenth of dwave-neal's default
    time at lower energy (``benchmarks/anneal_speed.py``). For a wider problem with a warm start (below)
    :meth:`budget` keeps the work per problem about that of P = 400 (:data:`BUDGET_FEATURES`): a read's
    pair search costs O(P²) per pass, so it gets ``16 · (400 / P)²`` reads, at least one.

    With ``warm_start`` (default), read 0 descends from the layer sums nearest the problem's continuous
    minimiser (:func:`relaxed_start`, or :func:`qboost_tn.qubo.anneal.factored.relaxed_factored_start`) instead of
    annealing from random. On the wide learner's problems (1,600 patch features, 150 samples, L = 4) the
    single-move landscape is flat along correlated features and the descent's pair moves do the deep work
    from any start, but from this one they end lower: on average 0.07 % below the best of 16 annealed reads
    on MNIST 20x20 and 1.1 % below on digits (10 classes each), in a sixteenth of the time. The other reads
    anneal from random states as without it (``benchmarks/wide_scaling.py``, ``--cold`` to compare).

    Parameters
    ----------
    beta_range : (float, float), optional
        Fixed (hot, cold) inverse temperatures; default: :func:`qboost_tn.qubo.anneal.schedule.beta_range` per
        problem.
    warm_start : bool, default=True
        Read 0 from the rounded continuous minimiser when ``Q`` is positive definite (every least-squares
        problem with λ > 0); otherwise, or when False, every read anneals from a random state.

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

    def __init__(self, beta_range=None, warm_start=True):
        self.beta_range = beta_range
        self.warm_start = warm_start
        # Problems are frozen and hashed by identity; a start lives as long as its problem.
        self._starts = weakref.WeakKeyDictionary()

    def budget(self, problem) -> tuple[int, int]:
        """``(num_reads, num_sweeps)`` for ``problem``: ``default_budget``, with fewer reads for a wide problem
        that has a warm start.

        The warm read is what makes few reads enough, so only problems that have one (positive definite
        ``Q``) get ``16 · (400 / P)²`` reads, at least one, keeping the work about that of P = 400 (a read's
        pair search costs O(P²) per pass). Others (QBoost's selection problems, any problem with
        ``warm_start=False``) keep ``default_budget``.
        """
        reads, sweeps = self.default_budget
        P = max(int(problem.n_features), 1)
        if P <= BUDGET_FEATURES or not self._start(problem).size:
            return reads, sweeps
        return max(1, round(reads * (BUDGET_FEATURES / P) ** 2)), sweeps

    def _start(self, problem) -> np.ndarray:
        """The warm start of ``problem`` (empty if none or ``warm_start=False``), computed once per problem:
        :func:`~qboost_tn.qubo.solvers.solve` asks :meth:`budget` and then :meth:`sample_layered`."""
        if not self.warm_start:
            return NO_START
        start = self._starts.get(problem)
        if start is None:
            if isinstance(problem, FactoredLayeredProblem):
                start = relaxed_factored_start(problem)
            else:
                start = relaxed_start(problem.dense_couplings(), problem.h, problem.n_layers)
            self._starts[problem] = start
        return start

    def __getstate__(self):
        # Sent to worker processes with the problems: without the starts (weak references do not pickle).
        return {"beta_range": self.beta_range, "warm_start": self.warm_start}

    def __setstate__(self, state):
        self.__init__(**state)

    def sample_layered(self, problem, *, num_reads=1, num_sweeps=1000, seed=None) -> dimod.SampleSet:
        """SampleSet over ``problem.to_bqm()``'s variables (``l * P + j``), energies including the offset.

        Parameters
        ----------
        problem : LayeredProblem or FactoredLayeredProblem
        num_reads, num_sweeps, seed
            See :func:`anneal_layered`.
        """
        if not isinstance(problem, BaseLayeredProblem):
            raise TypeError(f"{type(self).__name__} solves layered problems (qboost_tn.qubo.model), "
                            f"got {type(problem).__name__}")
        start = self._start(problem)
        if isinstance(problem, FactoredLayeredProblem) and 8 * problem.n_features**2 > DENSE_KERNEL_BYTES:
            sums, energies, info = anneal_factored(problem, num_reads=num_reads, num_sweeps=num_sweeps,
                                                   beta_range=self.beta_range, seed=seed, start=start)
        else:
            with one_blas_thread():
                Q = problem.dense_couplings()
            h, L = problem.h, problem.n_layers
            if not isinstance(problem, (LayeredProblem, FactoredLayeredProblem)):
                # The built-in problems are checked (finite, symmetric) when built: no second O(P²) check.
                Q, h, L = check_arrays(Q, h, L)
            sums, energies, info = _anneal(Q, h, L, num_reads=num_reads, num_sweeps=num_sweeps,
                                           beta_range=self.beta_range, seed=seed, start=start)
            energies = energies + float(problem.offset)
        L, P = int(problem.n_layers), sums.shape[1]
        samples = layer_spins(sums, L).reshape(len(sums), L * P)
        return dimod.SampleSet.from_samples((samples, range(L * P)), dimod.SPIN, energy=energies, info=info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(beta_range={self.beta_range!r}, warm_start={self.warm_start!r})"
