"""Evaluation layer: the same metrics and plots for every learner."""
from .metrics import Evaluation, evaluate, macro_auc

__all__ = ["Evaluation", "evaluate", "macro_auc"]
