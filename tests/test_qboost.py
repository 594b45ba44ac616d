"""QBoostClassifier, and scikit-learn's estimator checks for both annealer-trained classifiers."""
import itertools

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from qboost_tn import QBoostClassifier, ShallowWideClassifier
from qboost_tn.qubo.persistence import load_model, save_model
from qboost_tn.qubo.qboost_model import qboost_problem, stump_outputs

FAST = dict(num_reads=1, num_sweeps=100, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300], X[300:600], y[300:600]


def test_learns_digits_and_reports_selection(digits):
    X, y, X_test, y_test = digits
    clf = QBoostClassifier(**FAST).fit(X, y)
    assert clf.score(X_test, y_test) > 0.6
    assert clf.selected_.shape == (10, 64) and clf.selected_.dtype == bool
    assert 0 < clf.sparsity_ < 1
    assert clf.n_params_ == 2 * clf.selected_.sum()
    assert [len(f) for f in clf.selected_features()] == list(clf.selected_.sum(axis=1))
    assert clf.weight_maps().shape == (10, 8, 8)
    # the stored energy is the QBoost energy of the selection
    H = stump_outputs(X, clf.thresholds_[4], clf.polarities_[4])
    w = clf.selected_[4].astype(float)
    direct = np.mean((H @ w / 64 - np.where(y == 4, 1, -1)) ** 2) + clf.lam_ * w.sum()
    assert clf.energies_[4] == pytest.approx(direct)


def test_tiny_selection_is_the_global_optimum():
    rng = np.random.default_rng(0)
    H = rng.choice([-1.0, 1.0], size=(40, 8))
    y = np.where(H[:, :3].sum(axis=1) > 0, 1.0, -1.0)
    problem = qboost_problem(H, y, lam=0.01)
    every = np.array(list(itertools.product([0, 1], repeat=8)))
    best = min(np.mean((H @ w / 8 - y) ** 2) + 0.01 * w.sum() for w in every)
    from qboost_tn.qubo.solvers import solve

    spins, energy = solve(problem, "neal", num_reads=4, num_sweeps=200, seed=0)
    assert energy == pytest.approx(best)


def test_user_weak_learners(digits):
    X, y, X_test, y_test = digits
    learners = [DecisionTreeClassifier(max_depth=d, random_state=d).fit(X[i::3], y[i::3])
                for d in (2, 4, 6) for i in range(3)]
    clf = QBoostClassifier(weak_learners=learners, **FAST).fit(X, y)
    assert clf.selected_.shape == (10, 9)
    assert clf.score(X_test, y_test) > 0.5
    with pytest.raises(ValueError, match="without pickle"):
        save_model(clf, "unused.npz")


def test_binary_and_save_load(digits, tmp_path):
    X, y, X_test, y_test = digits
    mask = np.isin(y, [3, 8])
    clf = QBoostClassifier(lam=0.001, **FAST).fit(X[mask], np.where(y[mask] == 3, "three", "eight"))
    scores = clf.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    loaded = load_model(save_model(clf, tmp_path / "q.npz"))
    np.testing.assert_array_equal(loaded.decision_function(X_test), scores)
    np.testing.assert_array_equal(loaded.predict(X_test), clf.predict(X_test))
    assert loaded.predict(X_test[:3]).dtype.kind == "U"


def test_parallel_equals_serial_and_clone(digits):
    X, y, X_test, _ = digits
    serial = QBoostClassifier(n_jobs=1, **FAST).fit(X, y)
    parallel = clone(serial).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.selected_, parallel.selected_)
    assert clone(serial).get_params() == serial.get_params()


@pytest.mark.parametrize("params, message", [
    (dict(lam=-0.1), "lam"), (dict(weak_learners="trees"), "weak_learners"), (dict(weak_learners=[]), "weak"),
    (dict(solver="dwave"), "solver"), (dict(num_sweeps=0), "num_sweeps"),
])
def test_bad_parameters(params, message):
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match=message):
        QBoostClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_data():
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match="at least 2 classes"):
        QBoostClassifier(**FAST).fit(X, np.ones(20))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        QBoostClassifier(**FAST).fit(X, y)


# scikit-learn's own conformance checks; annealing settings kept small so each check's fits take ms.
@parametrize_with_checks([ShallowWideClassifier(num_reads=1, num_sweeps=50, random_state=0),
                          QBoostClassifier(num_reads=1, num_sweeps=50, random_state=0)])
def test_sklearn_conformance(estimator, check):
    check(estimator)
