"""Experiments: YAML configs, one runner behind every command, and self-contained HTML reports.

>>> from qboost_tn.experiments import run_experiment
>>> run = run_experiment("digits")            # a shipped config, or a path to your own YAML
>>> run.table[["model", "macro_auc", "n_params"]]

A new model kind is one module in :mod:`.adapters` calling :func:`register`; for a scikit-learn estimator its
schema is :func:`estimator_record` of the class (see docs/ARCHITECTURE.md). The names below are imported on
first use (PEP 562): listing the shipped configs does not load the runner and its libraries.
"""
from __future__ import annotations

from .._lazy import lazy_exports

# public name -> submodule that defines it
_EXPORTS = {
    "ADAPTERS": "adapters", "Outcome": "adapters", "Task": "adapters", "register": "adapters",
    "ConfigError": "config", "apply_overrides": "config", "find_config": "config", "load_config": "config",
    "shipped_configs": "config",
    "estimator_record": "params",
    "write_report": "report",
    "Run": "runner", "RunWriteError": "runner", "run_experiment": "runner",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, prefix=f"{__name__}.")
