"""Disjoint, stratified, seeded train/validation/test splits and train-fitted scaling."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._text import shown
from ..errors import DataError
from .dataset import Dataset

# scikit-learn is imported when data are split, not when a config naming a scale is checked (start-up).
SCALES = ("minmax", "standard", "log-minmax", "quantile", "auto")


@dataclass(frozen=True)
class Split:
    """Index arrays into a Dataset; pairwise disjoint. ``val`` and ``test`` may be empty."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def _take(pool, y, n, stratify, seed, what):
    """Draw ``n`` of ``pool`` (stratified on ``y[pool]`` if asked); returns (taken, rest)."""
    if n == len(pool):
        return pool, pool[:0]
    if n == 0:
        return pool[:0], pool
    strat = y[pool] if stratify else None
    if strat is not None and n < len(np.unique(strat)):
        raise DataError(f"split: {what} of {n} samples cannot hold every one of the "
                         f"{len(np.unique(strat))} classes")
    from sklearn.model_selection import train_test_split

    taken, rest = train_test_split(pool, train_size=n, stratify=strat, random_state=seed)
    return np.sort(taken), np.sort(rest)


def split(dataset: Dataset, n_train=None, n_val=None, n_test=None, train_size=None, stratify=True,
          seed=0) -> Split:
    """Split a data set into disjoint train / validation / test index arrays.

    Two modes:

    * counts (small-data mode): ``n_train`` samples for training, then ``n_val`` for validation from what is
      left, then ``n_test`` (default: everything left) for testing. E.g. ``n_train=150, n_val=300``.
    * fraction (the hands-on): ``train_size=0.8`` keeps 80 % for training+validation and 20 % for testing,
      then splits the 80 % again by ``train_size`` into training and validation.

    Stratified by label unless ``stratify=False``; deterministic for a given ``seed``. Every class must
    appear in the training part.
    """
    y = dataset.y
    n = len(y)
    pool = np.arange(n)
    if train_size is not None:
        if any(v is not None for v in (n_train, n_val, n_test)):
            raise DataError("split: give either train_size or n_train/n_val/n_test, not both")
        if isinstance(train_size, bool) or not isinstance(train_size, numbers.Real) or not 0 < train_size < 1:
            raise DataError(f"split: train_size must be a number in (0, 1), got {shown(train_size)}")
        n_fit = int(round(train_size * n))
        fit, test = _take(pool, y, n_fit, stratify, seed, "training+validation")
        train, val = _take(fit, y, int(round(train_size * len(fit))), stratify, seed, "training")
    else:
        if n_train is None:
            raise DataError("split: give n_train (with optional n_val, n_test) or train_size")
        counts = {"n_train": n_train, "n_val": n_val or 0, "n_test": n_test or 0}
        for key, value in counts.items():
            # bool is an int and "50" is not a count: both are mistakes, not 1 or 50.
            if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float)) \
                    or not float(value).is_integer() or value < 0:
                raise DataError(f"split: {key} must be a non-negative integer, got {shown(value)}")
        asked = sum(counts.values())
        if asked > n or n_train < 1:
            raise DataError(f"split: asks for {asked} samples (train {n_train}, val {n_val or 0}, "
                             f"test {n_test or 0}) but the data set has {n}")
        train, rest = _take(pool, y, int(n_train), stratify, seed, "training")
        val, rest = _take(rest, y, int(n_val or 0), stratify, seed, "validation") if n_val else (rest[:0], rest)
        test = _take(rest, y, int(n_test), stratify, seed, "test")[0] if n_test is not None else rest
    missing = sorted(set(range(dataset.n_classes)) - set(np.unique(y[train]).tolist()))
    if missing:
        raise DataError(f"split: class(es) {[dataset.class_names[c] for c in missing]} are empty in the training part")
    return Split(train, val, test)


@dataclass(frozen=True)
class Prepared:
    """Arrays of one split, scaled with a scaler fitted on the training part only."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    scaler: object | None


def prepare(dataset: Dataset, parts: Split, scale="minmax") -> Prepared:
    """Index a data set by a split and scale features.

    ``scale``: ``"minmax"`` (to [0, 1]); ``"standard"``; ``"log-minmax"``, min-max after ``log1p`` of the
    skewed non-negative columns (counts, amounts; see :class:`qboost_tn.data.skew.LogMinMaxScaler`);
    ``"quantile"``, each column through its training quantiles to [0, 1]; ``"auto"``, min-max for images and
    log-minmax for tabular data; or None. The scaler is fitted on the training rows only, so nothing about
    validation or test data leaks in. Min-max leaves one-hot and [0, 1] pixel columns as they are when the
    training part spans their range.
    """
    if scale is not None and scale not in SCALES:
        raise DataError(f"prepare: unknown scale {shown(scale)}; use one of {list(SCALES)} or None")
    if scale == "auto":
        # A pixel column is not a count: a log would only bend the intensity scale the images share.
        scale = "minmax" if dataset.image_shape is not None else "log-minmax"
    X, y = dataset.X, dataset.y
    scaler = _scaler(scale, len(parts.train)).fit(X[parts.train]) if scale else None

    def rows(index):
        out = X[index]
        return (scaler.transform(out) if scaler is not None and len(index) else out).astype(np.float32)

    return Prepared(rows(parts.train), y[parts.train], rows(parts.val), y[parts.val],
                    rows(parts.test), y[parts.test], scaler)


def _scaler(scale, n_train):
    from sklearn.preprocessing import MinMaxScaler, QuantileTransformer, StandardScaler

    from .skew import LogMinMaxScaler

    if scale == "quantile":
        # Fixed subsample seed: the transform must not depend on global random state.
        return QuantileTransformer(n_quantiles=min(1000, n_train), random_state=0)
    return {"minmax": MinMaxScaler, "standard": StandardScaler, "log-minmax": LogMinMaxScaler}[scale]()
