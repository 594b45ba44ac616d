"""qboost-tn: annealer-trained shallow-wide Ising learners and MPO-compressed networks, on one data and
evaluation layer."""
from .data import load_dataset, prepare, split
from .eval import evaluate

__version__ = "0.1.0"
__all__ = ["evaluate", "load_dataset", "prepare", "split"]
