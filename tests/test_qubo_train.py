"""``qboost-tn train`` and the library function behind it."""
import json

import pytest

from qboost_tn.cli import main
from qboost_tn.qubo.persistence import load_model
from qboost_tn.qubo.train import build_model, train_and_evaluate


def test_train_writes_metrics_maps_and_model(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", "digits", "--n-train", "100", "--n-val", "100", "--n-test", "100",
                 "--layers", "2", "--num-reads", "1", "--num-sweeps", "50", "--seed", "3", "--quiet",
                 "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.npz", "weight_maps.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["params"]["n_layers"] == 2 and metrics["config"]["split"]["train"] == 100
    assert metrics["val"]["summary"]["macro_auc"] > 0.8 and metrics["test"]["summary"]["n_samples"] == 100
    assert len(metrics["val"]["per_class"]) == 10
    assert load_model(out / "model.npz").n_layers == 2
    assert "macro AUC" in capsys.readouterr().out


def test_train_qboost_without_test_part(tmp_path):
    result = train_and_evaluate("digits", model="qboost", params={"num_reads": 1, "num_sweeps": 50},
                                n_train=100, n_val=100, n_test=0, out=tmp_path, progress=False)
    assert set(result.evaluations) == {"val"}
    assert result.paths["weight_maps"].is_file()
    assert 0 <= result.metrics["sparsity"] <= 1


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--dataset", "digits", "--model", "qboost", "--layers", "3", "--out",
                 str(tmp_path / "x")]) == 2
    assert "does not use --layers" in capsys.readouterr().err
    assert main(["train", "--dataset", "nope", "--out", str(tmp_path / "y")]) == 2
    assert "unknown data set" in capsys.readouterr().err
    assert main(["train", "--dataset", "digits", "--solver", "qpu", "--out", str(tmp_path / "z")]) == 2
    assert "unknown solver" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()
    with pytest.raises(ValueError, match="does not take parameter"):
        build_model("shallow-wide", depth=3)
