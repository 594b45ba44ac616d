"""qboost-tn: annealer-trained shallow-wide Ising learners and MPO-compressed networks, on one data and
evaluation layer.

The names below are imported on first use (PEP 562), so that ``import qboost_tn`` — and the command line's
start-up — does not pay for numpy, scikit-learn, numba and torch until they are needed.
"""
from __future__ import annotations

from ._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "QBoostClassifier": "qboost_tn.qubo",
    "ShallowWideClassifier": "qboost_tn.qubo",
    "MPSClassifier": "qboost_tn.mps",
    "save_model": "qboost_tn.persistence",
    "load_model": "qboost_tn.persistence",
    "QBoostTNError": "qboost_tn.errors",
    "evaluate": "qboost_tn.eval",
    "model_bytes": "qboost_tn.eval",
    "load_dataset": "qboost_tn.data",
    "prepare": "qboost_tn.data",
    "split": "qboost_tn.data",
    "validation_search": "qboost_tn.search",
    "SearchResult": "qboost_tn.search",
}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
