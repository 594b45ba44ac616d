"""The default comparison: every model kind on MNIST 20x20 (150 train).

Runs the shipped config `mnist` (see `qboost-tn run --list`) and writes runs/mnist-<timestamp>/report.html.
"""
from __future__ import annotations

from .run import add_run_options, execute

CONFIG = "mnist"


def add_arguments(parser) -> None:
    add_run_options(parser)


def run(args) -> int:
    return execute(CONFIG, args)[0]
