"""The solver protocol: what every entry of the solver registry (:mod:`qboost_tn.qubo.solvers`) resolves to.

It sits below both the registry and the annealers that implement it, so neither imports the other to name it.
"""
from __future__ import annotations

import abc


class LayeredSolver(abc.ABC):
    """A solver of layered Ising problems: the protocol every entry of :data:`SOLVERS` resolves to.

    Attributes
    ----------
    default_budget : tuple of (int, int)
        ``(num_reads, num_sweeps)`` used by :func:`solve` when the caller gives None.
    parameters : dict
        ``{name: []}`` for each of ``num_reads``, ``num_sweeps``, ``seed`` that changes the result.
    properties : dict
        Free-form facts about the solver.

    Examples
    --------
    A greedy solver that keeps every ``W_j`` at its best single value (a toy, for the protocol's sake):

    >>> import dimod, numpy as np
    >>> class Greedy(LayeredSolver):
    ...     default_budget = (1, 1)
    ...     parameters = {}
    ...     def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
    ...         spins = np.where(problem.h < 0, 1, -1)[None, :].repeat(problem.n_layers, axis=0)
    ...         return dimod.SampleSet.from_samples((spins.reshape(1, -1), range(problem.n_variables)),
    ...                                             dimod.SPIN, energy=problem.energy(spins[None]))
    >>> from qboost_tn.qubo.solvers import SOLVERS, register_solver, solve
    >>> register_solver("greedy", Greedy)
    >>> from qboost_tn.qubo.model import LayeredProblem
    >>> solve(LayeredProblem(np.eye(2), np.array([-1.0, 1.0]), 0.0, 1), "greedy")[0]
    array([[ 1, -1]], dtype=int8)
    >>> del SOLVERS["greedy"]
    """

    parameters: dict = {"num_reads": [], "num_sweeps": [], "seed": []}
    properties: dict = {}

    @property
    @abc.abstractmethod
    def default_budget(self) -> tuple[int, int]:
        """``(num_reads, num_sweeps)`` when the caller leaves them None (a class attribute in subclasses)."""

    @abc.abstractmethod
    def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
        """A :class:`dimod.SampleSet` over ``problem.to_bqm()``'s variables (labels ``l * P + j``)."""

    def budget(self, problem) -> tuple[int, int]:
        """``(num_reads, num_sweeps)`` for ``problem`` when the caller gives None: ``default_budget`` here;
        a solver whose cost grows with the problem may scale it."""
        reads, sweeps = self.default_budget
        return int(reads), int(sweeps)
