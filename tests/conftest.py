"""Shared fixtures: the real data folder beside the project (skipped where absent) and an isolated cache."""
from __future__ import annotations

from pathlib import Path

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
