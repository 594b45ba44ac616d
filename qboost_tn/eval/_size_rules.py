"""Size rules of scikit-learn's classifiers and the project's estimators (see :mod:`qboost_tn.eval.size`)."""
from __future__ import annotations

import numpy as np
from sklearn.ensemble import (ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier,
                              RandomForestClassifier)
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from .bits import (_REGISTRY, FLOAT, index_bits, level_bits, model_bits, register_model_bytes, tree_bits, vector_bits)


def _linear(model):
    return vector_bits(model.coef_) + np.size(model.intercept_) * FLOAT


def _sk_tree(tree, n_features):
    t = tree.tree_
    return tree_bits(t.feature, t.children_left, t.children_right, t.value, n_features)


def _forest(model):
    return sum(_sk_tree(tree, model.n_features_in_) for tree in model.estimators_)


def _decision_tree(model):
    return _sk_tree(model, model.n_features_in_)


def _gradient_boosting(model):
    # One regression tree per round and class, leaves one float each; plus the initial score per class.
    trees = sum(_sk_tree(tree, model.n_features_in_) for tree in model.estimators_.ravel())
    return trees + model.n_trees_per_iteration_ * FLOAT


def _hist_gradient_boosting(model):
    bits = 0
    for predictors in model._predictors:
        for predictor in predictors:
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            feature = np.where(leaf, -1, nodes["feature_idx"])
            bits += tree_bits(feature, nodes["left"], nodes["right"], nodes["value"], model.n_features_in_)
    return bits + np.size(model._baseline_prediction) * FLOAT


def _svc(model):
    return _svms([model], model.support_vectors_.shape[1])


def _svms(svms, n_features):
    """Support vectors as training rows stored once, each machine's dual coefficients plus row indices."""
    rows = np.unique(np.concatenate([m.support_ for m in svms]))
    bits = len(rows) * n_features * FLOAT
    for m in svms:
        bits += m.dual_coef_.size * FLOAT + len(m.support_) * index_bits(len(rows)) + m.intercept_.size * FLOAT
        bits += FLOAT  # the kernel width gamma
    return bits


def _one_vs_rest(model):
    members = model.estimators_
    if all(isinstance(m, SVC) for m in members):
        return _svms(members, members[0].support_vectors_.shape[1])
    return sum(model_bits(m) for m in members)


def _knn(model):
    n, p = model._fit_X.shape
    return n * p * FLOAT + n * level_bits(len(model.classes_))


def _sk_mlp(model):
    return sum(vector_bits(w) for w in model.coefs_) + sum(b.size * FLOAT for b in model.intercepts_)


for _cls, _fn in [(LogisticRegression, _linear), (RidgeClassifier, _linear),
                  (RandomForestClassifier, _forest), (ExtraTreesClassifier, _forest),
                  (DecisionTreeClassifier, _decision_tree), (GradientBoostingClassifier, _gradient_boosting),
                  (HistGradientBoostingClassifier, _hist_gradient_boosting), (SVC, _svc),
                  (OneVsRestClassifier, _one_vs_rest), (KNeighborsClassifier, _knn), (MLPClassifier, _sk_mlp)]:
    if _cls not in _REGISTRY:  # a user's own rule, registered earlier, stays
        register_model_bytes(_cls, _fn)
