"""Size budgets: candidates over a budget are dropped before the validation choice, in one place."""
import numpy as np
import pytest

from qboost_tn.search import BudgetChoice, validation_search


def test_each_budget_keeps_the_best_candidate_that_fits_it():
    choice = BudgetChoice([2000, 6000, None])
    for score, size, name in [(0.9, 5000, "a"), (0.8, 1000, "b"), (0.95, 9000, "c"), (0.9, 4000, "tie")]:
        choice.offer(score, size, name)
    assert choice.best(2000) == (0.8, 1000, "b")
    assert choice.best(6000) == (0.9, 5000, "a")  # ties go to the earlier candidate
    assert [(p, budgets) for p, _, _, budgets in choice.choices()] == [("a", [6000]), ("b", [2000]), ("c", [None])]
    empty = BudgetChoice([10])
    empty.offer(1.0, 11, "too big")
    assert empty.best(10) is None and empty.choices() == []


def test_validation_search_drops_settings_over_the_budget():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits(return_X_y=True)
    X = X / 16
    lasso = LogisticRegression(l1_ratio=1.0, solver="saga", max_iter=300, tol=1e-2)
    grid = {"C": [0.02, 10.0]}  # the strong penalty zeroes most weights: stored sparse, far smaller
    free = validation_search(lasso, X[:300], y[:300], grid, refit=False)
    assert free.best_params == {"C": 10.0}
    sizes = free.results.set_index("C")["model_bytes"]
    assert sizes[0.02] < sizes[10.0]
    tight = validation_search(lasso, X[:300], y[:300], grid, refit=False, max_bytes=int(sizes[0.02]))
    assert tight.best_params == {"C": 0.02}
    with pytest.raises(ValueError, match="no setting fits max_bytes=10"):
        validation_search(lasso, X[:300], y[:300], grid, max_bytes=10)


def test_a_run_with_budgets_tunes_each_peer_within_each(tmp_path):
    from qboost_tn.experiments.runner import run_experiment

    cfg = {"name": "b", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 100, "n_test": 200},
           "budget_kib": [2, 16],
           "models": [{"kind": "extra-trees", "name": "et",
                       "params": {"n_estimators": [2, 20, 100], "max_leaf_nodes": [8, None], "max_features": "sqrt"}},
                      {"kind": "logistic-regression", "name": "lr8", "params": {"precision": "int8"}}]}
    run = run_experiment(cfg, out=tmp_path / "run", progress=False)
    table = run.table.set_index("model")
    unbounded = table.loc["et"]
    for label, kib in (("et (<=2 KiB)", 2), ("et (<=16 KiB)", 16)):
        if label in table.index:  # a budget whose choice equals a looser one's gets no row of its own
            assert table.loc[label, "model_bytes"] <= kib * 1024
            assert table.loc[label, "val_macro_auc"] <= unbounded["val_macro_auc"]
    assert "et (<=2 KiB)" in table.index and unbounded["model_bytes"] > 2 * 1024
    assert table.loc["lr8", "model_bytes"] == 64 * 10 + (10 + 10) * 4  # int8 weights, scales, intercepts


def test_int8_logistic_regression_predicts_with_its_stored_weights():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from qboost_tn.experiments.adapters._int8 import Int8LogisticRegression

    X, y = load_digits(return_X_y=True)
    model = Int8LogisticRegression(estimator=LogisticRegression(max_iter=500)).fit(X[:200] / 16, y[:200])
    assert model.weights_.dtype == np.int8 and np.abs(model.weights_).max() == 127
    expected = X[200:] / 16 @ (model.weights_ * model.scale_[:, None]).T + model.estimator.intercept_
    np.testing.assert_allclose(model.decision_function(X[200:] / 16), expected)


def test_mlp_widths_are_chosen_within_each_budget(tmp_path):
    pytest.importorskip("torch")
    from qboost_tn.experiments.runner import run_experiment

    cfg = {"name": "m", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 100, "n_test": 100},
           "budget_kib": [4],
           "models": [{"kind": "mlp", "name": "mlp", "params": {"hidden": [[4], [64]], "epochs": 3, "lr": 3e-3,
                                                                "weight_decay": 0.0, "dropout": 0.0}}]}
    table = run_experiment(cfg, out=tmp_path / "run", progress=False).table.set_index("model")
    # 64 inputs: 4 hidden units take (64*4 + 4 + 4*10 + 10) floats, 1.2 KiB; 64 take 19 KiB
    sizes = {"4": (64 * 4 + 4 + 4 * 10 + 10) * 4, "64": (64 * 64 + 64 + 64 * 10 + 10) * 4}
    for model, row in table.iterrows():
        assert row["model_bytes"] == sizes[str(row["hidden"])]
    if "mlp (<=4 KiB)" in table.index:
        assert table.loc["mlp (<=4 KiB)", "hidden"] in ("4", 4)
    assert (table["model_bytes"] <= 4 * 1024).any()


def test_settings_the_data_cannot_take_are_skipped():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from qboost_tn.experiments.adapters.base import Task, fit_choices

    X, y = load_digits(return_X_y=True)
    X = X / 16
    task = Task(X[:100], y[:100], X[100:200], y[100:200], X[200:300], y[200:300], list(range(10)), None, 0)

    class ImageOnly(LogisticRegression):
        def fit(self, X, y):
            raise ValueError("needs images")

    def build(p):
        return (ImageOnly if p["kind"] == "image-only" else LogisticRegression)(C=p["C"], max_iter=200)

    [(model, info, variant)] = fit_choices(build, {"kind": ["image-only", "any"], "C": 1.0}, task, ["kind", "C"])
    assert info["kind"] == "any" and info["skipped"] == 1 and variant is None
    with pytest.raises(ValueError, match="needs images"):
        fit_choices(build, {"kind": ["image-only"] * 2, "C": 1.0}, task, ["kind"])


def test_budget_rows_are_rebuilt_per_seed_from_the_validation_choices():
    from qboost_tn.experiments.report import budget_frame

    def rec(seed, name, size, val, auc):
        return {"model": name, "entry": "et", "kind": "extra-trees", "family": "classical", "seed": seed,
                "status": "ok", "macro_auc": auc, "accuracy": 0.5, "n_params": 1, "model_bytes": size,
                "fit_time_s": 1.0, "sparsity": None, "info": {"val_macro_auc": val}}

    records = [rec(1, "et (<=1 KiB)", 900, 0.80, 0.70), rec(1, "et", 5000, 0.90, 0.90),
               rec(2, "et (<=4 KiB)", 3000, 0.85, 0.80), rec(2, "et", 6000, 0.95, 1.00)]
    frame = budget_frame(records, budgets=(1, 4, 16, None)).set_index("model")
    # 1 KiB: seed 2 has no choice that small, so no row; 4 KiB: seed 1's 900-byte choice and seed 2's 3000
    assert "et (<=1 KiB)" not in frame.index
    assert frame.loc["et (<=4 KiB)", "macro_auc"] == pytest.approx(0.75)
    assert frame.loc["et (<=4 KiB)", "model_bytes"] == 3000
    assert frame.loc["et (<=16 KiB)", "macro_auc"] == frame.loc["et", "macro_auc"] == pytest.approx(0.95)


@pytest.mark.parametrize("kind", ["mpo-compressed", "mpo-scratch"])
def test_mpo_bonds_are_chosen_on_validation_within_each_budget(tmp_path, kind):
    pytest.importorskip("torch")
    from qboost_tn.experiments.runner import run_experiment

    params = {"hidden": [16, 16], "max_bond": [1, 8], "choose_bond": True, "epochs": 3, "lr": 3e-3,
              "weight_decay": 0.0, "dropout": 0.0}
    # 64 inputs, 16-wide (or 8-wide) hidden layers as MPOs and a dense output layer, bytes per chi
    sizes = {("16x16", 1): 968, ("16x16", 8): 4840, ("8", 1): 480, ("8", 8): 2968}
    if kind == "mpo-compressed":  # the widths are chosen too
        params.update(hidden=[[16, 16], [8]], finetune_epochs=2, gradual=False)
    cfg = {"name": "m", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 100, "n_test": 100},
           "budget_kib": [1], "models": [{"kind": kind, "name": "mpo", "params": params}]}
    table = run_experiment(cfg, out=tmp_path / "run", progress=False).table.set_index("model")
    assert set(table.index) <= {"mpo", "mpo (<=1 KiB)"} and (table["status"] == "ok").all()
    for model, row in table.iterrows():
        hidden = str(row["hidden"]) if kind == "mpo-compressed" else "16x16"
        assert row["model_bytes"] == sizes[hidden, row["max_bond"]]
    assert (table["model_bytes"] <= 1024).any()  # the 1 KiB budget always has a choice: chi 1
    if "mpo (<=1 KiB)" in table.index:  # a row of its own only when the unbounded choice is larger
        assert table.loc["mpo", "model_bytes"] > 1024 and table.loc["mpo (<=1 KiB)", "max_bond"] == 1
        assert table.loc["mpo (<=1 KiB)", "val_macro_auc"] <= table.loc["mpo", "val_macro_auc"]


def test_several_mpo_widths_need_the_validation_choice(tmp_path):
    pytest.importorskip("torch")
    from qboost_tn.experiments.runner import run_experiment

    cfg = {"name": "m", "data": {"name": "digits"}, "split": {"n_train": 100, "n_val": 100, "n_test": 100},
           "models": [{"kind": "mpo-compressed", "name": "mpo", "params": {"hidden": [[8], [16]], "max_bond": 2}}]}
    row = run_experiment(cfg, out=tmp_path / "run", progress=False).table.iloc[0]
    assert row["status"] == "failed" and "set choose_bond: true" in row["error"]
