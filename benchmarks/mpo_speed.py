"""Forward speed of a 4096 x 4096 MPOLinear at <= 0.1 % of the parameters against nn.Linear (batch 256, CPU).

Usage: python benchmarks/mpo_speed.py [--repeats 15] [--threads 1] [--size 4096] [--batch 256]

For each number of cores the bond is the largest uniform one within the budget. Dense and MPO calls are
interleaved and the speed-up is the median of the per-pair ratios, so both sides see the same machine load;
times are medians too. ``flop_ratio`` is what FLOPs predict (dense / planned MPO forward).
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import torch
from torch import nn

from qboost_tn.mpo import MPOLinear, factorize
from qboost_tn.mpo.ttsvd import bond_for_fraction


def timed(fn, x) -> float:
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


@torch.no_grad()
def compare(dense, layer, x, repeats):
    dense(x), layer(x)
    pairs = [(timed(dense, x), timed(layer, x)) for _ in range(repeats)]
    return (1e3 * statistics.median(p[0] for p in pairs), 1e3 * statistics.median(p[1] for p in pairs),
            statistics.median(p[0] / p[1] for p in pairs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--fraction", type=float, default=0.001)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.size
    dense = nn.Linear(n, n)
    x = torch.randn(args.batch, n)
    rows = []
    for n_cores in (2, 3, 4):
        modes = factorize(n, n_cores)
        bond = bond_for_fraction(args.fraction, modes, modes, n * n)
        for mode in ("auto", "factorized", "reconstructed"):
            layer = MPOLinear(n, n, max_bond=bond, n_cores=n_cores, forward_mode=mode)
            with torch.no_grad():
                error = (layer(x[:8]) - nn.functional.linear(x[:8], layer.weight, layer.bias)).abs().max()
            dense_ms, mpo_ms, speedup = compare(dense, layer, x, args.repeats)
            rows.append({"n_cores": n_cores, "modes": "x".join(map(str, modes)), "bond": bond, "mode": mode,
                         "param_fraction": layer.n_weight_params / (n * n),
                         "flop_ratio": 2 * n * n / layer.flops(args.batch), "dense_ms": dense_ms,
                         "mpo_ms": mpo_ms, "speedup": speedup, "max_abs_diff": float(error)})
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"{n} x {n}, batch {args.batch}, torch threads {args.threads}, {args.repeats} interleaved repeats")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    auto = table[table["mode"] == "auto"]
    best = auto.loc[auto.speedup.idxmax()]
    print(f"\nbar: <= {100 * args.fraction:g} % of the parameters and >= 3x faster than nn.Linear: best "
          f"{best.n_cores} cores (bond {best.bond}, {100 * best.param_fraction:.3f} %): {best.speedup:.2f}x "
          f"(FLOPs predict {best.flop_ratio:.2f}x) -> {'PASS' if best.speedup >= 3 else 'FAIL'}")
    for row in auto.itertuples():
        print(f"  {row.n_cores} cores, auto: {row.speedup:.2f}x measured vs {row.flop_ratio:.2f}x by FLOPs "
              f"({100 * row.speedup / row.flop_ratio:.0f} % of the FLOP prediction)")


if __name__ == "__main__":
    main()
