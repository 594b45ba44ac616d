"""QBoost's dictionary of weak learners: bagged randomised trees held as flat arrays, and their soft outputs.

A fitted tree dictionary is a :class:`TreeDictionary` of plain numpy arrays (every tree's nodes concatenated),
so a model saves without pickle and predicts without scikit-learn objects: :meth:`TreeDictionary.outputs`
walks all trees at once, one vectorised step per tree level.

Each tree sees a random subset of the training rows (drawn without replacement); the rows it did not see are
its out-of-bag (OOB) rows, on which its outputs are honest estimates of how it does on new data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.tree import DecisionTreeClassifier

# Rows of X evaluated at once by TreeDictionary.outputs: bounds the (rows x trees) node-index arrays.
_CHUNK = 2048
#: Deepest tree a loaded dictionary may hold: every prediction walks that many vectorised steps. Trees grown
#: on real data stay far below (fully grown trees on 60,000 MNIST rows are a few dozen levels deep).
MAX_DEPTH = 10_000


@dataclass(frozen=True)
class TreeDictionary:
    """Binary trees over ``n_features`` inputs, their nodes concatenated into flat arrays.

    Attributes
    ----------
    feature : ndarray of int32, shape (n_nodes,)
        Feature tested at each node; -1 at a leaf.
    threshold : ndarray of float64, shape (n_nodes,)
        A sample goes left when ``x[feature] <= threshold``.
    left, right : ndarray of int32, shape (n_nodes,)
        Global index of each node's children (a leaf points to itself, so walking past it stays put).
    value : ndarray of float64, shape (n_nodes, n_classes)
        Soft output ``2 p − 1`` in [−1, 1] of every class at each node (``p``: the class's share of the
        node's training rows).
    offsets : ndarray of int64, shape (n_trees + 1,)
        Tree ``t`` holds nodes ``offsets[t]:offsets[t + 1]``; its root is ``offsets[t]``.
    depth : ndarray of int32, shape (n_trees,)
        The ``max_depth`` each tree was grown with (0: fully grown).
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    offsets: np.ndarray
    depth: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.offsets) - 1

    def node_counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def outputs(self, X, trees=None, classes=None) -> np.ndarray:
        """Soft outputs of the trees on ``X``, shape (n_samples, n_trees, n_classes), values in [−1, 1].

        ``trees``: indices of the trees to evaluate (default all), in the order of the result's axis 1;
        ``classes``: indices of the class columns to return (default all), in the order of axis 2.
        """
        value = self.value if classes is None else self.value[:, np.asarray(classes, dtype=np.intp)]
        X = np.asarray(X, dtype=np.float32)  # as the trees were grown: thresholds compare like scikit-learn's
        roots = self.offsets[:-1] if trees is None else self.offsets[np.asarray(trees, dtype=np.intp)]
        result = np.empty((X.shape[0], len(roots), value.shape[1]))
        for start in range(0, X.shape[0], _CHUNK):
            rows = X[start:start + _CHUNK]
            node = np.broadcast_to(roots, (len(rows), len(roots))).copy()
            index = np.arange(len(rows))[:, None]
            while True:
                feature = self.feature[node]
                inner = feature >= 0
                if not inner.any():
                    break
                go_left = rows[index, np.maximum(feature, 0)] <= self.threshold[node]
                node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
            result[start:start + len(rows)] = value[node]
        return result

    def check(self, n_features: int, n_classes: int) -> None:
        """Raise ``ValueError`` unless these arrays are trees :meth:`outputs` can walk: every inner node's
        children inside its own tree and strictly after it (so every walk ends within the tree), each leaf
        pointing to itself, features in ``0 .. n_features - 1``, thresholds finite and values in [−1, 1].

        A model file is data from anyone; one cycle would make :meth:`outputs` loop forever. All vectorised.
        """
        offsets = np.asarray(self.offsets)
        n_nodes = len(self.feature)
        for name in ("threshold", "left", "right"):
            if len(getattr(self, name)) != n_nodes:
                raise ValueError(f"tree_{name}_ has {len(getattr(self, name))} nodes, tree_feature_ {n_nodes}")
        if self.value.shape != (n_nodes, n_classes):
            raise ValueError(f"tree_value_ has shape {self.value.shape}; expected ({n_nodes}, {n_classes}): one "
                             "row per node, one column per class")
        if len(self.depth) != self.n_trees:
            raise ValueError(f"tree_depth_ has {len(self.depth)} entries for {self.n_trees} trees")
        if offsets.size < 2 or offsets[0] != 0 or offsets[-1] != n_nodes or np.any(np.diff(offsets) < 1):
            raise ValueError(f"tree_offsets_ must rise strictly from 0 to the {n_nodes} nodes (each tree at least "
                             "its root)")
        node = np.arange(n_nodes)
        end = np.repeat(offsets[1:], np.diff(offsets))  # one past the last node of each node's tree
        feature, left, right = (np.asarray(a, dtype=np.int64) for a in (self.feature, self.left, self.right))
        inner = feature >= 0
        problems = {
            "a feature index below -1 (leaf) or at least n_features_in_": (feature < -1) | (feature >= n_features),
            "a child outside its own tree or not after its parent (a cycle)":
                inner & ((left <= node) | (left >= end) | (right <= node) | (right >= end)),
            "a leaf whose children are not itself": ~inner & ((left != node) | (right != node)),
            "a non-finite threshold": ~np.isfinite(self.threshold),
            "a value outside [-1, 1] or not finite": ~np.all((self.value >= -1) & (self.value <= 1), axis=1),
        }
        for what, bad in problems.items():
            if bad.any():
                first = int(np.argmax(bad))
                tree = int(np.searchsorted(offsets, first, side="right")) - 1
                raise ValueError(f"tree {tree} has {what} (node {first - offsets[tree]}, {int(bad.sum())} node(s) "
                                 "in all); the file is corrupt or tampered")
        depth = _depths(node, left, right, inner)
        if depth.size and depth.max() > MAX_DEPTH:
            tree = int(np.searchsorted(offsets, int(np.argmax(depth)), side="right")) - 1
            raise ValueError(f"tree {tree} is {int(depth.max()):,} levels deep, more than the {MAX_DEPTH:,} a "
                             "prediction may walk; the file is corrupt or tampered")

    def to_attributes(self) -> dict:
        """The arrays under the fitted-attribute names an estimator stores them as (``tree_feature_``, ...)."""
        return {f"tree_{name}_": getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_attributes(cls, owner) -> "TreeDictionary":
        """The dictionary stored on ``owner`` by :meth:`to_attributes`."""
        return cls(**{name: getattr(owner, f"tree_{name}_") for name in cls.__dataclass_fields__})


def _depths(node, left, right, inner) -> np.ndarray:
    """Depth of every node (roots 0) of trees whose children follow their parents, by pointer jumping: about
    log2(depth) vectorised steps, not one per level."""
    parent = node.copy()
    parent[left[inner]] = node[inner]
    parent[right[inner]] = node[inner]
    depth = (parent != node).astype(np.int64)
    ancestor = parent
    while np.any(ancestor != ancestor[ancestor]):
        depth = depth + depth[ancestor]
        ancestor = ancestor[ancestor]
    return depth


def fit_tree_dictionary(X, y, classes, *, n_estimators, depths, max_features, splitter, subsample,
                        random_state, sample_weight=None):
    """Grow ``n_estimators`` trees, cycling through ``depths``, each on its own random subset of the rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels, all among ``classes``.
    classes : ndarray
        Every class; each tree's outputs have one column per class (0 probability for a class its rows lack).
    depths : sequence of int or None
        ``max_depth`` of the trees in turn (None: grown until the leaves are pure).
    max_features, splitter
        As in :class:`sklearn.tree.DecisionTreeClassifier` (``splitter="random"``: extremely randomised
        trees, whose random thresholds make the trees of a dictionary differ more).
    subsample : float in (0, 1)
        Fraction of the rows each tree is grown on, drawn without replacement.
    random_state : numpy.random.Generator
    sample_weight : ndarray of shape (n_samples,), optional
        Each tree weighs its rows by these (its leaves' class shares are weighted shares).

    Returns
    -------
    dictionary : TreeDictionary
    in_bag : ndarray of bool, shape (n_samples, n_estimators)
        ``in_bag[s, t]``: row ``s`` was among tree ``t``'s training rows.
    """
    # scikit-learn grows trees on float32 inputs; converting once lets every tree skip its input checks.
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(y)
    size = min(n - 1, max(2, int(round(subsample * n))))
    code = np.searchsorted(classes, y)
    parts, in_bag = [], np.zeros((n, n_estimators), dtype=bool)
    for t in range(n_estimators):
        rows = random_state.choice(n, size, replace=False)
        in_bag[rows, t] = True
        depth = depths[t % len(depths)]
        tree = DecisionTreeClassifier(max_depth=depth, max_features=max_features, splitter=splitter,
                                      random_state=int(random_state.integers(np.iinfo(np.int32).max)))
        weights = None if sample_weight is None else np.ascontiguousarray(sample_weight[rows], dtype=np.float64)
        tree.fit(X[rows], code[rows], sample_weight=weights, check_input=False)
        parts.append((_flatten(tree, len(classes)), 0 if depth is None else depth))
    return _concatenate(parts), in_bag


def _flatten(tree, n_classes):
    """(feature, threshold, left, right, value) of one fitted tree, value as 2p − 1 over all classes."""
    t = tree.tree_
    leaf = t.children_left < 0
    counts = t.value[:, 0, :]  # class shares per node (scikit-learn >= 1.4 stores fractions)
    shares = np.zeros((t.node_count, n_classes))
    shares[:, tree.classes_.astype(int)] = counts / counts.sum(axis=1, keepdims=True)
    own = np.arange(t.node_count)
    return (np.where(leaf, -1, t.feature), np.where(leaf, 0.0, t.threshold),
            np.where(leaf, own, t.children_left), np.where(leaf, own, t.children_right), 2.0 * shares - 1.0)


def _concatenate(parts) -> TreeDictionary:
    sizes = np.array([len(p[0][0]) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    shift = lambda k: np.concatenate([p[0][k] + o for p, o in zip(parts, offsets[:-1])])  # noqa: E731
    return TreeDictionary(
        feature=np.concatenate([p[0][0] for p in parts]).astype(np.int32),
        threshold=np.concatenate([p[0][1] for p in parts]).astype(np.float64),
        left=shift(2).astype(np.int32), right=shift(3).astype(np.int32),
        value=np.concatenate([p[0][4] for p in parts]),
        offsets=offsets, depth=np.array([p[1] for p in parts], dtype=np.int32))


def out_of_bag_outputs(H, in_bag) -> np.ndarray:
    """Outputs with every in-bag entry replaced by an honest stand-in, shape like ``H`` (n_samples, n_trees).

    A tree's output on a row it was grown on is near-perfect and says nothing about new data. Each such
    entry is replaced by the mean output on that row of the trees for which the row is out of bag (the
    out-of-bag ensemble's prediction); a row that is in bag for every tree keeps its tree outputs' mean.
    The selection's least-squares energy then sees each tree as it does on new data where it can, and as the
    ensemble does elsewhere, which neither rewards nor penalises the tree for rows it memorised.
    """
    oob = ~in_bag
    count = oob.sum(axis=1)
    stand_in = np.where(count > 0, (H * oob).sum(axis=1) / np.maximum(count, 1), H.mean(axis=1))
    return np.where(oob, H, stand_in[:, None])
