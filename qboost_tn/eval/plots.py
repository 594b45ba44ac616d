"""Figures people would rather look at than read: weight maps and metric-versus-size curves (PNG).

Every plot draws on its own :class:`Figure` and returns it: nothing here touches pyplot's global state or picks
a backend, so a notebook keeps its inline backend, a script its own, and a figure is never left open. Jupyter
displays a returned figure (``_repr_png_``) whether or not pyplot was imported.
"""
from __future__ import annotations

import io
import math

import matplotlib.figure
import numpy as np

from .._io import atomic_path

#: Axis titles of the run table's columns.
LABELS = {"n_params": "parameters", "macro_auc": "macro ROC-AUC", "accuracy": "accuracy",
          "fit_time_s": "fit time (s)", "sparsity": "fraction of zero weights"}


class Figure(matplotlib.figure.Figure):
    """A matplotlib figure outside pyplot: saved with :func:`save_figure`, shown by Jupyter when returned."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def new_figure(figsize, **subplots):
    """``(figure, axes)`` as pyplot's ``subplots(**subplots)`` makes them, on a :class:`Figure` of no global state."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(**subplots)


def save_figure(fig, path, dpi=120) -> None:
    """Write ``fig`` as PNG atomically (nothing half-written if rendering fails)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")


def plot_weight_maps(maps, image_shape=None, class_names=None, path=None, title=None, ncols=5, label="weight"):
    """One panel per class, weights reshaped to the image, diverging colours centred at 0.

    Parameters
    ----------
    maps : array, shape (C, P) or (C, H, W)
    image_shape : (H, W), optional
        Needed when ``maps`` is (C, P); a square is assumed when P is a perfect square.
    class_names : list of str, optional
    path : str or Path, optional
        Also save it as PNG here.
    label : str, default="weight"
        The colour bar's title: what the maps hold.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 1:
        maps = maps[None]
    if maps.ndim == 2:
        if image_shape is None:
            side = math.isqrt(maps.shape[1])
            if side * side != maps.shape[1]:
                raise ValueError(f"plot_weight_maps: {maps.shape[1]} weights are not a square image; "
                                 "pass image_shape")
            image_shape = (side, side)
        if int(np.prod(image_shape)) != maps.shape[1]:
            raise ValueError(f"plot_weight_maps: image_shape {tuple(image_shape)} does not hold "
                             f"{maps.shape[1]} weights")
        maps = maps.reshape(len(maps), *image_shape)
    if maps.ndim != 3:
        raise ValueError(f"plot_weight_maps: maps must be (C, P) or (C, H, W), got shape {maps.shape}")
    names = list(class_names) if class_names is not None else [str(c) for c in range(len(maps))]
    if len(names) != len(maps):
        raise ValueError(f"plot_weight_maps: {len(names)} class names for {len(maps)} maps")
    ncols = min(ncols, len(maps))
    nrows = math.ceil(len(maps) / ncols)
    limit = float(np.abs(maps).max()) or 1.0
    fig, axes = new_figure((2.1 * ncols + 0.8, 2.2 * nrows + (0.4 if title else 0)), nrows=nrows, ncols=ncols,
                           squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, panel, name in zip(axes.flat, maps, names):
        image = ax.imshow(panel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(name, fontsize=10)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=label)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_feature_bars(maps, feature_names=None, class_names=None, top=10, path=None, title=None, ncols=3):
    """Tabular data's weight map: per class, a horizontal bar chart of its ``top`` strongest features by name.

    Parameters
    ----------
    maps : array, shape (C, P)
        Per-class weights (or mean input gradients) over the P input features.
    feature_names : list of str, optional
        Names of the P features (``"x0"``, ``"x1"``, ... when absent).
    class_names : list of str, optional
    top : int, default=10
        Features shown per class: the largest ``|weight|``, strongest at the top; red raises the class's score,
        blue lowers it (the colours of :func:`plot_weight_maps`).
    path : str or Path, optional
        Also save it as PNG here.
    """
    maps = np.atleast_2d(np.asarray(maps, dtype=np.float64))
    if maps.ndim != 2:
        raise ValueError(f"plot_feature_bars: maps must be (C, P), got shape {maps.shape}")
    n_maps, n_features = maps.shape
    names = [f"x{j}" for j in range(n_features)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != n_features:
        raise ValueError(f"plot_feature_bars: {len(names)} feature names for {n_features} weights")
    classes = [str(c) for c in range(n_maps)] if class_names is None else [str(c) for c in class_names]
    if len(classes) != n_maps:
        raise ValueError(f"plot_feature_bars: {len(classes)} class names for {n_maps} maps")
    top = max(1, min(int(top), n_features))
    ncols = min(ncols, n_maps)
    nrows = math.ceil(n_maps / ncols)
    fig, axes = new_figure((4.2 * ncols, 0.32 * top * nrows + 1.0 + (0.4 if title else 0)), nrows=nrows,
                           ncols=ncols, squeeze=False)
    for ax in axes.flat[n_maps:]:
        ax.axis("off")
    limit = float(np.abs(maps).max()) or 1.0
    for ax, weights, name in zip(axes.flat, maps, classes):
        order = np.argsort(-np.abs(weights), kind="stable")[:top][::-1]  # strongest drawn last, i.e. on top
        values = weights[order]
        ax.barh(np.arange(top), values, color=np.where(values >= 0, "#b2182b", "#2166ac"))
        ax.set_yticks(np.arange(top), [names[j] for j in order], fontsize=8)
        ax.set_xlim(-1.05 * limit, 1.05 * limit)
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_title(name, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    return finish_figure(fig, title, path)


def plot_metric_vs_params(df, x="n_params", y="macro_auc", hue="model", path=None, logx=True, title=None):
    """Metric against parameter count, one line (or point) per ``hue`` value, from a result DataFrame.

    Axes are titled by :data:`LABELS` (``"parameters"``, ``"macro ROC-AUC"``); the legend sits right of the
    axes, where it covers no point.
    """
    missing = [c for c in (x, y, hue) if c not in df.columns]
    if missing:
        raise ValueError(f"plot_metric_vs_params: column(s) {missing} not in the table ({list(df.columns)})")
    fig, ax = new_figure((7.6, 4.2))
    for label, group in df.groupby(hue, sort=False):
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker="o", label=str(label))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(LABELS.get(x, x.replace("_", " ")))
    ax.set_ylabel(LABELS.get(y, y.replace("_", " ")))
    return finish_line_plot(fig, ax, title, path, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def finish_figure(fig, title=None, path=None):
    """Title over every panel, tight layout, saved as PNG when ``path`` is given: how a multi-panel plot ends."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def finish_line_plot(fig, ax, title=None, path=None, **legend):
    """Grid, legend and title shared by the line plots; saved as PNG when ``path`` is given."""
    ax.grid(True, alpha=0.3)
    ax.legend(**{"fontsize": 8, **legend})
    if title:
        ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig
