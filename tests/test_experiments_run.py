"""Running configs: run directories, incremental metrics, failed and interrupted models, the report, the CLI."""
import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from qboost_tn.cli import main
from qboost_tn.experiments import ADAPTERS, Outcome, run_experiment
from qboost_tn.experiments.adapters import Adapter
from qboost_tn.experiments.runner import new_run_dir
from qboost_tn.experiments.schema import Record

TINY = {
    "name": "tiny",
    "data": {"name": "digits"},
    "split": {"n_train": 100, "n_val": 60, "n_test": 200},
    "models": [{"kind": "logistic-regression", "name": "logreg", "params": {"C": [0.1, 1.0]}}],
}


def with_models(*extra, base=TINY):
    return {**base, "models": base["models"] + list(extra)}


@pytest.fixture
def fake_kinds(monkeypatch):
    """Model kinds that fail, or are interrupted, on purpose (registered for this test only)."""
    def boom(task, params):
        raise RuntimeError("solver exploded")
        yield  # pragma: no cover - makes this a generator like the real adapters

    def interrupt(task, params):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    def half(task, params):
        yield Outcome(scores=np.random.default_rng(0).normal(size=(len(task.y_eval), task.n_classes)),
                      n_params=3, fit_time=0.0, variant="first")
        raise ValueError("second variant failed")

    for kind, fn in (("boom", boom), ("interrupt", interrupt), ("half", half)):
        monkeypatch.setitem(ADAPTERS, kind, Adapter(kind, fn, Record({}), kind, "classical"))


def test_run_writes_a_complete_run_directory(tmp_path):
    run = run_experiment({**TINY, "output": str(tmp_path)}, progress=False)
    assert run.status == "finished" and run.path.parent == tmp_path
    assert re.fullmatch(r"tiny-\d{8}-\d{6}", run.path.name)
    for name in ("config.yaml", "metrics.json", "metrics.csv", "report.html", "figures/auc_vs_params.png",
                 "figures/weights-logreg-seed0.png"):
        assert (run.path / name).is_file(), name
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics["run"]["status"] == "finished"
    assert metrics["run"]["splits"]["0"] == {"train": 100, "val": 60, "eval": 200, "evaluate_on": "test"}
    rec = metrics["models"][0]
    assert rec["status"] == "ok" and rec["n_params"] == 64 * 10 + 10
    assert 0.9 < rec["macro_auc"] <= 1 and len(rec["per_class"]) == 10
    assert rec["info"]["C"] in (0.1, 1.0)  # chosen on the validation part
    table = pd.read_csv(run.path / "metrics.csv")
    assert {"model", "macro_auc", "accuracy", "n_params", "fit_time_s", "sparsity", "auc[0]", "auc[9]"} <= set(
        table.columns)
    assert table.loc[0, "macro_auc"] == pytest.approx(rec["macro_auc"])
    per_class_mean = np.mean([c["auc"] for c in rec["per_class"]])
    assert rec["macro_auc"] == pytest.approx(per_class_mean)


def test_runs_are_never_overwritten(tmp_path):
    first, second = new_run_dir(tmp_path, "x"), new_run_dir(tmp_path, "x")
    assert first != second and first.is_dir() and second.is_dir()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match="already exists and is not empty"):
        run_experiment(TINY, out=tmp_path / "taken", progress=False)
    assert (tmp_path / "taken" / "metrics.json").read_text() == "{}"


def test_seeds_give_reproducible_and_different_splits(tmp_path):
    cfg = {**TINY, "seeds": [0, 1, 0], "output": str(tmp_path),
           "models": [{"kind": "logistic-regression", "name": "logreg"}]}
    table = run_experiment(cfg, progress=False).table
    assert list(table["seed"]) == [0, 1, 0]
    assert table["macro_auc"][0] == table["macro_auc"][2] != table["macro_auc"][1]


def test_a_failing_model_is_reported_and_the_others_still_run(tmp_path, fake_kinds):
    cfg = with_models({"kind": "boom"}, {"kind": "half"}, {"kind": "logistic-regression", "name": "after"})
    run = run_experiment(cfg, out=tmp_path / "run", progress=False)
    table = run.table.set_index("model")
    assert table.loc["boom", "status"] == "failed"
    assert table.loc["boom", "error"] == "RuntimeError: solver exploded"
    assert table.loc["half (first)", "status"] == "ok"
    assert table.loc["half (remaining variants)", "error"] == "ValueError: second variant failed"
    assert table.loc["logreg", "status"] == table.loc["after", "status"] == "ok"
    assert "solver exploded" in (tmp_path / "run" / "errors" / "boom-seed0.txt").read_text()
    html = (tmp_path / "run" / "report.html").read_text()
    assert '<tr class="failed">' in html and "RuntimeError: solver exploded" in html


def test_an_interrupted_run_keeps_the_finished_models(tmp_path, fake_kinds):
    cfg = with_models({"kind": "interrupt"}, {"kind": "logistic-regression", "name": "never"})
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, out=tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["run"]["status"] == "interrupted"
    assert [r["model"] for r in metrics["models"]] == ["logreg"]
    assert "interrupted" in (tmp_path / "run" / "report.html").read_text()
    assert not list((tmp_path / "run").rglob("*.part"))


def test_report_is_self_contained(tmp_path):
    run = run_experiment(TINY, out=tmp_path / "run", progress=False)
    html = run.report.read_text()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(?!data:)', html), "the page must not load anything from elsewhere"
    assert html.count("<tr") == 1 + 1 + 1 + 1  # comparison head+row, per-class head+row


def test_cli_run_dry_run_list_and_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv = tmp_path / "my_data.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")}
                 ).to_csv(csv, index=False)
    # The copy-me CSV config runs as shipped once its data file exists (relative to the current directory).
    assert main(["run", "custom-csv", "--no-progress", "--set", "seeds=[0]", "--out", "csv-run"]) == 0
    out = capsys.readouterr().out
    assert "logreg" in out and "report:" in out and (tmp_path / "csv-run" / "report.html").is_file()
    auc = pd.read_csv(tmp_path / "csv-run" / "metrics.csv").loc[0, "macro_auc"]
    assert auc > 0.9  # the label is a linear function of a and b

    assert main(["run", "digits", "--dry-run", "--set", "split.n_train=10"]) == 0
    assert "n_train: 10" in capsys.readouterr().out
    assert main(["run", "--list"]) == 0
    assert "mnist" in capsys.readouterr().out
    assert main(["run", "digits", "--set", "models[2].params.C=big"]) == 2  # models[2] is logreg
    assert "models[2].params.C: expected float or list of float, got str" in capsys.readouterr().err
    assert main(["run", "digits", "--model", "nope"]) == 2
    assert "model(s) ['nope'] not in this config" in capsys.readouterr().err
    assert main(["run"]) == 2


def test_cli_exit_status_says_when_a_model_failed(tmp_path, capsys, fake_kinds):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(with_models({"kind": "boom"})))
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "--no-progress"]) == 1
    assert "FAILED boom (seed 0): RuntimeError: solver exploded" in capsys.readouterr().err
