"""The layered Ising problem, its BQM, the stumps and the solver dispatch."""
import itertools

import dimod
import numpy as np
import pytest

from qboost_tn.qubo.model import LayeredProblem, feature_curvature, least_squares_problem
from qboost_tn.qubo.qboost_model import fit_stumps, stump_outputs
from qboost_tn.qubo.anneal.schedule import beta_range
from qboost_tn.qubo.solvers import SOLVERS, solve


def _data(n=40, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, p))
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(n) > 0.5, 1.0, -1.0)
    return X, y


def _random_spins(rng, count, L, P):
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(count, L, P))


@pytest.mark.parametrize("regularizer", ["squared", "linear"])
def test_energy_equals_training_loss_with_least_squares_bias(regularizer):
    X, y = _data()
    L, scale, lam = 3, 0.4, 0.7
    problem = least_squares_problem(X, y, scale=scale, lam=lam, regularizer=regularizer, n_layers=L)
    unit = lam * scale**2 * feature_curvature(X - X.mean(axis=0))
    spins = _random_spins(np.random.default_rng(1), 25, L, X.shape[1])
    for s in spins:
        W = s.sum(axis=0)
        bias = y.mean() - scale * W @ X.mean(axis=0)
        loss = np.mean((scale * X @ W + bias - y) ** 2)
        penalty = unit * (np.sum(W.astype(float) ** 2) if regularizer == "squared" else np.sum(W))
        assert problem.energy(s) == pytest.approx(loss + penalty, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("regularizer", ["squared", "linear"])
def test_bqm_energy_equals_problem_energy(regularizer):
    X, y = _data(p=4)
    L = 3
    problem = least_squares_problem(X, y, scale=0.5, lam=1.3, regularizer=regularizer, n_layers=L)
    bqm = problem.to_bqm()
    assert bqm.vartype is dimod.SPIN and bqm.num_variables == 4 * L
    assert set(bqm.variables) == set(range(4 * L))
    spins = _random_spins(np.random.default_rng(2), 30, L, 4)
    rows = spins.reshape(30, -1)
    energies = bqm.energies((rows, range(4 * L)))
    np.testing.assert_allclose(energies, problem.energy(spins), rtol=1e-10, atol=1e-12)
    # Label l * P + j is spin (l, j).
    np.testing.assert_array_equal(problem.spins_from_sample(dict(enumerate(rows[0]))), spins[0])


def test_sampleset_rows_are_mapped_by_label_not_position():
    problem = LayeredProblem(np.eye(2), np.array([1.0, -2.0]), 0.0, n_layers=2)
    spins = np.array([[1, -1], [-1, -1]])
    labels = [3, 1, 0, 2]  # shuffled variable order
    row = [spins.ravel()[v] for v in labels]
    ss = dimod.SampleSet.from_samples(([row], labels), dimod.SPIN, energy=[0.0])
    np.testing.assert_array_equal(problem.spins_from_sampleset(ss)[0], spins)


def test_layered_problem_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        LayeredProblem(np.ones((2, 3)), np.ones(2), 0.0, 1)
    with pytest.raises(ValueError, match="symmetric"):
        LayeredProblem(np.array([[0.0, 1.0], [0.0, 0.0]]), np.ones(2), 0.0, 1)
    with pytest.raises(ValueError, match="n_layers"):
        LayeredProblem(np.eye(2), np.ones(2), 0.0, 0)
    with pytest.raises(ValueError, match="finite"):
        LayeredProblem(np.eye(2), np.array([np.nan, 1.0]), 0.0, 1)


def test_exact_solve_reaches_global_optimum():
    X, y = _data(p=3)
    problem = least_squares_problem(X, y, scale=0.6, lam=0.2, regularizer="squared", n_layers=2)
    every = np.array(list(itertools.product([-1, 1], repeat=6))).reshape(-1, 2, 3)
    optimum = problem.energy(every).min()
    for solver in ("exact", "neal", "tabu"):
        spins, energy = solve(problem, solver, num_reads=4, num_sweeps=200, seed=0)
        assert energy == pytest.approx(optimum, abs=1e-12), solver
        assert problem.energy(spins) == pytest.approx(energy)


def test_stumps_find_the_informative_feature():
    X, y = _data(n=200, p=4)
    thresholds, polarities = fit_stumps(X, y)
    accuracy = (stump_outputs(X, thresholds, polarities) == y[:, None]).mean(axis=0)
    assert accuracy.argmax() == 0 and accuracy[0] > 0.75
    assert polarities[0] == 1 and 0.3 < thresholds[0] < 0.7


def test_beta_range_follows_the_energy_scale():
    # The annealer sees beta x energy: scaling a problem by c must scale both ends by 1/c. The cold end accepts a
    # move of the typical curvature cost 2 Q_jj with probability 1 % (unless clamped to 10 x hot).
    X, y = _data()
    problem = least_squares_problem(X, y, scale=0.3, lam=1.0, regularizer="squared", n_layers=3)
    hot, cold = beta_range(problem)
    scaled = LayeredProblem(4.0 * problem.Q, 4.0 * problem.h, 0.0, problem.n_layers)
    assert beta_range(scaled) == pytest.approx((hot / 4.0, cold / 4.0))
    diagonal = np.diag(problem.Q)
    assert cold == pytest.approx(max(np.log(100.0) / (2.0 * np.median(diagonal[diagonal > 0])), 10.0 * hot))
    assert 0 < hot < cold


def test_unknown_solver_lists_the_names():
    problem = LayeredProblem(np.eye(2), np.ones(2), 0.0, 1)
    with pytest.raises(ValueError, match="unknown solver 'qpu'.*neal"):
        solve(problem, "qpu")
    with pytest.raises(ValueError, match="dimod.Sampler"):
        solve(problem, 42)
    assert {"neal", "exact", "tabu", "steepest"} <= set(SOLVERS)


def test_exact_refuses_large_problems():
    problem = LayeredProblem(np.eye(11), np.ones(11), 0.0, 2)
    with pytest.raises(ValueError, match="22 variables"):
        solve(problem, "exact")


class EmptySampler(dimod.Sampler):
    parameters = {}
    properties = {}

    def sample(self, bqm, **params):
        return dimod.SampleSet.from_samples(([], list(bqm.variables)), dimod.SPIN, energy=[])


class RecordingSampler(dimod.Sampler):
    """Declares only num_reads: solve must not hand it num_sweeps, seed or beta_range."""
    parameters = {"num_reads": []}
    properties = {}

    def sample(self, bqm, **params):
        self.received = params
        return dimod.ExactSolver().sample(bqm)


def test_sampler_returning_no_samples_is_an_error():
    with pytest.raises(RuntimeError, match="no samples"):
        solve(LayeredProblem(np.eye(2), np.ones(2), 0.0, 1), EmptySampler())


def test_only_declared_parameters_are_passed():
    sampler = RecordingSampler()
    spins, energy = solve(LayeredProblem(np.eye(2), np.array([1.0, -1.0]), 0.0, 1), sampler, num_reads=3,
                          num_sweeps=10, seed=1)
    assert sampler.received == {"num_reads": 3}
    np.testing.assert_array_equal(spins, [[-1, 1]])


def test_lattice_points_are_the_nearest_of_the_lattice():
    from qboost_tn.qubo.model import lattice_points

    levels = 0.5 * np.arange(-4, 5, 2)  # scale 0.5, L = 4: -2, -1, 0, 1, 2
    w = np.random.default_rng(0).uniform(-3, 3, 200)
    nearest = levels[np.argmin(np.abs(w[:, None] - levels[None, :]), axis=1)]
    np.testing.assert_allclose(lattice_points(w, 0.5, 4), nearest)


@pytest.mark.parametrize("n_layers", [2, 4, 16])
def test_lattice_scale_is_the_cheapest_rounding_of_the_ridge_solution(n_layers):
    """Of the candidate scales, the one whose rounded ridge weights have the lowest training energy, measured
    through the problem's own energy (an independent path to the quadratic form lattice_scale uses)."""
    from qboost_tn.qubo.model import SCALE_CANDIDATES, lattice_points, lattice_scale, ridge_weights

    rng = np.random.default_rng(3)
    X = rng.random((60, 12)) ** 3  # skewed columns: a few strong weights, which a fixed quantile clips
    z = X @ rng.standard_normal(12) + 0.1 * rng.standard_normal(60)
    y = np.where(z > np.median(z), 1.0, -1.0)
    curvature = feature_curvature(X - X.mean(axis=0))
    w = ridge_weights(X, y, lam=0.3, curvature=curvature)
    chosen = lattice_scale(X, y, lam=0.3, curvature=curvature, n_layers=n_layers)
    candidates = np.quantile(np.abs(w), np.linspace(0.5, 1.0, SCALE_CANDIDATES)) / n_layers
    assert np.isclose(candidates, chosen).any()

    def energy(scale):
        problem = least_squares_problem(X, y, scale=scale, lam=0.3, regularizer="squared", n_layers=n_layers,
                                        curvature=curvature)
        return float(problem.energy_of_sums(lattice_points(w, scale, n_layers)[None, :] / scale)[0])

    assert energy(chosen) <= min(energy(s) for s in candidates) + 1e-9


def test_lattice_scale_of_nothing_to_learn_is_none():
    from qboost_tn.qubo.model import lattice_scale

    X = np.random.default_rng(0).random((10, 3))
    assert lattice_scale(X, np.ones(10), lam=1.0, curvature=1.0, n_layers=4) is None
