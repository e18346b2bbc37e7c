"""gem_mines on the real April 2024 Global Coal Mine Tracker workbook."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import gem_mines
from fvi.ingest.base import FileRecord, LoadResult, load_column_maps

pytestmark = pytest.mark.integration
WORKBOOK = "gem_coal_mines/Global-Coal-Mine-Tracker-April-2024.xlsx"


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> tuple[LoadResult, FileRecord, float]:
    rec = FileRecord(path=shared_data / WORKBOOK)
    start = time.perf_counter()
    res = gem_mines.load([rec])
    return res, rec, time.perf_counter() - start


def test_open_and_closed_sheets_load_whole(loaded) -> None:
    res, rec, seconds = loaded
    opened, closed = res.tables["open"], res.tables["closed"]
    assert len(opened) >= 5200 and opened["gem_mine_id"].nunique() >= 5000
    assert len(closed) >= 1300
    assert len(res.quarantine) == 0
    assert rec.rows_loaded == len(opened) + len(closed)
    assert seconds < 30, f"loading took {seconds:.1f}s"


def test_release_read_from_about_sheet(loaded) -> None:
    res, rec, _ = loaded
    assert res.release == rec.release == "2024-04"
    assert set(res.tables["open"]["_release"]) == {"2024-04"}
    assert "About sheet" in res.notes[0]


def test_every_published_column_is_canonical(loaded) -> None:
    res, _, _ = loaded
    maps = load_column_maps("gem_mines")
    for table, frame in res.tables.items():
        known = maps[table].columns
        unknown = [c for c in frame.columns if c not in known and not c.startswith("_")]
        assert unknown == [], table


def test_values_are_the_publishers_text(loaded) -> None:
    res, _, _ = loaded
    opened = res.tables["open"].set_index("_row_number")
    first = opened.loc[2]  # M0001, Shadashak Coal Mine, spreadsheet row 2
    assert (first["gem_mine_id"], first["mine_name"]) == ("M0001", "Shadashak Coal Mine")
    assert first["capacity_mtpa"] == "*" and first["production_mtpa"] == "1.1"
    assert first["latitude"] == "35.863255"
    closed = res.tables["closed"]
    assert closed["mine_size_km2"].notna().sum() > 0  # 'Mine Size\n(Km2)' on this sheet
    assert closed["closing_year"].notna().sum() > 1000
