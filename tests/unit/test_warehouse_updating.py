"""Commands that change the live DuckDB write a copy and swap it in, so a running reader never blocks them."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest

from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse, WarehouseUnavailable, updating


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_update_beside_a_reader_then_swap(fvi_home) -> None:
    settings = get_settings()
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.write_table("gold", "t", pd.DataFrame({"x": [1]}))
    reader = duckdb.connect(str(settings.duckdb_path), read_only=True)  # e.g. the API
    try:
        with updating(settings, "run1") as wh:
            wh.write_table("gold", "t", pd.DataFrame({"x": [2]}))
        assert reader.execute("select x from gold.t").fetchone() == (1,)  # the reader keeps its snapshot
    finally:
        reader.close()
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        assert wh.query("select x from gold.t").x.tolist() == [2]


def test_failed_update_leaves_the_live_file(fvi_home) -> None:
    settings = get_settings()
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.write_table("gold", "t", pd.DataFrame({"x": [1]}))
    before = _sha(settings.duckdb_path)
    with pytest.raises(RuntimeError, match="boom"), updating(settings, "run2") as wh:
        wh.write_table("gold", "t", pd.DataFrame({"x": [3]}))
        raise RuntimeError("boom")
    assert _sha(settings.duckdb_path) == before
    assert not list(settings.duckdb_path.parent.glob("*.building.duckdb*"))


def test_no_warehouse_yet(fvi_home) -> None:
    with pytest.raises(WarehouseUnavailable, match="fvi run"), updating(get_settings(), "run3"):
        pass
