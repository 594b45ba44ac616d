"""The extension points of docs/ARCHITECTURE.md, exercised the way a newcomer would use them: a toy plugin of
each kind (data set, solver, compression method, model kind) is registered from here and run end to end through
the experiments runner, with no other file edited. Also: the layering rule that keeps qubo and mpo pure."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from qboost_tn.experiments import ADAPTERS, ConfigError, Outcome, load_config, register, run_experiment
from qboost_tn.experiments.schema import Field, Float, Record

PACKAGE = Path(__file__).resolve().parents[1] / "qboost_tn"


@pytest.fixture
def toy_data():
    """A registered two-blob data set (removed again after the test)."""
    from qboost_tn.data import DATASETS, Dataset
    from qboost_tn.data.registry import DatasetInfo, register_dataset

    def load_blobs(n=240, seed=0):
        rng = np.random.default_rng(seed)
        y = np.arange(n) % 2
        X = rng.normal(size=(n, 4)) + 1.5 * y[:, None]
        return Dataset("toy-blobs", X.astype(np.float32), y, [f"x{i}" for i in range(4)], ["a", "b"],
                       provenance="made by tests/test_plugins.py")

    register_dataset(DatasetInfo("toy-blobs", load_blobs, "240 x 4", "tests", bundled="made in the test"))
    yield "toy-blobs"
    del DATASETS["toy-blobs"]


def config(data, models, **split):
    return {"name": "plugin", "data": {"name": data}, "split": split or {"n_train": 120, "n_val": 40},
            "models": models}


def test_a_data_set_is_one_registration(toy_data, tmp_path, capsys):
    from qboost_tn.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "toy-blobs" in out and "yes (made in the test)" in out
    run = run_experiment(config(toy_data, [{"kind": "logistic-regression"}]), out=tmp_path / "run", progress=False)
    assert run.table.loc[0, "status"] == "ok" and run.table.loc[0, "macro_auc"] > 0.8
    with pytest.raises(ConfigError, match="data set 'toy-blobs' takes no such option"):
        load_config(config(toy_data, [{"kind": "logistic-regression"}]) | {"data": {"name": toy_data,
                                                                                    "options": {"size": 3}}})


def test_a_model_kind_is_one_registration(toy_data, tmp_path):
    @register("toy-centroid", Record({"shrink": Field(Float(0.0, 1.0), 0.0, "pull the centroids together")}),
              family="classical")
    def toy_centroid(task, params):
        """Nearest centroid: the score of a class is minus the distance to its mean."""
        centroids = np.stack([task.X_train[task.y_train == c].mean(axis=0) for c in range(task.n_classes)])
        centroids = (1 - params["shrink"]) * centroids + params["shrink"] * centroids.mean(axis=0)
        scores = -np.linalg.norm(task.X_eval[:, None, :] - centroids[None], axis=2)
        yield Outcome(scores=scores[:, 1] - scores[:, 0], n_params=centroids.size, fit_time=0.0)

    try:
        with pytest.raises(ConfigError, match=r"models\[0\]\.params\.shrink: must lie in \[0.0, 1.0\]"):
            load_config(config(toy_data, [{"kind": "toy-centroid", "params": {"shrink": 2}}]))
        run = run_experiment(config(toy_data, [{"kind": "toy-centroid", "params": {"shrink": 0.1}}]),
                             out=tmp_path / "run", progress=False)
        row = run.table.iloc[0]
        assert row["status"] == "ok" and row["family"] == "classical" and row["n_params"] == 8
        assert row["macro_auc"] > 0.8
    finally:
        del ADAPTERS["toy-centroid"]


def test_a_solver_is_one_registration(toy_data, tmp_path):
    solvers = pytest.importorskip("qboost_tn.qubo.solvers")
    if not hasattr(solvers, "register_solver"):
        pytest.skip("qboost_tn.qubo.solvers.register_solver does not exist yet")
    import dimod

    calls = []

    class Greedy(solvers.LayeredSolver):
        """Every spin of column j set against the sign of its field: one descent step, for the protocol's sake."""

        default_budget = (1, 1)
        parameters = {}

        def sample_layered(self, problem, *, num_reads, num_sweeps, seed):
            calls.append(problem.n_variables)
            spins = np.where(problem.h < 0, 1, -1)[None, :].repeat(problem.n_layers, axis=0)
            return dimod.SampleSet.from_samples((spins.reshape(1, -1), range(problem.n_variables)), dimod.SPIN,
                                                energy=problem.energy(spins[None]))

    cfg = config(toy_data, [{"kind": "shallow-wide", "params": {"solver": "toy-greedy", "n_layers": 2}}])
    with pytest.raises(ConfigError, match="'toy-greedy' is not one of"):
        load_config(cfg)  # the registry is asked at load time: before registration the name is unknown
    solvers.register_solver("toy-greedy", Greedy)
    try:
        run = run_experiment(cfg, out=tmp_path / "run", progress=False)
        row = run.table.iloc[0]
        assert row["status"] == "ok", row["error"]
        assert calls == [2 * 4]  # one binary task, 2 layers x 4 features
        saved = json.loads((tmp_path / "run" / "metrics.json").read_text())["models"][0]
        assert (tmp_path / "run" / saved["model_file"]).is_file()
    finally:
        del solvers.SOLVERS["toy-greedy"]


def test_a_compression_method_is_one_registration(toy_data, tmp_path):
    compress = pytest.importorskip("qboost_tn.mpo.compress")
    if not hasattr(compress, "register_compression"):
        pytest.skip("qboost_tn.mpo.compress.register_compression does not exist yet")
    import torch
    from torch import nn

    class RoundCompression(compress.CompressionMethod):
        """Weights rounded to one decimal: every weight kept, a toy for the protocol's sake."""

    @RoundCompression.handles(nn.Linear)
    def _round(method, linear, budget, name):
        rounded = nn.Linear(linear.in_features, linear.out_features)
        with torch.no_grad():
            rounded.weight.copy_(torch.round(linear.weight * 10) / 10)
            rounded.bias.copy_(linear.bias)
        return rounded, {"params_after": compress.dense_params(linear),
                         "rel_error": compress.relative_error(rounded.weight, linear.weight)}

    compress.register_compression("toy-round", RoundCompression)
    net = {"hidden": [8], "epochs": 3, "lr": 0.01, "weight_decay": 0.0, "dropout": 0.0, "patience": None}
    try:
        cfg = config(toy_data, [{"kind": "compression-baselines",
                                 "params": {**net, "methods": ["toy-round"], "finetune_epochs": 0, "n_cores": 2}}])
        run = run_experiment(cfg, out=tmp_path / "run", progress=False)
        row = run.table.iloc[0]
        assert row["status"] == "ok", row["error"]
        assert row["model"] == "compression-baselines (toy-round)" and row["rel_error"] < 0.2
    finally:
        del compress.COMPRESSIONS["toy-round"]


# -- layering -------------------------------------------------------------------------------------------------

def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (top-level and inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = list(path.relative_to(PACKAGE.parent).parts[:-1])  # the package holding the file
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from .x (level 1: this package), from ..x (its parent), ...
                base = package_parts[: len(package_parts) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["qubo", "mpo"])
def test_library_packages_import_neither_data_nor_experiments(package):
    """Every import statement of the package, at module level or inside a function, is scanned."""
    forbidden = ("qboost_tn.data", "qboost_tn.experiments", "qboost_tn.cli")
    offenders = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        bad = sorted(n for n in _imported_modules(path) if n.startswith(forbidden))
        if bad:
            offenders[path.name] = bad
    assert not offenders, offenders


def test_the_scan_sees_relative_imports():
    """The scan above would catch an offender: it resolves this file's own kind of import."""
    names = _imported_modules(PACKAGE / "experiments" / "runner.py")
    assert "qboost_tn.experiments.adapters" in names and "qboost_tn.data" in names
