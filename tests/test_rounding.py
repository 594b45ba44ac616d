"""The no-search baselines "rounded" and "rounded-descent": the box relaxation, its rounding, the descent."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qboost_tn.errors import QBoostTNError
from qboost_tn.qubo.anneal.rounding import (RoundedDescentSolver, RoundedSolver, descend, relaxed_minimiser,
                                            rounded_sums)
from qboost_tn.qubo.model import FactoredLayeredProblem, LayeredProblem, least_squares_problem
from qboost_tn.qubo.qboost import selection_moments, selection_problem
from qboost_tn.qubo.solvers import get_solver, solve


def _least_squares(form, regularizer="squared", P=30, N=12, L=4, seed=0, lam=0.5):
    rng = np.random.default_rng(seed)
    X = rng.random((N, P))
    y = np.where(X[:, :3].sum(axis=1) > 1.5, 1.0, -1.0)
    return least_squares_problem(X, y, scale=0.3, lam=lam, regularizer=regularizer, n_layers=L, form=form)


def _indefinite(seed=0, N=25, S=40):
    """A QBoost selection problem whose moments come from rows out of bag for both learners: Q indefinite."""
    rng = np.random.default_rng(seed)
    H = np.sign(rng.normal(size=(S, N)) + rng.normal(size=(S, 1)))
    y = np.sign(H[:, :5].sum(axis=1) + 0.5)
    usable = rng.random((S, N)) < 0.4
    G, r, _, _, y_var = selection_moments(H, y, usable)
    return selection_problem(G, r, y_var, scale=0.2, lam=0.01, n_layers=2)


def _kkt_violation(Q, h, W, L):
    """Largest violation of the box-QP optimality conditions of ``Wᵀ Q W + hᵀ W`` at ``W``."""
    g = 2.0 * Q @ W + h
    return float(np.abs(W - np.clip(W - g / (2 * np.diag(Q)), -L, L)).max())


PROBLEMS = {
    "dense-squared": lambda: _least_squares("dense"),
    "factored-squared": lambda: _least_squares("factored"),
    "dense-linear": lambda: _least_squares("dense", "linear"),
    "factored-linear": lambda: _least_squares("factored", "linear"),
    "factored-lam0": lambda: _least_squares("factored", lam=0.0),
    "qboost-indefinite": _indefinite,
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("solver", ["rounded", "rounded-descent"])
def test_samples_are_lattice_spins_with_recomputed_energies(name, solver):
    problem = PROBLEMS[name]()
    ss = get_solver(solver).sample_layered(problem, num_reads=5, num_sweeps=7, seed=3)
    spins = problem.spins_from_sampleset(ss)
    assert spins.shape == (1, problem.n_layers, problem.n_features)
    np.testing.assert_allclose(ss.record.energy, problem.energy(spins), rtol=1e-12, atol=1e-12)
    best, energy = solve(problem, solver, seed=9)  # deterministic: the seed and the budget change nothing
    np.testing.assert_array_equal(best, spins[0])
    assert energy == pytest.approx(float(problem.energy(spins)[0]))


@pytest.mark.parametrize("form", ["dense", "factored"])
@pytest.mark.parametrize("L", [1, 3, 4])
def test_rounding_is_exact_when_the_minimiser_lies_on_the_lattice(form, L):
    rng = np.random.default_rng(L)
    P, N = 12, 30
    F = rng.normal(size=(P, N)) / np.sqrt(N)
    target = 2 * rng.integers(0, L + 1, size=P) - L
    Q = F @ F.T + 0.1 * np.eye(P)
    h = -2.0 * Q @ target
    problem = (LayeredProblem(Q, h, 1.0, L) if form == "dense"
               else FactoredLayeredProblem(F, np.full(P, 0.1), h, 1.0, L))
    # To the tie ridge and, where the minimiser sits on a bound with zero gradient, the interior point's √μ.
    np.testing.assert_allclose(relaxed_minimiser(problem), target, atol=1e-4)
    np.testing.assert_array_equal(rounded_sums(problem), target)
    # A lattice minimiser is a local minimum: the descent keeps it.
    np.testing.assert_array_equal(get_solver("rounded-descent").sums(problem), target)


def test_the_relaxation_is_the_box_minimiser_not_the_clipped_unconstrained_one():
    # Unconstrained minimiser (5, −2.6) leaves the box [−3, 3]. Clipping it gives (3, −2.6), rounded (3, −3);
    # with W₁ held at 3 the coupling moves W₂ to −2.6 + 0.9 · (5 − 3) = −0.8, rounded −1.
    Q = np.array([[1.0, 0.9], [0.9, 1.0]])
    problem = LayeredProblem(Q, -2.0 * Q @ np.array([5.0, -2.6]), 0.0, 3)
    W = relaxed_minimiser(problem)
    np.testing.assert_allclose(W, [3.0, -0.8], atol=1e-5)
    assert _kkt_violation(problem.Q, problem.h, W, 3) < 1e-5
    np.testing.assert_array_equal(get_solver("rounded").sums(problem), [3, -1])


@pytest.mark.parametrize("name", ["dense-linear", "factored-linear", "factored-lam0"])
def test_the_relaxation_of_a_singular_problem_is_optimal_over_the_box(name):
    problem = PROBLEMS[name]()
    Q = problem.dense_couplings()
    assert np.linalg.eigvalsh(Q)[0] < 1e-10  # P > N samples: singular, no unconstrained minimiser
    W = relaxed_minimiser(problem)
    assert np.all(np.abs(W) <= problem.n_layers)
    ridge = 1e-6 * np.mean(np.diag(Q))
    assert _kkt_violation(Q + ridge * np.eye(len(W)), problem.h, W, problem.n_layers) < 1e-6
    np.testing.assert_allclose(relaxed_minimiser(problem.to_dense()) if name != "dense-linear" else W, W,
                               atol=1e-6)  # the factored and the dense path agree


def test_an_indefinite_problem_is_relaxed_with_its_nearest_positive_semidefinite_matrix():
    problem = _indefinite()
    values, vectors = np.linalg.eigh(problem.Q)
    assert values[0] < -1e-8
    convex = (vectors * np.maximum(values, 0)) @ vectors.T + 1e-6 * np.mean(np.diag(problem.Q)) * np.eye(len(values))
    W = relaxed_minimiser(problem)
    assert _kkt_violation(convex, problem.h, W, problem.n_layers) < 1e-6


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_descent_never_raises_the_energy_and_ends_in_a_single_move_minimum(name):
    problem = PROBLEMS[name]()
    L = problem.n_layers
    for start in (rounded_sums(problem), 2 * np.random.default_rng(1).integers(0, L + 1, problem.n_features) - L):
        end = descend(problem, start)
        assert problem.energy_of_sums(end) <= problem.energy_of_sums(start) + 1e-12
        base = problem.energy_of_sums(end)
        for j in range(problem.n_features):
            for step in (-2, 2):
                if abs(end[j] + step) <= L:
                    moved = end.copy()
                    moved[j] += step
                    assert problem.energy_of_sums(moved) >= base - 1e-10


def test_a_wide_factored_problem_with_a_negative_diagonal_is_refused_clearly():
    P = 5000
    problem = FactoredLayeredProblem(np.ones((P, 1)), np.full(P, -1.0), np.zeros(P), 0.0, 2)
    with pytest.raises(QBoostTNError, match="negative diagonal term and 5000 features"):
        relaxed_minimiser(problem)
    with pytest.raises(TypeError, match="layered problem"):
        RoundedSolver().sample_layered(np.eye(2), num_reads=1, num_sweeps=1, seed=0)


def test_estimators_fit_with_the_rounded_solvers_reproducibly():
    from sklearn.datasets import load_digits

    from qboost_tn import QBoostClassifier, ShallowWideClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:120], y[:120]
    for solver in ("rounded", "rounded-descent"):
        a = ShallowWideClassifier(solver=solver, random_state=0).fit(X, y)
        b = ShallowWideClassifier(solver=solver, random_state=1).fit(X, y)
        np.testing.assert_array_equal(a.spins_, b.spins_)  # nothing random in the solve
        assert a.solver_ == solver
        q = QBoostClassifier(solver=solver, n_estimators=30, random_state=0).fit(X, y)
        assert q.solver_ == solver and np.isfinite(q.energies_).all()
    rounded = ShallowWideClassifier(solver="rounded", random_state=0).fit(X, y)
    descended = ShallowWideClassifier(solver="rounded-descent", random_state=0).fit(X, y)
    assert np.all(descended.energies_ <= rounded.energies_ + 1e-12)


def _config(tmp_path):
    return {"name": "rounded", "data": {"name": "digits", "options": {"size": 4}},
              "split": {"n_train": 100, "n_val": 50, "n_test": 100}, "output": str(tmp_path / "runs"),
              "models": [{"kind": "shallow-wide", "name": f"sw-{s}", "params": {"solver": s}}
                         for s in ("rounded", "rounded-descent")]}


def test_registered_names_validate_in_a_config(tmp_path):
    from qboost_tn.experiments import load_config

    models = load_config(_config(tmp_path))["models"]
    assert [m["params"]["solver"] for m in models] == ["rounded", "rounded-descent"]


@pytest.mark.slow
def test_registered_names_run_through_a_config_and_the_cli(tmp_path):
    from qboost_tn.cli import main
    from qboost_tn.experiments import run_experiment

    run = run_experiment(_config(tmp_path), progress=False)
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert [r["status"] for r in metrics["models"]] == ["ok", "ok"]
    assert main(["train", "--dataset", "digits", "--n-train", "100", "--n-val", "50", "--n-test", "100",
                 "--solver", "rounded-descent", "--quiet", "--out", str(tmp_path / "train")]) == 0
