"""QBoostClassifier (a dictionary of trees and stumps, annealed selection weights), and scikit-learn's
estimator checks for both annealer-trained classifiers."""
import itertools

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from qboost_tn import QBoostClassifier, QBoostTNError, ShallowWideClassifier
from qboost_tn.persistence import load_model, save_model
from qboost_tn.qubo.qboost_model import (selection_energy, selection_moments, selection_problem, stump_outputs,
                                         uniform_gain)
from qboost_tn.qubo.solvers import solve
from qboost_tn.qubo.weak_learners import _concatenate, _flatten, fit_tree_dictionary

FAST = dict(n_estimators=40, num_reads=2, num_sweeps=50, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300], X[300:600], y[300:600]


@pytest.fixture(scope="module")
def fitted(digits):
    X, y, _, _ = digits
    return QBoostClassifier(**FAST).fit(X, y)


def test_learns_digits_and_reports_selection(digits, fitted):
    X, y, X_test, y_test = digits
    clf = fitted
    assert clf.score(X_test, y_test) > 0.75
    assert clf.weights_.shape == (10, 40) and clf.n_selected_.shape == (10,)
    np.testing.assert_array_equal(clf.n_selected_, clf.selected_.sum(axis=1))
    assert 0 < clf.n_selected_.min() and clf.n_selected_.max() < 40  # a selection, not all or nothing
    assert set(np.unique(clf.weights_)) <= {0.0, 0.5, 1.0}  # L = 2 levels
    assert np.array_equal(np.unique(clf.tree_depth_), [0, 4, 8])  # fully grown, 8, 4
    assert clf.weight_maps().shape == (10, 8, 8)
    assert 0 < clf.sparsity_ < 1 and clf.n_params_ > clf.n_selected_.sum()


def test_weight_maps_show_what_each_class_score_responds_to(digits, fitted, tmp_path):
    """Each map is the mean score change when one input goes from the bottom to the top of its training range
    (brute force below), signed, so classes differ; it survives saving."""
    X, y, _, _ = digits
    clf = QBoostClassifier(**dict(FAST, weak_learners="trees+stumps")).fit(X, y)
    rows, (low, high) = clf.response_rows_, clf.input_range_
    brute = np.zeros((10, X.shape[1]))
    for j in range(X.shape[1]):
        top, bottom = rows.copy(), rows.copy()
        top[:, j], bottom[:, j] = high[j], low[j]
        brute[:, j] = (clf.decision_function(top) - clf.decision_function(bottom)).mean(axis=0)
    np.testing.assert_allclose(clf.weight_maps().reshape(10, -1), brute, atol=1e-12)
    maps = fitted.weight_maps().reshape(10, -1)
    assert (maps < 0).any() and (maps > 0).any()
    assert np.corrcoef(maps)[np.triu_indices(10, 1)].min() < 0.5  # ten different maps, not one usage count
    save_model(fitted, tmp_path / "q.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "q.npz").weight_maps(), fitted.weight_maps())


def test_selection_energy_is_the_annealed_energy(digits, fitted):
    """The stored energy is E(w) of the weights, recomputed from the out-of-bag moments."""
    X, y, _, _ = digits
    clf = fitted
    trees, in_bag = fit_tree_dictionary(X, y, clf.classes_, n_estimators=40, depths=[None, 8, 4],
                                        max_features="sqrt", splitter="random", subsample=0.8,
                                        random_state=np.random.default_rng(np.random.RandomState(0).randint(2**31 - 1)))
    H = trees.outputs(X)[:, :, 3]
    G, r, _, _, y_var = selection_moments(H, np.where(y == 3, 1.0, -1.0), ~in_bag)
    c = uniform_gain(G, r) / (0.5 * 40)
    # Same seed, same trees: the estimator grew this dictionary.
    np.testing.assert_array_equal(trees.threshold, clf.tree_threshold_)
    assert clf.coef_[3] == pytest.approx(c * clf.weights_[3])
    assert clf.energies_[3] == pytest.approx(selection_energy(clf.weights_[3], G, r, y_var, scale=c, lam=0.01))


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_selection_problem_encodes_the_energy(n_layers):
    rng = np.random.default_rng(n_layers)
    H = rng.uniform(-1, 1, size=(30, 5))
    y = np.where(H[:, :2].sum(axis=1) > 0, 1.0, -1.0)
    G, r, _, _, y_var = selection_moments(H, y, rng.random((30, 5)) > 0.3)
    problem = selection_problem(G, r, y_var, scale=0.4, lam=0.05, n_layers=n_layers)
    for spins in rng.choice([-1, 1], size=(10, n_layers, 5)):
        w = (spins.sum(axis=0) + n_layers) / (2 * n_layers)
        assert problem.energy(spins) == pytest.approx(selection_energy(w, G, r, y_var, scale=0.4, lam=0.05))


def test_full_moments_are_the_least_squares_energy():
    """With every output usable, E(w) is the training squared error of the best-bias score plus the penalty."""
    rng = np.random.default_rng(0)
    H = rng.choice([-1.0, 1.0], size=(40, 8))
    y = np.where(H[:, :3].sum(axis=1) > 0, 1.0, -1.0)
    G, r, _, _, y_var = selection_moments(H, y)
    for w in rng.integers(0, 2, size=(5, 8)):
        f = 0.3 * H @ w
        direct = np.mean((f - f.mean() - (y - y.mean())) ** 2) + 0.01 * w.sum() / 8
        assert selection_energy(w, G, r, y_var, scale=0.3, lam=0.01) == pytest.approx(direct)


def test_tiny_selection_is_the_global_optimum():
    rng = np.random.default_rng(0)
    H = rng.choice([-1.0, 1.0], size=(40, 8))
    y = np.where(H[:, :3].sum(axis=1) > 0, 1.0, -1.0)
    G, r, _, _, y_var = selection_moments(H, y)
    problem = selection_problem(G, r, y_var, scale=0.3, lam=0.01, n_layers=1)
    best = min(selection_energy(w, G, r, y_var, scale=0.3, lam=0.01)
               for w in itertools.product([0, 1], repeat=8))
    spins, energy = solve(problem, "exact")
    assert energy == pytest.approx(best)


def test_out_of_bag_selection_differs_from_in_sample(digits):
    """In sample, fully grown trees look perfect and the selection degenerates; out of bag they do not."""
    X, y, _, _ = digits
    classes = np.unique(y)
    trees, in_bag = fit_tree_dictionary(X, y, classes, n_estimators=30, depths=[None, 1], max_features="sqrt",
                                        splitter="random", subsample=0.7, random_state=np.random.default_rng(1))
    H = trees.outputs(X)[:, :, 5]
    target = np.where(y == 5, 1.0, -1.0)
    full = trees.depth == 0
    # In sample (each tree on the rows it was grown on) every fully grown tree is perfect ...
    assert all(np.array_equal(H[in_bag[:, t], t], target[in_bag[:, t]]) for t in np.flatnonzero(full))
    G_in, r_in, _, _, y_var = selection_moments(H, target, in_bag)
    G_oob, r_oob, _, _, _ = selection_moments(H, target, ~in_bag)
    # ... so keeping any one of them leaves (almost) no error, while out of bag it leaves a clear one.
    energy = np.array([[selection_energy(np.eye(30)[t], G, r, y_var, scale=r[t] / G[t, t], lam=0.0)
                        for G, r in ((G_in, r_in), (G_oob, r_oob))] for t in np.flatnonzero(full)])
    assert energy[:, 0].mean() < 0.1 * energy[:, 1].mean() and np.all(energy[:, 0] < energy[:, 1])
    # In sample the selection favours the fully grown trees; out of bag it keeps more depth-1 trees.
    kept = []
    for G, r in ((G_in, r_in), (G_oob, r_oob)):
        problem = selection_problem(G, r, y_var, scale=uniform_gain(G, r) / 15, lam=0.0, n_layers=1)
        spins, _ = solve(problem, "neal", num_reads=8, num_sweeps=500, seed=0)
        kept.append(spins[0] > 0)
    assert kept[0][~full].sum() < kept[1][~full].sum()


def test_soft_outputs_are_the_trees_probabilities(digits):
    X, y, X_test, _ = digits
    trees = [DecisionTreeClassifier(max_depth=d, max_features="sqrt", random_state=d).fit(X, y) for d in (2, 5)]
    dictionary = _concatenate([(_flatten(t, 10), t.max_depth) for t in trees])
    out = dictionary.outputs(X_test)
    assert out.shape == (300, 2, 10) and out.min() >= -1 and out.max() <= 1
    for k, tree in enumerate(trees):
        np.testing.assert_allclose(out[:, k], 2 * tree.predict_proba(X_test) - 1, atol=1e-12)
    assert np.any(np.abs(out[:, 0]) < 1)  # shallow trees answer softly, not ±1


def test_save_load_predicts_identically(digits, fitted, tmp_path):
    _, _, X_test, _ = digits
    loaded = load_model(save_model(fitted, tmp_path / "q.npz"))
    np.testing.assert_array_equal(loaded.decision_function(X_test), fitted.decision_function(X_test))
    np.testing.assert_array_equal(loaded.n_selected_, fitted.n_selected_)


def test_binary_trees_and_stumps_save_load(digits, tmp_path):
    X, y, X_test, _ = digits
    mask = np.isin(y, [3, 8])
    clf = QBoostClassifier(weak_learners="trees+stumps", **FAST).fit(X[mask], np.where(y[mask] == 3, "three", "eight"))
    assert clf.weights_.shape == (1, 40 + 64) and clf.n_stumps_ == 64
    assert [len(f) for f in clf.selected_features()] == [clf.selected_[0, 40:].sum()]
    scores = clf.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    loaded = load_model(save_model(clf, tmp_path / "q.npz"))
    np.testing.assert_array_equal(loaded.decision_function(X_test), scores)
    assert loaded.predict(X_test[:3]).dtype.kind == "U"


def test_stumps_and_holdout(digits):
    X, y, X_test, y_test = digits
    clf = QBoostClassifier(weak_learners="stumps", selection="holdout", num_reads=2, num_sweeps=50,
                           random_state=0).fit(X, y)
    assert clf.weights_.shape == (10, 64) and clf.n_trees_ == 0
    assert clf.score(X_test, y_test) > 0.6
    # The stumps were fitted on the 75 % grown part only: refitting on all rows gives other thresholds.
    assert not np.array_equal(clf.thresholds_, clf.set_params(selection="oob").fit(X, y).thresholds_)


def test_user_weak_learners(digits):
    X, y, X_test, y_test = digits
    learners = [DecisionTreeClassifier(max_depth=d, random_state=d).fit(X_test[i::3], y_test[i::3])
                for d in (2, 4, 6) for i in range(3)]
    clf = QBoostClassifier(weak_learners=learners, **FAST).fit(X, y)
    assert clf.weights_.shape == (10, 9) and clf.n_trees_ == 0
    assert clf.score(X, y) > 0.5
    with pytest.raises(QBoostTNError, match="without pickle"):
        save_model(clf, "unused.npz")


def test_parallel_equals_serial_and_clone(digits):
    X, y, _, _ = digits
    serial = QBoostClassifier(n_jobs=1, **FAST).fit(X, y)
    parallel = clone(serial).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.weights_, parallel.weights_)
    assert clone(serial).get_params() == serial.get_params()


@pytest.mark.parametrize("params, message", [
    (dict(lam=-0.1), "lam"), (dict(weak_learners="forest"), "weak_learners"), (dict(n_estimators=0), "n_estimators"),
    (dict(subsample=1.0), "subsample"), (dict(keep_fraction=0.0), "keep_fraction"), (dict(n_layers=0), "n_layers"),
    (dict(max_features="all"), "max_features"), (dict(solver="qpu"), "solver"), (dict(num_sweeps=0), "num_sweeps"),
])
def test_bad_parameters(params, message):
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match=message):
        QBoostClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_weak_learner_list_and_holdout():
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(QBoostTNError, match="fitted classifiers"):
        QBoostClassifier(**{**FAST, "weak_learners": []}).fit(X, y)
    with pytest.raises(QBoostTNError, match="holdout"):
        QBoostClassifier(**{**FAST, "selection": "holdout", "validation_fraction": 0.01}).fit(X[:4], y[:4])


def test_bad_data():
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match="at least 2 classes"):
        QBoostClassifier(**FAST).fit(X, np.ones(20))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        QBoostClassifier(**FAST).fit(X, y)


def test_stump_outputs_are_signs():
    X = np.array([[0.1, 0.9], [0.8, 0.2]])
    np.testing.assert_array_equal(stump_outputs(X, np.array([0.5, 0.5]), np.array([1.0, -1.0])),
                                  [[-1, -1], [1, 1]])


# scikit-learn's own conformance checks; annealing settings kept small so each check's fits take ms.
def _expected_failures(estimator):
    # Each tree grows on a random subset of the rows: repeating a row changes which rows every tree draws, so
    # weights cannot equal repetition. (ShallowWideClassifier's weighted energy does: that check runs.)
    if isinstance(estimator, QBoostClassifier):
        return {"check_sample_weight_equivalence_on_dense_data": "trees grow on random row subsets"}
    return {}


@parametrize_with_checks([ShallowWideClassifier(num_reads=1, num_sweeps=50, random_state=0),
                          QBoostClassifier(n_estimators=8, num_reads=1, num_sweeps=50, random_state=0)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_conformance(estimator, check):
    check(estimator)
