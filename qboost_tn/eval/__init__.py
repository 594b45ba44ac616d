"""Evaluation layer: the same metrics, sizes and plots for every learner."""
from .metrics import Evaluation, evaluate
from .size import model_bytes, register_model_bytes

__all__ = ["Evaluation", "evaluate", "model_bytes", "register_model_bytes"]
