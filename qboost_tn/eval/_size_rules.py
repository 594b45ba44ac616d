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

from ..qubo import QBoostClassifier, ShallowWideClassifier
from .size import (_REGISTRY, FLOAT, SEED, affine_bits, index_bits, lattice_bits, level_bits, model_bits, register_model_bytes,
                   tree_bits, vector_bits)


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


def _shallow_wide(model):
    """Lattice weights (dropped features folded into the intercept), per-task scale and intercept, the scaling
    of the features the weights use, and the feature map's kept state."""
    L = int(model.spins_.shape[2])
    coef = np.where(model.data_scale_ == 0, 0.0, model.layer_sums_)  # a constant feature adds a constant
    bits = lattice_bits(coef, L + 1) + 2 * FLOAT * coef.shape[0]
    used = np.any(coef != 0, axis=0)
    if not _per_filter_scale(model):
        # The scaled features enter only the linear score: their offsets fold into the intercept unless zeros
        # are replaced by -1 after scaling.
        bits += affine_bits(model.data_min_, model.data_scale_, used, offsets_fold=not model.zero_to_minus_one_)
    return bits + _feature_map_bits(model, used)


def _per_filter_scale(model) -> bool:
    """A patch map whose scaling is one range per filter: it folds into the filter and threshold."""
    if model.features_ not in ("patches", "random-patches"):
        return False
    scale = model.data_scale_.reshape(-1, model.map_weights_.shape[1])
    return bool(np.all(scale == scale[0]))


def _feature_map_bits(model, used):
    kind = model.features_
    if kind == "identity":
        return 0
    p_in = len(model.input_min_)
    inputs = affine_bits(model.input_min_, model.input_scale_)
    if kind == "rff":
        # Weights and phases are drawn from the seed; the bandwidth was measured on the training rows.
        return inputs + SEED + FLOAT
    if kind == "nystroem":
        return inputs + model.map_components_.size * FLOAT + FLOAT
    if kind in ("patches", "random-patches"):
        n_filters = model.map_weights_.shape[1]
        kept = int(used.reshape(-1, n_filters).any(axis=0).sum())  # columns are (region, filter); unused go
        # a scale per feature was counted with the weights; one per filter folds into the filter
        scaled = 1 if _per_filter_scale(model) else 0
        if kind == "random-patches":  # filters drawn from the seed: each kept one's threshold (and scale)
            return inputs + SEED + kept * (1 + scaled) * FLOAT
        return inputs + kept * (model.map_weights_.shape[0] + 1) * FLOAT
    if kind == "trees":
        nodes = model.map_nodes_
        # Complete trees in heap order: no links; feature index and threshold per inner node, and a bit per
        # leaf saying whether it is a column.
        return inputs + nodes.size * (index_bits(p_in) + FLOAT) + nodes.shape[0] * (nodes.shape[1] + 1)
    raise TypeError(f"model_bytes: no size rule for feature map {kind!r}")


def _qboost(model):
    """Selection weights on their lattice, the kept trees and stumps, per-task scale and intercept."""
    L = int(model.n_layers)
    n_user = len(model.weak_learners) if model._user_learners else 0
    if n_user:
        raise TypeError("model_bytes: QBoost over user-given learners has no size rule (their sizes are unknown)")
    levels = model.weights_ * L
    bits = lattice_bits(levels, L + 1) + 2 * FLOAT * levels.shape[0]
    kept = model.selected_.any(axis=0)
    if model.n_trees_:
        trees = model._trees
        for t in np.flatnonzero(kept[:model.n_trees_]):
            nodes = slice(trees.offsets[t], trees.offsets[t + 1])
            bits += tree_bits(trees.feature[nodes], trees.left[nodes], trees.right[nodes], trees.value[nodes],
                              model.n_features_in_)
    if model.n_stumps_:
        # a kept stump: its threshold and polarity for the task that kept it
        bits += int(model.selected_[:, model.n_trees_:].sum()) * (FLOAT + 1)
    return bits


for _cls, _fn in [(LogisticRegression, _linear), (RidgeClassifier, _linear),
                  (RandomForestClassifier, _forest), (ExtraTreesClassifier, _forest),
                  (DecisionTreeClassifier, _decision_tree), (GradientBoostingClassifier, _gradient_boosting),
                  (HistGradientBoostingClassifier, _hist_gradient_boosting), (SVC, _svc),
                  (OneVsRestClassifier, _one_vs_rest), (KNeighborsClassifier, _knn), (MLPClassifier, _sk_mlp),
                  (ShallowWideClassifier, _shallow_wide), (QBoostClassifier, _qboost)]:
    if _cls not in _REGISTRY:  # a user's own rule, registered earlier, stays
        register_model_bytes(_cls, _fn)
