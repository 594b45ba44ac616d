"""Shared fixtures: the real data folder beside the project (skipped where absent), an isolated cache, and the
small data sets several test files use."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` relative to the project root; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it lives beside the project on the team's machines)")
    return SHARED_DATA


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty download cache so no test reads or pollutes the user's."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("QBOOST_TN_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def digits_data():
    """scikit-learn's bundled 8x8 digits as ``(X, y)``, X in the raw 0..16 range; tests slice what they need."""
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


@pytest.fixture
def binary_csv(tmp_path) -> Path:
    """``my_data.csv`` in ``tmp_path``: 300 rows of features a, b, c and a label "yes"/"no" that is a linear
    function of a and b (so any linear model separates it: AUC near 1)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    path = tmp_path / "my_data.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")}
                 ).to_csv(path, index=False)
    return path
