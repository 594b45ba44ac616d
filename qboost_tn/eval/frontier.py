"""Accuracy per byte: each family's Pareto front of macro AUC against model size, and the best row per budget.

Both take a table with one row per model (``model``, ``family``, ``macro_auc``, ``model_bytes``), such as the
report's comparison frame (means over seeds; a model's size is its largest over seeds, so "fits a budget"
holds on every seed).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._memory import format_bytes as _format_bytes

BUDGETS_KIB = (1, 4, 16, 64, 256, None)  # None: unbounded
KIB = 1024


def budget_label(kib) -> str:
    return "unbounded" if kib is None else f"{kib} KiB"


def pareto_front(frame: pd.DataFrame, x="model_bytes", y="macro_auc") -> pd.DataFrame:
    """Rows no other row beats on both counts (no smaller-or-equal ``x`` with a higher ``y``), by ``x``."""
    rows = frame.dropna(subset=[x, y]).sort_values([x, y], ascending=[True, False])
    best = -math.inf
    keep = []
    for index, value in rows[y].items():
        if value > best:
            keep.append(index)
            best = value
    return rows.loc[keep]


def best_per_budget(frame: pd.DataFrame, budgets=BUDGETS_KIB, group="family") -> pd.DataFrame:
    """One row per budget: the best ``macro_auc`` row fitting it overall and within each ``group`` value.

    Columns: ``budget``, ``budget_bytes`` (None: unbounded), and for ``"all"`` and every group value
    ``<g>:model``, ``<g>:macro_auc``, ``<g>:model_bytes`` (missing where nothing of it fits).
    """
    frame = frame.dropna(subset=["macro_auc", "model_bytes"])
    groups = ["all"] + list(dict.fromkeys(frame[group]))
    out = []
    for kib in budgets:
        limit = math.inf if kib is None else kib * KIB
        fits = frame[frame["model_bytes"] <= limit]
        row = {"budget": budget_label(kib), "budget_bytes": None if kib is None else kib * KIB}
        for g in groups:
            part = fits if g == "all" else fits[fits[group] == g]
            if len(part):
                best = part.loc[part["macro_auc"].idxmax()]
                row.update({f"{g}:model": best["model"], f"{g}:macro_auc": float(best["macro_auc"]),
                            f"{g}:model_bytes": int(best["model_bytes"])})
            else:
                row.update({f"{g}:model": None, f"{g}:macro_auc": np.nan, f"{g}:model_bytes": np.nan})
        out.append(row)
    return pd.DataFrame(out)


def format_bytes(n) -> str:
    """A model size for a table cell (empty where the size is unknown)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    return _format_bytes(float(n))


def plot_frontier(frame: pd.DataFrame, title=None, budgets=BUDGETS_KIB):
    """Macro AUC against model size (log x): every row as a point, each family's Pareto front as a step line,
    the budgets as dotted verticals. Returns a :class:`matplotlib.figure.Figure` (no pyplot, no backend)."""
    from matplotlib.figure import Figure

    frame = frame.dropna(subset=["macro_auc", "model_bytes"])
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot()
    colours = dict(zip(dict.fromkeys(frame["family"]), [f"C{i}" for i in range(10)]))
    for family, rows in frame.groupby("family", sort=False):
        colour = colours[family]
        ax.scatter(rows["model_bytes"], rows["macro_auc"], color=colour, alpha=0.5, s=18)
        front = pareto_front(rows)
        ax.step(front["model_bytes"], front["macro_auc"], where="post", color=colour, marker="o", label=family)
        for _, r in front.iterrows():
            ax.annotate(str(r["model"]), (r["model_bytes"], r["macro_auc"]), fontsize=6, color=colour,
                        xytext=(3, -8), textcoords="offset points")
    for kib in budgets:
        if kib is not None:
            ax.axvline(kib * KIB, color="0.6", linestyle=":", linewidth=0.8)
            ax.text(kib * KIB, 1.0, f" {kib} KiB", transform=ax.get_xaxis_transform(), fontsize=7, va="top",
                    color="0.4")
    ax.set_xscale("log")
    ax.set_xlabel("model size (bytes, log scale)")
    ax.set_ylabel("macro ROC-AUC")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
