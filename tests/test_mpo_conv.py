"""Factorised convolutions (MPOConv2d, TuckerConv2d) through from_conv and compress, the LeNet-5 builder and the
per-layer sensitivity study, on small shapes."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from qboost_tn.errors import QBoostTNError
from qboost_tn.mpo import compress
from qboost_tn.mpo.conv import MPOConv2d, TuckerConv2d
from qboost_tn.mpo.entanglement import entanglement_table
from qboost_tn.mpo.layer import MPOLinear
from qboost_tn.mpo.sensitivity import compress_each, fragile_layers, layer_sensitivity
from qboost_tn.nets.cnn import LENET5_LAYERS, lenet5

torch.set_num_threads(1)


def _conv(in_c=4, out_c=6, k=3, **kw):
    torch.manual_seed(0)
    return nn.Conv2d(in_c, out_c, k, **kw)


@pytest.mark.parametrize("cls", [MPOConv2d, TuckerConv2d])
@pytest.mark.parametrize("geometry", [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2)])
def test_untruncated_is_exact(cls, geometry):
    conv = _conv(5, 6, 3, **geometry)  # 5 in-channels factor badly: the MPO pads them
    layer = cls.from_conv(conv)
    x = torch.randn(2, 5, 9, 9)
    assert torch.allclose(layer(x), conv(x), atol=1e-5)
    back = layer.to_conv()
    assert isinstance(back, nn.Conv2d) and back.stride == conv.stride and back.padding == conv.padding
    assert torch.allclose(back.weight, conv.weight, atol=1e-6)
    assert torch.allclose(back.bias, conv.bias)


def test_config_round_trip_through_json_and_state_dict():
    import json

    layer = MPOConv2d.from_conv(_conv(5, 6, 3, stride=2, padding=1), max_bond=3)
    fresh = MPOConv2d.from_config(json.loads(json.dumps(layer.config())))
    fresh.load_state_dict(layer.state_dict())
    x = torch.randn(2, 5, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), layer(x))


def test_mpo_truncation_error_decreases_with_max_bond():
    conv = _conv(4, 8, 3)
    errors = [MPOConv2d.from_conv(conv, max_bond=chi).decomposition.rel_error for chi in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 0.5 < errors[0]


def test_tucker_truncation_error_decreases_with_rank():
    conv = _conv(4, 8, 3)
    errors = [float((TuckerConv2d.from_conv(conv, rank=(2 * r, r)).weight - conv.weight).detach().norm())
              for r in (1, 2, 3, 4)]
    assert all(a > b for a, b in zip(errors, errors[1:])) and errors[-1] < 1e-5


@pytest.mark.parametrize("cls, option", [(MPOConv2d, {"max_bond": 2}), (TuckerConv2d, {"rank": (2, 2)})])
def test_forward_is_the_dense_conv_of_the_reconstructed_kernel_and_gradients_flow(cls, option):
    conv = _conv(4, 6, 3, padding=1)
    layer = cls.from_conv(conv, **option)
    x = torch.randn(3, 4, 7, 7)
    out = layer(x)
    assert torch.allclose(out, F.conv2d(x, layer.weight, layer.bias, padding=1), atol=1e-5)
    assert not torch.allclose(out, conv(x), atol=1e-3)  # truncated: it really is another kernel
    out.square().sum().backward()
    grads = [p.grad for p in layer.parameters()]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("cls", [MPOConv2d, TuckerConv2d])
@pytest.mark.parametrize("fraction", [0.3, 0.6])
def test_param_fraction_stays_within_budget(cls, fraction):
    conv = _conv(8, 16, 3)
    layer = cls.from_conv(conv, param_fraction=fraction)
    assert layer.n_weight_params <= fraction * conv.weight.numel()
    looser = cls.from_conv(conv, param_fraction=2 * fraction)
    assert layer.n_weight_params < looser.n_weight_params <= 2 * fraction * conv.weight.numel()


def test_random_init_has_the_dense_kernel_variance():
    torch.manual_seed(0)
    with torch.no_grad():
        ratio = MPOConv2d(16, 32, 3, max_bond=4).weight.var() / nn.Conv2d(16, 32, 3).weight.var()
    assert 0.5 < float(ratio) < 2.0


def test_compress_handles_conv2d_by_mpo_and_tucker():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.Flatten(), nn.Linear(8, 3))
    small, report = compress(model, layers="2", method="tucker", budget=0.5)
    assert isinstance(small[2], TuckerConv2d) and isinstance(small[0], nn.Conv2d) and isinstance(model[2], nn.Conv2d)
    assert report.loc[0, "params_after"] <= 0.5 * 8 * 4 * 9 and report.loc[0, "module"] == "Conv2d"
    exact, report = compress(model, layers=["0", "2"], method="tucker", rank=(8, 4))
    assert report.rel_error.max() < 1e-5
    every, report = compress(model)  # "mpo" handles both layer types; untruncated it is exact
    assert list(report.module) == ["Conv2d", "Conv2d", "Linear"] and report.rel_error.max() < 1e-5
    assert isinstance(every[2], MPOConv2d) and isinstance(every[4], MPOLinear)
    table = entanglement_table(every)  # conv MPO layers report their bond entropies too
    assert set(table.layer) == {"0", "2", "4"} and (table.entropy <= table.max_entropy + 1e-9).all()
    _, report = compress(model, layers="2", max_bond=2, budget=0.9)
    assert report.loc[0, "max_bond"] == 2
    x = torch.randn(2, 1, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(every(x), model(x), atol=1e-5, rtol=1e-4)
    with pytest.raises(QBoostTNError, match="is Linear, not nn.Conv2d"):
        compress(model, layers="4", method="tucker")


def test_user_errors_name_the_problem():
    with pytest.raises(QBoostTNError, match="needs an nn.Conv2d"):
        MPOConv2d.from_conv(nn.Linear(3, 3))
    with pytest.raises(QBoostTNError, match="grouped"):
        TuckerConv2d.from_conv(nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(QBoostTNError, match="at most one"):
        MPOConv2d.from_conv(_conv(), max_bond=2, param_fraction=0.5)
    with pytest.raises(QBoostTNError, match="allows"):
        TuckerConv2d.from_conv(_conv(), param_fraction=0.01)


def test_linear_param_fraction_chooses_cores_and_modes_with_fewest_flops():
    torch.manual_seed(0)
    dense = nn.Linear(256, 512)
    layer = MPOLinear.from_linear(dense, param_fraction=0.02)
    assert layer.n_weight_params <= 0.02 * 256 * 512
    # no other number of cores / mode split within the budget has fewer FLOPs than the one chosen
    for n_cores in (2, 3, 4):
        other = MPOLinear.from_linear(dense, param_fraction=0.02, n_cores=n_cores)
        assert other.n_weight_params <= 0.02 * 256 * 512
        assert layer.flops(256) <= other.flops(256)


def test_lenet5_shapes_seeding_and_errors():
    net = lenet5(seed=3)
    assert sum(p.numel() for p in net.parameters()) == 61706
    assert net(torch.rand(2, 784)).shape == (2, 10)
    assert torch.equal(lenet5(seed=3).fc1.weight, net.fc1.weight)
    assert not torch.equal(lenet5(seed=4).fc1.weight, net.fc1.weight)
    assert lenet5(n_pixels=400, n_classes=3)(torch.rand(1, 400)).shape == (1, 3)  # 20x20 images
    with pytest.raises(QBoostTNError, match="square"):
        lenet5(n_pixels=783)


def test_sensitivity_study_and_whole_network_compression():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60, 196, generator=g).numpy()
    y = (X[:, :98].sum(1) > X[:, 98:].sum(1)).astype(int)
    net = lenet5(n_pixels=196, n_classes=2, seed=0)
    summary, entropies = layer_sensitivity(net, (X[:40], y[:40], X[40:50], y[40:50]), (X[50:], y[50:]),
                                           ["conv2", "fc2"], max_bonds=(1, 2))
    assert list(summary.layer) == ["conv2", "conv2", "fc2", "fc2"]
    assert summary[["acc_before", "acc_after"]].stack().between(0, 1).all()
    assert (entropies[["S_before", "S_after"]].max(axis=1) <= entropies.ln_chi + 1e-9).all()
    assert (summary.params_after < summary.params_before).all()
    assert set(fragile_layers(summary, 1.0, max_bond=1)) <= {"conv2", "fc2"}
    small, report = compress_each(net, {"conv2": 2, "fc1": 2})
    assert isinstance(small.conv2, MPOConv2d) and isinstance(small.fc1, MPOLinear)
    assert list(report.layer) == list(LENET5_LAYERS) and 0 < report.attrs["rho"] < 1
    assert report.attrs["rho"] == sum(p.numel() for p in small.parameters()) / sum(p.numel() for p in net.parameters())
