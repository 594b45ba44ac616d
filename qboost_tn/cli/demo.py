"""The main job: the shallow-wide Ising learner on MNIST 20x20 from 150 samples.

Runs the shipped config `demo` (150 training and 300 validation digits; metrics on the other 4,550) and writes
the run directory runs/demo-<timestamp>/ (or --out DIR): config.yaml, metrics.csv/json, figures/ (weight
maps), models/ (the fitted learner, reloadable with qboost_tn.load_model) and report.html.
"""
from __future__ import annotations

from .run import add_run_options, execute

CONFIG = "demo"


def add_arguments(parser) -> None:
    add_run_options(parser)
    parser.add_argument("--seed", type=int, default=None, help="seed of the split and the annealing (default 0)")
    parser.add_argument("--n-jobs", default=None, metavar="N",
                        help="worker processes for the ten class problems (-1: every core)")


def run(args) -> int:
    overrides = []
    if args.seed is not None:
        overrides.append(f"seeds=[{args.seed}]")
    if args.n_jobs is not None:
        overrides.append(f"models[0].params.n_jobs={args.n_jobs}")
    return execute(CONFIG, args, overrides)[0]
