"""What the annealer-trained learners cost to store (:func:`qboost_tn.eval.model_bytes`'s rules for them): the
weights on their lattice, per-task scale and intercept, the scaling the weights use, and the feature map's or
the dictionary's kept state. Each learner registers its rule where it is defined."""
from __future__ import annotations

import numpy as np

from .._text import shown
from ..eval.bits import FLOAT, SEED, affine_bits, index_bits, lattice_bits, tree_bits


def shallow_wide_bits(model) -> int:
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
    raise TypeError(f"model_bytes: no size rule for feature map {shown(kind)}")


def qboost_bits(model) -> int:
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
