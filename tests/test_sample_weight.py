"""``sample_weight`` in every learner's ``fit`` (issue 19), as scikit-learn users expect it: checked like
scikit-learn checks it, ones change nothing, weights move the fit, zero weights drop rows, and for the
shallow-wide learner an integer weight is exactly that many copies of the row (QBoost's trees and the MPS's
mini-batches draw rows at random, so there copies and weights agree only in expectation)."""
from __future__ import annotations

import numpy as np
import pytest

from qboost_tn import MPSClassifier, QBoostClassifier, ShallowWideClassifier

FAST = {"num_reads": 1, "num_sweeps": 30, "random_state": 0}
LEARNERS = {
    "shallow-wide": lambda: ShallowWideClassifier(n_layers=2, **FAST),
    "qboost": lambda: QBoostClassifier(n_estimators=12, max_depth=3, weak_learners="trees+stumps", **FAST),
    "mps": lambda: MPSClassifier(max_bond=3, n_epochs=2, batch_size=32, random_state=0),
}


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:200] / 16, (y[:200] >= 5).astype(int)


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_unit_weights_change_nothing(data, name):
    X, y = data
    plain = LEARNERS[name]().fit(X, y).decision_function(X)
    weighted = LEARNERS[name]().fit(X, y, sample_weight=np.ones(len(y))).decision_function(X)
    np.testing.assert_allclose(weighted, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_weighting_a_class_up_makes_it_predicted_more(data, name):
    X, y = data
    plain = LEARNERS[name]().fit(X, y).predict(X).mean()
    heavy = LEARNERS[name]().fit(X, y, sample_weight=np.where(y == 1, 20.0, 1.0)).predict(X).mean()
    assert heavy > plain


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_zero_weight_rows_are_left_out(data, name):
    """A row of weight 0 sets nothing: not even the scaling (a far outlier of weight 0 changes no score)."""
    X, y = data
    outlier = np.vstack([X, np.full((1, X.shape[1]), 50.0)])
    weights = np.r_[np.ones(len(y)), 0.0]
    base = LEARNERS[name]().fit(X, y, sample_weight=np.ones(len(y))).decision_function(X)
    with_outlier = LEARNERS[name]().fit(outlier, np.r_[y, 1], sample_weight=weights).decision_function(X)
    np.testing.assert_array_equal(with_outlier, base)


@pytest.mark.parametrize("scaling", ["minmax", "standard"])  # a standard deviation weighs rows as copies too
def test_shallow_wide_integer_weights_are_copies(data, scaling):
    X, y = data
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    repeated = LEARNERS["shallow-wide"]().set_params(scaling=scaling).fit(np.repeat(X, weights, axis=0),
                                                                          np.repeat(y, weights))
    weighted = LEARNERS["shallow-wide"]().set_params(scaling=scaling).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), rtol=1e-9)
    np.testing.assert_array_equal(weighted.spins_, repeated.spins_)


@pytest.mark.parametrize("name", sorted(LEARNERS))
@pytest.mark.parametrize("weights, message", [
    (lambda n: -np.ones(n), "Negative values in data passed to `sample_weight`"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
    (lambda n: np.r_[np.inf, np.ones(n - 1)], "inf"),
    (lambda n: np.ones(n + 1), r"sample_weight.shape == \(201,\), expected \(200,\)"),
    (lambda n: np.zeros(n), "Sample weights must contain at least one non-zero number"),
    (lambda n: np.r_[1.0, np.zeros(n - 1)], "gives 1 row\\(s\\) a positive weight; fitting needs at least 2"),
], ids=["negative", "nan", "inf", "length", "all zero", "one row"])
def test_bad_weights_are_one_clear_value_error(data, name, weights, message):
    X, y = data
    with pytest.raises(ValueError, match=message) as caught:
        LEARNERS[name]().fit(X, y, sample_weight=weights(len(y)))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300
