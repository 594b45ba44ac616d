"""The solver protocol: registry, the dimod wrapper (β range, parameter filtering), and what a fit records."""
from __future__ import annotations

import dimod
import numpy as np
import pytest

import qboost_tn.qubo
from qboost_tn.errors import QBoostTNError
from qboost_tn.qubo.anneal.layered import LayeredAnnealingSolver
from qboost_tn.qubo.model import LayeredProblem
from qboost_tn.qubo.anneal.schedule import beta_range
from qboost_tn.qubo.solvers import (SOLVERS, SPIN_BUDGET, DimodLayeredSolver, LayeredSolver, get_solver,
                                    register_solver, solve)


class BestSingle(LayeredSolver):
    """A toy structured solver: each W_j at its best value ignoring couplings; records its calls."""

    default_budget = (3, 7)
    parameters = {"num_reads": []}

    def __init__(self):
        self.calls = []

    def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
        self.calls.append((num_reads, num_sweeps, seed))
        L = problem.n_layers
        spins = np.where(problem.h < 0, 1, -1)[None, :].repeat(L, axis=0)[None]
        return dimod.SampleSet.from_samples((spins.reshape(1, -1), range(problem.n_variables)), dimod.SPIN,
                                            energy=problem.energy(spins))


class BetaRecorder(dimod.Sampler):
    parameters = {"num_reads": [], "beta_range": []}
    properties = {}

    def sample(self, bqm, **params):
        self.received = params
        return dimod.ExactSolver().sample(bqm)


def _problem():
    return LayeredProblem(np.eye(2), np.array([-1.0, 0.5]), 0.25, 2)


def test_registered_solver_is_used_by_name_with_its_budget():
    solver = BestSingle()
    register_solver("best-single", lambda: solver)
    try:
        spins, energy = solve(_problem(), "best-single", seed=4)
        assert solver.calls == [(3, 7, 4)]  # default_budget when the caller gives None
        np.testing.assert_array_equal(spins.sum(axis=0), [2, -2])
        assert energy == pytest.approx(_problem().energy(spins))
        with pytest.raises(QBoostTNError, match="already registered"):
            register_solver("best-single", BestSingle)
        register_solver("best-single", BestSingle, replace=True)
        assert isinstance(get_solver("best-single"), BestSingle)
    finally:
        del SOLVERS["best-single"]


def test_solve_asks_the_solver_for_its_budget_per_problem():
    class Scaled(BestSingle):
        def budget(self, problem):
            return problem.n_features, 5

    solver = Scaled()
    solve(_problem(), solver, seed=1)
    solve(_problem(), solver, num_sweeps=9, seed=1)
    assert solver.calls == [(2, 5, 1), (2, 9, 1)]  # the caller's numbers still win


def test_registered_solver_fits_an_estimator_and_is_recorded():
    from sklearn.datasets import load_digits

    register_solver("best-single", BestSingle)
    try:
        X, y = load_digits(n_class=2, return_X_y=True)
        clf = qboost_tn.qubo.ShallowWideClassifier(solver="best-single", n_layers=2).fit(X[:60], y[:60])
        assert clf.solver_ == "best-single"
    finally:
        del SOLVERS["best-single"]
    clf = qboost_tn.qubo.ShallowWideClassifier(solver=BestSingle(), n_layers=2).fit(X[:60], y[:60])
    assert clf.solver_ == "BestSingle"


def test_register_solver_is_exported_and_checks_its_arguments():
    assert qboost_tn.qubo.register_solver is register_solver
    with pytest.raises(QBoostTNError, match="non-empty"):
        register_solver("", BestSingle)
    with pytest.raises(QBoostTNError, match="callable"):
        register_solver("x", 3)
    register_solver("broken", lambda: object())
    try:
        with pytest.raises(QBoostTNError, match="neither a LayeredSolver nor a dimod.Sampler"):
            solve(_problem(), "broken")
    finally:
        del SOLVERS["broken"]


def test_protocol_is_an_abc_not_attribute_guessing():
    class NoBudget(LayeredSolver):
        def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
            return None

    with pytest.raises(TypeError):
        NoBudget()  # default_budget is part of the protocol

    class LooksLikeASolver:  # has the method, not the protocol
        def sample_layered(self, problem, **kwargs):
            return None

    with pytest.raises(QBoostTNError, match="LayeredSolver or a dimod.Sampler"):
        solve(_problem(), LooksLikeASolver())
    assert isinstance(LayeredAnnealingSolver(), LayeredSolver)
    assert LayeredAnnealingSolver.default_budget == (16, 50)


def test_dimod_wrapper_owns_the_beta_range_and_the_filtering():
    sampler = BetaRecorder()
    problem = _problem()
    solve(problem, sampler, num_reads=5, num_sweeps=10, seed=3)
    assert sampler.received == {"num_reads": 5, "beta_range": beta_range(problem)}
    wrapped = get_solver(sampler)
    assert isinstance(wrapped, DimodLayeredSolver) and wrapped.default_budget == SPIN_BUDGET
    assert wrapped.parameters == {"num_reads": []}
    with pytest.raises(QBoostTNError, match="wraps a dimod.Sampler"):
        DimodLayeredSolver(object())


def test_wrapper_refuses_problems_above_the_declared_size():
    small = DimodLayeredSolver(dimod.ExactSolver(), max_variables=3)
    with pytest.raises(QBoostTNError, match="at most 3 variables; this problem has 4 variables"):
        small.sample_layered(_problem(), num_reads=1, num_sweeps=1, seed=0)
