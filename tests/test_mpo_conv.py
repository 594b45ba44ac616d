"""Factorised convolutions (MPOConv2d, TuckerConv2d), compress_conv and the LeNet-5 builder, on small shapes."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from qboost_tn.errors import QBoostTNError
from qboost_tn.mpo.conv import MPOConv2d, TuckerConv2d, compress_conv
from qboost_tn.mpo.entanglement import entanglement_table
from qboost_tn.mpo.layer import MPOLinear

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


def test_mpo_truncation_error_decreases_with_max_bond():
    conv = _conv(4, 8, 3)
    errors = [MPOConv2d.from_conv(conv, max_bond=chi).decomposition.rel_error for chi in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 0.5 < errors[0]


def test_tucker_truncation_error_decreases_with_rank():
    conv = _conv(4, 8, 3)
    errors = [float((TuckerConv2d.from_conv(conv, rank=(2 * r, r)).weight - conv.weight).norm())
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
    ratio = MPOConv2d(16, 32, 3, max_bond=4).weight.var() / nn.Conv2d(16, 32, 3).weight.var()
    assert 0.5 < float(ratio) < 2.0


def test_compress_conv_replaces_the_named_layers_and_reports():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.Flatten(), nn.Linear(8, 3))
    small, report = compress_conv(model, layers="2", method="tucker", rank=(2, 2))
    assert isinstance(small[2], TuckerConv2d) and isinstance(small[0], nn.Conv2d) and isinstance(model[2], nn.Conv2d)
    assert report.loc[0, "params_after"] == 8 * 2 + 2 * 2 * 9 + 2 * 4
    every, report = compress_conv(model, method="mpo")
    assert list(report.layer) == ["0", "2"] and report.rel_error.max() < 1e-5
    table = entanglement_table(every)  # conv MPO layers report their bond entropies too
    assert set(table.layer) == {"0", "2"} and (table.entropy <= table.max_entropy + 1e-9).all()
    with pytest.raises(QBoostTNError, match="no nn.Conv2d named 'x'"):
        compress_conv(model, layers="x")
    with pytest.raises(QBoostTNError, match="unknown method"):
        compress_conv(model, method="cp")


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
