"""compress() on whole models, save/load, MPO training and fine-tuning, entanglement, the baselines."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from qboost_tn.errors import QBoostTNError
from qboost_tn.mpo import (SAVED_LAYERS, MPOLinear, bond_spectra, compress, compress_fine_tune, core_parameters,
                           entanglement_table, entropy, entropy_recorder, load_compressed, make_permanent,
                           mpo_network, plot_entropy_evolution, save_compressed, truncation_steps, tt_svd)
from qboost_tn.nets import fine_tune, fit, lenet5, make_mlp, scores

torch.set_num_threads(1)


class TwoBranch(nn.Module):
    """Not a Sequential: nested, named attributes, two paths joined in forward."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.ModuleDict({"proj": nn.Linear(12, 16), "act": nn.Tanh()})
        self.skip = nn.Linear(12, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.encoder["act"](self.encoder["proj"](x)) + self.skip(x))


def synthetic(n=240, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_compress_sequential_exact_and_report():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    compressed, report = compress(model)
    assert list(report.layer) == ["0", "2", "4"]
    assert all(isinstance(compressed[i], MPOLinear) for i in (0, 2, 4))
    assert isinstance(model[0], nn.Linear)  # the original is untouched
    x = torch.randn(5, 12)
    torch.testing.assert_close(compressed(x), model(x), rtol=1e-4, atol=1e-5)
    assert report.rel_error.max() < 1e-5
    assert {"params_before", "params_after", "compression_ratio", "rel_error", "flops_after", "max_bond",
            "bond_dims"} <= set(report.columns)


def test_compress_non_sequential_selected_layers():
    torch.manual_seed(0)
    model = TwoBranch()
    compressed, report = compress(model, layers=["encoder.proj", "skip"], max_bond=2)
    assert isinstance(compressed.encoder["proj"], MPOLinear) and isinstance(compressed.skip, MPOLinear)
    assert isinstance(compressed.head, nn.Linear)
    assert (report.params_after < report.params_before).all()
    assert compressed(torch.randn(3, 12)).shape == (3, 2)
    # the reported error is the real one
    layer = compressed.skip
    real = ((layer.weight - model.skip.weight).norm() / model.skip.weight.norm()).detach()
    assert report.set_index("layer").loc["skip", "rel_error"] == pytest.approx(float(real), rel=1e-4)


def test_compress_rel_tol_and_fraction():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64))
    _, tol = compress(model, rel_tol=0.5)
    assert tol.rel_error.iloc[0] <= 0.5 + 1e-6
    _, frac = compress(model, budget=0.1)
    assert frac.fraction.iloc[0] <= 0.1
    _, count = compress(model, budget=400)
    assert count.params_after.iloc[0] <= 400
    _, both = compress(model, budget=0.5, max_bond=2)  # both limits: the tighter one wins
    assert both.max_bond.iloc[0] == 2


def test_compress_bad_input():
    model = TwoBranch()
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        compress(model, layers=["nope"])
    with pytest.raises(ValueError, match="is Tanh, not nn.Linear"):
        compress(model, layers=["encoder.act"])
    with pytest.raises(QBoostTNError, match="max_bond must be an int >= 1"):
        compress(model, max_bond=0)
    with pytest.raises(QBoostTNError, match="budget must be"):
        compress(model, budget=1.5)
    with pytest.raises(QBoostTNError, match="max_bond is the MPO bond dimension"):
        compress(model, method="low-rank", max_bond=2)
    with pytest.raises(QBoostTNError, match="unknown method 'svd'"):
        compress(model, method="svd")
    with pytest.raises(QBoostTNError, match="pruning needs a budget"):
        compress(model, method="prune")
    with pytest.raises(ValueError, match="rel_tol must lie in"):
        compress(model, rel_tol=1.5)
    with pytest.raises(ValueError, match="fewer than the 12"):
        compress(model, layers=["skip"], shapes={"skip": ((2, 5), (4, 4))})
    with torch.no_grad():
        model.skip.weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match="layer 'skip'.*NaN or inf"):
        compress(model, layers=["skip"])
    with pytest.raises(ValueError, match="has no nn.Linear"):
        compress(nn.Sequential(nn.ReLU()))


def test_save_load_weights_only(tmp_path):
    torch.manual_seed(0)
    compressed, _ = compress(TwoBranch(), layers=["skip", "head"], max_bond=2)
    path = tmp_path / "model.pt"
    save_compressed(compressed, path)
    config = json.loads((tmp_path / "model.pt.mpo.json").read_text())
    assert set(config["mpo_layers"]) == {"skip", "head"}
    restored = load_compressed(TwoBranch(), path)
    x = torch.randn(4, 12)
    torch.testing.assert_close(restored(x), compressed(x))
    # the state_dict is plain tensors: loadable with weights_only=True
    assert set(torch.load(path, weights_only=True)) == set(compressed.state_dict())
    # a single layer through its config and its own file, into a fresh object with other weights
    layer = compressed.skip
    torch.save(layer.state_dict(), tmp_path / "layer.pt")
    (tmp_path / "layer.json").write_text(json.dumps(layer.config()))
    clone = MPOLinear.from_config(json.loads((tmp_path / "layer.json").read_text()))
    assert not torch.allclose(clone(x), layer(x))  # freshly initialised: the load below must do the work
    clone.load_state_dict(torch.load(tmp_path / "layer.pt", weights_only=True))
    torch.testing.assert_close(clone(x), layer(x))
    with pytest.raises(FileNotFoundError):
        load_compressed(TwoBranch(), tmp_path / "missing.pt")


def test_every_saved_layer_type_round_trips_in_a_lenet5(tmp_path):
    """Each compression output that can be saved, in the conv and linear layers of a LeNet-5: saved, loaded
    into a fresh skeleton with other weights, it gives the same outputs to the bit."""
    cases = {"mpo": (["conv1", "conv2", "fc1", "fc3"], {"max_bond": 2}), "tucker": (["conv2"], {"budget": 0.5}),
             "low-rank": (["fc1", "fc2"], {"budget": 0.3}), "prune": (["fc1"], {"budget": 0.3})}
    x = torch.randn(3, 256)
    saved_types = set()
    for method, (layers, options) in cases.items():
        model, _ = compress(lenet5(256, seed=0), layers, method=method, **options)
        path = tmp_path / f"{method}.pt"
        save_compressed(model, path)
        config = json.loads(Path(f"{path}.mpo.json").read_text())["mpo_layers"]
        assert set(config) == set(layers), method
        saved_types |= {c["type"] for c in config.values()}
        skeleton = lenet5(256, seed=1)
        assert not torch.equal(skeleton(x), model(x))
        restored = load_compressed(skeleton, path)
        assert torch.equal(restored.eval()(x), model.eval()(x)), method
        assert [type(m).__name__ for m in restored.modules()] == [type(m).__name__ for m in model.modules()]
    assert saved_types == set(SAVED_LAYERS)  # a new savable type gets a round trip here


def test_int8_layers_are_refused_before_anything_is_written(tmp_path):
    model, _ = compress(lenet5(256), ["fc1"], method="int8")
    with pytest.raises(QBoostTNError, match="layer 'fc1' is int8-quantised"):
        save_compressed(model, tmp_path / "int8.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change, message", [
    ({"type": "Pickled"}, "layer 'conv2': type should be one of MPOLinear, MPOConv2d"),
    ({"type": ["MPOConv2d"]}, "type should be one of"),
    ({"kernel_size": [5]}, "layer 'conv2': kernel_size should be an int or two positive integers, got [5]"),
    ({"kernel_size": [10**5, 10**5]}, "more than 268,435,456 numbers"),
    ({"max_bond": [2]}, "do not describe one chain of cores"),
    ({"stride": "wide"}, "layer 'conv2': stride should be an int or two positive integers, got 'wide'"),
    ({"padding": [-1, 0]}, "padding should be 'same', 'valid', an int or two integers >= 0"),
    ({"in_channels": "six"}, "is saved with in_channels = 'six'; the model's layer has 6"),
])
def test_a_tampered_conv_shape_is_refused_before_building(tmp_path, change, message):
    from qboost_tn.errors import ModelFileError

    model, _ = compress(lenet5(256), ["conv2"], max_bond=2)
    path = tmp_path / "conv.pt"
    save_compressed(model, path)
    shapes = Path(f"{path}.mpo.json")
    config = json.loads(shapes.read_text())
    config["mpo_layers"]["conv2"].update(change)
    shapes.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=re.escape(message)):
        load_compressed(lenet5(256), path)


def test_files_saved_before_layer_types_load(tmp_path):
    """A shapes file without "type" (as written before conv layers were saved) holds MPOLinear configs."""
    model, _ = compress(lenet5(256), ["fc1"], max_bond=2)
    path = tmp_path / "old.pt"
    save_compressed(model, path)
    shapes = Path(f"{path}.mpo.json")
    config = json.loads(shapes.read_text())
    del config["mpo_layers"]["fc1"]["type"]
    shapes.write_text(json.dumps(config))
    x = torch.randn(2, 256)
    assert torch.equal(load_compressed(lenet5(256, seed=1), path).eval()(x), model.eval()(x))


def test_fit_restores_best_weights_as_a_deep_copy():
    X, y = synthetic()
    data = (X[:160], y[:160], X[160:], y[160:])
    model = make_mlp(12, hidden=(8,), seed=0)
    # a learning rate this high makes the validation loss bounce, so the best epoch is not the last one
    history = fit(model, data, epochs=12, lr=0.3, patience=None, progress=False, seed=0)
    best = history.attrs["best_epoch"]
    assert history.val_loss.iloc[best - 1] == history.val_loss.min()
    assert best < len(history), "the test needs a run whose last epoch is not its best"
    final = float(torch.nn.functional.binary_cross_entropy_with_logits(torch.as_tensor(scores(model, X[160:])),
                                                                       torch.as_tensor(y[160:]).float()))
    assert final == pytest.approx(history.val_loss.min(), rel=1e-5)


def test_fit_patience_and_cores_only():
    X, y = synthetic()
    data = (X[:160], y[:160], X[160:], y[160:])
    model, _ = compress(make_mlp(12, hidden=(16,), seed=0), layers=["0"], max_bond=2)
    head_before = model[2].weight.detach().clone()
    bias_before = model[0].bias.detach().clone()
    cores_before = [c.detach().clone() for c in model[0].cores]
    history = fine_tune(model, data, params=core_parameters, epochs=3, lr=1e-2, progress=False)
    assert len(history) == 3
    assert torch.equal(model[2].weight, head_before) and torch.equal(model[0].bias, bias_before)
    assert any(not torch.equal(a, b) for a, b in zip(model[0].cores, cores_before))
    assert all(p.requires_grad for p in model.parameters())
    short = fit(make_mlp(12, hidden=(4,), seed=0), data, epochs=50, lr=1.0, patience=2, progress=False)
    assert len(short) < 50
    with pytest.raises(QBoostTNError, match="no parameters to train"):
        fine_tune(make_mlp(12, hidden=(4,)), data, params=core_parameters, progress=False)


def test_mpo_network_from_scratch_learns():
    X, y = synthetic(400)
    data = (X[:300], y[:300], X[300:], y[300:])
    model = mpo_network(make_mlp(12, hidden=(16, 16), seed=0), layers=["2"], max_bond=2)
    assert isinstance(model[2], MPOLinear)
    shaped = mpo_network(make_mlp(12, hidden=(16, 16)), layers=["0"], max_bond=2, shapes={"0": ((4, 3), (2, 8))})
    assert (shaped[0].in_modes, shaped[0].out_modes) == ((4, 3), (2, 8))
    with pytest.raises(ValueError, match="shapes given for"):
        mpo_network(make_mlp(12, hidden=(16, 16)), layers=["0"], shapes={"2": ((4, 4), (4, 4))})
    history = fit(model, data, epochs=15, lr=1e-2, progress=False)
    assert history.val_macro_auc.max() > 0.9


def test_entropy_of_known_states():
    assert entropy([1.0, 0.0, 0.0]) == pytest.approx(0.0)
    for chi in (2, 3, 8):
        assert entropy(np.full(chi, 0.7)) == pytest.approx(math.log(chi))
    # a product MPO (every bond 1, rank-one unfoldings) has zero entropy everywhere
    a, b, c = torch.randn(3, 3), torch.randn(2, 2), torch.randn(2, 2)
    product = torch.einsum("ij,kl,mn->ikmjln", a, b, c).reshape(12, 12)
    cores = tt_svd(product, (3, 2, 2), (3, 2, 2)).cores
    assert [entropy(s) for s in bond_spectra(cores)] == pytest.approx([0, 0], abs=1e-6)
    # maximally entangled across the single cut: W reshaped (b1 a1) x (b2 a2) is orthogonal -> ln 16
    q, _ = torch.linalg.qr(torch.randn(16, 16, dtype=torch.float64))
    weight = q.reshape(4, 4, 4, 4).permute(0, 2, 1, 3).reshape(16, 16)  # (b1, a1, b2, a2) -> (b, a)
    cores = tt_svd(weight, (4, 4), (4, 4)).cores
    assert entropy(bond_spectra(cores)[0]) == pytest.approx(math.log(16))


def test_bond_spectra_match_tt_svd_and_table():
    torch.manual_seed(0)
    layer = MPOLinear.from_linear(nn.Linear(16, 16), max_bond=3)
    # after one truncating sweep the kept values are the MPO's own Schmidt values at the last cut
    spectra = bond_spectra(list(layer.cores))
    assert [len(s) for s in spectra] == layer.max_bond
    table = entanglement_table(layer)
    assert list(table.max_bond) == layer.max_bond
    assert (table.entropy <= table.max_entropy + 1e-9).all()
    assert table.max_entropy.tolist() == pytest.approx([math.log(3)] * 3)


def test_entropy_recorder_and_plot(tmp_path):
    X, y = synthetic()
    model, _ = compress(make_mlp(12, hidden=(16,), seed=0), layers=["0"], max_bond=2)
    history = fit(model, (X[:160], y[:160], X[160:], y[160:]), epochs=2, progress=False,
                  callbacks=[entropy_recorder(model)])
    assert [c for c in history.columns if c.startswith("S[")] == ["S[0:1]", "S[0:2]", "S[0:3]"]
    plot_entropy_evolution(history, path=tmp_path / "e.png")
    assert (tmp_path / "e.png").stat().st_size > 0
    with pytest.raises(ValueError, match="no MPOLinear"):
        entropy_recorder(make_mlp(3, hidden=(2,)))


def test_baselines_keep_the_budget():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32))
    pruned, report = compress(model, "2", method="prune", budget=100)
    assert int((pruned[2].weight != 0).sum()) == 100 and report.params_after.iloc[0] == 100
    make_permanent(pruned)
    assert "2.weight" in dict(pruned.named_parameters()) and int((pruned[2].weight != 0).sum()) == 100
    x = torch.randn(4, 16)
    exact, report = compress(model, "2", method="low-rank")
    torch.testing.assert_close(exact(x), model(x), rtol=1e-4, atol=1e-5)
    assert report["rank"].iloc[0] == 32 and report.rel_error.iloc[0] < 1e-5
    small, report = compress(model, "2", method="low-rank", budget=2 * 64 + 5)
    assert report["rank"].iloc[0] == 2 and sum(p.numel() for p in small[2].parameters()) == 2 * 64 + 32
    quantized, report = compress(model, "2", method="int8")
    assert isinstance(quantized[2], torch.ao.nn.quantized.dynamic.Linear)
    assert (quantized(x) - model(x)).abs().max() < 0.05 and report.fraction.iloc[0] == 0.25
    assert not report.trainable.iloc[0]
    with pytest.raises(QBoostTNError, match="no layer named"):
        compress(model, "9", method="low-rank", budget=10)


def test_gradual_compress_fine_tune_and_distillation():
    X, y = synthetic(300)
    data = (X[:200], y[:200], X[200:], y[200:])
    dense = make_mlp(12, hidden=(16, 16), seed=0)
    fit(dense, data, epochs=20, lr=1e-2, progress=False)
    assert truncation_steps(64, 4) == [64, 32, 16, 8, 4]
    before = [p.detach().clone() for p in dense.parameters()]
    model, report, history = compress_fine_tune(dense, data, layers=["2"], max_bond=1, steps=[4, 2], step_epochs=2,
                                                distill=0.5, epochs=3, lr=1e-2, progress=False)
    assert model[2].max_bond == [1, 1, 1] and len(history) <= 3
    assert all(torch.equal(a, b) for a, b in zip(before, dense.parameters()))  # the dense network is untouched
    # the reported error is against the dense weights, not the previous step's
    w = dense[2].weight.detach().double()
    assert report.rel_error.iloc[0] == pytest.approx(float((model[2].weight.detach().double() - w).norm() / w.norm()),
                                                     rel=0.5)


BANK = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bank-marketing"


@pytest.mark.skipif(not (BANK / "bank-additional-full.csv").is_file(),
                    reason=f"Bank Marketing CSV not found at {BANK} (../shared/data relative to the project)")
def test_bank_marketing_untruncated_mpo_keeps_the_auc():
    from qboost_tn.data import load_dataset, prepare, split
    from qboost_tn.nets import evaluate_model

    dataset = load_dataset("bank-marketing", path=BANK)
    assert dataset.n_features == 62
    data = prepare(dataset, split(dataset, train_size=0.8, seed=0), scale="minmax")
    dense = make_mlp(62, seed=0)
    fit(dense, data, epochs=1, progress=False)
    exact, _ = compress(dense, layers=["2"])
    small, report = compress(dense, layers=["2"], max_bond=4)
    assert report.fraction.iloc[0] < 0.02
    auc = evaluate_model(dense, data.X_test, data.y_test)["macro_auc"]
    assert auc > 0.7
    assert evaluate_model(exact, data.X_test, data.y_test)["macro_auc"] == pytest.approx(auc, abs=1e-4)
