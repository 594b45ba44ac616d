"""Size rules of torch networks and the MPS classifier, loaded once torch is (see :mod:`qboost_tn.eval.size`).

A network is the sum of its modules: a module with a rule of its own (linear, int8, MPO and factorised layers)
is counted by it, any other by its own parameters and buffers plus its children.
"""
from __future__ import annotations

import torch
from torch import nn

from .bits import _REGISTRY, FLOAT, INT8, model_bits, register_model_bytes, vector_bits

_NOT_STORED = {"num_batches_tracked"}  # a training counter predict never reads


def _values(tensor):
    return tensor.detach().cpu().numpy()


def _module(module):
    own = [t for name, t in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
           if name not in _NOT_STORED]
    return sum(t.numel() * FLOAT for t in own) + sum(model_bits(child) for child in module.children())


def _linear(module):
    """Dense or sparse weights (a pruned layer stores its non-zeros and their indices) and the bias; a pruning
    mask (a parametrisation) is already folded into ``module.weight``."""
    bias = 0 if module.bias is None else module.bias.numel() * FLOAT
    return vector_bits(_values(module.weight)) + bias


def _int8_linear(module):
    weight = module.weight()
    scales = weight.q_per_channel_scales().numel() if weight.qscheme() in (
        torch.per_channel_affine, torch.per_channel_symmetric) else 1
    bias = module.bias()
    return weight.numel() * INT8 + 2 * scales * FLOAT + (0 if bias is None else bias.numel() * FLOAT)


_RULES = [(nn.Module, _module), (nn.Linear, _linear), (torch.ao.nn.quantized.Linear, _int8_linear)]
for _cls, _fn in _RULES:
    if _cls not in _REGISTRY:
        register_model_bytes(_cls, _fn)
