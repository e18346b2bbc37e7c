"""Shared fixtures: the real samples folder and an isolated FVI_HOME per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fvi.settings import get_settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``FVI_SHARED_DATA``); integration tests skip loudly without it."""
    path = Path(os.environ.get("FVI_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set FVI_SHARED_DATA)")
    return path


@pytest.fixture()
def fvi_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh FVI_HOME for one test; settings re-read."""
    home = tmp_path / "fvi_home"
    monkeypatch.setenv("FVI_HOME", str(home))
    monkeypatch.delenv("FVI_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("FVI_DATA_DIR", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
