"""model_bytes: each kind's count against one done by hand (bits, rounded up to bytes once)."""
import math

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from qboost_tn import QBoostClassifier, ShallowWideClassifier
from qboost_tn.eval import model_bytes, register_model_bytes
from qboost_tn.eval.bits import affine_bits, vector_bits


def _bytes(bits):
    return math.ceil(bits / 8)


def test_sparse_storage_wins_only_when_smaller():
    w = np.zeros(100)
    w[[3, 50]] = 1.5
    assert vector_bits(w) == 32 + 2 * (32 + 7)          # count, then (index of 7 bits, float) per non-zero
    assert vector_bits(np.ones(100)) == 100 * 32         # dense


def test_affine_scaling_costs_nothing_when_identity_and_one_pair_when_shared():
    assert affine_bits(np.zeros(5), np.array([1, 1, 0, 1, 1.0])) == 0
    assert affine_bits(np.full(5, 2.0), np.full(5, 0.5)) == 64
    assert affine_bits(np.zeros(3), np.float32(1) / np.float32([0.99999994, 1.0, 1.0000001])) == 0  # rounding
    assert affine_bits(np.arange(5.0), np.ones(5)) == 5 * 64
    assert affine_bits(np.arange(5.0), np.ones(5), used=[0, 1, 0, 0, 0]) == 64
    assert affine_bits(np.arange(5.0), np.arange(1.0, 6.0), offsets_fold=True) == 5 * 32


def test_logistic_regression_floats():
    X = np.array([[0, 1, 2], [1, 0, 1], [2, 2, 0], [0, 0, 1.0]])
    model = LogisticRegression().fit(X, [0, 1, 1, 0])
    assert model_bytes(model) == _bytes(3 * 32 + 32)     # three weights, one intercept


def test_trees_count_nodes_thresholds_links_and_pure_leaves():
    X, y = np.array([[0.0], [1.0], [0.1], [0.9]]), np.array([0, 1, 0, 1])
    forest = ExtraTreesClassifier(n_estimators=2, max_depth=1, random_state=0).fit(X, y)
    assert all(t.tree_.node_count == 3 for t in forest.estimators_)
    # per tree: a root (feature index 1 bit, threshold 32, two links of 2 bits) and two pure leaves (1 bit each)
    assert model_bytes(forest) == _bytes(2 * ((1 + 32 + 2 * 2) + 2 * 1))


def test_knn_stores_its_rows_and_labels():
    X = np.arange(12.0).reshape(4, 3)
    assert model_bytes(KNeighborsClassifier(n_neighbors=1).fit(X, [0, 1, 2, 0])) == _bytes(4 * 3 * 32 + 4 * 2)


def test_svc_support_vectors_and_dual_coefficients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    svm = SVC().fit(X, y)
    n_sv = len(svm.support_)
    expected = n_sv * 4 * 32 + n_sv * 32 + n_sv * math.ceil(math.log2(n_sv)) + 32 + 32  # + intercept, gamma
    assert model_bytes(svm) == _bytes(expected)


def _pixels(n=60, p=16, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) > 0.5).astype(float)
    X[0], X[1] = 0.0, 1.0  # every column spans [0, 1]: the learner's own scaling is the identity
    y = (X[:, :3].sum(axis=1) > 1).astype(int)
    return X, y


def test_shallow_wide_lattice_weights_scale_and_intercept():
    X, y = _pixels()
    model = ShallowWideClassifier(n_layers=4, lam=5.0, scaling="minmax", random_state=0).fit(X, y)
    assert np.all(model.data_min_ == 0) and np.all(model.data_scale_ == 1)
    W = model.layer_sums_[0]
    nnz = np.count_nonzero(W)
    weights = min(16 * 3, 32 + nnz * (3 + 4))  # 5 levels: 3 bits each, dense or sparse over 16 positions
    assert model_bytes(model) == _bytes(weights + 32 + 32)


def test_shallow_wide_standardised_inputs_store_a_scale_per_used_feature():
    X, y = _pixels()
    X[:, 5] *= 3.0  # columns of different spreads: one scale each
    model = ShallowWideClassifier(n_layers=4, lam=5.0, scaling="standard", random_state=0).fit(X, y)
    W = model.layer_sums_[0]
    nnz = np.count_nonzero(W)
    weights = min(16 * 3, 32 + nnz * (3 + 4))
    # The means fold into the intercept; the scales of the features with a weight are stored.
    assert model_bytes(model) == _bytes(weights + 32 + 32 + 32 * nnz)


def test_shallow_wide_rff_costs_a_seed_and_bandwidth_not_its_weights():
    X, y = _pixels()
    model = ShallowWideClassifier(features="rff", n_components=40, n_layers=2, random_state=0).fit(X, y)
    W = model.layer_sums_[0]
    used = W != 0
    scaling = 32 if used.any() else 0  # one scale for the map's known range; the offset folds into the intercept
    weights = min(40 * 2, 32 + np.count_nonzero(W) * (2 + 6))
    assert model_bytes(model) == _bytes(weights + 64 + scaling + 32 + 32)


def test_qboost_stumps_levels_and_kept_stumps():
    X, y = _pixels()
    model = QBoostClassifier(weak_learners="stumps", n_layers=1, random_state=0).fit(X, y)
    kept = int(model.selected_.sum())
    weights = min(16 * 1, 32 + kept * (1 + 4))  # 2 levels: 1 bit
    assert model_bytes(model) == _bytes(weights + 64 + kept * (32 + 1))


def test_torch_linear_pruned_int8_and_mpo():
    torch = pytest.importorskip("torch")
    from torch import nn

    from qboost_tn.mpo import MPOLinear, compress

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2))
    assert model_bytes(net) == _bytes(6 * 32 + 2 * 32)
    pruned, _ = compress(net, ["0"], method="prune", budget=2)
    assert model_bytes(pruned) == _bytes(32 + 2 * (32 + 3) + 2 * 32)
    quantised, _ = compress(net, ["0"], method="int8")
    assert model_bytes(quantised) == _bytes(6 * 8 + 2 * 32 + 2 * 32)  # int8 weights, scale and zero point, bias
    mpo = MPOLinear(16, 16, max_bond=2, n_cores=2)
    assert model_bytes(mpo) == _bytes(sum(c.numel() for c in mpo.cores) * 32 + 16 * 32)


def test_registry_is_an_extension_point():
    class Lookup:
        table = np.zeros(10, dtype=np.int8)

    with pytest.raises(TypeError, match="register_model_bytes"):
        model_bytes(Lookup())
    register_model_bytes(Lookup, lambda m: m.table.size * 8)
    assert model_bytes(Lookup()) == 10


def test_shallow_wide_patches_keep_only_filters_some_weight_uses():
    X, y = _pixels(p=64)
    model = ShallowWideClassifier(features="patches", n_components=8, image_shape=(8, 8), n_layers=2, lam=20.0,
                                  random_state=0).fit(X, y)
    W = model.layer_sums_[0]
    used = (W != 0) & (model.data_scale_ != 0)
    filters = int(used.reshape(4, 2).any(axis=0).sum())  # columns are (quadrant, filter)
    weights = min(8 * 2, 32 + np.count_nonzero(W) * (2 + 3))
    # one range per filter (shared by its quadrants) folds into the filter and threshold; offsets into the intercept
    assert np.all(model.data_scale_.reshape(4, 2) == model.data_scale_[:2])
    assert model_bytes(model) == _bytes(weights + 64 + filters * (25 + 1) * 32)


def test_random_patches_store_a_seed_and_a_threshold_per_kept_filter():
    X, y = _pixels(p=64)
    model = ShallowWideClassifier(features="random-patches", n_components=8, image_shape=(8, 8), n_layers=2,
                                  lam=20.0, random_state=0).fit(X, y)
    W = model.layer_sums_[0]
    used = (W != 0) & (model.data_scale_ != 0)
    filters = int(used.reshape(4, 2).any(axis=0).sum())
    weights = min(8 * 2, 32 + np.count_nonzero(W) * (2 + 3))
    assert model_bytes(model) == _bytes(weights + 64 + 32 + filters * 2 * 32)  # seed; threshold and scale per filter


def test_hist_gradient_boosting_nodes_leaves_and_baseline():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _pixels()
    model = HistGradientBoostingClassifier(max_iter=1, max_leaf_nodes=2, early_stopping=False).fit(X, y)
    # one tree: a root (feature index of 4 bits, threshold, two links of 2 bits), two float leaves; a baseline
    assert model_bytes(model) == _bytes((4 + 32 + 2 * 2) + 2 * 32 + 32)


def test_mps_cores_and_scaling():
    pytest.importorskip("torch")
    from qboost_tn import MPSClassifier

    X, y = _pixels(n=40, p=6)
    model = MPSClassifier(max_bond=2, n_epochs=1, random_state=0).fit(X, y)
    assert model_bytes(model) == _bytes(model.core_data_.size * 32)  # inputs span [0, 1]: no scaling stored
