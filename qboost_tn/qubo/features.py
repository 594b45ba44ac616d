"""Wide inputs for the shallow-wide learner: feature maps fitted on training rows, seeded, stored as arrays.

A map turns the (min-max scaled) inputs ``u`` of shape (n, P_in) into the features ``z`` of shape (n, P) on
which the spins put their weights. It is fitted on training rows only, its randomness comes from the
estimator's ``random_state``, and its fitted state is a dict of ndarrays and JSON scalars, so a model that
uses it is saved and loaded without pickle (the estimator keeps the state as ``map_*_`` attributes).

======================  ==================================================================================
``features``            ``z``
======================  ==================================================================================
``"identity"``          ``u`` itself (the hackathon's pixels)
``"rff"``               random Fourier features of the RBF kernel: ``sqrt(2/D) cos(u ω + b)``, ``ω ~ N(0, σ⁻²)``
``"nystroem"``          the RBF kernel against ``D`` training rows, whitened: ``k(u, C) K_CC^(-1/2)``
``"patches"``           images only: ReLU responses of ``D / 4`` filters cut from random 5×5 training patches
                        (contrast-normalised), average-pooled over the image's four quadrants
``"random-patches"``    as ``"patches"``, but the filters are drawn at random (centred Gaussian 5×5, unit
                        length) from the seed: the map stores no filters, only each filter's threshold
``"trees"``             ``u`` next to the leaf indicators of ``D / 16`` random-forest trees of depth 4
                        grown on the training labels (one column per reachable leaf)
======================  ==================================================================================

RBF maps take their width ``σ`` from the data: ``bandwidth × median pairwise distance`` of training rows
(the median heuristic; ``bandwidth`` is the factor a validation search may tune). The patch map is a random
one-layer convolutional network (Coates & Ng 2011, "random patches"): on 150 MNIST digits a linear model over
it beats a random forest, which no pixel kernel does.

The tree map is the tabular one: a linear model over leaf indicators is an additive model of feature
interactions (He et al. 2014, "Practical lessons from predicting clicks"; Ren et al. 2015, "Global refinement
of random forest"). Leaves only ask which side of a threshold a value lies, so skewed and count columns need
no log or quantile scaling, one-hot columns split cleanly, and a noise column that no tree chooses adds no
feature. The inputs stay in ``z`` so the linear part of the score is not lost to the trees' coarse steps. The
trees are stored as complete binary trees of fixed depth (a leaf above the bottom level passes rows down its
left side, with threshold +inf), so applying them is four vectorised gathers and needs no pickle.

Each map also gives the mean input gradient of a linear score ``a · z(u)`` over rows, which is how the
learner's ``weight_maps`` stay in input space whatever the map.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._numeric import rbf_gamma
from .._text import shown

FEATURE_MAPS = ("identity", "rff", "nystroem", "patches", "random-patches", "trees")
PATCH_MAPS = ("patches", "random-patches")
PATCH_SIZE = 5
POOL = 2  # pooling regions per image side: four quadrants
_MEDIAN_ROWS = 500  # rows used for the median heuristic (its cost is quadratic)
_CHUNK = 512  # rows transformed at a time by the patch map (bounded memory on large test sets) ...
_CHUNK_BYTES = 256 << 20  # ... fewer when one row's responses are large (many filters)
# The fitted state each map keeps (ShallowWideClassifier saves it with the model).
MAP_STATE = {"identity": (), "rff": ("map_weights_", "map_offsets_"),
             "nystroem": ("map_components_", "map_weights_", "map_gamma_"),
             "patches": ("map_weights_", "map_offsets_", "map_image_shape_"),
             "random-patches": ("map_weights_", "map_offsets_", "map_image_shape_"),
             "trees": ("map_nodes_", "map_thresholds_", "map_columns_")}
TREE_DEPTH = 4
_EFFECT_ROWS = 200  # rows over which the tree map's input effects are averaged


def median_distance(U, rng) -> float:
    """Median Euclidean distance between distinct training rows (at most 500 rows, chosen by ``rng``)."""
    if len(U) > _MEDIAN_ROWS:
        U = U[rng.choice(len(U), _MEDIAN_ROWS, replace=False)]
    sq = np.sum(U**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * U @ U.T, 0.0)
    d = np.sqrt(d2[np.triu_indices(len(U), k=1)])
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


def image_side(n_features, image_shape=None) -> tuple[int, int]:
    """(height, width) of flattened images: ``image_shape``, else the square of side ``sqrt(n_features)``."""
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 2 or shape[0] * shape[1] != n_features:
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold {n_features} features")
        return shape
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(f"features='patches' needs images: {n_features} features are not a square image; "
                         "pass image_shape=(height, width)")
    return side, side


SHIFT_RADIUS = 2
# (rows, columns) of every move of at most SHIFT_RADIUS pixels in city-block distance: the 12 nearest offsets.
SHIFTS = tuple((dy, dx) for dy in range(-SHIFT_RADIUS, SHIFT_RADIUS + 1) for dx in range(-SHIFT_RADIUS, SHIFT_RADIUS + 1)
               if 0 < abs(dy) + abs(dx) <= SHIFT_RADIUS)


def shifted_images(X, height, width) -> np.ndarray:
    """``X`` (n, height·width) followed by its images moved by each of ``SHIFTS`` (down and right positive; the
    edge rows and columns a move uncovers repeat the image's edge); shape ((1 + len(SHIFTS))·n, height·width).

    A digit written a pixel or two off is the same digit: on 150 MNIST training rows (seeds 10-12) the moved
    copies raised the wide patch preset's held-out macro AUC from 0.9730 to 0.9826 (0.9810 with the four
    one-pixel moves alone), and they cost a stored model nothing.
    """
    images = X.reshape(len(X), height, width)
    copies = [images]
    for dy, dx in SHIFTS:
        rows = np.clip(np.arange(height) - dy, 0, height - 1)
        cols = np.clip(np.arange(width) - dx, 0, width - 1)
        copies.append(images[:, rows][:, :, cols])
    return np.concatenate(copies).reshape(-1, height * width)


def fit_map(kind, U, *, n_components, bandwidth, rng, image_shape=None, y=None) -> dict:
    """Fitted state of map ``kind`` on training rows ``U`` (already min-max scaled), as arrays and scalars.

    ``y`` is used only by ``"trees"``, the one supervised map.
    """
    n, p_in = U.shape
    if kind == "identity":
        return {}
    if kind == "trees":
        return _fit_trees(U, y, n_trees=max(1, n_components // 2**TREE_DEPTH), rng=rng)
    if kind == "rff":
        sigma, _ = rbf_gamma(bandwidth, median_distance(U, rng), kind)
        return {"map_weights_": rng.normal(0.0, 1.0 / sigma, size=(p_in, n_components)),
                "map_offsets_": rng.uniform(0.0, 2.0 * np.pi, size=n_components)}
    if kind == "nystroem":
        _, gamma = rbf_gamma(bandwidth, median_distance(U, rng), kind)
        # At most one basis row per training row: more would only repeat rows.
        basis = U[rng.choice(n, min(n_components, n), replace=False)]
        K = _rbf(basis, basis, gamma)
        vals, vecs = np.linalg.eigh(K)
        # K_CC^(-1/2) on the kernel's numerical range (scikit-learn's Nystroem clips the same way).
        vals = np.maximum(vals, 1e-12 * vals.max())
        return {"map_components_": basis, "map_weights_": (vecs / np.sqrt(vals)) @ vecs.T,
                "map_gamma_": float(gamma)}
    if kind in PATCH_MAPS:
        height, width = image_side(p_in, image_shape)
        if min(height, width) < PATCH_SIZE + 1:
            raise ValueError(f"features='patches' needs images of at least {PATCH_SIZE + 1}x{PATCH_SIZE + 1} "
                             f"pixels, got {height}x{width}")
        n_filters = max(1, n_components // POOL**2)
        patches = _patches(U, height, width).reshape(-1, PATCH_SIZE**2)
        norms = np.linalg.norm(patches, axis=1)
        # Filters from patches with some contrast (blank background says nothing), unit length.
        live = patches[norms > 0.1 * norms.max()] if norms.max() > 0 else patches
        if kind == "patches":
            filters = live[rng.choice(len(live), n_filters, replace=len(live) < n_filters)]
        else:  # drawn, not cut: centred like the patches they meet, so a filter ignores the patch's brightness
            filters = rng.normal(size=(n_filters, PATCH_SIZE**2))
            filters -= filters.mean(axis=1, keepdims=True)
        filters = filters / np.maximum(np.linalg.norm(filters, axis=1, keepdims=True), 1e-12)
        # Threshold each filter at its median response over training patches: half the responses are cut.
        sample = live[rng.choice(len(live), min(len(live), 4000), replace=False)]
        return {"map_weights_": filters.T, "map_offsets_": np.median(sample @ filters.T, axis=0),
                "map_image_shape_": [height, width]}
    raise ValueError(f"unknown feature map {shown(kind)}; use one of {list(FEATURE_MAPS)}")


def apply_map(kind, state, U) -> np.ndarray:
    """Features ``z`` of rows ``U`` (min-max scaled inputs) under a fitted map."""
    if kind == "identity":
        return U
    if kind == "rff":
        W = state["map_weights_"]
        return math.sqrt(2.0 / W.shape[1]) * np.cos(U @ W + state["map_offsets_"])
    if kind == "nystroem":
        return _rbf(U, state["map_components_"], state["map_gamma_"]) @ state["map_weights_"]
    if kind in PATCH_MAPS:
        height, width = state["map_image_shape_"]
        rows = _patch_rows(state, height, width)
        return np.concatenate([_pooled(_responses(U[i:i + rows], state, height, width))
                               for i in range(0, max(len(U), 1), rows)])[:len(U)]
    if kind == "trees":
        return np.hstack([U, _leaf_indicators(U, state)])
    raise ValueError(f"unknown feature map {shown(kind)}; use one of {list(FEATURE_MAPS)}")


def mean_gradient(kind, state, U, A) -> np.ndarray:
    """Mean over rows ``U`` of the input gradient of each score ``A[t] · z(u)``; shape (n_tasks, P_in).

    Every map's gradient is linear in ``A``, so the mean over rows is computed once per map, not per row.
    """
    A = np.atleast_2d(A)
    if kind == "identity":
        return A.copy()
    if kind == "rff":
        W = state["map_weights_"]
        mean_sin = np.sin(U @ W + state["map_offsets_"]).mean(axis=0)
        return -math.sqrt(2.0 / W.shape[1]) * (A * mean_sin) @ W.T
    if kind == "trees":
        return _tree_effects(U, state, A)
    if kind == "nystroem":
        C, gamma = state["map_components_"], state["map_gamma_"]
        K = _rbf(U, C, gamma)                                   # (n, m)
        B = A @ state["map_weights_"].T                         # (T, m): score = Σ_i B_i k_i(u)
        # d k_i/du = -2γ (u - c_i) k_i, averaged over rows.
        return -2.0 * gamma * ((K @ B.T).T @ U / len(U) - (B * K.mean(axis=0)) @ C)
    if kind in PATCH_MAPS:
        height, width = state["map_image_shape_"]
        filters = state["map_weights_"]                         # (p², F)
        active = np.zeros((height - PATCH_SIZE + 1, width - PATCH_SIZE + 1, filters.shape[1]))
        rows = _patch_rows(state, height, width)
        for i in range(0, len(U), rows):
            active += (_responses(U[i:i + rows], state, height, width) > 0).sum(axis=0)
        active /= len(U)
        grads = []
        for a in A:
            # Score weight of each (position, filter): its pooling region's weight over the region's size.
            per_pos = _unpool(a.reshape(POOL * POOL, -1), active.shape[:2]) * active   # (H', W', F)
            # Each position contributes its weighted filters at its patch's pixels (a transposed convolution);
            # the patch centring is a projection the filters already satisfy (they are centred patches).
            local = per_pos @ filters.T                                                 # (H', W', p²)
            image = np.zeros((height, width))
            for dy in range(PATCH_SIZE):
                for dx in range(PATCH_SIZE):
                    image[dy:dy + active.shape[0], dx:dx + active.shape[1]] += local[:, :, dy * PATCH_SIZE + dx]
            grads.append(image.ravel())
        return np.array(grads)
    raise ValueError(f"unknown feature map {shown(kind)}; use one of {list(FEATURE_MAPS)}")


def _patch_row_bytes(n_filters, height, width) -> int:
    """Bytes the patch map works with per row: its centred patches and its filter responses (float64)."""
    positions = (height - PATCH_SIZE + 1) * (width - PATCH_SIZE + 1)
    return 8 * positions * (PATCH_SIZE**2 + 2 * n_filters)


def _patch_rows(state, height, width) -> int:
    return max(1, min(_CHUNK, _CHUNK_BYTES // _patch_row_bytes(state["map_weights_"].shape[1], height, width)))


def map_width(kind, n_rows, n_inputs, n_components) -> int:
    """The number of features map ``kind`` of width ``n_components`` gives (at most, for ``"trees"``)."""
    if kind == "identity":
        return n_inputs
    if kind == "nystroem":
        return min(n_components, n_rows)
    if kind == "patches":
        return POOL**2 * max(1, n_components // POOL**2)
    if kind == "trees":
        return n_inputs + 2**TREE_DEPTH * max(1, n_components // 2**TREE_DEPTH)
    return n_components


def map_working_bytes(kind, n_rows, n_inputs, n_components, image_shape=None) -> int:
    """Bytes (float64) fitting map ``kind`` of width ``n_components`` on ``n_rows`` rows of ``n_inputs`` works
    with at its peak, besides the rows themselves: what a user's ``n_components`` decides."""
    features = 8 * n_rows * map_width(kind, n_rows, n_inputs, n_components)  # the mapped rows
    if kind == "rff":
        return features + 8 * n_inputs * n_components
    if kind == "nystroem":
        m = min(n_components, n_rows)
        return features + 8 * (4 * m * m + m * n_inputs)  # kernel, eigenvectors, K^(-1/2), basis
    if kind == "patches":
        try:
            height, width = image_side(n_inputs, image_shape)
        except ValueError:
            return features
        rows = min(_CHUNK, n_rows)
        return features + rows * _patch_row_bytes(max(1, n_components // POOL**2), height, width)
    if kind == "trees":
        return features + 8 * n_rows * (n_components // 2**TREE_DEPTH)
    return 0


def check_map(kind, state, n_inputs) -> int:
    """The number of features map ``kind`` gives from ``state`` read from a file, or ``ValueError`` naming what
    does not fit: shapes against each other and against ``n_inputs``, indices in range, values finite."""
    from .._memory import check_memory

    missing = [key for key in MAP_STATE[kind] if key not in state]
    if missing:
        raise ValueError(f"features_={shown(kind)} needs {missing}, which the file lacks")

    def arrays(*names, ndim):
        for name in names:
            value = state[name]
            if not isinstance(value, np.ndarray) or value.ndim != ndim:
                raise ValueError(f"{name} should be a {ndim}-d array")
        return [state[name] for name in names]

    def finite(*names):
        for name in names:
            if not np.isfinite(state[name]).all():
                raise ValueError(f"{name} holds NaN or inf")

    if kind == "identity":
        return n_inputs
    if kind == "rff":
        (W,), (b,) = arrays("map_weights_", ndim=2), arrays("map_offsets_", ndim=1)
        if W.shape[0] != n_inputs or b.shape != (W.shape[1],):
            raise ValueError(f"map_weights_ {W.shape} and map_offsets_ {b.shape} do not map {n_inputs} inputs")
        finite("map_weights_", "map_offsets_")
        return W.shape[1]
    if kind == "nystroem":
        C, W = arrays("map_components_", "map_weights_", ndim=2)
        gamma = state["map_gamma_"]
        if C.shape[1] != n_inputs or W.shape[0] != C.shape[0]:
            raise ValueError(f"map_components_ {C.shape} and map_weights_ {W.shape} do not map {n_inputs} inputs")
        if not (isinstance(gamma, (int, float)) and not isinstance(gamma, bool) and 0 < gamma < math.inf):
            raise ValueError("map_gamma_ should be a finite number > 0")
        finite("map_components_", "map_weights_")
        return W.shape[1]
    if kind in PATCH_MAPS:
        (W,), (b,) = arrays("map_weights_", ndim=2), arrays("map_offsets_", ndim=1)
        shape = state["map_image_shape_"]
        if not (isinstance(shape, list) and len(shape) == 2
                and all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
                and min(shape) >= PATCH_SIZE + 1 and shape[0] * shape[1] == n_inputs):
            raise ValueError(f"map_image_shape_ should be [height, width] of at least {PATCH_SIZE + 1} pixels "
                             f"each holding the {n_inputs} inputs")
        if W.shape[0] != PATCH_SIZE**2 or W.shape[1] < 1 or b.shape != (W.shape[1],):
            raise ValueError(f"map_weights_ {W.shape} and map_offsets_ {b.shape} are not {PATCH_SIZE}x{PATCH_SIZE} "
                             "filters with one offset each")
        finite("map_weights_", "map_offsets_")
        check_memory(_patch_row_bytes(W.shape[1], *shape), f"the patch map of {W.shape[1]:,} filters on one row")
        return POOL**2 * W.shape[1]
    if kind == "trees":
        nodes, thresholds = arrays("map_nodes_", "map_thresholds_", ndim=2)
        (columns,) = arrays("map_columns_", ndim=1)
        n_inner = 2**TREE_DEPTH - 1
        if nodes.shape != thresholds.shape or nodes.shape[1] != n_inner:
            raise ValueError(f"map_nodes_ {nodes.shape} and map_thresholds_ {thresholds.shape} should both be "
                             f"(trees, {n_inner})")
        if nodes.size and (nodes.min() < 0 or nodes.max() >= n_inputs):
            raise ValueError(f"map_nodes_ holds a feature index outside 0..{n_inputs - 1}")
        if np.isnan(thresholds).any():
            raise ValueError("map_thresholds_ holds NaN")
        n_leaves = nodes.shape[0] * 2**TREE_DEPTH
        if columns.size and (columns.min() < 0 or columns.max() >= n_leaves or np.any(np.diff(columns) <= 0)):
            raise ValueError(f"map_columns_ should be increasing leaf numbers in 0..{n_leaves - 1}")
        return n_inputs + len(columns)
    raise ValueError(f"unknown feature map {shown(kind)}; use one of {list(FEATURE_MAPS)}")


def _fit_trees(U, y, n_trees, rng) -> dict:
    """A random forest of depth-4 trees on (U, y), as complete binary trees in heap order (node i has
    children 2i+1, 2i+2): split features (n_trees, 15), thresholds (n_trees, 15) and the reachable leaf
    columns."""
    from sklearn.ensemble import RandomForestClassifier

    if y is None:
        raise ValueError("features='trees' grows its trees on the training labels: fit_map needs y")
    forest = RandomForestClassifier(n_trees, max_depth=TREE_DEPTH, max_features="sqrt",
                                    random_state=rng.randint(np.iinfo(np.int32).max))
    forest.fit(U.astype(np.float32), y)
    n_inner = 2**TREE_DEPTH - 1
    features = np.zeros((n_trees, n_inner), dtype=np.int64)
    thresholds = np.full((n_trees, n_inner), np.inf)
    for t, estimator in enumerate(forest.estimators_):
        tree = estimator.tree_
        nodes = np.zeros(1, dtype=np.int64)  # scikit-learn node ids at this level's heap positions
        for level in range(TREE_DEPTH):
            split = tree.children_left[nodes] >= 0
            at = slice(2**level - 1, 2**(level + 1) - 1)
            features[t, at] = np.where(split, tree.feature[nodes], 0)
            thresholds[t, at] = np.where(split, tree.threshold[nodes], np.inf)
            # A leaf keeps its own id below it, so every row that reaches it ends at its leftmost descendant.
            nodes = np.stack([np.where(split, tree.children_left[nodes], nodes),
                              np.where(split, tree.children_right[nodes], nodes)], axis=1).ravel()
    state = {"map_nodes_": features, "map_thresholds_": thresholds}
    # Columns: the leaves training rows reach (the others are the empty descendants of leaves above the bottom).
    return dict(state, map_columns_=np.unique(_leaf_ids(U, state)))


def _leaves(U, state) -> np.ndarray:
    """Leaf index (0..15) of every row in every tree; shape (n, n_trees)."""
    features, thresholds = state["map_nodes_"], state["map_thresholds_"]
    # scikit-learn compares float32 inputs with float64 thresholds; so does this, to land in the same leaves.
    U = U.astype(np.float32)
    trees = np.arange(features.shape[0])
    rows = np.arange(len(U))[:, None]
    position = np.zeros((len(U), len(trees)), dtype=np.int64)
    for _ in range(TREE_DEPTH):
        go_right = U[rows, features[trees, position]] > thresholds[trees, position]
        position = 2 * position + 1 + go_right
    return position - (2**TREE_DEPTH - 1)


def _leaf_ids(U, state) -> np.ndarray:
    """Forest-wide leaf number (tree · 16 + leaf) of every row in every tree; shape (n, n_trees)."""
    return _leaves(U, state) + 2**TREE_DEPTH * np.arange(state["map_nodes_"].shape[0])


def _leaf_indicators(U, state) -> np.ndarray:
    """One column per reachable leaf: 1 where the row lands in it."""
    columns = state["map_columns_"]
    column_of = np.full(state["map_nodes_"].shape[0] * 2**TREE_DEPTH, -1)
    column_of[columns] = np.arange(len(columns))
    position = column_of[_leaf_ids(U, state)]
    rows, trees = np.nonzero(position >= 0)  # every leaf a row can land in is a column; -1 only guards
    out = np.zeros((len(U), len(columns)))
    out[rows, position[rows, trees]] = 1.0
    return out


def _tree_effects(U, state, A) -> np.ndarray:
    """Per task, the mean change of the score ``A[t] · z(u)`` when input j moves from the bottom (0) to the top
    (1) of its training range, other inputs as in the row; shape (n_tasks, P_in).

    Leaf indicators are piecewise constant, so their gradient is zero almost everywhere; the difference over
    the whole range is what a gradient would be per unit of range if the score were linear (and is exactly
    that for the input columns).
    """
    rng = np.random.RandomState(0)  # only which rows are averaged over; fixed so a model's maps are stable
    U = U[rng.choice(len(U), _EFFECT_ROWS, replace=False)] if len(U) > _EFFECT_ROWS else U
    n, p_in = U.shape
    effects = A[:, :p_in].copy()
    leaf_weights = A[:, p_in:]
    for j in range(p_in):
        ends = np.concatenate([U, U])
        ends[:n, j], ends[n:, j] = 1.0, 0.0
        leaves = _leaf_indicators(ends, state)
        effects[:, j] += leaf_weights @ (leaves[:n] - leaves[n:]).mean(axis=0)
    return effects


def _rbf(U, V, gamma) -> np.ndarray:
    d2 = np.sum(U**2, axis=1)[:, None] + np.sum(V**2, axis=1)[None, :] - 2.0 * U @ V.T
    return np.exp(-gamma * np.maximum(d2, 0.0))


def _patches(U, height, width) -> np.ndarray:
    """Contrast-normalised (centred) 5×5 patches at every position: shape (n, H', W', 25)."""
    windows = sliding_window_view(U.reshape(len(U), height, width), (PATCH_SIZE, PATCH_SIZE), axis=(1, 2))
    windows = windows.reshape(*windows.shape[:3], PATCH_SIZE**2)
    return windows - windows.mean(axis=-1, keepdims=True)


def _responses(U, state, height, width) -> np.ndarray:
    """ReLU filter responses, shape (n, H', W', F)."""
    return np.maximum(_patches(U, height, width) @ state["map_weights_"] - state["map_offsets_"], 0.0)


def _edges(size):
    return np.linspace(0, size, POOL + 1).round().astype(int)


def _pooled(R) -> np.ndarray:
    """Average of responses over each pooling region; columns ordered (region, filter)."""
    rows, cols = _edges(R.shape[1]), _edges(R.shape[2])
    return np.concatenate([R[:, r0:r1, c0:c1].mean(axis=(1, 2))
                           for r0, r1 in zip(rows[:-1], rows[1:]) for c0, c1 in zip(cols[:-1], cols[1:])], axis=1)


def _unpool(region_weights, shape) -> np.ndarray:
    """(H', W', F): each position gets its region's weights divided by the region's number of positions."""
    rows, cols = _edges(shape[0]), _edges(shape[1])
    out = np.zeros((*shape, region_weights.shape[1]))
    region = 0
    for r0, r1 in zip(rows[:-1], rows[1:]):
        for c0, c1 in zip(cols[:-1], cols[1:]):
            out[r0:r1, c0:c1] = region_weights[region] / ((r1 - r0) * (c1 - c0))
            region += 1
    return out
