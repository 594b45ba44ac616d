"""Saving and loading networks with compressed layers, without pickle.

:func:`save_compressed` writes the state_dict (``NAME``) and, beside it, each compressed layer's shape
(``NAME.mpo.json``: ``{"mpo_layers": {layer name: {"type": ..., **layer.config()}}}``); :func:`load_compressed`
puts layers of those shapes into a fresh uncompressed skeleton and loads the tensors. Both files are checked
(:mod:`._checks`) before anything is built. :data:`SAVED_LAYERS` is the one table of the layer types a file may
hold: every compression output that has a plain-tensor state_dict.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch.nn.utils import parametrize

from .._io import atomic_path, write_json
from .._text import shown
from ..errors import ModelFileError, QBoostTNError
from ._checks import (low_rank_size, mpo_conv_size, mpo_linear_size, read_layer_config, read_state,
                      tucker_conv_size)
from .baselines import LowRankLinear, WeightMask
from .compress import replace_module
from .conv import MPOConv2d, TuckerConv2d
from .layer import MPOLinear


@dataclass(frozen=True)
class SavedLayer:
    """How one layer type is saved: recognised, described, counted and rebuilt.

    Attributes
    ----------
    holds : callable ``module -> bool``
    config : callable ``module -> dict`` (JSON-able)
    size : callable ``config -> int``
        Numbers the rebuilt layer will hold, from a config read from a file (ValueError if malformed).
    build : callable ``(config, skeleton's module) -> module``
    """

    holds: Callable
    config: Callable
    size: Callable
    build: Callable


def _layer_class(cls, size) -> SavedLayer:
    return SavedLayer(lambda m: isinstance(m, cls), lambda m: m.config(), size,
                      lambda config, _: cls.from_config(config))


def _masked(module) -> bool:
    return parametrize.is_parametrized(module, "weight") and any(
        isinstance(p, WeightMask) for p in module.parametrizations["weight"])


def _mask(config, module):
    """The skeleton's own layer with an all-ones :class:`WeightMask`, for the saved mask to be loaded into."""
    if "weight" not in dict(module.named_parameters(recurse=False)):
        raise QBoostTNError(f"a pruned layer needs a weight; the model has a {type(module).__name__} there")
    parametrize.register_parametrization(module, "weight", WeightMask(torch.ones_like(module.weight)))
    return module


#: Layer type name (a saved config's ``"type"``) -> how it is saved. Pruned layers keep the skeleton's own
#: layer with its mask (``WeightMask``); int8 layers hold packed parameters only pickle restores: not savable.
SAVED_LAYERS = {
    "MPOLinear": _layer_class(MPOLinear, mpo_linear_size),
    "MPOConv2d": _layer_class(MPOConv2d, mpo_conv_size),
    "TuckerConv2d": _layer_class(TuckerConv2d, tucker_conv_size),
    "LowRankLinear": _layer_class(LowRankLinear, low_rank_size),
    "WeightMask": SavedLayer(_masked, lambda m: {}, lambda config: 0, _mask),
}
# What a saved layer must share with the skeleton's layer it replaces, so the network's shapes still chain.
_SIZES = ("in_features", "out_features", "in_channels", "out_channels")
_FIRST_TYPE = "MPOLinear"  # files written before there were several types hold MPOLinear configs without "type"


def mpo_config(model) -> dict:
    """``{layer name: {"type": ..., **config}}`` for every compressed layer of ``model`` (JSON-able).

    Raises QBoostTNError for a layer that cannot be saved without pickle (int8-quantised ones).
    """
    config = {}
    for name, module in model.named_modules():
        if type(module).__module__.startswith("torch.ao.nn.quantized"):
            raise QBoostTNError(f"layer {shown(name)} is int8-quantised ({type(module).__name__}): its packed parameters "
                                "only pickle restores; save the model before quantising it")
        for kind, saved in SAVED_LAYERS.items():
            if saved.holds(module):
                config[name] = {"type": kind, **saved.config(module)}
                break
    return config


def restore_mpo_layers(skeleton, config: dict):
    """Put freshly built layers described by ``config`` (from :func:`mpo_config`) into ``skeleton``.

    ``skeleton`` is the uncompressed architecture (e.g. the model class instantiated anew); it is changed in
    place and returned, ready for ``load_state_dict``.
    """
    for name, layer_config in config.items():
        layer_config = dict(layer_config)
        kind = layer_config.pop("type", _FIRST_TYPE)
        try:
            module = skeleton.get_submodule(name)
        except AttributeError as exc:
            raise QBoostTNError(f"the model has no layer {shown(name)} to hold the saved MPO layer") from exc
        if kind not in SAVED_LAYERS:
            raise QBoostTNError(f"layer {shown(name)}: unknown saved layer type {shown(kind)}")
        for size in _SIZES:  # before building: a saved size is the user's number until checked
            saved, wanted = layer_config.get(size), getattr(module, size, None)
            if saved is not None and wanted is not None and saved != wanted:
                raise QBoostTNError(f"layer {shown(name)} is saved with {size} = {shown(saved)}; the model's layer "
                                    f"has {wanted}")
        new = SAVED_LAYERS[kind].build(layer_config, module)
        if new is not module:
            replace_module(skeleton, name, new)
    return skeleton


def _config_path(path) -> Path:
    return Path(str(path) + ".mpo.json")


def save_compressed(model, path) -> None:
    """``torch.save`` the state_dict at ``path`` and the compressed layers' shapes at ``path + ".mpo.json"``.

    Both are written atomically. Rebuild with :func:`load_compressed` from the uncompressed skeleton. Every
    layer type of :data:`SAVED_LAYERS` is saved; an int8-quantised layer raises QBoostTNError before anything
    is written.
    """
    config = mpo_config(model)
    write_json(_config_path(path), {"mpo_layers": config})
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)


def load_compressed(skeleton, path):
    """Load a model saved by :func:`save_compressed` into ``skeleton`` (the uncompressed architecture).

    The state_dict is read with ``torch.load(weights_only=True)``: plain tensors only, no pickled code. Both
    files are checked first (:mod:`qboost_tn.mpo._checks`); a damaged, tampered or mismatched one raises
    :class:`~qboost_tn.errors.ModelFileError`.
    """
    path, config_path = Path(path), _config_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} (the MPO layer shapes saved beside {path}) is missing")
    config = read_layer_config(config_path, {kind: saved.size for kind, saved in SAVED_LAYERS.items()}, _FIRST_TYPE)
    try:
        model = restore_mpo_layers(skeleton, config)
    except QBoostTNError as exc:
        raise ModelFileError(f"{config_path}: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{config_path}: a saved layer shape cannot be rebuilt ({type(exc).__name__}: "
                             f"{exc})") from exc
    # float64 is the widest a state_dict of this model holds; a float32 skeleton may load a float64 save.
    state = read_state(path, sum(8 * t.numel() for t in model.state_dict().values()))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # missing / unexpected keys, size mismatches
        raise ModelFileError(f"{path}: the saved tensors do not fit the model ({exc})") from exc
    return model


__all__ = ["SAVED_LAYERS", "SavedLayer", "load_compressed", "mpo_config", "restore_mpo_layers", "save_compressed"]
