"""The University of Tokyo hands-on as one function: dense MLP on Bank Marketing, its 256 x 256 layer as an MPO
at a sweep of bond dimensions with fine-tuning, an MPO network from scratch, other compressions at the same
budget, and the first / all hidden layers compressed. The CLI and ``benchmarks/mpo_bank.py`` both call it."""
from __future__ import annotations

import statistics
import time

import pandas as pd
import torch
from torch import nn

from ..data import load_dataset, prepare, split
from .baselines import low_rank_layer, make_permanent, prune_layer, quantize_layer, rank_for_budget
from .compress import compress, resolve_layers
from .entanglement import entanglement_table, entropy_recorder
from .layer import MPOLinear
from .train import evaluate_model, fine_tune, fit, make_mlp, mpo_network

DEFAULT_BONDS = (1, 2, 4, 8, 16, 32, 64, None)


@torch.no_grad()
def latency_ms(model, X, repeats=7) -> float:
    """Median wall time (ms) of one forward pass over ``X`` (one batch), after a warm-up call."""
    model.eval()
    X = torch.as_tensor(X)
    model(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(X)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def model_flops(model, batch=128) -> float:
    """FLOPs per sample of the linear layers as they are executed for ``batch`` samples (a multiply-add counts
    2; dense layers count in full even when pruned, since they still run dense)."""
    total = 0.0
    for module in model.modules():
        if isinstance(module, MPOLinear):
            total += module.flops(batch)
        elif isinstance(module, (nn.Linear, torch.ao.nn.quantized.dynamic.Linear)):
            total += 2 * module.in_features * module.out_features
    return total


def _auc(model, prepared) -> float:
    return evaluate_model(model, prepared.X_test, prepared.y_test).summary["macro_auc"]


def run_bank_marketing(path=None, bonds=DEFAULT_BONDS, layer="2", epochs=200, patience=20, finetune_epochs=20,
                       finetune_patience=5, cores_only=False, budget_bond=4, scratch_bond=4, n_cores=4,
                       pattern="balanced", seed=0, lr=1e-4, batch_size=128, progress=True, dataset=None) -> dict:
    """Reproduce the hands-on and its exercises; returns a dict of DataFrames.

    Parameters
    ----------
    path : str or Path, optional
        Folder or file of ``bank-additional-full.csv`` (default: download into the cache).
    bonds : sequence of int or None
        Bond dimensions of the sweep (None = untruncated).
    layer : str
        Layer compressed in the sweep (``"2"``: the 256 x 256 layer of ``Sequential`` 62-256-256-1).
    epochs, patience : dense and from-scratch training (early stopping on validation loss, best restored).
    finetune_epochs, finetune_patience : fine-tuning after compression; ``cores_only`` trains just the cores.
    budget_bond : int
        Bond whose MPO parameter count sets the budget of the pruning / low-rank rows and of the
        first-layer / all-hidden rows.
    scratch_bond : int
        Bond of the MPO layer of the network trained from scratch.
    n_cores, pattern : int, str
        How every compressed layer is split into modes (see :func:`qboost_tn.mpo.factorize`): the hands-on's
        "try other decomposition shapes" exercise.
    dataset : Dataset, optional
        Use this instead of loading Bank Marketing (any binary data set works).

    Returns
    -------
    dict of DataFrame
        ``dense`` (one row), ``sweep`` (one row per bond), ``scratch``, ``baselines``, ``layers``,
        ``entanglement`` (per bond and chi, after fine-tuning, nats), ``histories`` (epoch rows of every
        training run, ``run`` column; ``S[...]`` columns hold bond entropies during training).
    """
    torch.manual_seed(seed)
    dataset = dataset if dataset is not None else load_dataset("bank-marketing", path=path)
    if dataset.n_classes != 2:
        raise ValueError(f"run_bank_marketing: needs a binary data set, {dataset.name} has {dataset.n_classes} classes")
    data = prepare(dataset, split(dataset, train_size=0.8, seed=seed), scale="minmax")
    train_args = {"epochs": epochs, "patience": patience, "lr": lr, "batch_size": batch_size, "seed": seed,
                  "progress": progress}
    tune_args = {**train_args, "epochs": finetune_epochs, "patience": finetune_patience}
    histories = []

    def log(history, run):
        histories.append(history.assign(run=run))

    started = time.perf_counter()
    dense = make_mlp(dataset.n_features, seed=seed)
    resolve_layers(dense, [layer])  # a wrong name should fail before minutes of training, not after
    log(fit(dense, data, desc="dense", **train_args), "dense")
    dense_auc = _auc(dense, data)
    dense_row = {"model": "dense", "params": sum(p.numel() for p in dense.parameters()), "test_auc": dense_auc,
                 "flops": model_flops(dense), "latency_ms": latency_ms(dense, data.X_test),
                 "epochs_run": len(histories[-1]), "seconds": time.perf_counter() - started}
    linear = dense.get_submodule(layer)
    dense_weights = linear.in_features * linear.out_features

    sweep, entangle = [], []
    for bond in bonds:
        started = time.perf_counter()
        model, report = compress(dense, layers=[layer], max_bond=bond, n_cores=n_cores, pattern=pattern)
        row = report.iloc[0]
        before = _auc(model, data)
        history = fine_tune(model, data, cores_only=cores_only, desc=f"fine-tune chi={bond}",
                            callbacks=[entropy_recorder(model)], **tune_args)
        log(history, f"fine-tune chi={bond or 'full'}")
        sweep.append({"chi": bond if bond is not None else "full", "bonds": row.bonds,
                      "params": row.params_after, "param_fraction": row.param_fraction,
                      "compression_ratio": row.compression_ratio, "rel_error": row.rel_error,
                      "test_auc_before_ft": before, "test_auc_after_ft": _auc(model, data),
                      "layer_flops_factorized": row.flops_factorized, "layer_flops_run": row.flops_after,
                      "model_flops": model_flops(model),
                      "latency_ms": latency_ms(model, data.X_test), "seconds": time.perf_counter() - started})
        entangle.append(entanglement_table(model).assign(chi=str(bond or "full")))

    budget_model, budget_report = compress(dense, layers=[layer], max_bond=budget_bond, n_cores=n_cores,
                                           pattern=pattern)
    budget = int(budget_report.params_after.iloc[0])

    started = time.perf_counter()
    scratch = mpo_network(make_mlp(dataset.n_features, seed=seed), layers=[layer], bond=scratch_bond,
                          n_cores=n_cores, pattern=pattern, seed=seed)
    log(fit(scratch, data, desc="from scratch", callbacks=[entropy_recorder(scratch)], **train_args), "scratch")
    scratch_layer = scratch.get_submodule(layer)
    scratch_row = {"model": f"MPO from scratch, layer {layer} chi={scratch_bond}",
                   "params": sum(p.numel() for p in scratch.parameters()),
                   "layer_params": scratch_layer.n_weight_params, "test_auc": _auc(scratch, data),
                   "dense_auc": dense_auc, "epochs_run": len(histories[-1]),
                   "seconds": time.perf_counter() - started}

    def baseline_row(method, model, params, tune):
        before = _auc(model, data)
        after = float("nan")
        if tune:
            log(fine_tune(model, data, desc=f"fine-tune {method}", **tune_args), f"fine-tune {method}")
            after = _auc(make_permanent(model), data)
        return {"method": method, "layer": layer, "params": params, "param_fraction": params / dense_weights,
                "test_auc_before_ft": before, "test_auc_after_ft": after, "model_flops": model_flops(model),
                "latency_ms": latency_ms(model, data.X_test)}

    rank = rank_for_budget(linear.in_features, linear.out_features, budget)
    baselines = [
        baseline_row(f"MPO chi={budget_bond}", budget_model, budget, True),
        baseline_row("magnitude pruning", prune_layer(dense, layer, budget), budget, True),
        baseline_row(f"low-rank SVD r={rank}", low_rank_layer(dense, layer, rank),
                     rank * (linear.in_features + linear.out_features), True),
        # int8 cannot reach the budget: it keeps every weight at a quarter of the bytes (fraction in float32
        # equivalents); it is not trainable, so it has no fine-tuned figure.
        baseline_row("int8 dynamic quantisation", quantize_layer(dense, layer), dense_weights / 4, False),
    ]

    linear_names = [n for n, m in dense.named_modules() if isinstance(m, nn.Linear)]
    layer_sets = {"first layer": linear_names[:1], "all hidden layers": linear_names[:-1]}
    layers_rows = []
    for label, names in layer_sets.items():
        model, report = compress(dense, layers=names, max_bond=budget_bond, n_cores=n_cores, pattern=pattern)
        before = _auc(model, data)
        log(fine_tune(model, data, cores_only=cores_only, desc=f"fine-tune {label}", **tune_args),
            f"fine-tune {label}")
        layers_rows.append({"compressed": f"{label} ({', '.join(names)})", "chi": budget_bond,
                            "params_before": int(report.params_before.sum()),
                            "params_after": int(report.params_after.sum()),
                            "param_fraction": report.params_after.sum() / report.params_before.sum(),
                            "rel_error": "/".join(f"{e:.3f}" for e in report.rel_error),
                            "test_auc_before_ft": before, "test_auc_after_ft": _auc(model, data),
                            "model_flops": model_flops(model), "latency_ms": latency_ms(model, data.X_test)})

    return {"dense": pd.DataFrame([dense_row]), "sweep": pd.DataFrame(sweep),
            "scratch": pd.DataFrame([scratch_row]), "baselines": pd.DataFrame(baselines),
            "layers": pd.DataFrame(layers_rows), "entanglement": pd.concat(entangle, ignore_index=True),
            "histories": pd.concat(histories, ignore_index=True)}
