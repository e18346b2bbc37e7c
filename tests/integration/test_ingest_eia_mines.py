"""eia_mines on the real EIA coalpublic 2008-2016 files: nine years, one schema."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import eia_mines
from fvi.ingest.base import FileRecord, LoadResult, load_column_maps

pytestmark = pytest.mark.integration
YEARS = [str(y) for y in range(2008, 2017)]


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> tuple[LoadResult, list[FileRecord], float]:
    files = [FileRecord(path=p) for p in sorted((shared_data / "eia_us_coal_mines").glob("*.csv"))]
    start = time.perf_counter()
    res = eia_mines.load(files)
    return res, files, time.perf_counter() - start


def test_every_year_in_one_schema(loaded) -> None:
    res, files, seconds = loaded
    mines = res.tables["mines"]
    per_year = mines.groupby("_release").size().to_dict()
    print(f"eia_mines: {len(mines)} rows in {seconds:.2f}s; per year {per_year}")
    assert sorted(per_year) == YEARS
    assert all(900 <= n <= 2000 for n in per_year.values()), per_year
    assert (mines["year"] == mines["_release"]).all()
    assert set(load_column_maps("eia_mines")["mines"].columns) <= set(mines.columns)
    assert [f.release for f in files] == YEARS
    assert sum(f.rows_loaded for f in files) == len(mines)
    assert len(res.quarantine) == 0
    assert seconds < 10, f"loading took {seconds:.1f}s"


def test_columns_follow_the_release(loaded) -> None:
    mines = loaded[0].tables["mines"]
    by_year = mines.groupby("_release")[["mine_basin", "coal_supply_region"]].count()
    assert (by_year.loc["2008":"2011", "mine_basin"] > 0).all()
    assert (by_year.loc["2012"] == 0).all()  # 2012 publishes neither column
    assert (by_year.loc["2013":"2016", "coal_supply_region"] > 0).all()
    assert (by_year.loc["2013":"2016", "mine_basin"] == 0).all()


def test_values_are_the_publishers_text(loaded) -> None:
    mines = loaded[0].tables["mines"]
    first = mines[(mines["_release"] == "2008") & (mines["msha_id"] == "103295")].iloc[0]
    assert first["production_short_tons"] == "105,082"
    assert first["_row_number"] == 2
    assert mines["production_short_tons"].str.contains(",", regex=False).any()
    assert mines["msha_id"].str.fullmatch(r"\d+").all()
