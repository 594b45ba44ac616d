"""The layered annealer: valid spins with honest energies, exact ground states on tiny problems, seeds, errors."""
from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest

from qboost_tn.qubo.anneal.common import lattice_round
from qboost_tn.qubo.anneal.layered import LayeredAnnealingSolver, anneal_layered, layer_spins, relaxed_start
from qboost_tn.qubo.anneal.schedule import beta_range, dense_beta_range
from qboost_tn.qubo.model import LayeredProblem
from qboost_tn.qubo.solvers import solve


def random_problem(P, L, seed, psd=True):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(P, P))
    Q = A @ A.T / P if psd else (A + A.T) / 2
    return LayeredProblem(Q, rng.normal(size=P), float(rng.normal()), L)


def numpy_energy(problem, spins):
    """Energy of (..., L, P) spins straight from the formula, independent of the model's own method."""
    W = spins.sum(axis=-2).astype(float)
    return (W @ problem.Q * W).sum(axis=-1) + W @ problem.h + problem.offset


def test_samples_are_valid_spins_with_the_reported_energies():
    problem = random_problem(12, 3, seed=0)
    ss = LayeredAnnealingSolver().sample_layered(problem, num_reads=5, num_sweeps=50, seed=1)
    assert len(ss) == 5 and ss.vartype is dimod.SPIN
    assert sorted(ss.variables) == list(range(problem.n_variables))
    spins = problem.spins_from_sampleset(ss)
    assert set(np.unique(spins)) <= {-1, 1}
    np.testing.assert_allclose(ss.record.energy, numpy_energy(problem, spins), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ss.record.energy, problem.to_bqm().energies(ss), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("P, L, psd", [(16, 1, False), (8, 2, True), (5, 3, False), (4, 4, True), (3, 5, False)])
def test_finds_the_exact_ground_state_of_tiny_problems(P, L, psd):
    for seed in range(3):
        problem = random_problem(P, L, seed=seed, psd=psd)
        exact = dimod.ExactSolver().sample(problem.to_bqm()).first.energy
        ss = LayeredAnnealingSolver().sample_layered(problem, num_reads=8, num_sweeps=100, seed=seed)
        assert ss.first.energy == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_every_read_ends_in_a_local_minimum_of_single_and_pair_moves():
    # Strongly correlated features (like neighbouring pixels): trading weight between two of them barely changes
    # the energy, so single moves get stuck where a pair move still gains.
    rng = np.random.default_rng(3)
    P, L = 12, 4
    Q = np.ones((P, P)) + 0.05 * np.eye(P)
    h = rng.normal(scale=0.3, size=P)
    W, energies, _ = anneal_layered(Q, h, L, num_reads=6, num_sweeps=1, seed=0)
    eye = np.eye(P, dtype=int)
    singles = [eye[j] * d for j in range(P) for d in (-2, 2)]
    steps = singles + [a + b for a, b in itertools.combinations(singles, 2)]
    for w, e in zip(W, energies):
        moved = np.array([w + s for s in steps if np.all(np.abs(w + s) <= L)]).astype(float)
        others = np.einsum("ri,ij,rj->r", moved, Q, moved) + moved @ h
        assert others.min() >= e - 1e-9


def test_same_seed_same_samples_and_reads_do_not_depend_on_their_number():
    problem = random_problem(30, 3, seed=4, psd=False)
    a = anneal_layered(problem.Q, problem.h, 3, num_reads=4, num_sweeps=20, seed=7)[0]
    b = anneal_layered(problem.Q, problem.h, 3, num_reads=4, num_sweeps=20, seed=7)[0]
    c = anneal_layered(problem.Q, problem.h, 3, num_reads=9, num_sweeps=20, seed=7)[0]
    d = anneal_layered(problem.Q, problem.h, 3, num_reads=4, num_sweeps=20, seed=8)[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c[:4])
    assert not np.array_equal(a, d)


def test_sums_stay_on_the_lattice_of_their_layer_count():
    for L in (1, 2, 5):
        problem = random_problem(20, L, seed=L, psd=False)
        W = anneal_layered(problem.Q, problem.h, L, num_reads=3, num_sweeps=10, seed=0)[0]
        assert np.all(np.abs(W) <= L) and np.all((W + L) % 2 == 0)


def test_layer_spins_round_trip_and_reject_impossible_sums():
    W = np.array([[3, 1, -1, -3], [1, 1, 1, 1]])
    spins = layer_spins(W, 3)
    assert spins.shape == (2, 3, 4) and spins.dtype == np.int8
    np.testing.assert_array_equal(spins.sum(axis=1), W)
    with pytest.raises(ValueError, match="layer sums"):
        layer_spins(np.array([2, 1]), 3)
    with pytest.raises(ValueError, match="layer sums"):
        layer_spins(np.array([5]), 3)


def test_solve_dispatches_to_sample_layered():
    problem = random_problem(6, 2, seed=5)
    spins, energy = solve(problem, LayeredAnnealingSolver(), num_reads=4, num_sweeps=50, seed=0)
    exact = dimod.ExactSolver().sample(problem.to_bqm()).first.energy
    assert spins.shape == (2, 6)
    assert energy == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_default_beta_range_is_ordered_and_finite():
    for problem in (random_problem(20, 3, 0), random_problem(20, 1, 1, psd=False)):
        hot, cold = dense_beta_range(problem.Q, problem.h, problem.n_layers)
        assert 0 < hot < cold < np.inf
        assert beta_range(problem) == (hot, cold)  # one heuristic, from the arrays or the problem
    assert dense_beta_range(np.zeros((3, 3)), np.zeros(3), 2) == (1.0, 10.0)


@pytest.mark.parametrize("Q, h, L, kwargs, match", [
    (np.ones((2, 3)), np.zeros(2), 2, {}, "square"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2), 2, {}, "symmetric"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), np.zeros(2), 2, {}, "NaN"),
    (np.eye(2), np.array([np.inf, 0.0]), 2, {}, "NaN or inf"),
    (np.eye(2), np.zeros(3), 2, {}, "shape"),
    (np.eye(2), np.zeros(2), 0, {}, "n_layers"),
    (np.eye(2), np.zeros(2), 2, {"num_reads": 0}, "num_reads"),
    (np.eye(2), np.zeros(2), 2, {"num_sweeps": 2.5}, "num_sweeps"),
    (np.eye(2), np.zeros(2), 2, {"beta_range": (2.0, 1.0)}, "beta_range"),
    (np.eye(2), np.zeros(2), 2, {"beta_range": "hot"}, "beta_range"),
])
def test_bad_input_gives_clear_errors(Q, h, L, kwargs, match):
    with pytest.raises(ValueError, match=match):
        anneal_layered(Q, h, L, **kwargs)


def test_solver_with_a_fixed_beta_range_reports_it():
    problem = random_problem(5, 2, seed=6)
    ss = LayeredAnnealingSolver(beta_range=(0.1, 50.0)).sample_layered(problem, num_reads=2, num_sweeps=10, seed=0)
    assert ss.info["beta_range"] == (0.1, 50.0)
    with pytest.raises(ValueError, match="num_reads"):
        LayeredAnnealingSolver().sample_layered(problem, num_reads=0, num_sweeps=10, seed=0)


def test_learner_fits_with_the_solver_and_parallel_equals_serial():
    from sklearn.datasets import load_digits

    from qboost_tn.qubo.shallow_wide import ShallowWideClassifier

    X, y = load_digits(n_class=3, return_X_y=True)
    params = {"solver": LayeredAnnealingSolver(), "num_reads": 4, "num_sweeps": 50, "random_state": 0}
    serial = ShallowWideClassifier(n_jobs=1, **params).fit(X[:90], y[:90])
    parallel = ShallowWideClassifier(n_jobs=2, **params).fit(X[:90], y[:90])
    np.testing.assert_array_equal(serial.spins_, parallel.spins_)
    assert serial.score(X[90:], y[90:]) > 0.8


@pytest.mark.parametrize("L", [3, 4])
def test_warm_read_descends_from_the_rounded_continuous_minimiser(L):
    problem = random_problem(30, L, seed=L)
    Q, h = problem.Q, problem.h
    start = relaxed_start(Q, h, L)
    np.testing.assert_array_equal(start, lattice_round(np.linalg.solve(2 * Q, -h), L))
    assert set(np.unique(start)) <= set(range(-L, L + 1, 2))
    warm, energies, _ = anneal_layered(Q, h, L, num_reads=3, num_sweeps=20, seed=1, start=start)
    cold = anneal_layered(Q, h, L, num_reads=3, num_sweeps=20, seed=1)[0]
    np.testing.assert_array_equal(warm[1:], cold[1:])  # only read 0 changes
    # Read 0 is the descent alone: neither the sweeps nor the seed touch it, and no single move improves it.
    alone, energy, info = anneal_layered(Q, h, L, num_reads=1, num_sweeps=500, seed=99, start=start)
    np.testing.assert_array_equal(alone[0], warm[0])
    assert np.isnan(info["beta_range"]).all()  # no schedule was needed
    w = alone[0].astype(float)
    for j in range(len(w)):
        for d in (-2, 2):
            if abs(w[j] + d) <= L:
                step = w.copy()
                step[j] += d
                assert step @ Q @ step + h @ step >= energy[0] - 1e-9


def test_warm_start_needs_a_positive_definite_q_and_a_valid_start():
    indefinite = random_problem(8, 2, seed=0, psd=False)
    assert relaxed_start(indefinite.Q, indefinite.h, 2).size == 0  # no unique minimiser: random reads only
    ss = LayeredAnnealingSolver().sample_layered(indefinite, num_reads=2, num_sweeps=10, seed=0)
    off = LayeredAnnealingSolver(warm_start=False).sample_layered(indefinite, num_reads=2, num_sweeps=10, seed=0)
    np.testing.assert_array_equal(ss.record.sample, off.record.sample)
    for bad in (np.zeros(7, dtype=int), np.full(8, 3), np.ones(8, dtype=int) * 2 + 1):
        with pytest.raises(ValueError, match="start"):
            anneal_layered(indefinite.Q, indefinite.h, 2, start=bad)


def test_budget_keeps_the_work_of_400_features_when_there_is_a_warm_start():
    import pickle

    solver = LayeredAnnealingSolver()
    budgets = {P: solver.budget(LayeredProblem(np.eye(P), np.ones(P), 0.0, 2)) for P in (10, 400, 800, 1600)}
    assert budgets == {10: (16, 50), 400: (16, 50), 800: (4, 50), 1600: (1, 50)}
    # Without a warm start (Q not positive definite, or switched off) few reads are not enough: the default.
    indefinite = LayeredProblem(-np.eye(800), np.ones(800), 0.0, 2)
    assert solver.budget(indefinite) == (16, 50)
    assert LayeredAnnealingSolver(warm_start=False).budget(LayeredProblem(np.eye(800), np.ones(800), 0.0, 2)) == (16, 50)
    # The solver travels to worker processes without its cached starts.
    copy = pickle.loads(pickle.dumps(solver))
    assert repr(copy) == repr(solver) and len(copy._starts) == 0
