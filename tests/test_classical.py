"""The classical peers (random forest, RBF-SVM, k-NN, gradient boosting) through the runner: tuned on the
validation part over their documented grids, evaluated, and marked as the 'classical' family."""
import pytest

from qboost_tn.experiments import ADAPTERS, run_experiment

PEERS = ["random-forest", "rbf-svm", "knn", "gradient-boosting"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    models = [
        {"kind": "random-forest", "params": {"n_estimators": 30}},
        {"kind": "rbf-svm"},
        {"kind": "knn"},
        {"kind": "gradient-boosting", "params": {"max_iter": 20, "n_jobs": 1}},
    ]
    config = {"name": "peers", "data": {"name": "digits"}, "split": {"n_train": 120, "n_val": 60, "n_test": 150},
              "models": models}
    return run_experiment(config, out=tmp_path_factory.mktemp("peers") / "run", progress=False).table.set_index("model")


def test_peers_are_registered_as_classical():
    assert all(ADAPTERS[kind].family == "classical" for kind in PEERS)


def test_every_peer_is_tuned_and_evaluated(table):
    assert list(table.index) == PEERS
    assert (table["status"] == "ok").all(), table["error"].dropna().to_dict()
    assert (table["macro_auc"] > 0.9).all(), table["macro_auc"].to_dict()
    assert (table["family"] == "classical").all()
    assert (table["n_params"] > 0).all()
    # The default grids are searched on the validation part and the choice is reported.
    assert table.loc["random-forest", "max_features"] in ("sqrt", 0.3)
    assert table.loc["rbf-svm", "C"] in (1.0, 10.0, 100.0)
    assert table.loc["knn", "n_neighbors"] in (1, 3, 5, 10)
    assert table.loc["gradient-boosting", "min_samples_leaf"] in (5, 20)
    assert (0.5 < table["val_macro_auc"]).all() and (table["val_macro_auc"] <= 1).all()


def test_a_single_value_fixes_a_grid(tmp_path):
    config = {"name": "fixed", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 0, "n_test": 100},
              "models": [{"kind": "knn", "params": {"n_neighbors": 3}}]}
    row = run_experiment(config, out=tmp_path / "run", progress=False).table.iloc[0]
    assert row["status"] == "ok" and row["macro_auc"] > 0.9


def test_gradient_boosting_keeps_to_its_openmp_threads(monkeypatch, tmp_path):
    """Its OpenMP loops spin-wait on busy cores: the row's n_jobs bounds them for fit and scoring alike."""
    from threadpoolctl import threadpool_info
    from sklearn.ensemble import HistGradientBoostingClassifier

    seen = []
    fit = HistGradientBoostingClassifier.fit

    def spy(self, X, y, *args, **kwargs):
        seen.append([pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"])
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", spy)
    config = {"name": "threads", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 50, "n_test": 50},
              "models": [{"kind": "gradient-boosting", "params": {"max_iter": 5, "n_jobs": 1}}]}
    row = run_experiment(config, out=tmp_path / "run", progress=False).table.iloc[0]
    assert row["status"] == "ok"
    assert len(seen) == 2 and all(counts and set(counts) == {1} for counts in seen), seen  # 2 = the leaf grid


@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_multiclass_logistic_regression_ranks_by_log_probability(tmp_path, precision):
    """A class's raw logit is not comparable across samples (softmax ignores a per-sample shift): the row's AUC
    is that of the log-probabilities, as the networks' rows are."""
    from scipy.special import log_softmax
    from sklearn.linear_model import LogisticRegression

    from qboost_tn.data import load_dataset, prepare, split
    from qboost_tn.eval import macro_auc
    from qboost_tn.experiments.adapters._int8 import Int8LogisticRegression

    cfg = {"name": "lr", "data": {"name": "digits"}, "split": {"n_train": 60, "n_val": 60, "n_test": 300},
           "models": [{"kind": "logistic-regression", "name": "lr", "params": {"C": 1.0, "precision": precision}}]}
    row = run_experiment(cfg, out=tmp_path / "run", progress=False).table.iloc[0]
    ds = load_dataset("digits")
    data = prepare(ds, split(ds, n_train=60, n_val=60, n_test=300, seed=0))
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0)
    model = (Int8LogisticRegression(estimator=model) if precision == "int8" else model).fit(data.X_train, data.y_train)
    logits = model.decision_function(data.X_test)
    assert row["macro_auc"] == pytest.approx(macro_auc(data.y_test, log_softmax(logits, axis=1)), abs=1e-9)
    assert row["macro_auc"] != pytest.approx(macro_auc(data.y_test, logits), abs=1e-6)
