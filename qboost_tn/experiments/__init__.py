"""Experiments: YAML configs, one-command comparison runs, and self-contained HTML reports.

>>> from qboost_tn.experiments import run_experiment
>>> run = run_experiment("digits")            # a shipped config, or a path to your own YAML
>>> run.table[["model", "macro_auc", "n_params"]]
"""
from .adapters import ADAPTERS, Outcome, Task, register
from .config import ConfigError, apply_overrides, find_config, load_config, shipped_configs
from .report import write_report
from .runner import Run, run_experiment

__all__ = ["ADAPTERS", "ConfigError", "Outcome", "Run", "Task", "apply_overrides", "find_config", "load_config",
           "register", "run_experiment", "shipped_configs", "write_report"]
