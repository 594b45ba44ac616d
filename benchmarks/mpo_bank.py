"""The University of Tokyo MPO hands-on on Bank Marketing, end to end, with the issue's bars checked.

Usage: python benchmarks/mpo_bank.py [--quick] [--path ../shared/data/bank-marketing]

Prints the dense row, the bond sweep of the 256 x 256 layer (parameters, ratio, relative error, test AUC before
and after fine-tuning, FLOPs, latency), the from-scratch row, pruning / int8 / low-rank at the same budget, the
first-layer and all-hidden-layer rows, bond entropies, the bars and the runtime. --quick trains a few epochs only
(for checking the script, not for figures).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from qboost_tn.mpo import run_bank_marketing

ROOT = Path(__file__).resolve().parents[1]


def check_bars(results) -> list[str]:
    dense = results["dense"].test_auc.iloc[0]
    sweep = results["sweep"]
    full = sweep[sweep.chi == "full"]
    lines = []
    if len(full):
        gap = abs(full.test_auc_before_ft.iloc[0] - dense)
        lines.append(f"untruncated MPO reproduces dense AUC to 1e-4: |diff| = {gap:.2e} -> "
                     f"{'PASS' if gap <= 1e-4 else 'FAIL'}")
    small = sweep[sweep.param_fraction <= 0.02]
    if len(small):
        best = small.loc[small.test_auc_after_ft.idxmax()]
        gap = dense - best.test_auc_after_ft
        lines.append(f"<= 2 % of the layer (chi={best.chi}, {100 * best.param_fraction:.2f} %) after fine-tuning "
                     f"within 0.003 of dense: {best.test_auc_after_ft:.4f} vs {dense:.4f} (gap {gap:+.4f}) -> "
                     f"{'PASS' if gap <= 0.003 else 'FAIL'}")
    scratch = results["scratch"].test_auc.iloc[0]
    lines.append(f"MPO from scratch within 0.005 of dense: {scratch:.4f} vs {dense:.4f} (gap {dense - scratch:+.4f})"
                 f" -> {'PASS' if dense - scratch <= 0.005 else 'FAIL'}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "bank-marketing"))
    parser.add_argument("--quick", action="store_true", help="2 epochs everywhere, two bonds: a smoke test")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    options = {"bonds": (4, None), "epochs": 2, "finetune_epochs": 1} if args.quick else {}
    started = time.perf_counter()
    results = run_bank_marketing(args.path, progress=False, **options)
    elapsed = time.perf_counter() - started
    fmt = {"float_format": lambda v: f"{v:.4g}", "index": False}
    for name in ("dense", "sweep", "scratch", "baselines", "layers", "entanglement"):
        print(f"\n== {name} ==")
        print(results[name].to_string(**fmt))
    print("\n== bars ==")
    print("\n".join(check_bars(results)))
    print(f"\ntotal runtime: {elapsed:.0f} s (torch threads: {args.threads})")


if __name__ == "__main__":
    main()
