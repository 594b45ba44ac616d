"""Neural networks from ``qboost_tn.mpo``: a dense MLP, the same MLP compressed into MPO layers at several bond
dimensions (then fine-tuned), and an MPO network trained from scratch.

All three train with Adam and early stopping on the validation part (which must therefore be non-empty).
Binary tasks use one logit output, several classes one per class. ``layers`` names the ``nn.Linear`` layers
of :func:`qboost_tn.mpo.make_mlp` (``"0"``, ``"2"``, ``"4"``, ...); by default every layer but the output one.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np

from ..schema import Bool, Field, Float, Int, List, Nullable, OneOf, Record, Str
from .base import Outcome, Timer, register

_BONDS = OneOf(Int(min=1), List(Int(min=1), min_len=1))
MLP_FIELDS = {
    "hidden": Field(List(Int(min=1), min_len=1), [256, 256], "hidden layer widths (the hands-on: 256, 256)"),
    "epochs": Field(Int(min=1), 200),
    "batch_size": Field(Int(min=1), 128),
    "lr": Field(Float(0.0, None, exclusive=True), 1e-4, "Adam learning rate (the hands-on: 1e-4)"),
    "patience": Field(Nullable(Int(min=1)), 20, "early-stopping patience in epochs; null trains every epoch"),
    "threads": Field(Int(min=1), 1, "torch intra-op threads while training; small networks are fastest on one, "
                                    "and on a shared machine more threads oversubscribe the cores (5x slower)"),
}
MPO_FIELDS = {
    "max_bond": Field(_BONDS, [2, 4, 8, 16], "bond dimension chi; a list gives one model per value"),
    "n_cores": Field(Int(min=2), 4),
    "pattern": Field(Str(), "balanced", "how layer sizes are factorised (see qboost_tn.mpo.factorize)"),
    "layers": Field(Nullable(List(Str(), min_len=1)), None, "layers to make MPO; default all but the output"),
}


@contextlib.contextmanager
def _threads(n):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_args(task, p):
    return {"epochs": p["epochs"], "batch_size": p["batch_size"], "lr": p["lr"], "patience": p["patience"],
            "seed": task.seed, "progress": task.progress}


def _data(task):
    if not task.has_val:
        raise ValueError("networks stop early on the validation part: set split.n_val > 0 (or use train_size)")
    return task.X_train, task.y_train, task.X_val, task.y_val


def _mlp(task, p):
    from ...mpo import make_mlp

    return make_mlp(task.n_features, hidden=p["hidden"], n_outputs=1 if task.n_classes == 2 else task.n_classes,
                    seed=task.seed)


def _layers(model, p):
    if p["layers"] is not None:
        return p["layers"]
    from torch import nn

    return [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][:-1]


def _outcome(model, task, seconds, variant=None, info=None, figures=None):
    import torch

    from ...mpo import scores

    logits = scores(model, task.X_eval)
    t = torch.as_tensor(logits)
    proba = (torch.sigmoid(t) if logits.ndim == 1 else torch.softmax(t, 1)).numpy()
    return Outcome(scores=np.asarray(logits, dtype=np.float64), proba=np.asarray(proba, dtype=np.float64),
                   fit_time=seconds, n_params=int(sum(p.numel() for p in model.parameters())),
                   variant=variant, info=info or {}, figures=figures or {})


def _entanglement_figure(tables, title):
    """Entropy per bond for each chi of a sweep, for the sweep's first MPO layer."""
    import pandas as pd

    from ...mpo import plot_entropy_profile

    table = pd.concat(tables, ignore_index=True)
    first = table["layer"].iloc[0]
    return plot_entropy_profile(table[table["layer"] == first], hue="chi_max",
                                title=f"{title}: layer {first}, entanglement entropy per bond")


def _with_threads(fit):
    """Run an adapter generator with ``params["threads"]`` torch threads, restoring the caller's setting."""
    @functools.wraps(fit)
    def wrapped(task, params):
        with _threads(params["threads"]):
            yield from fit(task, params)
    return wrapped


@register("mlp", Record(MLP_FIELDS), family="network")
@_with_threads
def mlp(task, params):
    """Dense ReLU MLP trained with Adam and early stopping (the hands-on's baseline)."""
    from ...mpo import fit

    model = _mlp(task, params)
    with Timer() as timer:
        history = fit(model, _data(task), desc="mlp", **_train_args(task, params))
    yield _outcome(model, task, timer.seconds, info={"best_epoch": history.attrs["best_epoch"]})


@register("mpo-compressed", Record({
    **MLP_FIELDS, **MPO_FIELDS,
    "finetune_epochs": Field(Int(min=0), 20, "fine-tuning epochs after compression (0: none)"),
    "cores_only": Field(Bool(), False, "fine-tune only the MPO cores"),
}), family="network")
@_with_threads
def mpo_compressed(task, params):
    """Dense MLP trained, then its layers compressed by TT-SVD at each max_bond and fine-tuned: one model per chi.

    ``fit_time`` of each is the dense training plus its own compression and fine-tuning.
    """
    from ...mpo import compress, entanglement_table, fine_tune, fit

    dense = _mlp(task, params)
    data = _data(task)
    with Timer() as train:
        fit(dense, data, desc="mlp", **_train_args(task, params))
    layers = _layers(dense, params)
    bonds = params["max_bond"] if isinstance(params["max_bond"], list) else [params["max_bond"]]
    tables = []
    for i, chi in enumerate(bonds):
        with Timer() as timer:
            model, report = compress(dense, layers=layers, max_bond=chi, n_cores=params["n_cores"],
                                     pattern=params["pattern"])
            if params["finetune_epochs"]:
                fine_tune(model, data, cores_only=params["cores_only"],
                          **{**_train_args(task, params), "epochs": params["finetune_epochs"]})
        tables.append(entanglement_table(model).assign(chi_max=chi))
        info = {"max_bond": chi, "compressed_fraction": float(report["params_after"].sum()
                                                              / report["params_before"].sum()),
                "rel_error": float(report["rel_error"].max())}
        last = i == len(bonds) - 1
        figures = {"entanglement": _entanglement_figure(tables, "MPO-compressed MLP")} if last else {}
        yield _outcome(model, task, train.seconds + timer.seconds, f"chi={chi}", info, figures)


@register("mpo-scratch", Record(MLP_FIELDS | MPO_FIELDS), family="network")
@_with_threads
def mpo_scratch(task, params):
    """MLP whose layers are MPOs from the start (variance-preserving init), trained directly: one model per chi."""
    from ...mpo import entanglement_table, fit, mpo_network

    bonds = params["max_bond"] if isinstance(params["max_bond"], list) else [params["max_bond"]]
    dense = _mlp(task, params)
    layers = _layers(dense, params)
    data = _data(task)
    tables = []
    for i, chi in enumerate(bonds):
        model = mpo_network(dense, layers=layers, bond=chi, n_cores=params["n_cores"], pattern=params["pattern"],
                            seed=task.seed)
        with Timer() as timer:
            history = fit(model, data, desc=f"mpo chi={chi}", **_train_args(task, params))
        tables.append(entanglement_table(model).assign(chi_max=chi))
        last = i == len(bonds) - 1
        figures = {"entanglement": _entanglement_figure(tables, "MPO MLP from scratch")} if last else {}
        yield _outcome(model, task, timer.seconds, f"chi={chi}", {"max_bond": chi,
                                                                 "best_epoch": history.attrs["best_epoch"]}, figures)
