"""Other ways to shrink the same layer, for comparison with MPO at the same budget: magnitude pruning,
int8 dynamic quantisation and a two-factor low-rank SVD."""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.nn.utils import prune

from .compress import replace_module, resolve_layers


def _one_layer(model, layer):
    names = resolve_layers(model, layer)
    if len(names) != 1:
        raise ValueError(f"name exactly one nn.Linear layer, got {names}")
    return names[0]


def prune_layer(model, layer, n_keep: int):
    """A copy of ``model`` with all but the ``n_keep`` largest-magnitude weights of ``layer`` zeroed.

    Uses ``torch.nn.utils.prune.l1_unstructured``: the mask stays attached, so fine-tuning keeps the pruned
    weights at zero; call :func:`make_permanent` afterwards to fold it into ``weight``.
    """
    name = _one_layer(model, layer)
    model = copy.deepcopy(model)
    linear = model.get_submodule(name)
    total = linear.weight.numel()
    if not 1 <= n_keep <= total:
        raise ValueError(f"prune_layer: n_keep must lie in 1..{total}, got {n_keep}")
    prune.l1_unstructured(linear, "weight", amount=int(total - n_keep))
    return model


def make_permanent(model):
    """Fold every pruning mask into its weight (removes the re-parametrisation) and return ``model``."""
    for module in model.modules():
        if prune.is_pruned(module) and hasattr(module, "weight_mask"):
            prune.remove(module, "weight")
    return model


def quantize_layer(model, layer):
    """A copy of ``model`` with ``layer`` as an int8 dynamically quantised linear (CPU inference only).

    ``torch.ao.quantization.quantize_dynamic`` stores the weight in int8 with one scale; activations are
    quantised on the fly. The result cannot be trained further.
    """
    name = _one_layer(model, layer)
    with warnings.catch_warnings():
        # torch 2.13 flags its quantised tensor constructors as deprecated; the module still works as documented
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated", category=DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {name}, dtype=torch.qint8)


def low_rank_layer(model, layer, rank: int):
    """A copy of ``model`` with ``layer`` replaced by ``Linear(in, rank) -> Linear(rank, out)`` from a
    truncated SVD (the best rank-``rank`` approximation); ``rank * (in + out)`` weights."""
    name = _one_layer(model, layer)
    model = copy.deepcopy(model)
    linear = model.get_submodule(name)
    if not 1 <= rank <= min(linear.in_features, linear.out_features):
        raise ValueError(f"low_rank_layer: rank must lie in 1..{min(linear.in_features, linear.out_features)}, "
                         f"got {rank}")
    weight = linear.weight.detach().double()
    u, s, vh = torch.linalg.svd(weight, full_matrices=False)
    root = s[:rank].sqrt()
    first = nn.Linear(linear.in_features, rank, bias=False)
    second = nn.Linear(rank, linear.out_features, bias=linear.bias is not None)
    with torch.no_grad():
        first.weight.copy_(root[:, None] * vh[:rank])
        second.weight.copy_(u[:, :rank] * root)
        if linear.bias is not None:
            second.bias.copy_(linear.bias)
    replace_module(model, name, nn.Sequential(first, second))
    return model


def rank_for_budget(in_features, out_features, budget) -> int:
    """Largest rank whose two factors hold at most ``budget`` weights (at least 1)."""
    return max(1, int(budget) // (in_features + out_features))
