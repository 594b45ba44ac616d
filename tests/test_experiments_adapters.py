"""Every model kind through the runner on a tiny task: scores evaluated, parameters counted, schemas honest."""
import inspect
from pathlib import Path

import numpy as np
import pytest

from qboost_tn import MPSClassifier, QBoostClassifier, ShallowWideClassifier
from qboost_tn.data.skew import LogMinMaxScaler
from qboost_tn.experiments import ADAPTERS, ConfigError, load_config, run_experiment
from qboost_tn.experiments.adapters import Timer

TINY_NET = {"hidden": [16], "epochs": 15, "patience": 5, "lr": 0.01}


def config(models, data="digits", **split):
    return {"name": "adapters", "data": {"name": data},
            "split": split or {"n_train": 120, "n_val": 60, "n_test": 150}, "models": models}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    models = [
        {"kind": "shallow-wide", "name": "sw", "params": {"n_layers": 2, "num_sweeps": 100, "lam": [0.1, 1.0]}},
        {"kind": "qboost", "name": "qb", "params": {"num_sweeps": 100}},
        {"kind": "logistic-regression", "name": "lr-l1", "params": {"l1_ratio": 1.0, "C": 0.3}},
        {"kind": "mlp", "name": "mlp", "params": TINY_NET},
        {"kind": "mpo-compressed", "name": "mpo", "params": {**TINY_NET, "hidden": [16, 16], "max_bond": [1, 64],
                                                              "layers": ["2"], "n_cores": 2, "finetune_epochs": 0}},
        {"kind": "mpo-scratch", "name": "scratch", "params": {**TINY_NET, "hidden": [16, 16], "max_bond": 4}},
    ]
    with Timer() as wall:
        run = run_experiment(config(models), out=tmp_path_factory.mktemp("adapters") / "run", progress=False)
    return run.table.set_index("model").assign(wall_s=wall.seconds, run_dir=str(run.path))


@pytest.mark.slow
def test_every_kind_runs_and_is_evaluated(table):
    assert list(table.index) == ["sw", "qb", "lr-l1", "mlp", "mpo (max_bond=1)", "mpo (max_bond=64)", "scratch (max_bond=4)"]
    assert (table["status"] == "ok").all(), table["error"].dropna().to_dict()
    assert (table["macro_auc"] > 0.75).all(), table["macro_auc"].to_dict()
    # fit times are seconds of this run (not ms, not a clock reading) and each model's own
    assert (table["fit_time_s"] < table["wall_s"]).all()


@pytest.mark.slow
def test_fitted_models_are_saved_where_the_family_can(table):
    """Annealer-trained estimators and logistic regression as npz (reloaded, they predict as saved), networks
    as torch state_dicts; the pickle-only peers not at all (tests/test_experiments_run.py)."""
    import torch

    from qboost_tn import load_model

    run_dir = Path(table["run_dir"].iloc[0])
    assert table.loc["sw", "model_file"] == "models/sw-seed0.npz"
    assert load_model(run_dir / table.loc["sw", "model_file"]).n_layers == 2
    assert table.loc["mlp", "model_file"] == "models/mlp-seed0.pt"
    state = torch.load(run_dir / table.loc["mlp", "model_file"], weights_only=True)
    assert state["0.weight"].shape == (16, 64)
    assert table.loc["mpo (max_bond=1)", "model_file"].endswith(".pt")
    assert table.loc["lr-l1", "model_file"] == "models/lr-l1-seed0.npz"
    assert load_model(run_dir / table.loc["lr-l1", "model_file"]).l1_ratio == 1.0


@pytest.mark.slow
def test_parameter_counts_and_sparsity(table):
    assert table.loc["mlp", "n_params"] == 64 * 16 + 16 + 16 * 10 + 10
    # chi=64 is clipped to the largest useful bond: the exact factorisation loses nothing ...
    assert table.loc["mpo (max_bond=64)", "rel_error"] < 1e-5
    # ... while chi=1 keeps few parameters of the 16x16 layer
    assert table.loc["mpo (max_bond=1)", "n_params"] < table.loc["mpo (max_bond=64)", "n_params"]
    assert table.loc["mpo (max_bond=1)", "compressed_fraction"] < 0.5
    assert table.loc["lr-l1", "sparsity"] > 0.2  # the L1 penalty zeroes weights
    assert 0 <= table.loc["sw", "sparsity"] <= 1 and 0 < table.loc["qb", "sparsity"] < 1
    assert table.loc["sw", "lam"] in (0.1, 1.0) and 0.5 < table.loc["sw", "val_macro_auc"] <= 1
    assert table.loc["qb", "selected"] > 0


def test_searched_model_equals_the_estimator_fitted_directly(tmp_path):
    """The adapter adds nothing of its own: the chosen setting refitted by hand gives the same scores."""
    from qboost_tn import evaluate, load_dataset, prepare, split
    from qboost_tn.search import decision_scores

    cfg = config([{"kind": "shallow-wide", "params": {"n_layers": 1, "num_sweeps": 50, "lam": [0.0, 3.0]}}])
    run = run_experiment(cfg, out=tmp_path / "run", progress=False)
    row = run.table.iloc[0]
    ds = load_dataset("digits")
    p = prepare(ds, split(ds, n_train=120, n_val=60, n_test=150, seed=0))
    model = ShallowWideClassifier(n_layers=1, num_sweeps=50, lam=row["lam"], random_state=0,
                                  image_shape=ds.image_shape).fit(p.X_train, p.y_train)
    assert row["macro_auc"] == pytest.approx(evaluate(p.y_test, decision_scores(model, p.X_test))["macro_auc"])


def test_binary_task_gets_one_output(tmp_path, binary_csv):
    models = [{"kind": "mlp", "params": TINY_NET}, {"kind": "shallow-wide", "params": {"num_sweeps": 50}}]
    cfg = config(models, data="csv") | {"data": {"name": "csv", "options": {"path": str(binary_csv),
                                                                              "target": "label"}}}
    cfg["split"] = {"train_size": 0.8}
    table = run_experiment(cfg, out=tmp_path / "run", progress=False).table.set_index("model")
    assert (table["status"] == "ok").all(), table["error"].to_dict()
    assert table.loc["mlp", "n_params"] == 3 * 16 + 16 + 16 + 1
    assert (table["macro_auc"] > 0.85).all()


def test_networks_need_a_validation_part(tmp_path):
    cfg = config([{"kind": "mlp", "params": TINY_NET}], n_train=100, n_val=0, n_test=100)
    table = run_experiment(cfg, out=tmp_path / "run", progress=False).table
    assert "set split.n_val > 0" in table.loc[0, "error"]


@pytest.mark.parametrize("kind, override, expected", [
    ("mpo-compressed", "max_bond=four", "models[0].params.max_bond: expected int or list of int, got str"),
    ("mpo-compressed", "max_bond=[2, x]", "models[0].params.max_bond[1]: expected int, got str"),
    ("mpo-scratch", "max_bond=0", "models[0].params.max_bond: must be >= 1, got 0"),
    ("mlp", "hidden=256", "models[0].params.hidden: expected list of (int >= 1) or list of (list of (int >= 1)), got int"),
    ("mlp", "lr=0", "models[0].params.lr: must lie in (0.0, inf), got 0.0"),
    ("mlp", "patience=null", None),
    ("shallow-wide", "lam=-1", "models[0].params.lam: must lie in [0, inf), got -1.0"),
    ("shallow-wide", "k=big", "models[0].params.k: 'big' is not one of auto"),
    ("shallow-wide", "k=auto", None),
    ("shallow-wide", "solver=qpu", "models[0].params.solver: 'qpu' is not one of dense, dwave, exact, layered"),
    ("shallow-wide", "n_jobs=0", "models[0].params.n_jobs: must be int <= -1 or int >= 1, got 0"),
    ("shallow-wide", "n_jobs=-2", None),
    ("gradient-boosting", "n_jobs=0", "models[0].params.n_jobs: must be int <= -1 or int >= 1, got 0"),
    ("random-forest", "n_jobs=-1", None),
    ("shallow-wide", "class_weight=balanced", None),
    ("shallow-wide", "batch_size=1", "models[0].params.batch_size: must be >= 2, got 1"),
    ("shallow-wide", "random_state=3", "models[0].params.random_state: unknown key"),
    ("qboost", "lam=[0.0, 0.01]", None),
    ("qboost", "weak_learners=forest", "models[0].params.weak_learners: 'forest' is not one of stumps, trees"),
    ("qboost", "random_state=1", "models[0].params.random_state: unknown key"),
    ("mlp", "threads=2", "models[0].params.threads: renamed to 'n_jobs'; write n_jobs: instead"),
    ("mps", "threads=2", "models[0].params.threads: renamed to 'n_jobs'; write n_jobs: instead"),
    ("mps", "n_jobs=-1", None),
    ("mps", "learning_rate=[0.001, auto]", None),
    ("mps", "feature_map=rbf", "models[0].params.feature_map: 'rbf' is not one of cos-sin, linear"),
])
def test_model_parameter_errors_name_the_key(kind, override, expected):
    cfg = config([{"kind": kind}])
    if expected is None:
        load_config(cfg, [f"models[0].params.{override}"])
        return
    with pytest.raises(ConfigError) as info:
        load_config(cfg, [f"models[0].params.{override}"])
    assert any(expected in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("kind, estimator", [("shallow-wide", ShallowWideClassifier), ("qboost", QBoostClassifier),
                                             ("mps", MPSClassifier)])
def test_estimator_schemas_follow_the_estimators(kind, estimator):
    """Every configurable parameter exists on the estimator with the same default (the seed and progress come
    from the run; an MPS row's torch threads, n_jobs, from the adapter)."""
    defaults = estimator().get_params()
    fields = {k: f for k, f in ADAPTERS[kind].params.fields.items() if not (kind == "mps" and k == "n_jobs")}
    assert set(fields) <= set(defaults)
    assert {k: f.default for k, f in fields.items()} == {k: defaults[k] for k in fields}
    assert "random_state" not in fields and "verbose" not in fields


@pytest.mark.parametrize("estimator", [ShallowWideClassifier, QBoostClassifier, MPSClassifier, LogMinMaxScaler])
def test_estimators_take_keywords_only(estimator):
    """As scikit-learn's: no call can bind a value to the wrong one of 18 parameters by position."""
    params = [p for p in inspect.signature(estimator.__init__).parameters.values() if p.name != "self"]
    assert params and all(p.kind is p.KEYWORD_ONLY for p in params)
    with pytest.raises(TypeError, match="positional"):
        estimator(1)


def test_every_kind_is_documented():
    for kind, adapter in ADAPTERS.items():
        assert adapter.doc and inspect.isgeneratorfunction(inspect.unwrap(adapter.fit)), kind


def test_every_row_records_its_model_bytes(table):
    assert table["model_bytes"].notna().all() and (table["model_bytes"] > 0).all()
    assert table.loc["mlp", "model_bytes"] == 4 * table.loc["mlp", "n_params"]  # float32, no zero weights
    # the L1 fit's zeros are stored sparsely: fewer bytes than its dense float32 count
    assert table.loc["lr-l1", "model_bytes"] < 4 * table.loc["lr-l1", "n_params"]


def test_a_tables_shallow_wide_rows_standardise_and_an_images_rows_min_max(tmp_path, binary_csv):
    """The runner knows a table from an image set; the estimator alone sees both as columns in [0, 1]."""
    from qboost_tn.persistence import load_model

    row = [{"kind": "shallow-wide", "name": "sw", "params": {"n_layers": 2, "num_sweeps": 50}}]
    table = {"name": "table", "data": {"name": "csv", "options": {"path": str(binary_csv), "target": "label"}},
             "split": {"n_train": 100, "n_val": 50, "n_test": 100}, "models": row}
    images = config(row)
    for cfg, expected in ((table, "standard"), (images, "auto")):
        run = run_experiment(cfg, out=tmp_path / cfg["name"], progress=False)
        model = load_model(next((run.path / "models").glob("sw*")))
        assert model.scaling == expected
        if expected == "standard":
            assert np.all(model.data_min_ != 0)  # column means, not the prepared columns' minimum 0
        else:
            assert model.zero_to_minus_one_ and np.all(model.data_min_ == 0)
