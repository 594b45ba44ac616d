"""Entanglement plots of a fitted :class:`MPSClassifier`, drawn by the MPO toolkit's own helpers.

:func:`qboost_tn.mpo.entanglement.plot_entropy_profile` and ``plot_entropy_evolution`` take tables with
``bond, entropy, max_entropy`` and a history with ``epoch`` and ``S[...]`` columns; the classifier provides both
(:meth:`MPSClassifier.entanglement_table`, ``history_``). A chain has one bond per feature, so ticks are thinned
and the evolution shows a chosen subset of bonds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..eval.plots import save_figure


def _finish(fig, path):
    fig.axes[0].xaxis.set_major_locator(MaxNLocator(12, integer=True))
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_entropy_profile(models, path=None, title=None):
    """Entropy of every bond after training, one line per model (``ln chi`` of each bond dashed).

    ``models``: one fitted classifier, or a dict ``label -> classifier`` (e.g. several ``max_bond``).
    """
    from ..mpo.entanglement import plot_entropy_profile as profile

    if isinstance(models, dict):
        table = pd.concat([m.entanglement_table().assign(model=label) for label, m in models.items()])
        hue = "model"
    else:
        table, hue = models.entanglement_table(), "max_bond"
    fig = profile(table, hue=hue, title=title or "MPS bond entropy")
    return _finish(fig, path)


def plot_entropy_evolution(model, bonds=12, path=None, title=None):
    """Entropy against epoch (or sweep) of ``bonds`` evenly spaced bonds (an int) or of the listed bonds."""
    from ..mpo.entanglement import plot_entropy_evolution as evolution

    history = pd.DataFrame(model.history_)
    n_bonds = len(model.core_shapes_) - 1
    if n_bonds < 1:
        raise ValueError("plot_entropy_evolution: a single-site chain has no bond")
    if isinstance(bonds, int):
        bonds = np.unique(np.linspace(1, n_bonds, min(bonds, n_bonds)).round().astype(int))
    fig = evolution(history[["epoch"] + [f"S[{k}]" for k in bonds]],
                    title=title or f"MPS bond entropy over {'sweeps' if model.method == 'sweep' else 'epochs'}")
    if path is not None:
        save_figure(fig, path)
    return fig
