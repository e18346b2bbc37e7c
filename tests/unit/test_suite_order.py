"""The suite's longest-first order (tests/conftest.py) names files that exist and starts the real build first."""

from __future__ import annotations

import tomllib

from tests.conftest import REPO, SLOW_FILES


def test_every_slow_file_exists() -> None:
    """A renamed or removed file would silently drop back to the end of the queue."""
    missing = [f for f in SLOW_FILES if not (REPO / f).is_file()]
    assert missing == []


def test_the_real_samples_build_starts_first_and_xdist_keeps_the_order() -> None:
    first = max(SLOW_FILES, key=SLOW_FILES.__getitem__)
    assert "shared_settings" in (REPO / first).read_text() or "shared_build" in (REPO / first).read_text()
    addopts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "--no-loadscope-reorder" in addopts.split()
