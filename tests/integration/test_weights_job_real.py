"""The information-gain job on the real build: weights per level and horizon, history kept, cache published."""

from __future__ import annotations

import shutil

import pytest

from fvi.cache import MemoryCache
from fvi.warehouse import DuckDBWarehouse
from fvi.weights import cached_weights, current_weights, read_history
from fvi.weights.job import run_weight_job

pytestmark = [pytest.mark.integration]


def test_weight_job_on_real_outcomes(shared_build, tmp_path) -> None:
    home, report = shared_build
    assert report["steps"]["weights"]["country"]["horizons"] == ["H10", "H20", "H5"]
    copy = tmp_path / "wh.duckdb"
    shutil.copy(home / "warehouse" / "fvi.duckdb", copy)
    cache = MemoryCache()
    with DuckDBWarehouse(copy) as wh:
        first = len(read_history(wh))
        summary = run_weight_job(wh, "second-run", cache=cache)
        history = read_history(wh)
        current = current_weights(wh)
    assert len(history) == first + len(current) > first  # appended, not replaced
    assert set(current["run_id"]) == {"second-run"}
    assert set(zip(current.level, current.horizon, strict=True)) >= {
        ("country", "H5"),
        ("country", "H20"),
        ("mine", "H5"),
    }
    sums = current.groupby(["level", "horizon"])["weight"].sum()
    assert ((sums - 1).abs() < 1e-9).all() and (current["weight"] >= 0).all()
    assert summary["mine"]["rows"] > 1000
    assert cached_weights(cache) is not None
