"""Per-layer sensitivity to MPO compression: compress one layer at a time, score, retrain briefly, score again.

The study behind "which layers are fragile": for every layer and bond dimension, a copy of the trained network
with only that layer replaced by its MPO (``MPOLinear`` for ``nn.Linear``, ``MPOConv2d`` for ``nn.Conv2d``)
is scored on held-out data before and after a short retraining, and the layer's bond entropies are recorded
before and after against their ``ln chi`` bound, alongside the entropies of the exact (untruncated) MPO, the
spread of the dense layer's spectrum that truncation has to cut into.
"""
from __future__ import annotations

import copy
import math
import time

import numpy as np
import pandas as pd
from torch import nn

from ..errors import QBoostTNError
from ..eval.plots import finish_figure, new_figure
from .conv import MPOConv2d
from .entanglement import bond_spectra, entropy
from .layer import MPOLinear
from .._text import shown


def mpo_layer(module, max_bond=None, **options):
    """The MPO form of one ``nn.Linear`` (:class:`MPOLinear`) or ``nn.Conv2d`` (:class:`MPOConv2d`) layer."""
    if isinstance(module, nn.Linear):
        return MPOLinear.from_linear(module, max_bond=max_bond, **options)
    if isinstance(module, nn.Conv2d):
        return MPOConv2d.from_conv(module, max_bond=max_bond, **options)
    raise QBoostTNError(f"mpo_layer: cannot factor {type(module).__name__}; only nn.Linear and nn.Conv2d")


def with_layer(model, name, layer):
    """A deep copy of ``model`` with the submodule ``name`` replaced by ``layer``."""
    model = copy.deepcopy(model)
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, layer)
    return model


def accuracy(y, logits) -> float:
    """Share of samples whose largest logit is the label (a ``metric`` for :func:`qboost_tn.nets.fit`)."""
    return float(np.mean(np.asarray(logits).argmax(1) == np.asarray(y)))


def bond_entropies(layer) -> list[float]:
    """Entanglement entropy (nats) at each bond of an MPO layer."""
    return [entropy(s) for s in bond_spectra(list(layer.cores))]


def layer_sensitivity(model, data, test, layers, max_bonds=(1, 2, 4, 8), retrain=None, progress=False):
    """Compress one layer at a time at each bond dimension; accuracy and entropies before and after retraining.

    Parameters
    ----------
    model : nn.Module
        The trained dense network (not changed).
    data : (X_train, y_train, X_val, y_val)
        Retraining data, as for :func:`qboost_tn.nets.fit`.
    test : (X_test, y_test)
        Held-out data for the accuracies.
    layers : sequence of str
        Names of ``nn.Linear`` / ``nn.Conv2d`` layers of ``model``.
    max_bonds : sequence of int
        Bond dimensions tried for every layer (clipped per cut to the largest useful one).
    retrain : dict, optional
        Arguments of :func:`qboost_tn.nets.fit` for the retraining (default: 1 epoch, lr 1e-3); the whole
        network is retrained, validation accuracy picks the best epoch.

    Returns
    -------
    summary : DataFrame
        One row per (layer, max_bond): ``layer, max_bond`` (the requested bond), ``bonds`` (kept per cut),
        ``params_before, params_after, fraction, rel_error, acc_before, acc_after, seconds`` (retraining wall
        time), ``S_exact`` (mean bond entropy of the untruncated MPO), ``S_before, S_after`` (mean over bonds),
        ``ln_chi`` (mean of ``ln chi`` over bonds).
    entropies : DataFrame
        One row per (layer, max_bond, bond): ``S_exact, S_before, S_after, ln_chi``.
    """
    from ..nets import fit, scores

    X_test, y_test = test
    retrain = {"epochs": 1, "lr": 1e-3, "patience": None, "monitor": "metric", "metric": accuracy,
               "progress": progress, **(retrain or {})}
    modules = dict(model.named_modules())
    for name in layers:
        if not isinstance(modules.get(name), (nn.Linear, nn.Conv2d)) or not name:
            raise QBoostTNError(f"layer_sensitivity: {shown(name)} is not an nn.Linear or nn.Conv2d of the model")
    rows, bond_rows = [], []
    for name in layers:
        dense = modules[name]
        exact = [entropy(s) for s in mpo_layer(dense).decomposition.singular_values]
        for chi in max_bonds:
            layer = mpo_layer(dense, max_bond=chi)
            net = with_layer(model, name, layer)
            before = bond_entropies(layer)
            acc_before = accuracy(y_test, scores(net, X_test))
            start = time.perf_counter()
            fit(net, data, desc=f"retrain {name} chi={chi}", **retrain)
            seconds = time.perf_counter() - start
            compressed = net.get_submodule(name)
            after = bond_entropies(compressed)
            ln_chi = [math.log(c) for c in compressed.max_bond]
            rows.append({"layer": name, "max_bond": chi, "bonds": "-".join(map(str, compressed.max_bond)),
                         "params_before": dense.weight.numel(), "params_after": compressed.n_weight_params,
                         "fraction": compressed.n_weight_params / dense.weight.numel(),
                         "rel_error": layer.decomposition.rel_error, "acc_before": acc_before,
                         "acc_after": accuracy(y_test, scores(net, X_test)), "seconds": seconds,
                         "S_exact": float(np.mean(exact)), "S_before": float(np.mean(before)),
                         "S_after": float(np.mean(after)), "ln_chi": float(np.mean(ln_chi))})
            for k, values in enumerate(zip(exact, before, after, ln_chi), start=1):
                bond_rows.append(dict(zip(("S_exact", "S_before", "S_after", "ln_chi"), values),
                                      layer=name, max_bond=chi, bond=k))
    entropies = pd.DataFrame(bond_rows)[["layer", "max_bond", "bond", "S_exact", "S_before", "S_after", "ln_chi"]]
    return pd.DataFrame(rows), entropies


def fragile_layers(summary, dense_accuracy, max_bond=2, tolerance=0.005) -> list[str]:
    """Layers whose accuracy after retraining at ``max_bond`` is more than ``tolerance`` below the dense one."""
    rows = summary[summary["max_bond"] == max_bond]
    return list(rows.loc[dense_accuracy - rows["acc_after"] > tolerance, "layer"])


def plot_sensitivity(summary, dense_accuracy, path=None, title=None):
    """Test accuracy against bond dimension per layer: dashed before retraining, solid after; dense dotted."""
    fig, axes = new_figure((10, 4.2), ncols=2, sharex=True)
    for i, (name, group) in enumerate(summary.groupby("layer", sort=False)):
        colour = f"C{i % 10}"
        axes[0].plot(group["max_bond"], 100 * group["acc_before"], ls="--", marker="o", color=colour, label=name)
        axes[1].plot(group["max_bond"], 100 * group["acc_after"], marker="o", color=colour, label=name)
    for ax, what in zip(axes, ("before retraining", "after retraining")):
        ax.axhline(100 * dense_accuracy, color="k", ls=":", lw=1, label="dense")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("max_bond (one layer compressed)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(what)
        ax.grid(alpha=0.3)
    axes[1].set_ylim(max(0.0, 100 * summary["acc_after"].min() - 1), 100)
    axes[0].legend(fontsize=8)
    return finish_figure(fig, title, path)


def compress_each(model, max_bond, **options):
    """A copy of ``model`` with each named layer replaced by its MPO at its own bond: ``{name: max_bond}``.

    Layers not named stay dense. Returns ``(model, report)``; the report has one row per layer of
    ``model`` that holds weights (``layer, kind, max_bond, params_before, params_after``, biases included) and
    ``report.attrs["rho"]``, the whole network's parameter count after over before.
    """
    modules = dict(model.named_modules())
    unknown = sorted(set(max_bond) - set(modules))
    if unknown:
        raise QBoostTNError(f"compress_each: no layers named {unknown}")
    compressed = copy.deepcopy(model)
    for name, chi in max_bond.items():
        parent, _, child = name.rpartition(".")
        setattr(compressed.get_submodule(parent), child, mpo_layer(modules[name], max_bond=chi, **options))
    rows = []
    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()) and any(True for _ in module.parameters()):
            after = compressed.get_submodule(name)
            rows.append({"layer": name, "kind": type(after).__name__, "max_bond": max_bond.get(name),
                         "params_before": sum(p.numel() for p in module.parameters()),
                         "params_after": sum(p.numel() for p in after.parameters())})
    report = pd.DataFrame(rows)
    report.attrs["rho"] = (sum(p.numel() for p in compressed.parameters())
                           / sum(p.numel() for p in model.parameters()))
    return compressed, report
