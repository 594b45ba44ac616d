"""Annealer-trained learners: layered Ising problems, solvers, parallel solves and the estimators.

A pure library: it imports neither ``qboost_tn.data`` nor ``qboost_tn.experiments`` (training on a data set and
writing files is the experiments runner's job, ``qboost-tn train``)."""
from .dense_anneal import DenseSimulatedAnnealingSampler
from .layered_anneal import LayeredAnnealingSolver
from .model import FactoredLayeredProblem, LayeredProblem
from .persistence import load_model, save_model
from .qboost import QBoostClassifier
from .search import SearchResult, validation_search
from .shallow_wide import ShallowWideClassifier
from .solvers import DEFAULT_SOLVER, SOLVERS, DimodLayeredSolver, LayeredSolver, register_solver, solve

__all__ = ["DEFAULT_SOLVER", "DenseSimulatedAnnealingSampler", "DimodLayeredSolver", "FactoredLayeredProblem",
           "LayeredAnnealingSolver", "LayeredProblem", "LayeredSolver", "register_solver", "QBoostClassifier", "SOLVERS", "ShallowWideClassifier",
           "SearchResult", "load_model", "save_model", "solve", "validation_search"]
