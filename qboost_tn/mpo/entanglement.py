"""Bond entanglement entropy of MPO layers, in nats (natural logarithm), and how it evolves in training.

The weight of an MPO layer is read as a vector over its sites (one site = one pair ``(b_k, a_k)``). Cutting the
chain at bond ``k`` gives a Schmidt decomposition with singular values ``s``; with ``p = s^2 / sum(s^2)`` the
entropy is ``S = -sum p ln p``. It lies between 0 (a product across the cut) and ``ln chi`` (all ``chi`` values
equal), the bound a bond of dimension ``chi`` can carry.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..eval.plots import finish_line_plot, new_figure
from .layer_types import MPO_LAYERS, mpo_layers


def entropy(singular_values) -> float:
    """Entanglement entropy (nats) of one bond from its singular values (any scale; zeros allowed)."""
    s = torch.as_tensor(singular_values, dtype=torch.float64).flatten()
    if s.numel() == 0 or not torch.isfinite(s).all():
        raise ValueError("entropy: need a non-empty, finite list of singular values")
    p = s ** 2
    total = p.sum()
    if total <= 0:
        return 0.0
    p = p[p > 0] / total
    return float(-(p * p.log()).sum()) + 0.0  # + 0.0 turns a product state's -0.0 into 0.0


def bond_spectra(cores) -> list[torch.Tensor]:
    """Singular values at each of the ``n - 1`` bonds of an MPO given by its cores (float64).

    Left-orthonormalise by QR from the left, then sweep back with SVDs: at each cut the left part is then an
    isometry and the right part a co-isometry, so the SVD's values are the Schmidt values of the whole MPO.
    Cost is polynomial in the bond size; the dense matrix is never formed.
    """
    mats = [c.detach().to(torch.float64).reshape(c.shape[0], -1, c.shape[-1]) for c in cores]
    for k in range(len(mats) - 1):
        c, p, d = mats[k].shape
        q, r = torch.linalg.qr(mats[k].reshape(c * p, d))
        mats[k] = q.reshape(c, p, -1)
        mats[k + 1] = torch.einsum("ij,jpk->ipk", r, mats[k + 1])
    spectra = [None] * (len(mats) - 1)
    for k in range(len(mats) - 1, 0, -1):
        c, p, d = mats[k].shape
        u, s, vh = torch.linalg.svd(mats[k].reshape(c, p * d), full_matrices=False)
        spectra[k - 1] = s
        mats[k] = vh.reshape(-1, p, d)
        mats[k - 1] = torch.einsum("ipj,jk->ipk", mats[k - 1], u * s)
    return spectra


def _mpo_layers(model):
    layers = mpo_layers(model)
    if not layers:
        kinds = " or ".join(t.__name__ for t in MPO_LAYERS)
        raise ValueError(f"{type(model).__name__} has no {kinds} layer")
    return layers


def entanglement_table(model) -> pd.DataFrame:
    """One row per MPO layer and bond: ``layer, bond, max_bond, entropy`` (nats), ``max_entropy`` (= ln chi)."""
    rows = []
    for name, layer in _mpo_layers(model):
        for k, (s, chi) in enumerate(zip(bond_spectra(list(layer.cores)), layer.max_bond), start=1):
            rows.append({"layer": name, "bond": k, "max_bond": chi, "entropy": entropy(s),
                         "max_entropy": math.log(chi)})
    return pd.DataFrame(rows)


def entropy_recorder(model):
    """Callback for :func:`qboost_tn.mpo.train.fit`: adds ``S[layer:bond]`` columns (nats) to the history."""
    def record(epoch, trained):
        table = entanglement_table(trained)
        return {f"S[{r.layer}:{r.bond}]": r.entropy for r in table.itertuples()}

    _mpo_layers(model)  # fail now, not after the first epoch, if there is nothing to record
    return record


def plot_entropy_profile(table, hue="max_bond", path=None, title=None):
    """Entropy against bond position, one line per ``hue`` value, with the ``ln chi`` bounds dashed.

    ``table`` has columns ``bond, entropy, max_entropy`` and ``hue`` (e.g. stacked :func:`entanglement_table`
    outputs with a ``max_bond`` or ``model`` column).
    """
    fig, ax = new_figure((6.4, 4.2))
    for i, (label, group) in enumerate(table.groupby(hue, sort=False)):
        colour = f"C{i % 10}"
        ax.plot(group["bond"], group["entropy"], marker="o", color=colour, label=f"{hue}={label}")
        ax.plot(group["bond"], group["max_entropy"], ls="--", color=colour, alpha=0.5)
    ax.set_xlabel("bond")
    ax.set_ylabel("entanglement entropy (nats); dashed: ln chi")
    ax.set_xticks(sorted(table["bond"].unique()))
    return finish_line_plot(fig, ax, title, path)


def plot_entropy_evolution(history, path=None, title=None):
    """Entropy of each bond against epoch, from a training history with ``S[...]`` columns."""
    columns = [c for c in history.columns if c.startswith("S[")]
    if not columns:
        raise ValueError("plot_entropy_evolution: the history has no S[...] columns; train with "
                         "callbacks=[entropy_recorder(model)]")
    fig, ax = new_figure((6.4, 4.2))
    for col in columns:
        ax.plot(history["epoch"], history[col], marker="o", markersize=3, label=col)
    ax.set_xlabel("epoch")
    ax.set_ylabel("entanglement entropy (nats)")
    return finish_line_plot(fig, ax, title, path, fontsize=7, ncol=max(1, int(np.ceil(len(columns) / 8))))
