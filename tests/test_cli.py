"""The command line as a user types it: start-up, help, every preset writing the one run layout, and errors."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from qboost_tn.cli import COMMANDS, main

TRAIN_FAST = ["train", "--dataset", "digits", "--n-train", "100", "--n-val", "100", "--n-test", "100",
              "--num-reads", "1", "--num-sweeps", "50", "--quiet"]
LAYOUT = {"config.yaml", "metrics.json", "metrics.csv", "report.html", "figures", "models"}


def test_datasets_lists_every_registered_loader(capsys):
    from qboost_tn.data import DATASETS

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in DATASETS:
        assert name in out
    assert "yes (ships with scikit-learn)" in out and "yes (your file)" in out


def test_info_describes_a_data_set(capsys):
    assert main(["info", "digits", "-o", "size=4"]) == 0
    out = capsys.readouterr().out
    assert "n_features=16" in out and "0: 178" in out


@pytest.mark.parametrize("argv, message", [
    (["info", "cifar"], "unknown data set 'cifar'"),
    (["info", "mnist", "-o", "path=/nonexistent/mnist"], "not found"),
    (["info", "mnist", "-o", "size"], "not KEY=VALUE"),
    (["info", "mnist", "-o", "size=[20"], "option 'size=[20': '[20' is not a valid YAML value"),
    (["run", "digits", "--set", "split.n_train=[1"], "override 'split.n_train=[1': '[1' is not a valid YAML value"),
    (["run", "digits", "--set", "split.n_train=5000", "--no-progress"], "asks for 5300 samples"),
    (["train", "--n-jobs", "0"], "--n-jobs: must be int <= -1 or int >= 1, got 0"),
    (["train", "--solver", "qpu"], "--solver: 'qpu' is not one of"),
    (["train", "--model", "qboost", "--k", "3"], "--model qboost does not take --k"),
    (["train", "--k", "[1,"], "--k '[1,' is not a valid value"),
    (["train", "--dataset", "nope"], "--dataset: 'nope' is not one of"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and err.count("error:") == 1
    assert not list(tmp_path.iterdir()), "a mistake found before training leaves nothing behind"


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(Exception, match="unknown data set"):
        main(["info", "cifar", "--debug"])


def test_help_and_version_are_fast_because_they_import_nothing_heavy():
    code = ("import sys, contextlib, io\n"
            "from qboost_tn.cli import main\n"
            "for argv in (['--help'], ['--version']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        main(argv)\n"
            "heavy = sorted(m for m in ('numpy', 'pandas', 'sklearn', 'torch', 'numba', 'yaml') if m in sys.modules)\n"
            "print(heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    version = subprocess.run([sys.executable, "-m", "qboost_tn.cli", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("qboost-tn ")


HEAVY = ("sklearn", "torch", "numba", "dimod", "pandas", "scipy", "matplotlib")


@pytest.mark.parametrize("argv", [["run", "--list"], ["train", "--help"], ["datasets"], ["run", "no-such.yaml"],
                                  ["run", "{bad}"], ["run", "{learner}"], ["train", "--layers", "3"],
                                  ["train", "--model", "qboost", "--lam", "-1"]],
                         ids=["run-list", "train-help", "datasets", "missing-config", "config-error",
                              "learner-param-error", "typo", "train-param-error"])
def test_commands_that_train_nothing_import_nothing_heavy(argv, tmp_path):
    """run --list, train --help, datasets and a config mistake answer at once: no learner library is loaded."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndata: {name: digits}\nsplit: {n_train: 10}\nseedz: [0]\n"
                   "models: [{kind: logistic-regression}, {kind: random-forest}]\n")
    learner = tmp_path / "learner.yaml"  # mistakes inside the estimator-backed kinds' own parameters
    learner.write_text("name: x\ndata: {name: digits}\nsplit: {n_train: 10}\nmodels: [\n"
                       "  {kind: shallow-wide, params: {n_layers: 0, solver: qpu}},\n"
                       "  {kind: qboost, name: q, params: {lam: -1}},\n  {kind: mps, params: {max_bond: x}},\n"
                       "  {kind: mpo-scratch, params: {max_bond: 0}}, {kind: mlp, params: {lr: 0}}]\n")
    code = ("import sys, contextlib, io\n"
            "from qboost_tn.cli import main\n"
            "err = io.StringIO()\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), "
            "contextlib.suppress(SystemExit):\n"
            f"    main({[a.replace('{bad}', str(bad)).replace('{learner}', str(learner)) for a in argv]!r})\n"
            "print(err.getvalue())\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
    if "{learner}" in argv:  # every mistake found, from the stored schemas
        for problem in ("models[0].params.n_layers: must be >= 1, got 0", "models[0].params.solver: 'qpu' is not one of",
                        "models[1].params.lam: must lie in [0, inf), got -1.0", "models[2].params.max_bond",
                        "models[3].params.max_bond: must be >= 1, got 0", "models[4].params.lr"):
            assert problem in done.stdout, problem
    if "--lam" in argv:
        assert "--lam: must lie in [0, inf), got -1.0" in done.stdout


def test_the_stored_schemas_are_the_estimators_own():
    """Configs and train --help read the estimator kinds' schemas from estimator_schemas.json (no estimator
    import); they must be what the estimators declare today, and rebuild to the same schemas."""
    import json

    from qboost_tn.experiments import stored_schemas
    from qboost_tn.experiments.adapters import ADAPTERS
    from qboost_tn.experiments.schema import to_data

    code = "from qboost_tn.experiments.write_schemas import generate, dump; print(dump(generate()), end='')"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert fresh == stored_schemas.TABLE.read_text(encoding="utf-8"), \
        "qboost_tn/experiments/estimator_schemas.json is stale: rewrite it with " \
        "python -m qboost_tn.experiments.write_schemas"
    assert set(json.loads(fresh)) >= {"shallow-wide", "qboost", "mps"}
    for kind in json.loads(fresh):
        assert to_data(ADAPTERS[kind].params) == json.loads(json.dumps(to_data(ADAPTERS[kind].live_params())))


def test_train_help_is_plain_text_with_every_option_explained(capsys):
    import re

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert not re.search(r"``|:(class|meth|func|mod):", out)
    flat = " ".join(out.split())
    for flag in ("--num-sweeps", "--n-train", "--n-val", "--solver", "--depth-levels"):
        text = re.search(re.escape(flag) + r" (?:VALUE|N) (.*?)(?= --[a-z]|$)", flat).group(1)
        assert len(text) > 20, (flag, text)
    assert "dimod sampler" not in flat and "one of dense, dwave, exact, layered, neal" in flat
    assert "None, 8, 4 for the defaults" in flat  # not cut at "e.g."


def test_a_mistyped_option_is_answered_with_the_closest_one(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--layers", "3"])
    assert "--layers -> --n-layers" in capsys.readouterr().err


def test_the_help_table_matches_each_command_module():
    for name, (module_path, help_text) in COMMANDS.items():
        module = importlib.import_module(module_path)
        assert module.__doc__.strip().splitlines()[0] == help_text, name
        assert callable(module.add_arguments) and callable(module.run)


def test_console_script_entry_point():
    done = subprocess.run([sys.executable, "-m", "qboost_tn.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout and "init-config" in done.stdout


@pytest.mark.slow
def test_demo_writes_the_run_layout(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--no-progress",
                 "--set", "models[0].params.num_sweeps=100"]) == 0
    run = tmp_path / "demo"
    assert LAYOUT <= {p.name for p in run.iterdir()}
    metrics = json.loads((run / "metrics.json").read_text())
    record = metrics["models"][0]
    assert metrics["run"]["status"] == "finished" and metrics["run"]["splits"]["0"]["train"] == 150
    assert record["kind"] == "shallow-wide" and len(record["per_class"]) == 10 and record["macro_auc"] > 0.9
    assert (run / record["model_file"]).is_file() and (run / "figures" / "weights-shallow-wide-seed0.png").is_file()
    out = capsys.readouterr().out
    assert "ROC-AUC per class" in out and "report:" in out


def test_train_is_a_preset_over_the_runner(tmp_path, capsys):
    from qboost_tn import load_model

    out = tmp_path / "run"
    assert main(TRAIN_FAST + ["--n-layers", "2", "--seed", "3", "--out", str(out)]) == 0
    assert LAYOUT <= {p.name for p in out.iterdir()}
    record = json.loads((out / "metrics.json").read_text())["models"][0]
    assert record["seed"] == 3 and record["macro_auc"] > 0.8 and record["status"] == "ok"
    assert load_model(out / record["model_file"]).n_layers == 2
    capsys.readouterr()
    # The --out rule is the runner's: the same folder again is refused, before any training.
    assert main(TRAIN_FAST + ["--out", str(out)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err


def test_train_options_come_from_the_estimators(capsys):
    """API, config and CLI agree: every configurable parameter is an option, its help gives the estimator's
    default, and the --dry-run config holds exactly the estimator's defaults."""
    import yaml

    from qboost_tn import MPSClassifier, QBoostClassifier, ShallowWideClassifier
    from qboost_tn.experiments import ADAPTERS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for kind, cls in (("shallow-wide", ShallowWideClassifier), ("qboost", QBoostClassifier), ("mps", MPSClassifier)):
        fields = ADAPTERS[kind].params.fields
        for name in fields:
            assert "--" + name.replace("_", "-") in help_text, name
        assert main(["train", "--model", kind, "--dry-run"]) == 0
        params = yaml.safe_load(capsys.readouterr().out)["models"][0]["params"]
        defaults = cls().get_params()
        # the adapter's own fields (an MPS row's torch threads) keep their schema defaults
        assert params == {k: defaults[k] if k in defaults else fields[k].default for k in fields}
    assert "default: 'layered'" in help_text or "default: layered" in help_text
    assert "one of dense, dwave, exact, layered, neal" in help_text


def test_init_config_writes_the_commented_template_once(tmp_path, capsys, monkeypatch):
    from qboost_tn.experiments import load_config

    monkeypatch.chdir(tmp_path)
    assert main(["init-config", "my.yaml"]) == 0
    text = (tmp_path / "my.yaml").read_text()
    assert text.startswith("# Template for your own data") and "qboost-tn init-config" in text
    assert load_config(tmp_path / "my.yaml", check_paths=False)["data"]["name"] == "csv"
    assert main(["init-config", "my.yaml"]) == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / "my.yaml").read_text() == text
    assert main(["init-config", "digits"]) == 0 and (tmp_path / "digits.yaml").is_file()
    assert main(["init-config", "nope", "x.yaml"]) == 2 and not (tmp_path / "x.yaml").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_compress_offline_error_names_the_flag(capsys, monkeypatch):
    """Without --path and without the data, the message names the flag that fixes it (not path=...)."""
    import dataclasses

    from qboost_tn.data import DATASETS

    def offline(path=None, download=True):
        raise RuntimeError("could not download bank-additional.zip: no network; download the file elsewhere "
                           "and pass its location with path=...")

    monkeypatch.setitem(DATASETS, "bank-marketing", dataclasses.replace(DATASETS["bank-marketing"], loader=offline))
    assert main(["compress", "--no-progress", "--set", "data.options.path=null"]) == 2
    err = capsys.readouterr().err
    assert "--path DIR" in err and "path=..." not in err and "Traceback" not in err


def test_compress_dry_run_is_the_handson_config(capsys):
    import yaml

    assert main(["compress", "--dry-run", "--path", "."]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    kinds = [m["kind"] for m in cfg["models"]]
    assert cfg["name"] == "bank-marketing-handson" and "mpo-compressed" in kinds and "mpo-scratch" in kinds
