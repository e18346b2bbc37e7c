"""owid on the real grapher exports and codebooks in shared/data, found through the registry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import owid
from fvi.ingest.base import LoadResult, load_column_maps

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> tuple[LoadResult, float]:
    start = time.perf_counter()
    res = owid.load(owid.locate(shared_data))
    return res, time.perf_counter() - start


def test_every_table_loads_with_no_quarantine(loaded: tuple[LoadResult, float]) -> None:
    res, seconds = loaded
    sizes = {t: len(f) for t, f in res.tables.items()}
    print(f"owid: {sizes}, quarantined {len(res.quarantine)}, {seconds:.2f}s")
    assert set(sizes) == set(load_column_maps("owid"))
    assert all(n > 0 for n in sizes.values()), sizes
    assert len(res.quarantine) == 0
    assert all(f.rows_loaded > 0 for f in res.files)


def test_coal_production_covers_the_world(loaded: tuple[LoadResult, float]) -> None:
    t = loaded[0].tables["coal_production"]
    countries = t.loc[t["iso3_code"].str.fullmatch(r"[A-Z]{3}").fillna(False), "entity"]
    assert countries.nunique() >= 150
    pol = t[(t["iso3_code"] == "POL") & (t["year"] == "2020")]
    assert len(pol) == 1 and float(pol["coal_production_twh"].item()) > 100


def test_consumption_read_once_from_the_csv(loaded: tuple[LoadResult, float]) -> None:
    res = loaded[0]
    cons = res.tables["coal_consumption"]
    assert set(cons["_source_file"]) == {"owid_coal_consumption_by_country_twh.csv"}
    assert not cons.duplicated(["entity", "year"]).any()
    assert any("owid_coal_consumption_by_country_twh.xlsx" in n for n in res.notes)


def test_codebooks_and_coal_columns(loaded: tuple[LoadResult, float]) -> None:
    tables = loaded[0].tables
    assert tables["codebook"]["_source_file"].nunique() == 2
    assert "coal_production" in set(tables["codebook"]["column"])
    assert tables["electricity_mix"]["coal_pct_electricity"].notna().sum() > 1000
    assert tables["co2_from_coal"]["co2_from_coal_t"].notna().all()
