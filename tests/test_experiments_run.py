"""Running configs: run directories, incremental metrics, failed and interrupted models, the report, the CLI."""
import base64
import json
import os
import re
import subprocess
import sys

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
    cfg = {**TINY, "seeds": [0, 1], "output": str(tmp_path),
           "models": [{"kind": "logistic-regression", "name": "logreg"}]}
    first = run_experiment(cfg, progress=False).table
    again = run_experiment({**cfg, "seeds": [0]}, progress=False).table  # a repeated seed is refused: run again
    assert list(first["seed"]) == [0, 1]
    assert first["macro_auc"][0] == again["macro_auc"][0] != first["macro_auc"][1]


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
    assert len(images) == 3  # AUC vs parameters, AUC vs model size, the weight map
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(?!data:)', html), "the page must not load anything from elsewhere"
    assert html.count("<tr") == 1 + 1 + 1 + 6 + 1 + 1  # comparison, budgets (head + 6 budgets), per class
    size = run.records[0]["model_bytes"]
    assert size == run.table["model_bytes"].iloc[0] > 0
    budgets = re.search(r'<table id="budgets">(.*?)</table>', html).group(1)
    fits = [f"{kib} KiB" for kib in (1, 4, 16, 64, 256) if size <= kib * 1024] + ["unbounded"]
    assert budgets.count("logreg") == 2 * len(fits)  # best row and its family's cell, where it fits


def test_cli_run_dry_run_list_and_errors(tmp_path, capsys, monkeypatch, binary_csv):
    monkeypatch.chdir(tmp_path)
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


# -- faults: races, full disks, bad folders, signals (issue 12 items 1, 2, 4, 6) -------------------------------

def _claim_after_barrier(path, barrier, results):
    from qboost_tn.experiments.runner import claim_run_dir

    barrier.wait()
    try:
        claim_run_dir(path)
        results.put("won")
    except ValueError as exc:
        results.put(f"refused: {exc}")


@pytest.mark.parametrize("exists", [False, True], ids=["new", "empty"])
def test_two_processes_racing_for_one_out_folder_one_wins(tmp_path, exists):
    import multiprocessing as mp

    # fork: the children start at once with the test's imports, so the barrier releases them together
    ctx = mp.get_context("fork")
    target = tmp_path / "out"
    if exists:
        target.mkdir()
    for _ in range(5):  # a few rounds: the race is decided by the OS, the outcome must always be one winner
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_claim_after_barrier, args=(target, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        assert outcomes[1] == "won" and outcomes[0].startswith("refused: output directory"), outcomes
        assert [p.name for p in target.iterdir()] == ["config.yaml"]
        for child in target.iterdir():
            child.unlink()


@pytest.fixture
def counting_kind(monkeypatch):
    """A model kind that counts its fits, to prove a run stopped before training."""
    calls = []

    def count(task, params):
        calls.append(task.seed)
        yield Outcome(scores=np.zeros((len(task.y_eval), task.n_classes)), n_params=1, fit_time=0.0)

    monkeypatch.setitem(ADAPTERS, "count", Adapter("count", count, Record({}), "count", "classical"))
    return calls


@pytest.mark.parametrize("make_out, message", [
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "exists and is not a directory"),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "run", "a parent of it is a file"),
])
def test_an_unusable_out_is_one_clear_error_before_training(tmp_path, capsys, counting_kind, make_out, message):
    import yaml

    out = make_out(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(with_models({"kind": "count"})))
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert counting_kind == []


def _mount_tmpfs(path, options):
    import shutil as sh

    if sys.platform != "linux" or os.geteuid() != 0 or not sh.which("mount"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _umount(path):
    subprocess.run(["umount", str(path)], check=True)


def test_a_read_only_out_is_refused_before_training(tmp_path, capsys, counting_kind):
    import yaml

    disk = tmp_path / "ro"
    _mount_tmpfs(disk, "ro,size=64k")
    try:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(yaml.safe_dump(with_models({"kind": "count"})))
        assert main(["run", str(cfg), "--out", str(disk / "run"), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "cannot create the run directory" in err and "Read-only file system" in err
        assert "Traceback" not in err and counting_kind == []
    finally:
        _umount(disk)


def test_a_full_disk_stops_the_run_and_is_not_a_model_failure(tmp_path, capsys, monkeypatch):
    """The metrics flush hits ENOSPC: one clear error, the model that succeeded recorded once as ok."""
    import yaml

    disk = tmp_path / "small"
    _mount_tmpfs(disk, "size=64k")

    def big(task, params):  # each outcome's figures and records fill the small disk quickly
        for i in range(50):
            yield Outcome(scores=np.random.default_rng(i).normal(size=(len(task.y_eval), task.n_classes)),
                          n_params=1, fit_time=0.0, variant=f"v{i}", info={"pad": "x" * 2000})

    monkeypatch.setitem(ADAPTERS, "big", Adapter("big", big, Record({}), "big", "classical"))
    try:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(yaml.safe_dump({**TINY, "models": [{"kind": "big"}]}))
        assert main(["run", str(cfg), "--out", str(disk / "run"), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "cannot write the run directory" in err and "No space left on device" in err
        assert "Traceback" not in err and err.count("error:") == 1
        saved = json.loads((disk / "run" / "metrics.json").read_text())["models"]
        assert saved and all(r["status"] == "ok" for r in saved)  # never "failed: OSError"
        assert len({r["model"] for r in saved}) == len(saved)  # nobody recorded twice
        assert not list((disk / "run").rglob("*.part"))
    finally:
        _umount(disk)


def test_a_run_that_fails_before_any_model_leaves_nothing(tmp_path, monkeypatch):
    def crash(task, params):  # not a model failure: the runner itself breaks before any record
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setitem(ADAPTERS, "crash", Adapter("crash", crash, Record({}), "crash", "classical"))
    with pytest.raises(KeyboardInterrupt):
        run_experiment({**TINY, "models": [{"kind": "crash"}]}, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    (tmp_path / "given").mkdir()
    with pytest.raises(KeyboardInterrupt):
        run_experiment({**TINY, "models": [{"kind": "crash"}]}, out=tmp_path / "given", progress=False)
    assert (tmp_path / "given").is_dir() and not list((tmp_path / "given").iterdir())


def test_report_of_a_run_where_every_model_failed(tmp_path, fake_kinds):
    from qboost_tn.experiments.report import comparison_frame

    run = run_experiment({**TINY, "models": [{"kind": "boom"}]}, out=tmp_path / "run", progress=False)
    assert run.status == "finished" and list(run.table["status"]) == ["failed"]
    html = run.report.read_text()
    assert "RuntimeError: solver exploded" in html and "best of its family" not in html
    assert comparison_frame([]).empty and "macro_auc" in comparison_frame([]).columns


def test_the_report_marks_the_best_of_each_family(tmp_path):
    cfg = {**TINY, "models": [{"kind": "logistic-regression", "name": "a", "params": {"C": 0.001}},
                              {"kind": "logistic-regression", "name": "b", "params": {"C": 1.0}}]}
    run = run_experiment(cfg, out=tmp_path / "run", progress=False)
    from qboost_tn.experiments.report import comparison_frame

    frame = comparison_frame(run.records).set_index("model")
    best = frame["macro_auc"].idxmax()
    assert frame["best_in_family"].to_dict() == {"a": best == "a", "b": best == "b"}
    assert run.report.read_text().count('title="best of its family"') == 1


SLOW_RUN = """
import sys, time
import numpy as np
from qboost_tn.experiments import ADAPTERS, Outcome
from qboost_tn.experiments.adapters import Adapter
from qboost_tn.experiments.schema import Record
from qboost_tn.cli import main

def slow(task, params):
    yield Outcome(scores=np.zeros((len(task.y_eval), task.n_classes)), n_params=1, fit_time=0.0, variant="fast")
    print("READY", flush=True)
    time.sleep(120)
    yield Outcome(scores=np.zeros((len(task.y_eval), task.n_classes)), n_params=1, fit_time=0.0, variant="slow")

ADAPTERS["slow"] = Adapter("slow", slow, Record({}), "slow", "classical")
sys.exit(main(["run", sys.argv[1], "--out", sys.argv[2], "--no-progress"]))
"""


@pytest.mark.slow
def test_sigterm_stops_a_run_like_ctrl_c(tmp_path):
    import signal

    import yaml

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**TINY, "models": [{"kind": "slow"}]}))
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(cfg), str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("READY"):
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["run"]["status"] == "interrupted" and [r["model"] for r in metrics["models"]] == ["slow (fast)"]


def test_tabular_weights_are_drawn_as_named_feature_bars(tmp_path, binary_csv, monkeypatch):
    # Tables get a bar chart of the strongest features by column name, not a 1-pixel strip of weights.
    import qboost_tn.eval.plots as plots

    drawn = []
    real = plots.plot_feature_bars
    monkeypatch.setattr(plots, "plot_feature_bars", lambda maps, **kw: drawn.append(kw) or real(maps, **kw))
    config = {"name": "csv", "data": {"name": "csv", "options": {"path": str(binary_csv), "target": "label"}},
              "split": {"n_train": 100, "n_val": 60}, "output": str(tmp_path),
              "models": [{"kind": "logistic-regression", "name": "logreg"}]}
    run = run_experiment(config, progress=False)
    assert run.status == "finished" and len(drawn) == 1
    assert drawn[0]["feature_names"] == ["a", "b", "c"]
    assert list((run.path / "figures").glob("weights-logreg-seed0.png"))


@pytest.mark.slow
def test_every_fitted_model_that_can_be_saved_is_saved(tmp_path):
    """Logistic regression and the MPS classifier save and load like the annealer's learners; the
    pickle-only peers (k-NN here) are left out."""
    from qboost_tn import load_model
    from qboost_tn.data import load_dataset, prepare, split

    cfg = with_models({"kind": "mps", "params": {"max_bond": 2, "n_epochs": 1, "learning_rate": 0.003}},
                      {"kind": "knn"}, base={**TINY, "models": [{"kind": "logistic-regression", "name": "logreg"}]})
    run = run_experiment(cfg, out=tmp_path / "run", progress=False)
    files = {r["model"]: r.get("model_file") for r in run.records}
    assert files["knn"] is None and files["logreg"] and files["mps"], files
    ds = load_dataset("digits")
    data = prepare(ds, split(ds, n_train=100, n_val=60, n_test=200, seed=0))
    for name in ("logreg", "mps"):
        model = load_model(run.path / files[name])
        record = next(r for r in run.records if r["model"] == name)
        from qboost_tn.eval import evaluate
        from qboost_tn.search import decision_scores

        # the rows rank by the one rule: log-probabilities for several classes
        assert evaluate(data.y_test, decision_scores(model, data.X_test))["macro_auc"] == \
            pytest.approx(record["macro_auc"], abs=1e-12)


def test_interrupted_and_dry_run_say_what_the_run_would(tmp_path, capsys, fake_kinds):
    cfg = tmp_path / "cfg.yaml"
    import yaml

    cfg.write_text(yaml.safe_dump(with_models({"kind": "interrupt"})))
    assert main(["run", str(cfg), "--out", str(tmp_path / "run"), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert f"results are in {tmp_path / 'run'}" in err
    # --dry-run refuses the non-empty folder the run would refuse
    assert main(["run", str(cfg), "--out", str(tmp_path / "run"), "--dry-run"]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err


def test_run_prints_the_per_class_auc_line(tmp_path, capsys):
    import yaml

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    assert main(["run", str(cfg), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"logreg \(seed 0\) ROC-AUC per class: 0: [01]\.\d{3}, 1: ", out)
    assert re.search(r"logreg .* -\s+ok", out)  # sparsity not applicable: "-", never None or NaN


def test_many_skewed_count_columns_are_logged_through_the_small_data_config(tmp_path, monkeypatch):
    """A CSV of long-tailed counts run through small-data.yaml with only data, split and seeds replaced: the
    default ``data.scale`` (auto) finds every count column and logs it before min-max, and leaves the one
    symmetric column alone."""
    import yaml

    from qboost_tn.experiments import load_config, shipped_configs

    rng = np.random.default_rng(0)
    n, width = 300, 40
    counts = rng.poisson(rng.gamma(0.2, 5.0, (n, width)))  # negative binomial: mostly 0, a long tail
    path = tmp_path / "counts.csv"
    frame = pd.DataFrame(counts, columns=[f"feat_{j}" for j in range(width)])
    frame["level"] = rng.normal(50, 5, n)
    frame["target"] = np.array(["x", "y", "z"])[rng.integers(0, 3, n)]
    frame.to_csv(path, index=False)
    seen = []

    def probe(task, params):
        seen.append(task.X_train)
        yield Outcome(scores=np.zeros((len(task.y_eval), task.n_classes)), n_params=1, fit_time=0.0, model_bytes=4)

    monkeypatch.setitem(ADAPTERS, "probe", Adapter("probe", probe, Record({}), "probe", "classical"))
    shipped = yaml.safe_load(shipped_configs()["small-data"].read_text())
    assert "scale" not in shipped["data"]  # the shipped default applies
    config = {**shipped, "data": {"name": "csv", "options": {"path": str(path), "target": "target"}},
              "split": {"n_train": 150, "n_val": 60}, "seeds": [0], "models": [{"kind": "probe"}]}
    assert load_config(config)["data"]["scale"] == "auto"
    run = run_experiment(config, out=tmp_path / "run", progress=False)
    assert run.status == "finished"
    from qboost_tn.data import load_dataset, split

    parts = split(load_dataset("csv", path=str(path), target="target"), n_train=150, n_val=60, seed=0)
    train = frame.drop(columns="target").to_numpy(float)[parts.train]
    logged = np.log1p(train[:, :width])
    expected = (logged - logged.min(axis=0)) / np.ptp(logged, axis=0)
    np.testing.assert_allclose(seen[0][:, :width], expected, rtol=1e-5, atol=1e-6)
    level = train[:, width]
    np.testing.assert_allclose(seen[0][:, width], (level - level.min()) / np.ptp(level), rtol=1e-5, atol=1e-6)
