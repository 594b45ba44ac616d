"""Annealer-trained learners: layered Ising problems, solvers, parallel solves and the estimators."""
from .model import LayeredProblem
from .shallow_wide import ShallowWideClassifier
from .solvers import DEFAULT_SOLVER, SOLVERS, solve

__all__ = ["DEFAULT_SOLVER", "LayeredProblem", "SOLVERS", "ShallowWideClassifier", "solve"]
