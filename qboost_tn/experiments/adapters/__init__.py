"""Model adapters, one module per family of model kinds; importing this package registers them all.

The contract (:class:`Task` in, :class:`Outcome` out, :func:`register`) lives in :mod:`.base`; a new model kind
is one module that calls :func:`register`, plus one import line below.
"""
from .base import (ADAPTERS, FAMILIES, Adapter, Outcome, Task, Timer, estimator_scores, fit_choices, register,
                   searchable)
from . import classical, ising, linear, networks  # noqa: E402,F401  - each registers its adapters
from . import mps  # noqa: E402,F401  - the matrix-product-state classifier (tensor-network family)
from . import qboost  # noqa: E402,F401  - QBoost, the annealer-chosen ensemble of trees

__all__ = ["ADAPTERS", "FAMILIES", "Adapter", "Outcome", "Task", "Timer", "estimator_scores", "fit_choices",
           "register", "searchable"]
