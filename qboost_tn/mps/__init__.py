"""The matrix-product-state classifier (Stoudenmire & Schwab 2016): contraction, training, estimator, plots.

A pure library: it depends on torch, scikit-learn and the MPO toolkit's entanglement helpers, never on the
data or experiments layers.
"""
from .classifier import MPSClassifier
from .feature_maps import FEATURE_MAPS

__all__ = ["FEATURE_MAPS", "MPSClassifier"]
