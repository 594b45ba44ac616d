"""Annealer-trained learners: layered Ising problems, solvers, parallel solves and the estimators.

A pure library: it imports neither ``qboost_tn.data`` nor ``qboost_tn.experiments`` (training on a data set and
writing files is the experiments runner's job, ``qboost-tn train``).

The names below are imported on first use (PEP 562), so that asking the solver registry
(``qboost_tn.qubo.solvers.SOLVERS``, e.g. when a config is validated) does not load scikit-learn, dimod and
numba.
"""
from __future__ import annotations

from .._lazy import lazy_exports

# public name -> submodule that defines it
_EXPORTS = {
    "DEFAULT_SOLVER": "solvers",
    "SOLVERS": "solvers",
    "DimodLayeredSolver": "solvers",
    "LayeredSolver": "solvers",
    "register_solver": "solvers",
    "solve": "solvers",
    "DenseSimulatedAnnealingSampler": "anneal.dense",
    "LayeredAnnealingSolver": "anneal.layered",
    "EmbeddedSolver": "qpu.embedded",
    "FactoredLayeredProblem": "model",
    "LayeredProblem": "model",
    "QBoostClassifier": "qboost",
    "ShallowWideClassifier": "shallow_wide",
    "warm_up": "anneal.kernels",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, prefix=f"{__name__}.")
