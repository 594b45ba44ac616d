"""Neural networks: a dense MLP, the same MLP compressed into MPO layers at several bond dimensions (then
fine-tuned), an MPO network trained from scratch, and the compression baselines at one budget.

Every network row is trained the same way (:mod:`qboost_tn.nets`): AdamW with early stopping on the
validation part (patience, best weights restored; ``epochs`` is only an upper bound), and the learning rate,
weight decay and dropout chosen on validation from the same grid (``lr``, ``weight_decay``, ``dropout``: a
list is a grid, a value is fixed). The default grid, lr {1e-3, 3e-3} x weight decay {0, 0.1} x dropout
{0, 0.3}, with batch 32, patience 30 and early stopping on validation macro AUC, is what measured best on
MNIST 20x20 from 150 samples (``configs/mnist.yaml``). Each row's ``info`` records its epochs, best epoch and
chosen setting.

Compress-then-fine-tune (``mpo-compressed``) by default truncates gradually (chi 64, 32, ... down to
``max_bond``, 5 epochs of fine-tuning after each step at the dense network's setting) and distils from the
dense network's outputs (weight 0.5, temperature 2) while fine-tuning; the last fine-tune has the same
stopping rule as every row and searches the lr grid (weight decay and dropout are the dense network's). On
MNIST 20x20 (150 samples, seed 0) this took the chi=4 gap to the dense MLP from 0.023 (one truncation, plain
fine-tuning) to -0.001 macro AUC; distillation alone 0.014, gradual alone 0.009; cores-only fine-tuning and
a plateau lr schedule did not help (see the report of issue 13).

A list of ``max_bond`` values is a sweep (one row per value), or with ``choose_bond: true`` a choice: the value
with the best validation macro AUC, within each of the config's size budgets, as the tuned kinds choose.

Binary tasks use one logit output, several classes one per class. ``layers`` names the ``nn.Linear`` layers of
:func:`qboost_tn.nets.make_mlp` (``"0"``, ``"2"``, ``"4"``, ...); by default every layer but the output one.
"""
from __future__ import annotations

import functools

import numpy as np

from ..schema import AnyOf, Bool, Field, Float, Int, List, Nullable, OneOf, Record, Str
from .base import RENAMED, TORCH_N_JOBS, Outcome, Timer, register, searchable, with_torch_threads

_BONDS = OneOf(Int(min=1), List(Int(min=1), min_len=1))
MLP_FIELDS = {
    "hidden": Field(List(Int(min=1), min_len=1), [256, 256], "hidden layer widths (the hands-on: 256, 256)"),
    "lr": Field(searchable(Float(0.0, None, exclusive=True)), [1e-3, 3e-3],
                "AdamW learning rate; a list is searched on validation"),
    "weight_decay": Field(searchable(Float(0.0, None)), [0.0, 0.1],
                          "AdamW's decoupled weight decay; a list is searched on validation"),
    "dropout": Field(searchable(Float(0.0, 1.0, closed="left")), [0.0, 0.3],
                     "dropout after each hidden activation; a list is searched on validation"),
    "epochs": Field(Int(min=1), 500, "upper bound on epochs; early stopping ends training sooner"),
    "batch_size": Field(Int(min=1), 32),
    "patience": Field(Nullable(Int(min=1)), 30, "epochs without a better validation figure before stopping; "
                                                "null trains every epoch (the best is restored either way)"),
    "monitor": Field(Str(choices=("metric", "loss")), "metric",
                     "early stopping and the grid search on validation macro AUC (metric) or loss"),
    "n_jobs": TORCH_N_JOBS,
}
MPO_FIELDS = {
    "max_bond": Field(_BONDS, [2, 4, 8, 16], "bond dimension chi; a list gives one model per value"),
    "n_cores": Field(Int(min=2), 4),
    "pattern": Field(Str(choices=lambda: __import__("qboost_tn.mpo.shapes", fromlist=["PATTERNS"]).PATTERNS),
                     "balanced", "how layer sizes are factorised (see qboost_tn.mpo.factorize)"),
    "layers": Field(Nullable(List(Str(), min_len=1)), None, "layers to compress; default all but the output"),
    "choose_bond": Field(Bool(), False, "choose max_bond (and mpo-compressed's hidden widths, given several) on "
                                        "validation (macro AUC), within each budget: one row per budget that "
                                        "chooses differently instead of one row per value"),
}
FINETUNE_FIELDS = {
    "finetune_epochs": Field(Int(min=0), 500, "upper bound on fine-tuning epochs after compression (early "
                                              "stopping ends it sooner); 0: no fine-tuning"),
    "cores_only": Field(Bool(), False, "fine-tune only the MPO cores"),
    "distill": Field(Float(0.0, 1.0), 0.5, "weight of distillation from the dense network's outputs while "
                                           "fine-tuning (0: labels only)"),
    "gradual": Field(Bool(), True, "truncate gradually: chi 64, 32, ... down to max_bond with short "
                                    "fine-tunes between"),
}
_SEARCHED = ("lr", "weight_decay", "dropout")
GRADUAL_START = 64  # gradual truncation: chi 64, 32, ... halving down to max_bond
STEP_EPOCHS = 5     # epochs of each short fine-tune between truncation steps


def _grid(p, keys=_SEARCHED):
    return {k: p[k] if isinstance(p[k], list) else [p[k]] for k in keys}


def _fit_args(task, p):
    return {"epochs": p["epochs"], "batch_size": p["batch_size"], "patience": p["patience"],
            "monitor": p["monitor"], "progress": task.progress}


def _data(task):
    if not task.has_val:
        raise ValueError("networks stop early on the validation part: set split.n_val > 0 (or use train_size)")
    return task.X_train, task.y_train, task.X_val, task.y_val


def _builder(task, p):
    from ...nets import make_mlp

    n_outputs = 1 if task.n_classes == 2 else task.n_classes
    return functools.partial(make_mlp, task.n_features, p["hidden"], n_outputs)


def _train_dense(task, p, desc="mlp"):
    """The dense MLP chosen on validation from the grid: ``(model, info)``."""
    from ...nets import tune

    model, _, info = tune(_builder(task, p), _data(task), _grid(p), seed=task.seed, desc=desc,
                          **_fit_args(task, p))
    return model, info


def _fine_tune(model, task, p, **extra):
    """Fine-tune a compressed copy for every lr of the grid; keep the best on validation."""
    import copy

    from ...nets import tune

    tuned, _, info = tune(lambda seed: copy.deepcopy(model), _data(task), _grid(p, ("lr",)),
                          seed=task.seed, desc="fine-tune", **{**_fit_args(task, p), "epochs": p["finetune_epochs"],
                                                               **extra})
    return tuned, info


def _layers(model, p):
    if p["layers"] is not None:
        return p["layers"]
    from torch import nn

    return [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][:-1]


def _n_params(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _outcome(model, task, seconds, variant=None, info=None, figures=None, n_params=None, save=True):
    """The network's scores are its log-probabilities (:func:`qboost_tn.nets.log_probabilities`), so the
    per-class AUC ranks samples by how likely the class is. Arg-max and accuracy are those of the logits."""
    from ...eval import model_bytes
    from ...nets import log_probabilities, probabilities, scores

    logits = scores(model, task.X_eval)
    proba = probabilities(logits)
    return Outcome(scores=log_probabilities(logits), proba=np.asarray(proba, dtype=np.float64),
                   fit_time=seconds,
                   n_params=_n_params(model) if n_params is None else int(n_params), variant=variant,
                   info=info or {}, figures=figures or {}, model=model if save else None,
                   model_bytes=model_bytes(model))


def _prefixed(prefix, info):
    return {f"{prefix}{k}": v for k, v in info.items()}


def _entanglement_figure(tables, title):
    """Entropy per bond for each chi of a sweep, for the sweep's first MPO layer."""
    import pandas as pd

    from ...mpo import plot_entropy_profile

    table = pd.concat(tables, ignore_index=True)
    first = table["layer"].iloc[0]
    return plot_entropy_profile(table[table["layer"] == first], hue="max_bond",
                                title=f"{title}: layer {first}, entanglement entropy per bond")


def _entropy_info(table) -> dict:
    """Mean bond entropy (nats) over every MPO bond, and per layer as a fraction of its ln chi bounds
    (``entropy_over_bound[layer]``; bonds of dimension 1, whose bound is 0, are left out)."""
    usable = table[table["max_entropy"] > 0]
    ratio = usable["entropy"] / usable["max_entropy"]
    per_layer = ratio.groupby(usable["layer"], sort=False).mean()
    return {"mean_entropy": float(table["entropy"].mean()),
            **{f"entropy_over_bound[{layer}]": float(value) for layer, value in per_layer.items()}}


def _bonds(p):
    return p["max_bond"] if isinstance(p["max_bond"], list) else [p["max_bond"]]


_HIDDEN_GRID = AnyOf(List(Int(min=1), min_len=1), List(List(Int(min=1), min_len=1), min_len=1))


@register("mlp", Record({**MLP_FIELDS, "hidden": Field(
    _HIDDEN_GRID, [256, 256], "hidden layer widths (the hands-on: 256, 256); a list of such lists is searched on "
    "validation, within each budget")}, renamed=RENAMED), family="network")
@with_torch_threads
def mlp(task, params):
    """Dense ReLU MLP, early stopping and lr / weight decay / dropout (and the widths, given several) chosen on
    validation."""
    from ...search import fit_and_choose
    from .base import budget_outcomes

    hidden = params["hidden"]
    if not isinstance(hidden[0], list):
        with Timer() as timer:
            model, info = _train_dense(task, params)
        yield _outcome(model, task, timer.seconds, info=info)
        return

    def fit(widths):
        model, info = _train_dense(task, {**params, "hidden": widths}, desc=f"mlp {widths}")
        return model, {**info, "hidden": "x".join(map(str, widths))}

    with Timer() as timer:
        choice, _, _ = fit_and_choose(hidden, fit, lambda model: {"macro_auc": _val_auc(model, task)},
                                      budgets=task.budgets)
    for model, info, variant in budget_outcomes(choice):
        yield _outcome(model, task, timer.seconds, variant, info)


def _val_auc(model, task) -> float:
    """Validation macro AUC of a network, ranked as :func:`_outcome` scores."""
    from ...nets import macro_auc, scores

    return macro_auc(task.y_val, scores(model, task.X_val))


def _per_bond(task, params, candidates, title):
    """Outcomes of ``candidates`` (``(chi, model, info, seconds, table)`` per max_bond, in order, ``seconds``
    the chi's fit time): one per chi, the last with the entanglement figure of all; or, with ``choose_bond``,
    the candidate chosen on validation within each budget (``fit_time`` then the whole search's)."""
    from ...search import fit_and_choose
    from .base import budget_outcomes

    tables = []
    if not params["choose_bond"]:
        bonds = _bonds(params)
        for i, (chi, model, info, seconds, table) in enumerate(candidates):
            tables.append(table.drop(columns="max_bond").assign(max_bond=chi))
            figures = {"entanglement": _entanglement_figure(tables, title)} if i == len(bonds) - 1 else {}
            yield _outcome(model, task, seconds, f"max_bond={chi}", info, figures)
        return

    def fitted(candidate):
        chi, model, info, _, table = candidate
        label = f"{chi}, hidden {info['hidden']}" if "hidden" in info else chi  # several widths: one line each
        tables.append(table.drop(columns="max_bond").assign(max_bond=label))
        return model, info

    with Timer() as search:
        choice, _, _ = fit_and_choose(candidates, fitted, lambda model: {"macro_auc": _val_auc(model, task)},
                                      budgets=task.budgets)
    for i, (model, info, variant) in enumerate(budget_outcomes(choice)):
        figures = {"entanglement": _entanglement_figure(tables, title)} if i == 0 else {}
        yield _outcome(model, task, search.seconds, variant, info, figures)


@register("mpo-compressed", Record({**MLP_FIELDS, **MPO_FIELDS, **FINETUNE_FIELDS, "hidden": Field(
    _HIDDEN_GRID, [256, 256], "hidden layer widths of the dense network compressed; a list of such lists is "
    "searched on validation with choose_bond, within each budget")}, renamed=RENAMED), family="mpo-network")
@with_torch_threads
def mpo_compressed(task, params):
    """Dense MLP trained, then its layers compressed by TT-SVD at each max_bond and fine-tuned: one model per chi
    (or, with ``choose_bond``, the chi and hidden widths chosen on validation within each budget).

    ``fit_time`` of each is the dense training plus its own compression and fine-tuning (with ``choose_bond``,
    the whole search's). ``info`` holds the fine-tune's ``epochs``/``best_epoch`` and the dense network's as
    ``dense_epochs``/``dense_best_epoch``, and the bond entropies before and after fine-tuning.
    """
    from ...mpo import compress_gradually, core_parameters, entanglement_table, truncation_steps

    several = isinstance(params["hidden"][0], list)
    if several and not params["choose_bond"]:
        raise ValueError("several hidden width lists are chosen on validation: set choose_bond: true")
    options = {"n_cores": params["n_cores"], "pattern": params["pattern"]}

    def candidates():
        for widths in params["hidden"] if several else [params["hidden"]]:
            with Timer() as train:
                dense, dense_info = _train_dense(task, {**params, "hidden": widths}, desc=f"mlp {widths}")
            layers = _layers(dense, params)
            teacher = {"teacher": dense, "distill": params["distill"]} if params["distill"] else {}
            # the short fine-tunes between truncation steps use the dense network's chosen setting
            step_args = {**_fit_args(task, params), "patience": None, "lr": dense_info["lr"],
                         "weight_decay": dense_info["weight_decay"], "seed": task.seed, **teacher}
            for chi in _bonds(params):
                with Timer() as timer:
                    steps = truncation_steps(GRADUAL_START, chi)[:-1] if params["gradual"] else []
                    model, report = compress_gradually(dense, _data(task), layers, max_bond=chi, steps=steps,
                                                       step_epochs=STEP_EPOCHS if params["finetune_epochs"] else 0,
                                                       cores_only=params["cores_only"], compress_options=options,
                                                       **step_args)
                    before = entanglement_table(model)
                    ft_info = {}
                    if params["finetune_epochs"]:
                        cores = {"params": core_parameters} if params["cores_only"] else {}
                        model, ft_info = _fine_tune(model, task, params, weight_decay=dense_info["weight_decay"],
                                                    **teacher, **cores)
                after = entanglement_table(model)
                info = {"max_bond": chi, **({"hidden": "x".join(map(str, widths))} if several else {}),
                        "compressed_fraction": float(report["params_after"].sum() / report["params_before"].sum()),
                        "rel_error": _rel_error(dense, model, layers), **ft_info, **_prefixed("dense_", dense_info),
                        **_prefixed("before_ft_", _entropy_info(before)), **_entropy_info(after)}
                yield chi, model, info, train.seconds + timer.seconds, after

    yield from _per_bond(task, params, candidates(), "MPO-compressed MLP")


def _rel_error(dense, model, layers) -> float:
    """Largest relative Frobenius error of the compressed layers' weights against the dense ones."""
    from ...mpo.compress import relative_error

    return max(relative_error(model.get_submodule(name).weight, dense.get_submodule(name).weight) for name in layers)


@register("mpo-scratch", Record(MLP_FIELDS | MPO_FIELDS, renamed=RENAMED), family="mpo-network")
@with_torch_threads
def mpo_scratch(task, params):
    """MLP whose layers are MPOs from the start (variance-preserving init), trained directly: one model per chi
    (or the chi chosen on validation within each budget, with ``choose_bond``)."""
    from ...mpo import entanglement_table, mpo_network
    from ...nets import tune

    build = _builder(task, params)
    layers = _layers(build(dropout=0.0, seed=task.seed), params)

    def candidates():
        for chi in _bonds(params):
            def make(dropout, seed, chi=chi):
                return mpo_network(build(dropout=dropout, seed=seed), layers=layers, max_bond=chi,
                                   n_cores=params["n_cores"], pattern=params["pattern"], seed=seed)

            with Timer() as timer:
                model, _, info = tune(make, _data(task), _grid(params), seed=task.seed, desc=f"mpo chi={chi}",
                                      **_fit_args(task, params))
            table = entanglement_table(model)
            yield chi, model, {"max_bond": chi, **info, **_entropy_info(table)}, timer.seconds, table

    yield from _per_bond(task, params, candidates(), "MPO MLP from scratch")


@register("compression-baselines", Record({
    **MLP_FIELDS,
    "layers": MPO_FIELDS["layers"],
    "max_bond": Field(Int(min=1), 4, "MPO bond dimension chi; its parameter count is every method's budget"),
    "n_cores": MPO_FIELDS["n_cores"],
    "pattern": MPO_FIELDS["pattern"],
    # Asked of the registry at load time, so a method added with register_compression is accepted.
    "methods": Field(List(Str(choices=lambda: tuple(__import__("qboost_tn.mpo.compress", fromlist=["COMPRESSIONS"])
                                                    .COMPRESSIONS)), min_len=1),
                     ["mpo", "prune", "low-rank", "int8"], "compression methods, one row each"),
    "finetune_epochs": FINETUNE_FIELDS["finetune_epochs"],
}, renamed=RENAMED), family="network")
@with_torch_threads
def compression_baselines(task, params):
    """One trained dense MLP compressed by each method at the MPO's parameter budget, fine-tuned where trainable.

    The MPO at ``max_bond`` fixes each layer's budget (its weight count); pruning keeps that many weights,
    low-rank the largest rank within it; int8 keeps every weight at a quarter of the bytes (the budget does
    not apply). ``n_params`` counts the network's numbers with each compressed layer at its report's
    ``params_after``. ``latency_ms`` is the median of 21 timed forwards over the evaluation part on one
    thread, after 3 warm-up calls.
    """
    from ...mpo import compress, make_permanent
    from ...nets import latency_ms

    with Timer() as train:
        dense, dense_info = _train_dense(task, params)
    layers = _layers(dense, params)
    _, mpo_report = compress(dense, layers, max_bond=params["max_bond"], n_cores=params["n_cores"],
                             pattern=params["pattern"])
    budgets = dict(zip(mpo_report.layer, mpo_report.params_after))
    total = _n_params(dense)
    for method in params["methods"]:
        with Timer() as timer:
            model, rows = None, []
            for name in layers:  # one call per layer: each has its own budget
                options = ({"max_bond": params["max_bond"], "n_cores": params["n_cores"], "pattern": params["pattern"]}
                           if method == "mpo" else {"budget": int(budgets[name])})
                model, report = compress(model if model is not None else dense, [name], method=method, **options)
                rows.append(report)
            ft_info = {}
            if report["trainable"].iloc[0] and params["finetune_epochs"]:
                model, ft_info = _fine_tune(model, task, params, weight_decay=dense_info["weight_decay"])
                make_permanent(model)
        before = sum(int(r["params_before"].sum()) for r in rows)
        after = sum(float(r["params_after"].sum()) for r in rows)
        info = {"method": method, "max_bond": params["max_bond"], "compressed_fraction": after / before,
                "rel_error": max(float(r["rel_error"].max()) for r in rows), **ft_info,
                **_prefixed("dense_", dense_info), "latency_ms": latency_ms(model, task.X_eval)}
        # int8 modules hold packed parameters that only pickle restores: not saved
        yield _outcome(model, task, train.seconds + timer.seconds, method, info,
                       n_params=round(total - before + after), save=method != "int8")
