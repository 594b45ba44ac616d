"""The University of Tokyo MPO hands-on on Bank Marketing (the `bank-marketing-handson` preset that
`qboost-tn compress` runs), with its bars checked.

Usage: python benchmarks/mpo_bank.py [--path ../shared/data/bank-marketing] [--out DIR] [--set KEY=VALUE ...]

Prints the run's table (dense, the chi sweep of the 256 x 256 layer fine-tuned, from scratch, pruning / low-rank
/ int8 at the chi=4 MPO's budget, first / all hidden layers), then the bars: after fine-tuning, the MPO layer at
<= 2 % of its parameters within 0.003 of the dense AUC; the MPO network from scratch within 0.005.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from qboost_tn.experiments import run_experiment

ROOT = Path(__file__).resolve().parents[1]


def check_bars(table) -> list[str]:
    dense = table.loc[table.entry == "dense", "macro_auc"].iloc[0]
    lines = []
    sweep = table[(table.entry == "mpo-layer2") & (table.compressed_fraction <= 0.02)]
    if len(sweep):
        best = sweep.loc[sweep.macro_auc.idxmax()]
        gap = dense - best.macro_auc
        lines.append(f"<= 2 % of the layer ({best.model}, {100 * best.compressed_fraction:.2f} %) after fine-tuning "
                     f"within 0.003 of dense: {best.macro_auc:.4f} vs {dense:.4f} (gap {gap:+.4f}) -> "
                     f"{'PASS' if gap <= 0.003 else 'FAIL'}")
    scratch = table.loc[table.entry == "mpo-scratch", "macro_auc"].max()
    lines.append(f"MPO from scratch within 0.005 of dense: {scratch:.4f} vs {dense:.4f} (gap {dense - scratch:+.4f})"
                 f" -> {'PASS' if dense - scratch <= 0.005 else 'FAIL'}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "bank-marketing"))
    parser.add_argument("--out", help="run folder (default: a temporary one)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run = run_experiment("bank-marketing-handson", out=args.out or Path(tmp) / "run",
                             overrides=[f"data.options.path={args.path}", *args.set], progress=False)
        table = run.table
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    columns = [c for c in ("model", "entry", "macro_auc", "n_params", "compressed_fraction", "rel_error", "epochs",
                           "best_epoch", "lr", "latency_ms", "mean_entropy", "fit_time_s") if c in table]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print("\n== bars ==")
    print("\n".join(check_bars(table)))
    print(f"\ntotal runtime: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
