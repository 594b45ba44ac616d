"""Experiments: YAML configs, one runner behind every command, and self-contained HTML reports.

>>> from qboost_tn.experiments import run_experiment
>>> run = run_experiment("digits")            # a shipped config, or a path to your own YAML
>>> run.table[["model", "macro_auc", "n_params"]]

A new model kind is one module in :mod:`.adapters` calling :func:`register`; for a scikit-learn estimator its
schema is :func:`estimator_record` of the class (see docs/ARCHITECTURE.md).
"""
from .adapters import ADAPTERS, Outcome, Task, register
from .config import ConfigError, apply_overrides, find_config, load_config, shipped_configs
from .params import estimator_record
from .report import write_report
from .runner import Run, RunWriteError, run_experiment

__all__ = ["ADAPTERS", "ConfigError", "Outcome", "Run", "RunWriteError", "Task", "apply_overrides",
           "estimator_record", "find_config", "load_config", "register", "run_experiment", "shipped_configs",
           "write_report"]
