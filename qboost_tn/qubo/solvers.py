"""The solver protocol, its registry, the one wrapper for dimod samplers, and the ``solve`` dispatch.

Protocol
--------
A *solver* is a :class:`LayeredSolver`: an object with

* ``sample_layered(problem, *, num_reads, num_sweeps, seed)`` taking a layered problem
  (:class:`~qboost_tn.qubo.model.LayeredProblem` or :class:`~qboost_tn.qubo.model.FactoredLayeredProblem`)
  and returning a :class:`dimod.SampleSet` over the variables of ``problem.to_bqm()`` (spin ``(l, j)`` is
  label ``l * P + j``). It always receives the three keywords; it may ignore those it does not declare;
* ``default_budget``: the ``(num_reads, num_sweeps)`` it uses when the caller leaves them None (through
  :meth:`LayeredSolver.budget`, which a solver may override to scale it with the problem);
* ``parameters``: dimod-style ``{name: []}`` of the keywords that change its result;
* ``properties``: a dict of whatever else it wants to tell (dimod-style).

Subclass :class:`LayeredSolver` (or call ``LayeredSolver.register(cls)`` for a class that already follows
it); the check is ``isinstance(obj, LayeredSolver)``, nothing is guessed from attribute names.

Any :class:`dimod.Sampler` (a quantum annealer included) becomes a solver through
:class:`DimodLayeredSolver`, which hands it ``problem.to_bqm()`` with only the parameters it declares and
with the project's one β range (:func:`qboost_tn.qubo.anneal.schedule.beta_range`) when it takes ``beta_range``.

Registry
--------
:data:`SOLVERS` maps a name to a factory returning a solver or a dimod sampler; :func:`register_solver` adds
one. Names are looked up when used (estimators' ``solver=``, configs), never copied into a frozen list. A factory
may carry a ``preflight`` callable (``"dwave"`` does: its Ocean configuration and QPU), which :func:`preflight`
runs when a fit or a run starts, before any work.

This module imports only numpy at load time (dimod and the annealers on first use), so asking the registry
is cheap.
"""
from __future__ import annotations

import numpy as np

from ..errors import QBoostTNError
from .._text import shown
from .protocol import LayeredSolver

# The one place the project's default solver is named: the compiled annealer over the layer sums, more than
# ten times faster than dwave-neal on the learner's dense problems at equal or lower energy
# (benchmarks/anneal_speed.py). "neal" stays available as the reference.
DEFAULT_SOLVER = "layered"
# Default (num_reads, num_sweeps) of a wrapped spin-flip sampler: few long reads.
SPIN_BUDGET = (2, 1000)
# dimod.ExactSolver enumerates 2^n states.
EXACT_MAX_VARIABLES = 20


class DimodLayeredSolver(LayeredSolver):
    """Any :class:`dimod.Sampler` as a :class:`LayeredSolver`: it samples ``problem.to_bqm()``.

    The wrapper owns what the sampler cannot know about the problem: it passes ``num_reads``, ``num_sweeps``
    and ``seed`` only when the sampler declares them in ``sampler.parameters`` (a QPU sampler is not handed
    ``num_sweeps``), adds ``beta_range`` from :func:`qboost_tn.qubo.anneal.schedule.beta_range` when the sampler
    declares it, and refuses problems above ``max_variables``.

    Parameters
    ----------
    sampler : dimod.Sampler
    default_budget : (int, int), default=(2, 1000)
        Budget when the caller gives None: spin-flip annealers need long reads.
    max_variables : int, optional
        Largest BQM to hand over; default ``sampler.properties["max_variables"]`` if declared, else no limit.

    Examples
    --------
    >>> import neal
    >>> solver = DimodLayeredSolver(neal.SimulatedAnnealingSampler())
    >>> sorted(solver.parameters)
    ['num_reads', 'num_sweeps', 'seed']
    """

    def __init__(self, sampler, *, default_budget=SPIN_BUDGET, max_variables=None):
        import dimod

        if not isinstance(sampler, dimod.Sampler):
            raise QBoostTNError(f"DimodLayeredSolver wraps a dimod.Sampler, got {type(sampler).__name__}")
        self.sampler = sampler
        self._default_budget = tuple(default_budget)
        declared = getattr(sampler, "properties", None) or {}
        self.max_variables = declared.get("max_variables") if max_variables is None else max_variables

    @property
    def default_budget(self) -> tuple[int, int]:
        return self._default_budget

    @property
    def parameters(self) -> dict:
        accepted = self.sampler.parameters or {}
        return {name: [] for name in ("num_reads", "num_sweeps", "seed") if name in accepted}

    @property
    def properties(self) -> dict:
        return {"sampler": type(self.sampler).__name__, "max_variables": self.max_variables}

    def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
        from .anneal.schedule import beta_range

        if self.max_variables is not None and problem.n_variables > self.max_variables:
            raise QBoostTNError(f"{type(self.sampler).__name__} takes at most {self.max_variables} variables; this "
                         f"problem has {problem.n_variables} variables (use 'layered', 'neal' or 'tabu')")
        from .model import check_bqm_size

        check_bqm_size(problem.n_variables)  # before beta_range, which may form Q densely too
        accepted = self.sampler.parameters or {}
        wanted = {"num_reads": num_reads, "num_sweeps": num_sweeps, "seed": seed}
        params = {k: v for k, v in wanted.items() if k in accepted and v is not None}
        if "beta_range" in accepted:
            params["beta_range"] = beta_range(problem)
        return self.sampler.sample(problem.to_bqm(), **params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sampler!r})"


# --- registry -------------------------------------------------------------------------------------------
def _imported(module: str, name: str):
    """A factory building ``module.name()``, importing the module when the solver is first asked for (the
    registry itself stays cheap to load)."""
    def factory():
        import importlib

        return getattr(importlib.import_module(module, __package__), name)()
    factory.__name__ = f"_{name}"
    return factory


def _exact():
    import dimod

    return DimodLayeredSolver(dimod.ExactSolver(), max_variables=EXACT_MAX_VARIABLES)


def _embedded_mock(topology: str):
    """``EmbeddedSolver`` on the offline mock of a QPU graph (``"pegasus"``: Advantage; ``"zephyr"``: Advantage2)."""
    def factory():
        from .qpu.embedded import EmbeddedSolver
        from .qpu.samplers import mock_sampler

        return EmbeddedSolver(mock_sampler(topology))
    return factory


def _dwave():
    from .qpu.embedded import EmbeddedSolver
    from .qpu.samplers import dwave_sampler

    return EmbeddedSolver(dwave_sampler())


def _dwave_preflight():
    from .qpu.samplers import dwave_sampler

    dwave_sampler()  # built once per process: offline this is the one-line error, before any training


# A factory may carry ``preflight``: checked by :func:`preflight` when a fit starts, before any work.
_dwave.preflight = _dwave_preflight

SOLVERS = {
    "neal": _imported("neal", "SimulatedAnnealingSampler"),
    "layered": _imported(".anneal.layered", "LayeredAnnealingSolver"),
    "dense": _imported(".anneal.dense", "DenseSimulatedAnnealingSampler"),
    "exact": _exact,
    "tabu": _imported("dwave.samplers", "TabuSampler"),
    "steepest": _imported("dwave.samplers", "SteepestDescentSolver"),
    # baselines without search (benchmarks/what_annealing_adds.py)
    "rounded": _imported(".anneal.rounding", "RoundedSolver"),
    "rounded-descent": _imported(".anneal.rounding", "RoundedDescentSolver"),
    # Quantum-annealer-shaped: the learner's problems embedded (or decomposed) on a QPU graph
    # (qboost_tn.qubo.qpu.embedded); the two mocks are offline, "dwave" needs the user's Ocean configuration.
    "pegasus-mock": _embedded_mock("pegasus"),
    "zephyr-mock": _embedded_mock("zephyr"),
    "dwave": _dwave,
}


def register_solver(name: str, factory, *, replace: bool = False) -> None:
    """Make ``solver=name`` mean ``factory()`` everywhere (estimators, configs, CLI).

    Parameters
    ----------
    name : str
        Non-empty; an existing name is refused unless ``replace=True``.
    factory : callable
        Called with no arguments each time the solver is used; returns a :class:`LayeredSolver` or a
        :class:`dimod.Sampler` (wrapped in :class:`DimodLayeredSolver`). A class is a factory.
    replace : bool, default=False
    """
    if not isinstance(name, str) or not name.strip():
        raise QBoostTNError(f"register_solver: name must be a non-empty string, got {shown(name)}")
    if not callable(factory):
        raise QBoostTNError(f"register_solver: factory for {shown(name)} must be callable, "
                            f"got {type(factory).__name__}")
    if name in SOLVERS and not replace:
        raise QBoostTNError(f"register_solver: {shown(name)} is already registered (pass replace=True to replace it)")
    SOLVERS[name] = factory


def check_solver(solver) -> None:
    """Raise a clear error unless ``solver`` is a registered name, a :class:`LayeredSolver` or a dimod sampler."""
    if isinstance(solver, str):
        if solver not in SOLVERS:
            raise QBoostTNError(f"unknown solver {shown(solver)}; use one of {sorted(SOLVERS)}, a registered name "
                         "(register_solver), a LayeredSolver or a dimod.Sampler instance")
        return
    if isinstance(solver, LayeredSolver):
        return
    import dimod

    if not isinstance(solver, dimod.Sampler):
        raise QBoostTNError(f"solver must be a name ({sorted(SOLVERS)}), a LayeredSolver or a dimod.Sampler instance, "
                     f"got {type(solver).__name__}")


def preflight(solver) -> None:
    """Run the check a registered name's factory declares (``factory.preflight``), e.g. that ``"dwave"`` has
    an Ocean configuration and a reachable QPU: estimators call this when a fit starts, before any work."""
    check_solver(solver)
    check = getattr(SOLVERS[solver], "preflight", None) if isinstance(solver, str) else None
    if check is not None:
        check()


def get_solver(solver) -> LayeredSolver:
    """The :class:`LayeredSolver` for a registered name, a solver, or a dimod sampler (wrapped)."""
    check_solver(solver)
    obj = SOLVERS[solver]() if isinstance(solver, str) else solver
    if isinstance(obj, LayeredSolver):
        return obj
    import dimod

    if isinstance(obj, dimod.Sampler):
        return DimodLayeredSolver(obj)
    raise QBoostTNError(f"solver {shown(solver)}: its factory returned {type(obj).__name__}, "
                        "neither a LayeredSolver nor a "
                 "dimod.Sampler")


def solver_name(solver) -> str:
    """How a fit records its solver: the registry name, else the class name of the user's solver or sampler."""
    if isinstance(solver, str):
        return solver
    if isinstance(solver, DimodLayeredSolver):
        return type(solver.sampler).__name__
    return type(solver).__name__


def solve(problem, solver=DEFAULT_SOLVER, *, num_reads=None, num_sweeps=None, seed=None, with_info=False):
    """Lowest-energy (L, P) spins and their energy found by ``solver`` on ``problem``.

    ``num_reads``/``num_sweeps`` left None take the solver's budget for this problem
    (:meth:`LayeredSolver.budget`, by default its ``default_budget``). The returned energy is recomputed from
    the problem, not trusted from the solver. ``with_info=True`` adds the SampleSet's ``info`` as a third
    value (e.g. an :class:`~qboost_tn.qubo.qpu.embedded.EmbeddedSolver`'s ``"qpu_report"``).
    """
    layered = get_solver(solver)
    # A class registered with LayeredSolver.register (not a subclass) may lack the optional budget method.
    budget = getattr(layered, "budget", None)
    default_reads, default_sweeps = budget(problem) if budget is not None else layered.default_budget
    sampleset = layered.sample_layered(problem, num_reads=default_reads if num_reads is None else num_reads,
                                       num_sweeps=default_sweeps if num_sweeps is None else num_sweeps,
                                       seed=seed)
    if sampleset is None or len(sampleset) == 0:
        raise RuntimeError(f"solver {solver_name(solver)} returned no samples")
    spins = problem.spins_from_sampleset(sampleset)
    energies = problem.energy(spins)
    best = int(np.argmin(energies))
    if with_info:
        return spins[best], float(energies[best]), dict(sampleset.info)
    return spins[best], float(energies[best])
