"""A synthetic stand-in for a tabular count set (93 long-tailed count columns, 9 imbalanced classes), as a CSV.

The held-out set of issue 20 is of the Otto product-classification kind: per row 93 non-negative integer
counts, most of them zero, a few large; nine classes of very different sizes; and no single column that gives a
class away: the signal is a small shift in many columns' rates. This writes data of that shape, seeded, so the
``small-data`` config can be run on it with only ``data``, ``split`` and ``seeds`` replaced. It is a benchmark
helper: write the CSV where you run, never commit it.

How a row is drawn: its class ``k`` from the priors below; a row intensity ``g ~ Gamma(a, 1/a)`` (some products
simply have more of everything); then each column ``j`` is ``Poisson(g * rate[k, j] * h)`` with an
entry-level ``h ~ Gamma(b, 1/b)`` (counts overdispersed: negative binomial, long tail). ``rate[k, j]`` is a
column base rate (log-normal: most columns rarely non-zero) times ``exp(signal * z[k, j])``, ``z`` standard
normal, so each class differs from the others by a weak shift spread over every column; a few columns per
class get a stronger shift (``strong`` of them, times 3), as product categories have a few telling counts. Each
class is a mix of ``n_sub`` equally likely sub-types with their own shifts (``sub_signal``), so the classes are
not log-linear: a linear model on the logged counts is not the whole answer.

Usage::

    python benchmarks/count_data.py counts.csv [--rows 10000] [--seed 0]
    # then a copy of qboost_tn/configs/small-data.yaml with
    #   data: {name: csv, options: {path: counts.csv, target: target, drop: [id]}}

Prints the class counts and how skewed the columns are (the share that ``data.scale: auto`` will log).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

N_FEATURES = 93
# Class shares of the kind seen in product catalogues: two big classes, several small ones.
PRIORS = np.array([0.03, 0.26, 0.13, 0.04, 0.045, 0.23, 0.045, 0.135, 0.075])


def count_table(n_rows=10_000, *, n_features=N_FEATURES, priors=PRIORS, signal=0.45, strong=3, n_sub=3,
                sub_signal=0.6, row_shape=1.5, entry_shape=0.6, seed=0) -> pd.DataFrame:
    """``id``, ``feat_1`` ... ``feat_<n_features>`` (non-negative integers) and ``target`` (``Class_1`` ...)."""
    rng = np.random.default_rng(seed)
    priors = np.asarray(priors, dtype=float) / np.sum(priors)
    n_classes = len(priors)
    base = np.exp(rng.normal(np.log(0.4), 1.0, n_features))
    z = rng.standard_normal((n_classes, n_features))
    for k in range(n_classes):
        z[k, rng.choice(n_features, strong, replace=False)] *= 3.0
    rate = base * np.exp(signal * z[:, None] + sub_signal * rng.standard_normal((n_classes, n_sub, n_features)))
    y = rng.choice(n_classes, n_rows, p=priors)
    sub = rng.integers(0, n_sub, n_rows)
    row = rng.gamma(row_shape, 1.0 / row_shape, (n_rows, 1))
    entry = rng.gamma(entry_shape, 1.0 / entry_shape, (n_rows, n_features))
    X = rng.poisson(row * rate[y, sub] * entry)
    frame = pd.DataFrame(X, columns=[f"feat_{j + 1}" for j in range(n_features)])
    frame.insert(0, "id", np.arange(1, n_rows + 1))
    frame["target"] = [f"Class_{k + 1}" for k in y]
    return frame


def skewness(X) -> np.ndarray:
    centred = X - X.mean(axis=0)
    spread = np.sqrt(np.mean(centred**2, axis=0))
    return np.divide(np.mean(centred**3, axis=0), spread**3, out=np.zeros(X.shape[1]), where=spread > 0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame = count_table(args.rows, seed=args.seed)
    frame.to_csv(args.path, index=False)
    X = frame.filter(like="feat_").to_numpy(float)
    print(f"wrote {args.path}: {len(frame):,} rows x {X.shape[1]} count columns")
    print("class counts:", frame["target"].value_counts().sort_index().to_dict())
    print(f"zeros: {np.mean(X == 0):.0%}, largest count {int(X.max())}, "
          f"columns with skewness > 2: {np.mean(skewness(X) > 2):.0%}")


if __name__ == "__main__":
    main()
