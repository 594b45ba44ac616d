"""Other ways to shrink the same layers, registered as compression methods so they compare with MPO at the
same budget: ``"low-rank"`` (two-factor truncated SVD), ``"prune"`` (magnitude pruning) and ``"int8"``
(dynamic quantisation). Use them through :func:`qboost_tn.mpo.compress`."""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..errors import QBoostTNError
from .compress import CompressionMethod, dense_params, register_compression, relative_error
from .layer import FactorisedCounts


class LowRankCompression(CompressionMethod):
    """``Linear(in, out)`` -> :class:`LowRankLinear` (``Linear(in, r, bias=False)`` then ``Linear(r, out)``) from
    a truncated SVD (the best rank-``r`` approximation); ``r`` is the largest rank whose ``r * (in + out)``
    weights fit the budget (at least 1); no budget: full rank."""


class LowRankLinear(FactorisedCounts, nn.Sequential):
    """``Sequential(Linear(in, rank, bias=False), Linear(rank, out))``: a linear layer of rank ``rank``."""

    def __init__(self, in_features, out_features, rank, bias=True, device=None, dtype=None):
        factory = {"device": device, "dtype": dtype}
        super().__init__(nn.Linear(in_features, rank, bias=False, **factory),
                         nn.Linear(rank, out_features, bias=bias, **factory))

    in_features = property(lambda self: self[0].in_features)
    out_features = property(lambda self: self[1].out_features)
    rank = property(lambda self: self[0].out_features)
    bias = property(lambda self: self[1].bias)

    @property
    def weight(self) -> torch.Tensor:
        """The equivalent ``(out_features, in_features)`` weight (differentiable)."""
        return self[1].weight @ self[0].weight

    def factors(self):
        return [self[0].weight, self[1].weight]

    def config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features, "rank": self.rank,
                "bias": self.bias is not None}


@LowRankCompression.handles(nn.Linear)
def _low_rank_linear(method, linear, budget, name):
    n_in, n_out = linear.in_features, linear.out_features
    full = min(n_in, n_out)
    rank = full if budget.n_params is None else max(1, min(full, budget.n_params // (n_in + n_out)))
    u, s, vh = torch.linalg.svd(linear.weight.detach().double(), full_matrices=False)
    root = s[:rank].sqrt()
    module = LowRankLinear(n_in, n_out, rank, bias=linear.bias is not None, dtype=linear.weight.dtype)
    with torch.no_grad():
        module[0].weight.copy_(root[:, None] * vh[:rank])
        module[1].weight.copy_(u[:, :rank] * root)
        if linear.bias is not None:
            module[1].bias.copy_(linear.bias)
    return module, {"params_after": module.n_weight_params, "rel_error": relative_error(module.weight, linear.weight),
                    "flops_before": 2 * n_in * n_out, "flops_after": 2 * rank * (n_in + n_out), "rank": rank}


class PruneCompression(CompressionMethod):
    """Keep the ``budget`` largest-magnitude weights, zero the rest (global over the layer, ties by position).

    The zeros are a mask applied as a ``torch.nn.utils.parametrize`` parametrisation, so fine-tuning keeps the
    pruned weights at zero and the model can still be deep-copied (``torch.nn.utils.prune``'s re-assigned
    ``weight`` attribute cannot); :func:`make_permanent` folds the mask into ``weight`` afterwards. The layer
    still runs dense: ``flops_after`` equals ``flops_before``.
    """


class WeightMask(nn.Module):
    """``weight * mask``: the parametrisation that holds a pruned layer's zeros."""

    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight):
        return weight * self.mask


@PruneCompression.handles(nn.Linear)
def _prune_linear(method, linear, budget, name):
    total = dense_params(linear)
    if budget.n_params is None:
        raise QBoostTNError("pruning needs a budget (weights to keep, or a fraction)")
    keep = min(budget.n_params, total)
    weight = linear.weight.detach()
    mask = torch.zeros(total, dtype=weight.dtype, device=weight.device)
    mask[torch.topk(weight.abs().flatten(), keep, sorted=False).indices] = 1
    pruned = copy.deepcopy(linear)
    parametrize.register_parametrization(pruned, "weight", WeightMask(mask.reshape(weight.shape)))
    flops = 2 * linear.in_features * linear.out_features
    return pruned, {"params_after": keep, "rel_error": relative_error(pruned.weight, linear.weight),
                    "flops_before": flops, "flops_after": flops}


def make_permanent(model):
    """Fold every pruning mask into its weight (a plain ``weight`` parameter again) and return ``model``."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight") and any(
                isinstance(p, WeightMask) for p in module.parametrizations["weight"]):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return model


class Int8Compression(CompressionMethod):
    """int8 dynamic quantisation (``torch.ao.quantization.quantize_dynamic``): every weight kept at a quarter
    of the bytes, activations quantised on the fly; CPU inference only, not trainable.

    It cannot meet a smaller budget, which it ignores; ``params_after`` counts float32 equivalents
    (a quarter of the weights) so its row sits on the same axis as the others.
    """

    trainable = False


@Int8Compression.handles(nn.Linear)
def _int8_linear(method, linear, budget, name):
    with warnings.catch_warnings():
        # torch 2.13 flags its quantised tensor constructors as deprecated; the module still works as documented
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated", category=DeprecationWarning)
        quantized = torch.ao.quantization.quantize_dynamic(nn.Sequential(copy.deepcopy(linear)).eval(),
                                                           {nn.Linear}, dtype=torch.qint8)[0]
    flops = 2 * linear.in_features * linear.out_features
    return quantized, {"params_after": dense_params(linear) / 4,
                       "rel_error": relative_error(quantized.weight().dequantize(), linear.weight),
                       "flops_before": flops, "flops_after": flops}


register_compression("low-rank", LowRankCompression)
register_compression("prune", PruneCompression)
register_compression("int8", Int8Compression)
