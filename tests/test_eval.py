"""The evaluation layer against hand-computed values, its JSON, errors and plots."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from qboost_tn.eval import evaluate
from qboost_tn.eval.plots import plot_feature_bars, plot_metric_vs_params, plot_weight_maps


def test_binary_scores_by_hand():
    # Positives score 0.35 and 0.8 against negatives -0.1 and 0.4: 3 of 4 pairs ordered -> AUC 0.75.
    result = evaluate([0, 0, 1, 1], [-0.1, 0.4, 0.35, 0.8])
    assert result["macro_auc"] == pytest.approx(0.75)
    assert result.per_class["auc"].tolist() == pytest.approx([0.75, 0.75])
    # score > 0 predicts [0, 1, 1, 1]: accuracy 3/4, class 1 precision 2/3 recall 1, class 0 precision 1 recall 1/2.
    assert result["accuracy"] == pytest.approx(0.75)
    assert result.per_class["precision"].tolist() == pytest.approx([1.0, 2 / 3])
    assert result.per_class["recall"].tolist() == pytest.approx([0.5, 1.0])
    assert result["threshold"] == "score > 0" and result["log_loss"] is None


def test_binary_probabilities_give_log_loss_and_threshold():
    proba = np.array([0.2, 0.6, 0.7, 0.9])
    result = evaluate([0, 0, 1, 1], proba, proba=proba)
    expected = -np.mean(np.log([0.8, 0.4, 0.7, 0.9]))
    assert result["log_loss"] == pytest.approx(expected)
    assert result["threshold"] == "proba >= 0.5" and result["accuracy"] == pytest.approx(0.75)


def test_multiclass_one_vs_rest_by_hand():
    y = np.array([0, 1, 2, 2])
    scores = np.array([[0.9, 0.1, 0.0],
                       [0.2, 0.5, 0.3],
                       [0.1, 0.6, 0.3],
                       [0.0, 0.1, 0.9]])
    result = evaluate(y, scores, class_names=["a", "b", "c"])
    # Class b: positive (0.5) beats negatives 0.1 and 0.1 but loses to 0.6 -> 2/3. Class c: positives 0.3, 0.9
    # against negatives 0.0, 0.3 -> (1 + 0.5 + 1 + 1) / 4.
    assert result.per_class["auc"].tolist() == pytest.approx([1.0, 2 / 3, 0.875])
    assert result["macro_auc"] == pytest.approx((1 + 2 / 3 + 0.875) / 3)
    assert result["accuracy"] == pytest.approx(0.75)  # argmax predicts [0, 1, 1, 2]
    assert result.per_class["support"].tolist() == [1, 1, 2]


def test_class_without_positives_is_nan_and_left_out_of_the_mean():
    result = evaluate([0, 0, 1, 1], np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0.5]], dtype=float))
    assert math.isnan(result.per_class["auc"][2])
    assert result["macro_auc"] == pytest.approx(1.0)


def test_json_and_frame(tmp_path):
    result = evaluate([0, 1, 1, 0, 2], np.eye(3)[[0, 1, 2, 0, 2]], class_names=["x", "y", "z"])
    result.to_json(tmp_path / "m.json")
    loaded = json.loads((tmp_path / "m.json").read_text())
    assert loaded["summary"]["n_samples"] == 5 and [r["class"] for r in loaded["per_class"]] == ["x", "y", "z"]
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and {"auc", "macro_auc", "accuracy"} <= set(frame.columns)


@pytest.mark.parametrize("y, scores, message", [
    ([0, 1, 1], [0.1, 0.2], "do not match 3 labels"),
    ([0, 1], [0.1, np.nan], "NaN or inf"),
    ([0, 3], np.zeros((2, 3)), r"labels must lie in 0..2"),
    ([[0, 1]], [0.1], "must be 1-D"),
])
def test_bad_input(y, scores, message):
    with pytest.raises(ValueError, match=message):
        evaluate(y, scores)


def test_weight_maps_and_curve_are_written(tmp_path):
    maps = np.random.default_rng(0).normal(size=(3, 16))
    plot_weight_maps(maps, class_names=["a", "b", "c"], path=tmp_path / "maps.png", title="t")
    assert (tmp_path / "maps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="not a square image"):
        plot_weight_maps(np.zeros((2, 10)))
    table = pd.DataFrame({"model": ["mpo", "mpo", "dense"], "n_params": [10, 100, 1000], "macro_auc": [0.7, 0.8, 0.9]})
    plot_metric_vs_params(table, path=tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="not in the table"):
        plot_metric_vs_params(table, y="accuracy")


def test_written_files_get_the_ordinary_mode(tmp_path):
    import os

    from qboost_tn._io import write_text

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "out" / "a.txt", "x")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_atomic_dir_publishes_whole_folders_only(tmp_path):
    import os

    from qboost_tn._io import atomic_dir

    mask = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "run") as staging:
            (staging / "a.txt").write_text("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "run" / "a.txt").is_file() and (tmp_path / "run").stat().st_mode & 0o777 == 0o755
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "failed") as staging:
        (staging / "a.txt").write_text("x")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with pytest.raises(FileExistsError, match="already exists"), atomic_dir(tmp_path / "run"):
        pass


def test_feature_bars_name_the_strongest_features(tmp_path):
    maps = np.array([[0.1, -2.0, 0.5, 0.0], [1.0, 0.2, -0.3, 3.0]])
    fig = plot_feature_bars(maps, feature_names=["age", "job=admin", "balance", "duration"], class_names=["no", "yes"],
                            top=2, path=tmp_path / "bars.png", title="t")
    assert (tmp_path / "bars.png").stat().st_size > 0
    labels = [[t.get_text() for t in ax.get_yticklabels()] for ax in fig.axes[:2]]
    assert labels == [["balance", "job=admin"], ["age", "duration"]]  # strongest on top (drawn last)
    with pytest.raises(ValueError, match="3 feature names for 4"):
        plot_feature_bars(maps, feature_names=["a", "b", "c"])


def test_plots_leave_pyplot_and_the_backend_alone():
    """A library never picks a backend: every plot draws on its own Figure, which Jupyter shows when a cell
    returns it (_repr_png_), with or without pyplot imported."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from qboost_tn.eval.plots import plot_feature_bars, plot_metric_vs_params, plot_weight_maps\n"
        "figs = [plot_weight_maps(np.ones((2, 4))), plot_feature_bars(np.ones((2, 3))),\n"
        "        plot_metric_vs_params(pd.DataFrame({'n_params': [1, 2], 'macro_auc': [.5, .6], 'model': 'a'}))]\n"
        "assert all(f._repr_png_().startswith(b'\\x89PNG') for f in figs)\n"
        "import matplotlib\n"
        "print('matplotlib.pyplot' in sys.modules, matplotlib.rcParams._get_backend_or_none())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "None"]


def test_the_network_plots_draw_on_the_same_figures():
    from qboost_tn.eval.plots import Figure
    from qboost_tn.mpo.entanglement import plot_entropy_profile
    from qboost_tn.mpo.sensitivity import plot_sensitivity

    assert isinstance(plot_entropy_profile(pd.DataFrame({"bond": [1], "entropy": [0.1], "max_entropy": [0.7],
                                                          "max_bond": 2})), Figure)
    assert isinstance(plot_sensitivity(pd.DataFrame({"layer": ["a"], "max_bond": [2], "acc_before": [0.9],
                                                     "acc_after": [0.95]}), 0.97), Figure)


def test_auc_vs_parameters_axes_are_named_and_the_legend_covers_no_point():
    table = pd.DataFrame({"n_params": [10, 100, 1000, 50], "macro_auc": [0.8, 0.9, 0.95, 0.85],
                          "model": ["a", "a", "a", "b"]})
    fig = plot_metric_vs_params(table)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("parameters", "macro ROC-AUC")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
