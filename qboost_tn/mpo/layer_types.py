"""The MPO layer types, in one place: which modules of a network hold MPO cores, and how they turn back dense.

Entanglement measures, fine-tuning the cores only, gradual truncation and saving all ask this module, so a new
MPO layer type is added here once.
"""
from __future__ import annotations

import copy

from .compress import replace_module
from .conv import MPOConv2d
from .layer import MPOLinear

#: Layers whose weight is an MPO held as ``layer.cores`` (with per-cut ``layer.max_bond``).
MPO_LAYERS = (MPOLinear, MPOConv2d)


def mpo_layers(model) -> list:
    """``(name, layer)`` of every MPO layer of ``model`` (``("", model)`` when ``model`` is one)."""
    if isinstance(model, MPO_LAYERS):
        return [("", model)]
    return [(name, m) for name, m in model.named_modules() if isinstance(m, MPO_LAYERS)]


def core_parameters(model) -> list:
    """The cores of every MPO layer of ``model`` (for fine-tuning the cores only)."""
    return [p for _, layer in mpo_layers(model) for p in layer.cores]


def to_dense(layer):
    """The dense layer an MPO layer stands for (``nn.Linear`` or ``nn.Conv2d``, same outputs to float tolerance)."""
    return layer.to_linear() if isinstance(layer, MPOLinear) else layer.to_conv()


def dense_copy(model):
    """A copy of ``model`` with its MPO layers turned back dense, so they can be truncated further."""
    model = copy.deepcopy(model)
    for name, layer in mpo_layers(model):
        if name:
            replace_module(model, name, to_dense(layer))
        else:
            return to_dense(layer)
    return model


__all__ = ["MPO_LAYERS", "core_parameters", "dense_copy", "mpo_layers", "to_dense"]
