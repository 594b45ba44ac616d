"""Evaluation layer: the same metrics and plots for every learner."""
from .metrics import Evaluation, evaluate

__all__ = ["Evaluation", "evaluate"]
