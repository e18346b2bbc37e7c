"""Issue-2 acceptance on the real samples: one full `fvi run` (DuckDB), then the facts it must hold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.integration.helpers import env

from fvi.pipeline import CONNECTORS
from fvi.warehouse import DuckDBWarehouse, export_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def built(shared_build):
    """The session's shared real-data run (tests/integration/conftest.py), opened read-only."""
    home, report = shared_build
    with env(FVI_HOME=str(home), FVI_WAREHOUSE_URL=None, FVI_DATA_DIR=None) as settings:
        wh = DuckDBWarehouse(settings.duckdb_path, read_only=True)
        try:
            yield settings, report, wh
        finally:
            wh.close()


def one(wh: DuckDBWarehouse, sql: str):
    return wh.query(sql).iloc[0, 0]


def test_every_source_loaded_with_licence_and_checksum(built):
    _, report, wh = built
    assert report["built"] and not report["input"]["synthetic"] and report["error"] is None
    assert {o["source_id"]: o["status"] for o in report["sources"]} == {s: "loaded" for s in CONNECTORS}
    manifest = wh.query("select * from bronze.ingest_manifest")
    assert set(manifest["source_id"]) == set(CONNECTORS)
    assert manifest["licence_name"].notna().all() and manifest["licence_url"].notna().all()
    assert manifest["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert (manifest["bytes"] > 0).all()


def test_gem_mines_loaded(built):
    _, _, wh = built
    assert one(wh, "select count(*) from bronze.raw_gem_mines__open") >= 5200
    assert one(wh, "select count(distinct gem_mine_id) from bronze.raw_gem_mines__open") >= 5000
    assert one(wh, "select count(distinct gem_mine_id) from bronze.raw_gem_mines__closed") >= 1300


def test_dim_mine_one_row_per_gem_mine_id(built):
    _, _, wh = built
    ids = one(
        wh,
        "select count(distinct gem_mine_id) from (select gem_mine_id from bronze.raw_gem_mines__open "
        "union all select gem_mine_id from bronze.raw_gem_mines__closed) as a",
    )
    rows, distinct = wh.query("select count(*), count(distinct gem_mine_id) from gold.dim_mine").iloc[0]
    assert rows == distinct == ids


def test_operating_mines_in_60_plus_countries(built):
    _, _, wh = built
    n = one(wh, "select count(distinct country_iso3) from gold.dim_mine where status = 'operating'")
    assert n >= 60


def test_climate_trace_joined_to_3000_plus_mines(built):
    _, _, wh = built
    n = one(
        wh,
        "select count(distinct f.gem_mine_id) from gold.fct_mine__yearly f "
        "join gold.dim_mine d using (gem_mine_id) where f.ct_emissions_t_co2e is not null",
    )
    assert n >= 3000


def test_eia_2008_2016_in_one_schema(built):
    _, _, wh = built
    years = wh.query("select distinct year from gold.fct_us_mine__yearly order by 1")["year"].tolist()
    assert list(range(2008, 2017)) == [y for y in years if 2008 <= y <= 2016]
    per_year = wh.query(
        "select year, count(*) n, count(production_short_tons) p from gold.fct_us_mine__yearly group by 1"
    )
    assert (per_year["n"] > 900).all() and (per_year["p"] == per_year["n"]).all()


def test_owid_coal_production_150_plus_countries(built):
    _, _, wh = built
    n = one(
        wh,
        "select count(distinct iso3) from gold.fct_country__yearly where coal_production_twh is not null",
    )
    assert n >= 150


def test_data_quality_view_has_one_row_per_metric(built):
    _, _, wh = built
    from fvi.registry.metrics import load_metrics

    dq = wh.query("select * from marts.vw_metric_dq")
    assert len(dq) == dq["metric_id"].nunique() == len(load_metrics())
    assert dq["null_rate"].between(0, 1).all()


def test_export_warehouse_writes_one_file_per_gold_table(built, tmp_path: Path):
    settings, _, wh = built
    written = export_tables(settings, "gold", tmp_path, "parquet")
    assert {p.stem for p in written} == set(wh.tables("gold"))
    dim = pd.read_parquet(tmp_path / "dim_mine.parquet")
    assert len(dim) == one(wh, "select count(*) from gold.dim_mine")
