"""Annealer-trained learners: layered Ising problems, solvers, parallel solves and the estimators.

A pure library: it imports neither ``qboost_tn.data`` nor ``qboost_tn.experiments`` (training on a data set and
writing files is the experiments runner's job, ``qboost-tn train``).

The names below are imported on first use (PEP 562), so that asking the solver registry
(``qboost_tn.qubo.solvers.SOLVERS``, e.g. when a config is validated) does not load scikit-learn, dimod and
numba.
"""
from __future__ import annotations

import importlib

# public name -> submodule that defines it
_EXPORTS = {
    "DEFAULT_SOLVER": "solvers",
    "SOLVERS": "solvers",
    "DimodLayeredSolver": "solvers",
    "LayeredSolver": "solvers",
    "register_solver": "solvers",
    "solve": "solvers",
    "DenseSimulatedAnnealingSampler": "dense_anneal",
    "LayeredAnnealingSolver": "layered_anneal",
    "FactoredLayeredProblem": "model",
    "LayeredProblem": "model",
    "load_model": "persistence",
    "save_model": "persistence",
    "QBoostClassifier": "qboost",
    "SearchResult": "search",
    "validation_search": "search",
    "ShallowWideClassifier": "shallow_wide",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
