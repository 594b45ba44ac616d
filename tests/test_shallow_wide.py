"""ShallowWideClassifier: fitting, mini-batches, exposure of the model, bad input, save/load."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from qboost_tn import ShallowWideClassifier
from qboost_tn.persistence import load_model, save_model

FAST = dict(num_reads=1, num_sweeps=100, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300], X[300:600] / 16.0, y[300:600]


@pytest.fixture(scope="module")
def fitted(digits):
    X, y, _, _ = digits
    return ShallowWideClassifier(n_layers=2, **FAST).fit(X, y)


def test_learns_digits_and_exposes_weights(fitted, digits):
    _, _, X_test, y_test = digits
    assert fitted.score(X_test, y_test) > 0.7
    assert fitted.spins_.shape == (10, 1, 2, 64) and set(np.unique(fitted.spins_)) <= {-1, 1}
    assert fitted.weight_maps().shape == (10, 8, 8)
    assert np.abs(fitted.weight_maps()).max() <= 1
    assert fitted.weight_maps((1, 64)).shape == (10, 1, 64)
    assert fitted.sparsity_ == pytest.approx(np.mean(fitted.layer_sums_ == 0))
    assert 0 < fitted.sparsity_ < 1  # even L lets weights be exactly 0
    assert fitted.n_params_ == np.count_nonzero(fitted.coef_) + 10
    proba = fitted.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=1)], fitted.predict(X_test))
    # Each score read through the documented logistic, then the row normalised.
    from scipy.special import expit

    from qboost_tn.qubo.base import PROBA_SHARPNESS

    p = expit(PROBA_SHARPNESS * fitted.decision_function(X_test))
    np.testing.assert_allclose(proba, p / p.sum(axis=1, keepdims=True), rtol=1e-12)


def test_solutions_are_the_problems_minima_found(fitted, digits):
    X, y, _, _ = digits
    problems = fitted.problems(X, y)
    for task, label in enumerate(fitted.classes_):
        problem = problems[label][0]
        assert problem.energy(fitted.spins_[task, 0]) == pytest.approx(fitted.energies_[task, 0])
        # Annealing beats the all-zero-ish trivial state W = ±L·(−1)
        assert fitted.energies_[task, 0] < problem.energy(-np.ones((2, 64)))


def test_mini_batches_are_averaged(digits):
    X, y, _, _ = digits
    clf = ShallowWideClassifier(n_layers=3, batch_size=100, **FAST).fit(X, y)
    assert clf.spins_.shape == (10, 3, 3, 64)
    np.testing.assert_allclose(clf.layer_sums_, clf.spins_.sum(axis=2).mean(axis=1))
    assert np.any(clf.layer_sums_ % 1 != 0)  # averages of odd integers: continuous weights
    np.testing.assert_allclose(clf.coef_, clf.k_[:, None] / 64 * clf.layer_sums_)
    # each batch's spins solve that batch's own problem
    problems = clf.problems(X, y)
    for b in range(3):
        assert problems[0][b].energy(clf.spins_[0, b]) == pytest.approx(clf.energies_[0, b])
    assert len({round(problems[0][b].offset, 12) for b in range(3)}) == 3


def test_binary_task_and_bqm(digits):
    X, y, X_test, y_test = digits
    mask, mask_test = y < 2, y_test < 2
    clf = ShallowWideClassifier(n_layers=2, **FAST).fit(X[mask], y[mask])
    assert clf.decision_function(X_test[mask_test]).shape == (mask_test.sum(),)
    assert clf.score(X_test[mask_test], y_test[mask_test]) > 0.95
    bqm = clf.to_bqm(X[mask], y[mask])
    spins = clf.spins_[0, 0]
    assert bqm.energy(dict(enumerate(spins.ravel()))) == pytest.approx(clf.energies_[0, 0])
    assert isinstance(ShallowWideClassifier(**FAST).to_bqm(X[:40], y[:40]), dict)


def test_fixed_seed_reproduces_and_parallel_equals_serial(digits):
    X, y, X_test, _ = digits
    serial = ShallowWideClassifier(n_layers=2, batch_size=150, n_jobs=1, **FAST).fit(X, y)
    parallel = ShallowWideClassifier(n_layers=2, batch_size=150, n_jobs=2, **FAST).fit(X, y)
    np.testing.assert_array_equal(serial.spins_, parallel.spins_)
    np.testing.assert_array_equal(serial.decision_function(X_test), parallel.decision_function(X_test))


def test_clone_and_params_round_trip():
    clf = ShallowWideClassifier(n_layers=5, k=1.5, lam=0.2, regularizer="linear", batch_size=32,
                                zero_to_minus_one=False, solver="tabu", num_reads=3, n_jobs=2, random_state=7)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    twin.set_params(lam=4.0)
    assert twin.lam == 4.0 and clf.lam == 0.2


def test_save_load_round_trip(fitted, digits, tmp_path):
    _, _, X_test, _ = digits
    path = save_model(fitted, tmp_path / "model.npz")
    loaded = load_model(path)
    assert type(loaded) is ShallowWideClassifier and loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.decision_function(X_test), fitted.decision_function(X_test))
    np.testing.assert_array_equal(loaded.spins_, fitted.spins_)
    assert loaded.sparsity_ == fitted.sparsity_ and loaded.zero_to_minus_one_ == fitted.zero_to_minus_one_
    assert list(tmp_path.iterdir()) == [path]  # nothing half-written beside it


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.ones(2))
    with pytest.raises(ValueError, match="not a qboost-tn model"):
        load_model(bad)


def test_zero_to_minus_one_auto_is_for_pixels(digits):
    X, y, _, _ = digits
    assert ShallowWideClassifier(image_shape=(8, 8), **FAST).fit(X[:60], y[:60]).zero_to_minus_one_
    assert not ShallowWideClassifier(image_shape=(8, 8), **FAST).fit(X[:60] * 16 - 3, y[:60]).zero_to_minus_one_
    # A table in [0, 1] (scaled counts): its zeros are counts, not blanks.
    assert not ShallowWideClassifier(**FAST).fit(X[:60], y[:60]).zero_to_minus_one_


@pytest.mark.parametrize("params, message", [
    (dict(n_layers=0), "n_layers"),
    (dict(n_layers=2.5), "n_layers"),
    (dict(lam=-1.0), "lam"),
    (dict(k=0), "'k' parameter"),
    (dict(k="big"), "'k' parameter"),
    (dict(k=float("inf")), "'k' parameter"),
    (dict(lam=float("nan")), "'lam' parameter"),
    (dict(regularizer="l1"), "regularizer"),
    (dict(batch_size=1), "batch_size"),
    (dict(zero_to_minus_one="yes"), "zero_to_minus_one"),
    (dict(solver="qpu"), "'solver' parameter.*'layered'.*'neal'"),
    (dict(solver=42), "'solver' parameter.*LayeredSolver.*Sampler"),
    (dict(num_reads=0), "num_reads"),
    (dict(executor="threads"), "executor"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(n_jobs=1.5), "n_jobs"),
    (dict(class_weight="auto"), "class_weight"),
])
def test_bad_parameters(params, message):
    X = np.random.default_rng(0).random((20, 4))
    y = np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match=message):
        ShallowWideClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_data():
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 4)), np.arange(20) % 2
    clf = ShallowWideClassifier(**FAST)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            clf.fit(Xb, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.zeros(20))
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])


def test_validation_search_returns_the_best_not_the_last(digits):
    from qboost_tn.search import validation_search

    X, y, X_val, y_val = digits
    # With a fixed scale k, λ = 1000 drives every weight to 0 (chance-level AUC); tried last, it must not win.
    result = validation_search(ShallowWideClassifier(n_layers=2, k=2.0, **FAST), X, y, {"lam": [0.3, 1000.0]},
                               X_val=X_val, y_val=y_val, refit=False)
    assert result.best_params == {"lam": 0.3}
    assert list(result.results["lam"]) == [0.3, 1000.0]
    assert result.results["macro_auc"].iloc[0] > 0.9 > result.results["macro_auc"].iloc[1]
    assert result.best_score == result.results["macro_auc"].max()
    assert result.best_estimator.lam == 0.3
    refitted = validation_search(ShallowWideClassifier(n_layers=2, k=2.0, **FAST), X, y, {"lam": [0.3, 1000.0]},
                                 validation_fraction=0.3)
    assert refitted.best_estimator.lam == 0.3
    assert refitted.best_estimator.n_features_in_ == 64


def test_solver_names_are_read_when_fitting(monkeypatch):
    """A solver registered after the estimator was created is accepted: the constraint reads the registry."""
    from qboost_tn.qubo import solvers

    X, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    clf = ShallowWideClassifier(**{**FAST, "solver": "mine"})
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        clf.fit(X, y)
    monkeypatch.setitem(solvers.SOLVERS, "mine", solvers.SOLVERS["layered"])
    assert clf.fit(X, y).predict(X).shape == (20,)


@pytest.mark.parametrize("params, message", [
    (dict(k=1e308), "k=1e\\+308 .*overflow"),
    (dict(class_weight={0: -1.0}), r"class_weight\[0\] = -1.0.*> 0"),
    (dict(class_weight={1: 0.0}), r"class_weight\[1\] = 0.0"),
    (dict(class_weight={0: float("nan")}), r"class_weight\[0\] = nan"),
])
def test_user_level_messages_for_extreme_parameters(params, message):
    """Issue 12 item 11: not 'Q contains NaN or inf' but the parameter that is wrong."""
    X, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match=message):
        ShallowWideClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("value, scaling, message", [
    (1e308, "minmax", "feature 'b' \\(column 1\\) spans -1e\\+308 to 1e\\+308"),
    (1e308, "auto", "feature 'b' \\(column 1\\): its standard deviation"),
    (1e200, "standard", "feature 'b' \\(column 1\\): its standard deviation"),  # a finite range, squares overflow
])
def test_a_feature_too_wide_for_float64_is_named(value, scaling, message):
    import pandas as pd

    from qboost_tn.errors import DataError

    X = pd.DataFrame(np.random.default_rng(0).random((20, 3)), columns=["a", "b", "c"])
    X.loc[0, "b"], X.loc[1, "b"] = value, -value
    with pytest.raises(DataError, match=message):
        ShallowWideClassifier(scaling=scaling, **FAST).fit(X, np.arange(20) % 2)


def test_scaling_auto_standardises_columns_in_their_own_units_and_min_maxes_the_rest(digits):
    X, y, _, _ = digits  # pixels in [0, 1]

    def scaled(model, X):
        return (X - model.data_min_) * model.data_scale_

    raw = X[:60] * 16 - 3  # columns in their own units
    Z = scaled(ShallowWideClassifier(**FAST).fit(raw, y[:60]), raw)
    used = Z.std(axis=0) > 0
    np.testing.assert_allclose(Z[:, used].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Z[:, used].std(axis=0), 1, rtol=1e-9)
    for params, data in (({}, X[:60]), (dict(image_shape=(8, 8)), raw), (dict(zero_to_minus_one=True), raw)):
        Z = scaled(ShallowWideClassifier(**params, **FAST).fit(data, y[:60]), data)
        assert Z.min() >= -1 and Z.max() == 1, params  # min-max (and -1 where zeros are replaced)
    with pytest.raises(InvalidParameterError, match="scaling='minmax' or 'auto'"):
        ShallowWideClassifier(zero_to_minus_one=True, scaling="standard", **FAST).fit(X[:60], y[:60])


def test_a_noise_column_does_not_wreck_a_small_csv(tmp_path):
    """Issue 10 item 5: a categorical column of pure noise, one-hot encoded, next to a small real CSV: the
    learner's validation AUC stays within 0.02 of logistic regression's (150 training rows, fixed seed)."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    from qboost_tn import evaluate, load_dataset, prepare, split

    frame = load_breast_cancer(as_frame=True).frame
    frame["noise"] = np.random.default_rng(0).choice([f"c{i}" for i in range(20)], len(frame))
    frame.to_csv(tmp_path / "noisy.csv", index=False)
    ds = load_dataset("csv", path=tmp_path / "noisy.csv", target="target", categorical="noise")
    assert ds.X.shape[1] == 30 + 20
    data = prepare(ds, split(ds, n_train=150, n_val=300, seed=0))
    logreg = LogisticRegression(max_iter=5000).fit(data.X_train, data.y_train)
    learner = ShallowWideClassifier(random_state=0).fit(data.X_train, data.y_train)
    auc = {name: evaluate(data.y_val, model.decision_function(data.X_val))["macro_auc"]
           for name, model in (("logreg", logreg), ("learner", learner))}
    assert auc["learner"] >= auc["logreg"] - 0.02, auc


def test_a_multiclass_row_ranks_by_the_learners_log_probabilities(tmp_path):
    """A one-vs-rest score ignores the other classes' evidence: the row's AUC is that of the normalised class
    probabilities (search.decision_scores), which rank digits better than the raw scores."""
    from qboost_tn.data import load_dataset, prepare, split
    from qboost_tn.eval import macro_auc
    from qboost_tn.experiments import run_experiment

    cfg = {"name": "sw", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 0, "n_test": 400},
           "models": [{"kind": "shallow-wide", "name": "sw", "params": {"num_reads": 2, "num_sweeps": 50}}]}
    row = run_experiment(cfg, out=tmp_path / "run", progress=False).table.iloc[0]
    ds = load_dataset("digits")
    data = prepare(ds, split(ds, n_train=100, n_val=0, n_test=400, seed=0), scale="auto")
    model = ShallowWideClassifier(num_reads=2, num_sweeps=50, random_state=0, image_shape=ds.image_shape)
    model.fit(data.X_train, data.y_train)
    by_proba = macro_auc(data.y_test, np.log(model.predict_proba(data.X_test)))
    assert row["macro_auc"] == pytest.approx(by_proba, abs=1e-9)
    assert by_proba > macro_auc(data.y_test, model.decision_function(data.X_test))
