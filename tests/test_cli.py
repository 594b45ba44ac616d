"""The command line as a user types it: data set listing, info, errors, and the demo."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qboost_tn.cli import main


def test_datasets_lists_every_loader(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("mnist", "fashion-mnist", "digits", "bank-marketing", "csv"):
        assert name in out
    assert "yes (ships with a package)" in out


def test_info_describes_a_data_set(capsys):
    assert main(["info", "digits", "-o", "size=4"]) == 0
    out = capsys.readouterr().out
    assert "n_features=16" in out and "0: 178" in out


@pytest.mark.parametrize("argv, message", [
    (["info", "cifar"], "unknown data set 'cifar'"),
    (["info", "mnist", "-o", "path=/nonexistent/mnist"], "data path not found"),
    (["info", "mnist", "-o", "size"], "not KEY=VALUE"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_console_script_entry_point():
    done = subprocess.run([sys.executable, "-m", "qboost_tn.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout


def test_demo_writes_metrics_and_weight_maps(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    metrics = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert metrics["config"]["model"] == "shallow-wide" and metrics["config"]["split"]["train"] == 150
    assert len(metrics["val"]["per_class"]) == 10 and metrics["val"]["summary"]["macro_auc"] > 0.93
    assert (tmp_path / "demo" / "weight_maps.png").is_file() and (tmp_path / "demo" / "model.npz").is_file()
    assert "macro AUC" in capsys.readouterr().out
