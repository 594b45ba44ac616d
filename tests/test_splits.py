"""Splits are disjoint, stratified, seeded; scaling is fitted on the training part only."""
from __future__ import annotations

import numpy as np
import pytest

from qboost_tn.data import Dataset, load_dataset, prepare, split


@pytest.fixture(scope="module")
def mnist20():
    return load_dataset("mnist", size=20)


def toy(n_per_class=(30, 10), n_features=3) -> Dataset:
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    X = np.arange(len(y) * n_features, dtype=float).reshape(len(y), n_features)
    return Dataset("toy", X, y, [f"f{i}" for i in range(n_features)], [f"c{c}" for c in range(len(n_per_class))])


def test_small_data_split_is_disjoint_and_stratified(mnist20):
    parts = split(mnist20, n_train=150, n_val=300, seed=3)
    assert parts.sizes() == {"train": 150, "val": 300, "test": 4550}
    union = np.concatenate([parts.train, parts.val, parts.test])
    assert len(np.unique(union)) == 5000
    assert np.bincount(mnist20.y[parts.train]).tolist() == [15] * 10
    assert np.bincount(mnist20.y[parts.val]).tolist() == [30] * 10


def test_split_is_seeded(mnist20):
    a, b = split(mnist20, n_train=150, seed=1), split(mnist20, n_train=150, seed=1)
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, split(mnist20, n_train=150, seed=2).train)


def test_fraction_split_like_the_hands_on():
    ds = toy((400, 100))
    parts = split(ds, train_size=0.8, seed=0)
    assert parts.sizes() == {"train": 320, "val": 80, "test": 100}
    assert np.mean(ds.y[parts.train]) == pytest.approx(0.2)
    assert not set(parts.train) & set(parts.val) and not set(parts.val) & set(parts.test)


def test_explicit_test_count_and_unstratified():
    parts = split(toy(), n_train=10, n_val=5, n_test=7, stratify=False, seed=0)
    assert parts.sizes() == {"train": 10, "val": 5, "test": 7}


@pytest.mark.parametrize("kwargs, message", [
    ({"n_train": 30, "n_val": 20}, "asks for 50 samples.*has 40"),
    ({"n_train": 1}, "cannot hold every one of the 2 classes"),
    ({"train_size": 0.8, "n_train": 10}, "not both"),
    ({"train_size": 1.2}, r"\(0, 1\)"),
    ({}, "give n_train"),
    ({"n_train": 5.5}, "non-negative integer"),
])
def test_bad_splits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split(toy(), **kwargs)


def test_unstratified_split_that_leaves_a_class_out_of_training():
    ds = toy((39, 1))
    with pytest.raises(ValueError, match=r"class\(es\) \['c1'\] are empty in the training part"):
        split(ds, n_train=2, stratify=False, seed=0)


def test_scaler_is_fitted_on_training_rows_only():
    ds = toy((30, 10))
    parts = split(ds, n_train=20, n_val=10, seed=0)
    data = prepare(ds, parts)
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    lo, hi = ds.X[parts.train].min(axis=0), ds.X[parts.train].max(axis=0)
    np.testing.assert_allclose(data.X_val, (ds.X[parts.val] - lo) / (hi - lo), rtol=1e-5)
    assert data.X_test.dtype == np.float32 and data.y_val.tolist() == ds.y[parts.val].tolist()
    assert prepare(ds, parts, scale=None).X_train.max() == ds.X[parts.train].max()
    with pytest.raises(ValueError, match="unknown scale"):
        prepare(ds, parts, scale="robust")


def test_log_minmax_logs_only_skewed_non_negative_columns():
    rng = np.random.default_rng(0)
    n = 200
    counts = rng.poisson(0.3, n) * rng.integers(1, 40, n)      # long-tailed counts
    one_hot = (rng.random(n) < 0.05).astype(float)            # rare but binary
    signed = rng.standard_exponential(n) - 5.0                # skewed but negative
    age = rng.normal(40, 10, n)                               # near symmetric
    X = np.column_stack([counts, one_hot, signed, age]).astype(float)
    y = np.arange(n) % 2
    ds = Dataset("skewed", X, y, ["counts", "one_hot", "signed", "age"], ["a", "b"])
    parts = split(ds, n_train=150, n_val=50, seed=0)
    data = prepare(ds, parts, scale="log-minmax")
    assert data.scaler.logged_.tolist() == [True, False, False, False]
    train = X[parts.train]
    logged = np.log1p(train[:, 0])
    np.testing.assert_allclose(data.X_train[:, 0], (logged - logged.min()) / np.ptp(logged), rtol=1e-5)
    np.testing.assert_allclose(data.X_train[:, 1:], prepare(ds, parts).X_train[:, 1:], rtol=1e-5, atol=1e-6)
    # "auto" logs tabular columns and leaves images (whose pixels are skewed too) to min-max.
    assert prepare(ds, parts, scale="auto").scaler.logged_[0]
    images = load_dataset("digits")
    assert type(prepare(images, split(images, n_train=100, n_val=0, seed=0), scale="auto").scaler).__name__ == "MinMaxScaler"
    quantile = prepare(ds, parts, scale="quantile")
    assert quantile.X_train.min() >= 0.0 and quantile.X_train.max() <= 1.0


def test_dataset_rejects_nan_and_mismatched_shapes():
    with pytest.raises(ValueError, match=r"NaN or inf in features \['f1'\]"):
        Dataset("bad", [[0.0, np.nan]], [0], ["f0", "f1"], ["a"])
    with pytest.raises(ValueError, match="y has shape"):
        Dataset("bad", np.zeros((3, 2)), [0, 1], ["f0", "f1"], ["a", "b"])


def test_zero_sized_parts_are_empty_not_errors():
    parts = split(toy(), n_train=10, n_val=0, n_test=0, seed=0)
    assert parts.sizes() == {"train": 10, "val": 0, "test": 0}
