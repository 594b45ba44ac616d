"""qboost_tn.nets (seeding, early stopping, tuning, timing) and the compression protocol's one report schema."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from qboost_tn.errors import QBoostTNError
from qboost_tn.mpo import COMPRESSIONS, REPORT_COLUMNS, CompressionMethod, compress, register_compression
from qboost_tn.mpo.compress import dense_params, relative_error
from qboost_tn.nets import (RandomShift, as_generator, best_of, evaluate_model, fit, latency_ms, macro_auc,
                            make_mlp, scores, tune)

torch.set_num_threads(1)


def synthetic(n=240, d=8, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    z = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    y = (z > 0).astype(int) if classes == 2 else np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))
    return (X[:160], y[:160], X[160:], y[160:])


def test_same_seed_same_fit_and_the_global_rng_untouched():
    data = synthetic()
    state = torch.get_rng_state()
    runs = []
    for _ in range(2):
        model = make_mlp(8, hidden=(16,), dropout=0.2, seed=3)
        history = fit(model, data, epochs=4, lr=1e-2, patience=None, seed=3, progress=False)
        runs.append((model, history))
    assert torch.equal(torch.get_rng_state(), state)
    pd.testing.assert_frame_equal(runs[0][1], runs[1][1])
    for a, b in zip(runs[0][0].parameters(), runs[1][0].parameters()):
        assert torch.equal(a, b)
    other = make_mlp(8, hidden=(16,), seed=4)
    assert not torch.equal(other[0].weight, make_mlp(8, hidden=(16,), seed=3)[0].weight)
    # a Generator is continued, not restarted: two models built from one generator differ
    gen = as_generator(5)
    assert not torch.equal(make_mlp(8, (4,), seed=gen)[0].weight, make_mlp(8, (4,), seed=gen)[0].weight)
    with pytest.raises(QBoostTNError, match="seed must be"):
        make_mlp(8, (4,), seed=-1)


def test_dropout_keeps_the_layer_names():
    names = [n for n, m in make_mlp(8, (16, 16), dropout=0.5).named_modules() if isinstance(m, nn.Linear)]
    assert names == ["0", "2", "4"]
    with pytest.raises(QBoostTNError, match="dropout"):
        make_mlp(8, (4,), dropout=1.0)


@pytest.mark.parametrize("monitor", ["loss", "metric"])
def test_early_stopping_restores_the_best_weights(monitor):
    data = synthetic()
    model = make_mlp(8, hidden=(8,), seed=0)
    # a learning rate this high makes the validation figures bounce, so the best epoch is not the last one
    history = fit(model, data, epochs=12, lr=0.3, patience=None, monitor=monitor, progress=False)
    best = history.attrs["best_epoch"]
    column = "val_loss" if monitor == "loss" else "val_macro_auc"
    expected = history[column].min() if monitor == "loss" else history[column].max()
    assert history[column].iloc[best - 1] == expected
    assert best < len(history), "the test needs a run whose last epoch is not its best"
    logits = torch.as_tensor(scores(model, data[2]))
    now = (float(nn.functional.binary_cross_entropy_with_logits(logits, torch.as_tensor(data[3]).float()))
           if monitor == "loss" else macro_auc(data[3], logits.numpy()))
    assert now == pytest.approx(expected, rel=1e-5)
    assert best_of(history)["best_epoch"] == best and best_of(history)["epochs"] == len(history)
    short = fit(make_mlp(8, (4,), seed=0), data, epochs=50, lr=1.0, patience=2, progress=False)
    assert len(short) < 50


def test_distillation_and_schedules_multiclass():
    data = synthetic(classes=3)
    teacher = make_mlp(8, (16,), n_outputs=3, seed=0)
    fit(teacher, data, epochs=10, lr=1e-2, progress=False)
    student = make_mlp(8, (8,), n_outputs=3, seed=1)
    # labels play no part at distill=1: the student learns the teacher's outputs
    history = fit(student, data, epochs=30, batch_size=32, lr=3e-2, teacher=teacher, distill=1.0,
                  schedule="cosine", patience=None, progress=False)
    assert history["lr"].iloc[-1] < history["lr"].iloc[0]
    agree = np.mean(scores(student, data[2]).argmax(1) == scores(teacher, data[2]).argmax(1))
    assert agree > 0.7
    assert evaluate_model(student, data[2], data[3])["macro_auc"] > 0.7
    with pytest.raises(QBoostTNError, match="schedule"):
        fit(student, data, schedule="step", progress=False)
    with pytest.raises(QBoostTNError, match="non-empty validation"):
        fit(student, (data[0], data[1], data[0][:0], data[1][:0]), progress=False)


def test_random_shift_translates_each_image_by_its_own_offset():
    side, m, n = 9, 2, 400
    X = torch.zeros(n, side * side)
    X[:, 4 * side + 4] = 1.0  # one bright pixel in the middle, the border stays 0
    shifted = RandomShift(m)(X, torch.Generator().manual_seed(0)).reshape(n, side, side)
    assert torch.equal(shifted.sum((1, 2)), torch.ones(n))  # moved, not blurred or lost
    rows, cols = (shifted == 1).nonzero()[:, 1:].T
    offsets = set(zip((rows - 4).tolist(), (cols - 4).tolist()))
    assert offsets == {(r, c) for r in range(-m, m + 1) for c in range(-m, m + 1)}
    again = RandomShift(m)(X, torch.Generator().manual_seed(0)).reshape(n, side, side)
    assert torch.equal(shifted, again)
    # the uncovered border repeats the edge: a constant image stays constant
    assert torch.equal(RandomShift(3)(torch.full((5, 64), 0.25), torch.Generator()), torch.full((5, 64), 0.25))
    assert RandomShift(0)(X, torch.Generator()) is X
    with pytest.raises(QBoostTNError, match="square"):
        RandomShift(1)(torch.zeros(2, 10), torch.Generator())
    for bad in (-1, 1.5, True):
        with pytest.raises(QBoostTNError, match="max_shift"):
            RandomShift(bad)


def test_augment_reaches_training_batches_and_the_teacher_only():
    data = synthetic(classes=3)
    seen = {"augment": 0, "teacher": []}

    def flip(X, generator):
        seen["augment"] += len(X)
        return -X

    class Recording(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, X):
            seen["teacher"].append(X.clone())
            return self.net(X)

    teacher = Recording(make_mlp(8, (8,), n_outputs=3, seed=0))
    student = make_mlp(8, (8,), n_outputs=3, seed=1)
    fit(student, data, epochs=2, batch_size=40, patience=None, teacher=teacher, augment=flip, progress=False)
    assert seen["augment"] == 2 * len(data[0])  # every training sample once per epoch, validation never
    batches = torch.cat(seen["teacher"])
    assert len(batches) == 2 * len(data[0])
    # the teacher scored the flipped batches the student trained on, not the raw training set
    assert torch.isin(batches[:, 0], -torch.as_tensor(data[0][:, 0])).all()
    with pytest.raises(QBoostTNError, match="augment"):
        fit(student, data, augment="shift", progress=False)


def test_tune_picks_the_best_setting_on_validation():
    data = synthetic()

    def build(dropout, seed):
        return make_mlp(8, (8,), dropout=dropout, seed=seed)

    model, history, info = tune(build, data, {"lr": [1e-4, 3e-2], "dropout": [0.0]}, epochs=8, patience=None,
                                progress=False)
    assert info["lr"] == 3e-2 and info["dropout"] == 0.0  # 8 epochs at 1e-4 barely move
    slow = build(0.0, 0)
    fit(slow, data, epochs=8, lr=1e-4, patience=None, progress=False)
    assert info["val_loss"] < best_of(fit(slow, data, epochs=1, lr=1e-4, progress=False))["val_loss"]
    assert info["val_loss"] == pytest.approx(history.val_loss.min())


def test_latency_is_a_positive_median_and_keeps_threads():
    threads = torch.get_num_threads()
    assert latency_ms(make_mlp(8, (4,)), np.zeros((16, 8), np.float32), repeats=3, warmup=1, threads=1) > 0
    assert torch.get_num_threads() == threads


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))


@pytest.mark.parametrize("method", ["mpo", "low-rank", "prune", "int8"])
def test_every_method_reports_the_same_schema(method):
    model = _net()
    small, report = compress(model, layers=["0", "2"], method=method, budget=0.25)
    assert tuple(report.columns[:len(REPORT_COLUMNS)]) == REPORT_COLUMNS
    assert list(report.layer) == ["0", "2"] and (report.method == method).all()
    assert (report.params_before == [16 * 32, 32 * 32]).all()
    assert (report.fraction <= 0.25 + 1e-12).all()
    assert np.allclose(report.fraction, report.params_after / report.params_before)
    assert ((report.rel_error >= 0) & (report.rel_error < 1)).all()
    assert small(torch.randn(3, 16)).shape == (3, 2)
    assert isinstance(model[0], nn.Linear)  # not inplace: the original is untouched


def test_a_new_method_is_one_class_and_one_registration():
    class Halve(CompressionMethod):
        """Keeps every weight, halved (a toy: it shows the seam)."""

    @Halve.handles(nn.Linear)
    def _halve(method, linear, budget, name):
        new = nn.Linear(linear.in_features, linear.out_features)
        with torch.no_grad():
            new.weight.copy_(linear.weight / 2)
            new.bias.copy_(linear.bias)
        return new, {"params_after": dense_params(linear), "rel_error": relative_error(new.weight, linear.weight)}

    register_compression("halve", Halve)
    try:
        _, report = compress(_net(), layers=["4"], method="halve")
        assert report.rel_error.iloc[0] == pytest.approx(0.5) and report.method.iloc[0] == "halve"
        with pytest.raises(QBoostTNError, match="cannot compress ReLU"):
            Halve().compress_module(nn.ReLU(), None)
    finally:
        COMPRESSIONS.pop("halve")


def test_compression_baselines_adapter_one_row_per_method_at_one_budget(tmp_path):
    from qboost_tn.experiments import run_experiment

    params = {"hidden": [16, 16], "layers": ["2"], "max_bond": 2, "n_cores": 2, "epochs": 4, "patience": 2,
              "lr": 0.01, "weight_decay": 0.0, "dropout": 0.0, "finetune_epochs": 2}
    cfg = {"name": "baselines", "data": {"name": "digits"}, "split": {"n_train": 120, "n_val": 60, "n_test": 100},
           "models": [{"kind": "compression-baselines", "name": "cb", "params": params}]}
    table = run_experiment(cfg, out=tmp_path / "run", progress=False).table.set_index("model")
    assert list(table.index) == ["cb (mpo)", "cb (prune)", "cb (low-rank)", "cb (int8)"]
    assert (table.status == "ok").all(), table.error.dropna().to_dict()
    # the chi=2 MPO of the 16x16 layer (2 cores: 2*(4*4*2)) is every trainable method's budget
    assert (table.loc[["cb (mpo)", "cb (prune)", "cb (low-rank)"], "compressed_fraction"] <= 64 / 256).all()
    assert table.loc["cb (int8)", "compressed_fraction"] == 0.25 and np.isnan(table.loc["cb (int8)", "epochs"])
    assert (table.latency_ms > 0).all() and (table.epochs.dropna() <= 2).all()
