"""Solver names -> dimod samplers, an explicit β range for dense problems, and one ``solve`` dispatch.

Any :class:`dimod.Sampler` works (a quantum annealer included) through ``sample(bqm, **params)``. A solver
that understands the layered structure may instead define
``sample_layered(problem, *, num_reads, num_sweeps, seed)`` returning a SampleSet over the variables of
``problem.to_bqm()``; :func:`solve` prefers it.
"""
from __future__ import annotations

import dimod
import numpy as np

from .model import LayeredProblem

# The one place the project's default solver is named: the compiled annealer over the layer sums, more than
# ten times faster than dwave-neal on the learner's dense problems at equal or lower energy
# (benchmarks/anneal_speed.py). "neal" stays available as the reference.
DEFAULT_SOLVER = "layered"
# (num_reads, num_sweeps) when the caller leaves them None. The layered solver ends every read in a greedy
# descent that does the deep work, so many short reads beat few long ones; spin-flip annealers need long ones.
LAYERED_BUDGET = (16, 50)
SPIN_BUDGET = (2, 1000)
EXACT_MAX_VARIABLES = 20


def _neal():
    import neal

    return neal.SimulatedAnnealingSampler()


def _tabu():
    from dwave.samplers import TabuSampler

    return TabuSampler()


def _steepest():
    from dwave.samplers import SteepestDescentSolver

    return SteepestDescentSolver()


def _layered():
    from .layered_anneal import LayeredAnnealingSolver

    return LayeredAnnealingSolver()


def _dense():
    from .dense_anneal import DenseSimulatedAnnealingSampler

    return DenseSimulatedAnnealingSampler()


SOLVERS = {
    "neal": _neal,
    "layered": _layered,
    "dense": _dense,
    "exact": dimod.ExactSolver,
    "tabu": _tabu,
    "steepest": _steepest,
}


def check_solver(solver) -> None:
    """Raise a clear error unless ``solver`` is a known name or an object that can sample."""
    if isinstance(solver, str):
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; use one of {sorted(SOLVERS)} or a dimod.Sampler instance")
    elif not (callable(getattr(solver, "sample", None)) or callable(getattr(solver, "sample_layered", None))):
        raise ValueError(f"solver must be a name ({sorted(SOLVERS)}) or a dimod.Sampler instance, "
                         f"got {type(solver).__name__}")


def get_sampler(solver):
    """A sampler object for a solver name, or ``solver`` itself when it already is one."""
    check_solver(solver)
    return SOLVERS[solver]() if isinstance(solver, str) else solver


def beta_range(problem: LayeredProblem) -> tuple[float, float]:
    """(hot, cold) inverse temperatures from the problem's energy scales, computed with numpy.

    Hot: the largest single-spin flip cost is accepted with probability 1/2. Cold: the flip cost of a typical
    spin's smallest field is accepted with probability 1 %. dwave-samplers estimates the same two scales by
    looping over every coupler in Python, which costs seconds on dense problems.
    """
    L = problem.n_layers
    absQ = np.abs(problem.Q)
    # Field on spin (l, j) from every other spin: L copies of each coupling Q[j, k], minus itself.
    coupling = 2.0 * (L * absQ.sum(axis=1) - np.diag(absQ))
    max_flip = 2.0 * float(np.max(np.abs(problem.h) + coupling, initial=0.0))
    scale = np.concatenate([np.abs(problem.h), 2.0 * absQ[np.triu_indices_from(absQ, k=1 if L == 1 else 0)]])
    scale = scale[scale > 1e-12 * max(max_flip, 1e-300)]
    if max_flip <= 0 or scale.size == 0:
        return 0.1, 1.0
    min_flip = 2.0 * float(np.median(scale))
    hot = np.log(2.0) / max_flip
    cold = max(np.log(100.0) / min_flip, 10.0 * hot)
    return float(hot), float(cold)


def solve(problem: LayeredProblem, solver=DEFAULT_SOLVER, *, num_reads=None, num_sweeps=None, seed=None):
    """Lowest-energy (L, P) spins and their energy found by ``solver`` on ``problem``.

    ``num_reads``/``num_sweeps`` left None take the solver's budget: :data:`LAYERED_BUDGET` for a solver with
    ``sample_layered``, else :data:`SPIN_BUDGET`.

    Parameters are passed only when the sampler declares them in ``.parameters`` (so a QPU sampler is not
    handed ``num_sweeps``). The returned energy is recomputed from the model, not trusted from the sampler.
    """
    sampler = get_sampler(solver)
    structured = hasattr(sampler, "sample_layered")
    default_reads, default_sweeps = LAYERED_BUDGET if structured else SPIN_BUDGET
    num_reads = default_reads if num_reads is None else num_reads
    num_sweeps = default_sweeps if num_sweeps is None else num_sweeps
    if structured:
        sampleset = sampler.sample_layered(problem, num_reads=num_reads, num_sweeps=num_sweeps, seed=seed)
    else:
        if isinstance(sampler, dimod.ExactSolver) and problem.n_variables > EXACT_MAX_VARIABLES:
            raise ValueError(f"solver 'exact' enumerates 2^n states; this problem has {problem.n_variables} "
                             f"variables (at most {EXACT_MAX_VARIABLES}); use 'neal' or 'tabu'")
        wanted = {"num_reads": num_reads, "num_sweeps": num_sweeps, "seed": seed}
        if "beta_range" in getattr(sampler, "parameters", {}):
            wanted["beta_range"] = beta_range(problem)
        accepted = getattr(sampler, "parameters", {}) or {}
        params = {k: v for k, v in wanted.items() if k in accepted and v is not None}
        sampleset = sampler.sample(problem.to_bqm(), **params)
    if sampleset is None or len(sampleset) == 0:
        raise RuntimeError(f"solver {type(sampler).__name__} returned no samples")
    spins = problem.spins_from_sampleset(sampleset)
    energies = problem.energy(spins)
    best = int(np.argmin(energies))
    return spins[best], float(energies[best])
