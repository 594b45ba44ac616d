"""Annealer-trained learners: layered Ising problems, solvers, parallel solves, the estimators and training.

``qboost_tn.qubo.train.train_and_evaluate`` (data -> fit -> evaluation -> files) is imported on demand: it
pulls in matplotlib."""
from .dense_anneal import DenseSimulatedAnnealingSampler
from .layered_anneal import LayeredAnnealingSolver
from .model import LayeredProblem
from .persistence import load_model, save_model
from .qboost import QBoostClassifier
from .search import SearchResult, validation_search
from .shallow_wide import ShallowWideClassifier
from .solvers import DEFAULT_SOLVER, SOLVERS, solve

__all__ = ["DEFAULT_SOLVER", "DenseSimulatedAnnealingSampler", "LayeredAnnealingSolver", "LayeredProblem", "QBoostClassifier", "SOLVERS", "ShallowWideClassifier",
           "SearchResult", "load_model", "save_model", "solve", "validation_search"]
