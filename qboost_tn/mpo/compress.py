"""Replace ``nn.Linear`` layers of any model by MPO layers, report what it cost, and save/load the result."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from .._io import atomic_path, write_json
from .contract import sweep_flops
from .layer import MPOLinear


def _linear_names(model) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]


def resolve_layers(model, layers) -> list[str]:
    """Names of the ``nn.Linear`` layers meant by ``layers`` (None: all), with clear errors otherwise."""
    if layers is None:
        names = _linear_names(model)
        if not names:
            raise ValueError(f"{type(model).__name__} has no nn.Linear layer to compress")
        return names
    names = [layers] if isinstance(layers, str) else list(layers)
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules or name == "":
            raise ValueError(f"no layer named {name!r}; the nn.Linear layers are {_linear_names(model)}")
        if not isinstance(modules[name], nn.Linear):
            raise ValueError(f"layer {name!r} is {type(modules[name]).__name__}, not nn.Linear; the nn.Linear "
                             f"layers are {_linear_names(model)}")
    return names


def replace_module(model, name: str, new: nn.Module) -> None:
    """Put ``new`` where the submodule ``name`` (dotted path) was."""
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name), child, new)


def compress(model, layers=None, max_bond=None, rel_tol=None, param_fraction=None, n_cores=4, shapes=None,
             pattern="balanced", forward_mode="auto", batch=128, inplace=False):
    """Replace ``nn.Linear`` layers of ``model`` by :class:`MPOLinear` layers factored by TT-SVD.

    Parameters
    ----------
    model : nn.Module
        Any module (Sequential or not); addressed by the names of ``model.named_modules()``.
    layers : str or list of str, optional
        Which ``nn.Linear`` layers (default: all of them).
    max_bond, rel_tol, param_fraction :
        At most one truncation criterion, applied to each layer (see :func:`qboost_tn.mpo.tt_svd`).
        None of them: exact factorisation.
    n_cores : int, default 4
    shapes : dict, optional
        ``{layer name: (in_modes, out_modes)}`` for layers that should not use the automatic factorisation.
    pattern : str, default "balanced"
        Factorisation pattern for the other layers.
    forward_mode : str, default "auto"
    batch : int, default 128
        Batch size for which the ``flops_after`` column is planned.
    inplace : bool, default False
        Change ``model`` itself instead of a deep copy.

    Returns
    -------
    model : nn.Module
        The compressed model (a copy unless ``inplace``), in eval mode as the input was left.
    report : DataFrame
        One row per layer: ``layer, in_features, out_features, in_modes, out_modes, bonds, params_before,
        params_after`` (weight entries only, bias excluded), ``param_fraction`` (after / before),
        ``compression_ratio`` (before / after), ``rel_error`` (``||W - W_mpo||_F / ||W||_F`` on the real
        weight), ``discarded_weight``, ``flops_before`` (dense), ``flops_factorized`` (core by core) and
        ``flops_after`` (the forward actually planned for ``batch``, which merges cores, up to the full matrix,
        where that is faster), all per sample.
    """
    names = resolve_layers(model, layers)
    shapes = dict(shapes or {})
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise ValueError(f"shapes given for {unknown}, which are not among the layers compressed ({names})")
    model = model if inplace else copy.deepcopy(model)
    modules = dict(model.named_modules())
    rows = []
    for name in names:
        linear = modules[name]
        ins, outs = shapes.get(name, (None, None))
        try:
            layer = MPOLinear.from_linear(linear, n_cores=n_cores, in_modes=ins, out_modes=outs, pattern=pattern,
                                          max_bond=max_bond, rel_tol=rel_tol, param_fraction=param_fraction,
                                          forward_mode=forward_mode)
        except ValueError as exc:
            raise ValueError(f"layer {name!r}: {exc}") from exc
        with torch.no_grad():
            weight = linear.weight.double()
            err = (layer.weight.double() - weight).norm() / weight.norm().clamp_min(1e-300)
        replace_module(model, name, layer)
        dense = linear.in_features * linear.out_features
        rows.append({"layer": name, "in_features": linear.in_features, "out_features": linear.out_features,
                     "in_modes": "x".join(map(str, layer.in_modes)),
                     "out_modes": "x".join(map(str, layer.out_modes)),
                     "bonds": "-".join(map(str, layer.max_bond)), "params_before": dense,
                     "params_after": layer.n_weight_params, "param_fraction": layer.n_weight_params / dense,
                     "compression_ratio": layer.compression_ratio, "rel_error": float(err),
                     "discarded_weight": layer.decomposition.discarded_weight, "flops_before": 2 * dense,
                     "flops_factorized": sweep_flops(layer.in_modes, layer.out_modes, layer.max_bond),
                     "flops_after": layer.flops(batch)})
    return model, pd.DataFrame(rows)


def mpo_config(model) -> dict:
    """``{layer name: MPOLinear.config()}`` for every MPO layer of ``model`` (JSON-able)."""
    return {name: module.config() for name, module in model.named_modules() if isinstance(module, MPOLinear)}


def restore_mpo_layers(skeleton, config: dict):
    """Put freshly built MPO layers described by ``config`` (from :func:`mpo_config`) into ``skeleton``.

    ``skeleton`` is the uncompressed architecture (e.g. the model class instantiated anew); it is changed in
    place and returned, ready for ``load_state_dict``.
    """
    for name, layer_config in config.items():
        try:
            skeleton.get_submodule(name)
        except AttributeError as exc:
            raise ValueError(f"the model has no layer {name!r} to hold the saved MPO layer") from exc
        replace_module(skeleton, name, MPOLinear.from_config(layer_config))
    return skeleton


def _config_path(path) -> Path:
    return Path(str(path) + ".mpo.json")


def save_compressed(model, path) -> None:
    """``torch.save`` the state_dict at ``path`` and the MPO layer shapes at ``path + ".mpo.json"``.

    Both are written atomically. Rebuild with :func:`load_compressed` from the uncompressed skeleton.
    """
    write_json(_config_path(path), {"mpo_layers": mpo_config(model)})
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)


def load_compressed(skeleton, path):
    """Load a model saved by :func:`save_compressed` into ``skeleton`` (the uncompressed architecture).

    The state_dict is read with ``torch.load(weights_only=True)``: plain tensors only, no pickled code.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    if not _config_path(path).is_file():
        raise FileNotFoundError(f"{_config_path(path)} (the MPO layer shapes saved beside {path}) is missing")
    config = json.loads(_config_path(path).read_text())["mpo_layers"]
    model = restore_mpo_layers(skeleton, config)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model
