"""Evaluation layer: the same metrics, sizes, weight maps and plots for every learner.

The metrics load on first use (PEP 562): a learner that only reshapes its weight maps (:mod:`.weight_maps`)
does not pay for scikit-learn's metrics and pandas.
"""
from .._lazy import lazy_exports

_EXPORTS = {"Evaluation": "metrics", "evaluate": "metrics", "macro_auc": "metrics", "model_bytes": "size",
            "register_model_bytes": "size"}
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, prefix=f"{__name__}.")
