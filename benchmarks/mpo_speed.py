"""Forward speed of a 4096 x 4096 MPOLinear at <= 0.1 % of the parameters against nn.Linear (batch 256, CPU).

Usage: python benchmarks/mpo_speed.py [--repeats 15] [--threads 1] [--size 4096] [--batch 256]

Rows: the issue's configuration (4 cores 8x8x8x8, max_bond 8, forward planned per batch and run core-group by
core-group, as ``forward_mode="auto"`` does, and the same layer core by core), then for each number of cores
the mode split and bond with the fewest FLOPs within the budget (:func:`qboost_tn.mpo.layer.tt_configurations`);
the first of those is what ``MPOLinear.from_linear(linear, param_fraction=...)`` picks. Dense and MPO calls are
interleaved and the speed-up is the median of the per-pair ratios, so both sides see the same machine load.
``flop_ratio`` is what FLOPs allow (dense / planned MPO forward) and ``of_bound`` the share of it reached.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import torch
from torch import nn

from qboost_tn.mpo.layer import MPOLinear, tt_configurations


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
    configs = [("issue: 4 cores, max_bond 8", dict(n_cores=4, max_bond=8)),
               ("issue, core by core", dict(n_cores=4, max_bond=8, forward_mode="factorized"))]
    table = tt_configurations(n, n, args.fraction, batch=args.batch)
    for rank, row in enumerate(table.groupby("n_cores", sort=False).head(1).itertuples()):
        label = f"best {row.n_cores} cores" + (" (from_linear's pick)" if rank == 0 else "")
        configs.append((label, dict(in_modes=row.in_modes, out_modes=row.out_modes, max_bond=row.max_bond)))
    rows = []
    for label, kwargs in configs:
        layer = MPOLinear(n, n, **kwargs)
        with torch.no_grad():
            error = (layer(x[:8]) - nn.functional.linear(x[:8], layer.weight, layer.bias)).abs().max()
        dense_ms, mpo_ms, speedup = compare(dense, layer, x, args.repeats)
        flop_ratio = 2 * n * n / layer.flops(args.batch)
        rows.append({"config": label, "modes": "x".join(map(str, layer.in_modes)) + " -> "
                     + "x".join(map(str, layer.out_modes)), "max_bond": max(layer.max_bond),
                     "param_fraction": layer.n_weight_params / (n * n), "flop_ratio": flop_ratio,
                     "dense_ms": dense_ms, "mpo_ms": mpo_ms, "speedup": speedup, "of_bound": speedup / flop_ratio,
                     "max_abs_diff": float(error)})
    result = pd.DataFrame(rows)
    pd.set_option("display.width", 220)
    print(f"{n} x {n}, batch {args.batch}, torch threads {args.threads}, {args.repeats} interleaved repeats, "
          f"budget {100 * args.fraction:g} % of the weights")
    print(result.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    bar = result.iloc[0]
    print(f"\nbar: 4 cores, max_bond 8 ({100 * bar.param_fraction:.3f} % of the parameters) >= 3x faster than "
          f"nn.Linear: {bar.speedup:.2f}x measured, {bar.flop_ratio:.2f}x by FLOPs ({100 * bar.of_bound:.0f} % "
          f"of the FLOP bound) -> {'PASS' if bar.speedup >= 3 else 'FAIL'}")
    pick = result.iloc[2]
    print(f"from_linear(param_fraction={args.fraction}) picks {pick.modes}, max_bond {pick.max_bond}: "
          f"{pick.speedup:.2f}x measured, {pick.flop_ratio:.2f}x by FLOPs ({100 * pick.of_bound:.0f} %)")


if __name__ == "__main__":
    main()
