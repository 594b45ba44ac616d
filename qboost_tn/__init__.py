"""qboost-tn: annealer-trained shallow-wide Ising learners and MPO-compressed networks, on one data and
evaluation layer."""
from .data import load_dataset, prepare, split
from .errors import QBoostTNError
from .eval import evaluate
from .qubo import QBoostClassifier, ShallowWideClassifier

__version__ = "0.1.0"
__all__ = ["QBoostClassifier", "QBoostTNError", "ShallowWideClassifier", "evaluate", "load_dataset", "prepare", "split"]
