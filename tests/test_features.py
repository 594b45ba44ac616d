"""Wide inputs of the shallow-wide learner: feature maps fitted on training rows, seeded, saved without pickle,
and weight maps that stay in input space (mean input gradients, checked against finite differences)."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils._param_validation import InvalidParameterError

from qboost_tn import ShallowWideClassifier
from qboost_tn.eval import model_bytes
from qboost_tn.qubo.features import (FEATURE_MAPS, TREE_DEPTH, _leaves, apply_map, fit_map, mean_gradient,
                                      median_distance, shifted_images, SHIFTS)
from qboost_tn.persistence import load_model, save_model

FAST = dict(num_reads=2, num_sweeps=50, random_state=0)
MAPS = [m for m in FEATURE_MAPS if m != "identity"]
SMOOTH = [m for m in MAPS if m != "trees"]  # maps with an input gradient (trees are piecewise constant)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200], y[:200], X[200:500], y[200:500]


@pytest.mark.parametrize("kind", MAPS)
def test_each_map_learns_digits_and_round_trips(kind, digits, tmp_path):
    X, y, X_test, y_test = digits
    clf = ShallowWideClassifier(features=kind, n_components=128, lam=1.0, **FAST).fit(X, y)
    # The tree map keeps the 64 inputs and the leaves that training rows reach (8 trees of at most 16).
    width = 64 + len(clf.map_columns_) if kind == "trees" else 128
    assert clf.coef_.shape == (10, width)
    assert clf.score(X_test, y_test) > 0.75
    # Weight maps stay in input space (8x8 images), whatever the map's width.
    assert clf.weight_maps().shape == (10, 8, 8) and np.isfinite(clf.weight_maps()).all()
    loaded = load_model(save_model(clf, tmp_path / f"{kind}.npz"))
    np.testing.assert_array_equal(loaded.decision_function(X_test), clf.decision_function(X_test))
    np.testing.assert_array_equal(loaded.weight_maps(), clf.weight_maps())


@pytest.mark.parametrize("kind", MAPS)
def test_maps_are_seeded_and_fitted_on_training_rows_only(kind, digits):
    X, y, X_test, _ = digits
    U = X / 16.0
    a = fit_map(kind, U, n_components=64, bandwidth=1.0, rng=np.random.RandomState(3), y=y)
    b = fit_map(kind, U, n_components=64, bandwidth=1.0, rng=np.random.RandomState(3), y=y)
    c = fit_map(kind, U, n_components=64, bandwidth=1.0, rng=np.random.RandomState(4), y=y)
    np.testing.assert_array_equal(apply_map(kind, a, X_test / 16), apply_map(kind, b, X_test / 16))
    assert not np.allclose(apply_map(kind, a, X_test / 16), apply_map(kind, c, X_test / 16))
    # Transforming new rows never changes the fitted state.
    before = {k: np.copy(v) for k, v in a.items()}
    apply_map(kind, a, X_test / 16)
    assert all(np.array_equal(before[k], a[k]) for k in a)


@pytest.mark.parametrize("kind", SMOOTH)
def test_mean_gradient_matches_finite_differences(kind, digits):
    X, _, _, _ = digits
    U = X[:20] / 16.0
    state = fit_map(kind, X / 16.0, n_components=32, bandwidth=1.0, rng=np.random.RandomState(0))
    A = np.random.default_rng(1).normal(size=(2, apply_map(kind, state, U[:1]).shape[1]))
    grad = mean_gradient(kind, state, U, A)
    eps = 1e-6
    numeric = np.zeros_like(grad)
    for j in range(U.shape[1]):
        step = np.zeros(U.shape[1])
        step[j] = eps
        numeric[:, j] = ((apply_map(kind, state, U + step) - apply_map(kind, state, U - step)) @ A.T).mean(axis=0) / (2 * eps)
    # The ReLU of the patch map has kinks: rows exactly at one are measure zero, but keep a loose tolerance.
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5 if kind != "patches" else 1e-3)


def test_tree_map_lands_rows_in_the_forests_leaves(digits):
    """The stored complete trees partition rows exactly as scikit-learn's forest does (its apply), also rows
    never seen in training and values on a threshold."""
    from sklearn.ensemble import RandomForestClassifier

    X, y, X_test, _ = digits
    U = X / 16.0
    state = fit_map("trees", U, n_components=160, bandwidth=1.0, rng=np.random.RandomState(5), y=y)
    # The forest fit_map grows: the same seed drawn from the same generator.
    forest = RandomForestClassifier(10, max_depth=TREE_DEPTH, max_features="sqrt",
                                    random_state=np.random.RandomState(5).randint(np.iinfo(np.int32).max))
    forest.fit(U.astype(np.float32), y)
    rows = np.vstack([X_test / 16.0, np.full((1, 64), 0.5), forest.estimators_[0].tree_.threshold[:1].repeat(64)[None]])
    ours, theirs = _leaves(rows, state), forest.apply(rows.astype(np.float32))
    for t in range(10):
        pairs = set(zip(ours[:, t], theirs[:, t]))
        assert len(pairs) == len(set(ours[:, t])) == len(set(theirs[:, t])), f"tree {t} splits rows differently"
    z = apply_map("trees", state, U)
    assert np.array_equal(z[:, :64], U)  # the inputs stay next to the leaves
    leaves = z[:, 64:]
    assert set(np.unique(leaves)) == {0.0, 1.0} and (leaves.sum(axis=1) == 10).all()  # one leaf per tree
    assert leaves.any(axis=0).all()  # only reachable leaves are columns


def test_tree_map_effects_are_score_differences_across_each_inputs_range(digits):
    X, y, _, _ = digits
    U = X[:30] / 16.0
    state = fit_map("trees", X / 16.0, n_components=64, bandwidth=1.0, rng=np.random.RandomState(0), y=y)
    A = np.random.default_rng(2).normal(size=(2, apply_map("trees", state, U[:1]).shape[1]))
    effects = mean_gradient("trees", state, U, A)
    expected = np.zeros_like(effects)
    for j in range(U.shape[1]):
        top, bottom = U.copy(), U.copy()
        top[:, j], bottom[:, j] = 1.0, 0.0
        expected[:, j] = ((apply_map("trees", state, top) - apply_map("trees", state, bottom)) @ A.T).mean(axis=0)
    np.testing.assert_allclose(effects, expected, rtol=1e-10, atol=1e-12)


def test_tree_map_needs_labels():
    with pytest.raises(ValueError, match="needs y"):
        fit_map("trees", np.random.default_rng(0).random((20, 3)), n_components=32, bandwidth=1.0,
                rng=np.random.RandomState(0))


def test_bandwidth_follows_the_median_heuristic():
    rng = np.random.default_rng(0)
    U = rng.normal(size=(100, 5))
    assert median_distance(U * 3, np.random.RandomState(0)) == pytest.approx(3 * median_distance(U, np.random.RandomState(0)))
    state = fit_map("nystroem", U, n_components=10, bandwidth=2.0, rng=np.random.RandomState(0))
    sigma = 2.0 * median_distance(U, np.random.RandomState(0))
    assert state["map_gamma_"] == pytest.approx(1 / (2 * sigma**2))


def test_patches_need_images():
    X, y = np.random.default_rng(0).random((20, 10)), np.arange(20) % 2
    with pytest.raises(ValueError, match="not a square image"):
        ShallowWideClassifier(features="patches", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="image_shape"):
        ShallowWideClassifier(features="patches", image_shape=(3, 3), **FAST).fit(X, y)
    ShallowWideClassifier(features="patches", image_shape=(2, 5), n_components=8, **FAST)  # valid parameters
    with pytest.raises(InvalidParameterError, match="features"):
        ShallowWideClassifier(features="conv", **FAST).fit(X, y)


def test_refit_with_identity_drops_the_map(digits):
    X, y, X_test, _ = digits
    clf = ShallowWideClassifier(features="rff", n_components=32, **FAST).fit(X, y)
    clf.set_params(features="identity").fit(X, y)
    assert not hasattr(clf, "map_weights_") and not hasattr(clf, "input_gradients_")
    assert clf.decision_function(X_test).shape == (300, 10)


def test_auto_is_patches_for_images_and_identity_otherwise(digits):
    X, y, _, _ = digits
    images = ShallowWideClassifier(features="auto", image_shape=(8, 8), n_components=32, **FAST).fit(X[:80], y[:80])
    table = ShallowWideClassifier(features="auto", n_components=32, **FAST).fit(X[:80], y[:80])
    assert images.features_ == "patches" and images.coef_.shape[1] == 32
    assert table.features_ == "identity" and table.coef_.shape[1] == 64


def test_shifted_images_move_each_image_keeping_the_uncovered_edge():
    image = np.arange(12.0).reshape(3, 4)  # [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
    copies = dict(zip([(0, 0), *SHIFTS], shifted_images(image.reshape(1, 12), 3, 4).reshape(-1, 3, 4)))
    assert len(copies) == 13 and all(abs(dy) + abs(dx) <= 2 for dy, dx in copies)
    np.testing.assert_array_equal(copies[0, 0], image)
    np.testing.assert_array_equal(copies[-1, 0], [[4, 5, 6, 7], [8, 9, 10, 11], [8, 9, 10, 11]])  # up
    np.testing.assert_array_equal(copies[0, 1], [[0, 0, 1, 2], [4, 4, 5, 6], [8, 8, 9, 10]])  # right
    np.testing.assert_array_equal(copies[1, 1], [[0, 0, 1, 2], [0, 0, 1, 2], [4, 4, 5, 6]])  # down and right
    np.testing.assert_array_equal(copies[0, -2], [[2, 3, 3, 3], [6, 7, 7, 7], [10, 11, 11, 11]])  # two left


def test_shift_augmentation_fits_the_shifted_copies_and_stores_nothing_more(digits, tmp_path):
    X, y, X_test, _ = digits
    X, y = X[:60], y[:60]
    params = dict(features="patches", image_shape=(8, 8), n_components=32, **FAST)
    augmented = ShallowWideClassifier(augment="shifts", **params).fit(X, y)
    by_hand = ShallowWideClassifier(**params).fit(shifted_images(X, 8, 8), np.tile(y, 13))
    np.testing.assert_allclose(augmented.decision_function(X_test), by_hand.decision_function(X_test))
    assert model_bytes(augmented) == model_bytes(by_hand)
    loaded = load_model(save_model(augmented, tmp_path / "model.npz"))
    assert loaded.augment == "shifts"
    np.testing.assert_array_equal(loaded.decision_function(X_test), augmented.decision_function(X_test))
    ours = ShallowWideClassifier(augment="shifts", **params).problems(X, y)[0][0]
    theirs = ShallowWideClassifier(**params).problems(shifted_images(X, 8, 8), np.tile(y, 13))[0][0]
    np.testing.assert_allclose(ours.Q, theirs.Q)
    np.testing.assert_allclose(ours.h, theirs.h)


def test_shift_augmentation_needs_images():
    X, y = np.random.default_rng(0).random((20, 16)), np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match="moves images"):
        ShallowWideClassifier(augment="shifts", **FAST).fit(X, y)
    ShallowWideClassifier(augment="shifts", image_shape=(4, 4), **FAST).fit(X, y)  # pixels may be the features
