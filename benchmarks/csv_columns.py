"""CSV loading versus the number of columns: the header and column checks must stay linear (issue 19 item 10).

Inputs: a synthetic CSV of 50 rows and W numeric columns plus a ``label`` column (3 classes), W in
{5,000, 10,000, 20,000, 40,000}, written once per W into a temporary folder. Each case runs
``load_dataset("csv", path=..., target="label")`` and, to exercise the column-list options, the same with
``drop`` naming every other column and ``categorical`` naming 100 columns. Times are CPU seconds of the load
(robust to other load on the machine), median of ``--repeats`` runs; the last column is time per 1,000 columns,
which stays flat when the work is linear in W.

Run: ``python benchmarks/csv_columns.py [--repeats 3]``.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from qboost_tn.data import load_dataset


def write_csv(path: Path, width: int) -> None:
    X = np.random.default_rng(0).random((50, width))
    with open(path, "w") as fh:
        fh.write(",".join(f"c{j}" for j in range(width)) + ",label\n")
        for i in range(50):
            fh.write(",".join(f"{v:.3f}" for v in X[i]) + f",{i % 3}\n")


def cpu_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'columns':>8} {'plain s':>8} {'options s':>9} {'plain s / 1k cols':>18}")
    with tempfile.TemporaryDirectory() as folder:
        for width in (5_000, 10_000, 20_000, 40_000):
            path = Path(folder) / f"w{width}.csv"
            write_csv(path, width)
            plain = cpu_seconds(lambda: load_dataset("csv", path=str(path), target="label"), args.repeats)
            options = cpu_seconds(lambda: load_dataset(
                "csv", path=str(path), target="label", drop=[f"c{j}" for j in range(0, width, 2)],
                categorical=[f"c{j}" for j in range(1, 200, 2)]), args.repeats)
            print(f"{width:>8,} {plain:>8.2f} {options:>9.2f} {1000 * plain / width:>18.3f}")


if __name__ == "__main__":
    main()
