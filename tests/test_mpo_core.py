"""TT-SVD, shapes, contraction and MPOLinear: exactness, truncation bookkeeping, init, bad input."""
import math

import pytest
import torch
from torch import nn

from qboost_tn.mpo import MPOLinear, factorize, mpo_matmul, plan, reconstruct, tensorize_shape, tt_svd
from qboost_tn.mpo.contract import sweep_flops
from qboost_tn.mpo.shapes import max_bonds

torch.set_num_threads(1)


@pytest.fixture
def weight():
    return torch.randn(24, 36, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("size,n,expected", [(4096, 4, (8, 8, 8, 8)), (256, 4, (4, 4, 4, 4)),
                                             (784, 4, (7, 7, 4, 4)), (62, 4, (4, 4, 2, 2)), (1, 3, (1, 1, 1))])
def test_factorize_products(size, n, expected):
    modes = factorize(size, n)
    assert modes == expected
    assert math.prod(modes) >= size


def test_factorize_patterns_and_explicit_modes():
    assert factorize(784, 4, "ascending") == (4, 4, 7, 7)
    assert factorize(62, 4, "pow2") == (4, 4, 2, 2)
    assert factorize(100, 3, "pow2") == (8, 4, 4)
    assert factorize(62, 2, (8, 8)) == (8, 8)
    with pytest.raises(ValueError, match="fewer than the 62"):
        factorize(62, 2, (7, 8))
    with pytest.raises(ValueError, match="unknown pattern"):
        factorize(62, 2, "zigzag")


def test_exact_reconstruction(weight):
    result = tt_svd(weight, (3, 3, 4), (2, 3, 4))
    assert result.discarded_weight == pytest.approx(0.0, abs=1e-20)
    assert result.max_bond == max_bonds((3, 3, 4), (2, 3, 4))
    assert [tuple(c.shape) for c in result.cores] == [(1, 2, 3, 6), (6, 3, 3, 16), (16, 4, 4, 1)]
    torch.testing.assert_close(reconstruct(result.cores), weight, rtol=0, atol=1e-12)


@pytest.mark.parametrize("modes", [((3, 3, 4), (2, 3, 4)), ((6, 6), (4, 6)), ((2, 3, 2, 3), (2, 2, 3, 2))])
def test_truncation_error_equals_discarded_weight(weight, modes):
    result = tt_svd(weight, *modes, max_bond=2)
    error = (reconstruct(result.cores) - weight).pow(2).sum().item()
    assert result.discarded_weight > 0
    assert error == pytest.approx(result.discarded_weight, rel=1e-9)
    assert result.rel_error == pytest.approx(math.sqrt(error) / weight.norm().item(), rel=1e-9)
    # the discarded weight is exactly the tail of each bond's spectrum
    tails = sum(float((s[b:] ** 2).sum()) for s, b in zip(result.singular_values, result.max_bond))
    assert tails == pytest.approx(result.discarded_weight, rel=1e-12)


def test_rel_tol_is_met_and_used(weight):
    for tol in (0.1, 0.4, 0.8):
        result = tt_svd(weight, (3, 3, 4), (2, 3, 4), rel_tol=tol)
        assert result.rel_error <= tol + 1e-12
        assert (reconstruct(result.cores) - weight).norm() / weight.norm() <= tol + 1e-12
    assert sum(tt_svd(weight, (3, 3, 4), (2, 3, 4), rel_tol=0.8).max_bond) < sum(
        tt_svd(weight, (3, 3, 4), (2, 3, 4), rel_tol=0.1).max_bond)


def test_param_fraction_budget(weight):
    result = tt_svd(weight, (3, 3, 4), (2, 3, 4), param_fraction=0.2)
    n = sum(c.numel() for c in result.cores)
    assert n <= 0.2 * weight.numel()
    bigger = tt_svd(weight, (3, 3, 4), (2, 3, 4), max_bond=max(result.max_bond) + 1)
    assert sum(c.numel() for c in bigger.cores) > 0.2 * weight.numel()


def test_padding_is_exact_and_error_bounds_the_layer():
    w = torch.randn(30, 62, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ins, outs = tensorize_shape(62, 30, 4)
    assert math.prod(ins) == 64 and math.prod(outs) >= 30
    exact = tt_svd(w, ins, outs)
    torch.testing.assert_close(reconstruct(exact.cores, 30, 62), w, rtol=0, atol=1e-12)
    full = reconstruct(exact.cores)
    assert full[30:].abs().max() < 1e-12 and full[:, 62:].abs().max() < 1e-12
    cut = tt_svd(w, ins, outs, max_bond=3)
    padded = torch.zeros(math.prod(outs), 64, dtype=torch.float64)
    padded[:30, :62] = w
    assert (reconstruct(cut.cores) - padded).pow(2).sum().item() == pytest.approx(cut.discarded_weight, rel=1e-9)
    assert (reconstruct(cut.cores, 30, 62) - w).pow(2).sum().item() <= cut.discarded_weight + 1e-9


@pytest.mark.parametrize("groups", [None, ((0, 2), (2, 4)), ((0, 1), (1, 3), (3, 4)), ((0, 4),)])
def test_contraction_orders_agree(groups):
    w = torch.randn(32, 48, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cores = tt_svd(w, (2, 3, 4, 2), (2, 2, 4, 2)).cores
    x = torch.randn(5, 48, dtype=torch.float64)
    torch.testing.assert_close(mpo_matmul(x, cores, groups), x @ w.T)


@pytest.mark.parametrize("sweep", ["_sweep_batched", "_sweep_right", "_sweep_gemm"])
@pytest.mark.parametrize("in_modes", [(2, 16, 16), (4, 16, 1, 8), (512, 1)])
def test_both_sweeps_agree(sweep, in_modes):
    from qboost_tn.mpo import contract

    w = torch.randn(24, 512, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    out_modes = {3: (2, 3, 4), 4: (2, 3, 2, 2), 2: (6, 4)}[len(in_modes)]
    cores = tt_svd(w, in_modes, out_modes, max_bond=3).cores
    x = torch.randn(6, 512, dtype=torch.float64)
    torch.testing.assert_close(getattr(contract, sweep)(x, cores), x @ reconstruct(cores).T)


@pytest.mark.parametrize("sweep", ["_sweep_batched", "_sweep_right", "_sweep_gemm"])
def test_chunked_sweeps_agree_and_differentiate(sweep, monkeypatch):
    from qboost_tn.mpo import contract

    monkeypatch.setattr(contract, "CHUNK_ELEMENTS", 200)  # a few samples per chunk, last chunk shorter
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # chunking is for one thread
    w = torch.randn(32, 64, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    cores = tt_svd(w, (4, 4, 4), (4, 4, 2), max_bond=3).cores
    x = torch.randn(23, 64, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(contract._in_chunks(getattr(contract, sweep), x, cores), x @ reconstruct(cores).T)
    cores = [c.requires_grad_() for c in cores]
    contract._in_chunks(getattr(contract, sweep), x, cores).sum().backward()
    assert all(c.grad is not None and c.grad.abs().sum() > 0 for c in cores)


def test_plan_prefers_cheapest():
    from qboost_tn.mpo.contract import _partitions, plan_cost

    modes, bonds = (8, 8, 8, 8), (10, 10, 10)
    groups, flops = plan(modes, modes, bonds, 256)
    best = min(plan_cost(modes, modes, bonds, 256, g)[1] for g in _partitions(4))
    assert plan_cost(modes, modes, bonds, 256, groups) == (flops, best)
    assert flops < 256 * 2 * 4096 ** 2
    assert plan(modes, modes, bonds, 256, "factorized")[1] == 256 * sweep_flops(modes, modes, bonds)
    assert plan(modes, modes, bonds, 256, "reconstructed")[0] == ((0, 4),)
    # a tiny layer with huge bonds is cheaper as the dense matrix, a huge one with small bonds factorised
    assert plan((2, 2), (2, 2), (4,), 1000)[0] == ((0, 2),)
    assert len(plan((16, 16, 16), (16, 16, 16), (7, 7), 256)[0]) == 3


def test_from_linear_to_linear_round_trip():
    torch.manual_seed(0)
    linear = nn.Linear(62, 40)
    layer = MPOLinear.from_linear(linear, n_cores=3)
    x = torch.randn(9, 62)
    torch.testing.assert_close(layer(x), linear(x), rtol=1e-4, atol=1e-5)
    back = layer.to_linear()
    torch.testing.assert_close(back(x), linear(x), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(back.weight, linear.weight, rtol=1e-4, atol=1e-5)
    # leading batch dimensions pass through
    assert layer(torch.randn(2, 3, 62)).shape == (2, 3, 40)


@pytest.mark.parametrize("mode", ["factorized", "reconstructed", "auto"])
def test_forward_modes_agree(mode):
    torch.manual_seed(1)
    linear = nn.Linear(64, 64)
    layer = MPOLinear.from_linear(linear, forward_mode=mode)
    x = torch.randn(4, 64)
    torch.testing.assert_close(layer(x), linear(x), rtol=1e-4, atol=1e-5)


def test_counts():
    layer = MPOLinear.from_linear(nn.Linear(256, 256), max_bond=4)
    assert layer.max_bond == [4, 4, 4]
    assert layer.n_weight_params == 16 * (4 + 16 + 16 + 4) == 640
    assert layer.n_params == 640 + 256
    assert layer.compression_ratio == pytest.approx(65536 / 640)
    assert layer.flops(1) < 2 * 65536


def test_init_variance_matches_nn_linear():
    # Core entries are shared by many weights, so one draw is noisy: average over several layers.
    variances = []
    for seed in range(12):
        torch.manual_seed(seed)
        variances.append(MPOLinear(784, 256, max_bond=8).weight.var().item())
    target = 1 / (3 * 784)
    assert sum(variances) / len(variances) == pytest.approx(target, rel=0.25)
    assert nn.Linear(784, 256).weight.var().item() == pytest.approx(target, rel=0.05)


def test_bad_input():
    with pytest.raises(ValueError, match="bond dimensions must be integers >= 1"):
        MPOLinear(16, 16, max_bond=0)
    with pytest.raises(ValueError, match="multiply to 12, fewer than the 16"):
        MPOLinear(16, 16, in_modes=(3, 4), out_modes=(4, 4))
    with pytest.raises(ValueError, match="rel_tol must lie in"):
        MPOLinear.from_linear(nn.Linear(16, 16), rel_tol=1.0)
    with pytest.raises(ValueError, match="rel_tol must lie in"):
        tt_svd(torch.ones(4, 4), (2, 2), (2, 2), rel_tol=0)
    linear = nn.Linear(16, 16)
    with torch.no_grad():
        linear.weight[3, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        MPOLinear.from_linear(linear)
    with pytest.raises(ValueError, match="NaN or inf"):
        tt_svd(torch.full((4, 4), float("inf")), (2, 2), (2, 2))
    with pytest.raises(TypeError, match="needs an nn.Linear"):
        MPOLinear.from_linear(nn.Conv1d(2, 2, 1))
    with pytest.raises(ValueError, match="at most one of"):
        tt_svd(torch.ones(4, 4), (2, 2), (2, 2), max_bond=2, rel_tol=0.1)
    with pytest.raises(ValueError, match="cannot hold"):
        tt_svd(torch.ones(5, 4), (2, 2), (2, 2))
    with pytest.raises(ValueError, match="even bond 1"):
        tt_svd(torch.ones(16, 16), (4, 4), (4, 4), param_fraction=0.01)
    with pytest.raises(ValueError, match="input has 5 features"):
        MPOLinear(4, 4, max_bond=2)(torch.ones(2, 5))


@pytest.mark.parametrize("module", ["qboost_tn.mpo", "qboost_tn.mpo.shapes", "qboost_tn.mpo.layer"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
