"""gem_mines on tiny workbooks written here: layout drift, quarantine, releases side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from fvi.ingest import gem_mines
from fvi.ingest._gem import release_from_text
from fvi.ingest.base import FileRecord, LayoutError, SourceNotFound
from fvi.registry import load_sources

OPEN_HEADER = [
    "GEM Mine ID", "Country", "Mine Name", "Status", "Capacity (Mtpa)", "Mine Size (Km2)",
]
CLOSED_HEADER = ["GEM Mine ID", "Country", "Mine Name", "Closing Year", "Mine Size\n(Km2)"]
OPEN_SHEET = "Global Coal Mine Tracker (Non-C"
CLOSED_SHEET = "Global Coal Mine Tracker (Close"


def write_gcmt(
    path: Path,
    *,
    title: str | None = "Global Coal Mine Tracker - April 2024",
    open_rows: list[list[Any]] | None = None,
    closed_rows: list[list[Any]] | None = None,
    open_header: list[str] = OPEN_HEADER,
    closed_header: list[str] = CLOSED_HEADER,
    sheets: tuple[str, str] = (OPEN_SHEET, CLOSED_SHEET),
) -> FileRecord:
    """A GCMT-shaped workbook: About sheet, non-closed and closed mines."""
    wb = Workbook()
    about = wb.active
    about.title = "About"
    if title:
        about.append([title])
        about.append(["Copyright © Global Energy Monitor."])
    for name, header, rows in (
        (sheets[0], open_header, open_rows),
        (sheets[1], closed_header, closed_rows),
    ):
        if not name:
            continue
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows if rows is not None else []:
            ws.append(row)
    wb.save(path)
    return FileRecord(path=path)


OPEN_ROWS = [
    ["M0001", "Afghanistan", "Shadashak Coal Mine", "Operating", "*", 494.0],
    ["M0002", "Australia", "Airly Coal Mine", "Operating", 1.8, 40.0],
    ["M0002", "Australia", "Airly Coal Mine", "Proposed", 1.25, "-"],
]
CLOSED_ROWS = [["M5576", "Australia", "Anglesea Coal Mine", 2015, 5.45]]


def test_normal_file_is_copied_as_text(tmp_path: Path) -> None:
    rec = write_gcmt(tmp_path / "gcmt.xlsx", open_rows=OPEN_ROWS, closed_rows=CLOSED_ROWS)
    res = gem_mines.load([rec])

    opened, closed = res.tables["open"], res.tables["closed"]
    assert len(opened) == 3 and len(closed) == 1
    assert opened["gem_mine_id"].tolist() == ["M0001", "M0002", "M0002"]  # phases kept
    assert opened["capacity_mtpa"].tolist() == ["*", "1.8", "1.25"]  # publisher's text
    assert opened["mine_size_km2"].tolist() == ["494", "40", "-"]
    assert opened["_row_number"].tolist() == [2, 3, 4]
    assert set(opened["_sheet"]) == {OPEN_SHEET} and set(closed["_sheet"]) == {CLOSED_SHEET}
    assert set(opened["_release"]) == {"2024-04"} and res.release == "2024-04"
    assert closed["closing_year"].tolist() == ["2015"]
    assert "status" in closed.columns and closed["status"].isna().all()  # one schema for both
    assert rec.release == "2024-04" and rec.rows_loaded == 4 and rec.rows_quarantined == 0
    assert "About sheet" in res.notes[0]


def test_line_break_header_and_country_area_map_to_canonical(tmp_path: Path) -> None:
    header = [
        "GEM Mine ID", "Country / Area", "Mine Name", "Status", "Mine Depth\n(m)", "New Field",
    ]
    rec = write_gcmt(
        tmp_path / "gcmt.xlsx",
        open_header=header,
        open_rows=[["M0001", "Afghanistan", "Shadashak", "Operating", 703, "x"]],
        closed_header=["GEM Mine ID", "Country/Area", "Mine Name", "Mine Size\n(Km2)"],
        closed_rows=[["M5576", "Australia", "Anglesea", 5.45]],
    )
    res = gem_mines.load([rec])
    opened, closed = res.tables["open"], res.tables["closed"]
    assert opened.loc[0, "country"] == "Afghanistan"
    assert opened.loc[0, "mine_depth_m"] == "703"
    assert opened.loc[0, "new_field"] == "x"  # an added column keeps its snake_case name
    assert closed.loc[0, "country"] == "Australia"
    assert closed.loc[0, "mine_size_km2"] == "5.45"


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    header = ["GEM Mine ID", "Nation", "Mine Name", "Status"]
    rec = write_gcmt(tmp_path / "gcmt.xlsx", open_header=header, open_rows=[["M1", "X", "Y", "Z"]])
    with pytest.raises(LayoutError, match="country") as exc:
        gem_mines.load([rec])
    assert "Country / Area" in str(exc.value) and OPEN_SHEET in str(exc.value)


def test_closed_sheet_requires_mine_name(tmp_path: Path) -> None:
    rec = write_gcmt(tmp_path / "gcmt.xlsx", closed_header=["GEM Mine ID", "Country", "Name"])
    with pytest.raises(LayoutError, match="mine_name"):
        gem_mines.load([rec])


def test_missing_sheet_names_it(tmp_path: Path) -> None:
    rec = write_gcmt(tmp_path / "gcmt.xlsx", open_rows=OPEN_ROWS, sheets=(OPEN_SHEET, ""))
    with pytest.raises(LayoutError, match="missing sheet") as exc:
        gem_mines.load([rec])
    assert "Global Coal Mine Tracker (Close" in str(exc.value)


def test_newer_sheet_names_are_accepted(tmp_path: Path) -> None:
    rec = write_gcmt(
        tmp_path / "gcmt.xlsx", open_rows=OPEN_ROWS, closed_rows=CLOSED_ROWS,
        sheets=("GCMT Non-Closed Mines", "GCMT Closed Mines"),
    )
    res = gem_mines.load([rec])
    assert set(res.tables["open"]["_sheet"]) == {"GCMT Non-Closed Mines"}
    assert set(res.tables["closed"]["_sheet"]) == {"GCMT Closed Mines"}


def test_empty_or_malformed_mine_id_is_quarantined(tmp_path: Path) -> None:
    rows = [
        ["M0001", "Afghanistan", "Shadashak", "Operating", 1, 1],
        [None, "Australia", "No ID", "Operating", 1, 1],
        ["Mine 7", "Australia", "Bad ID", "Operating", 1, 1],
        ["M0004", "Australia", "Angus Place", "Cancelled", 3, 104.6],
    ]
    rec = write_gcmt(tmp_path / "gcmt.xlsx", open_rows=rows, closed_rows=CLOSED_ROWS)
    res = gem_mines.load([rec])

    assert res.tables["open"]["gem_mine_id"].tolist() == ["M0001", "M0004"]
    q = res.quarantine.frame()
    assert q["row_number"].tolist() == [3, 4]
    assert q["reason"].tolist()[0] == "missing key gem_mine_id"
    assert "'Mine 7' is not a valid gem_mine_id" in q["reason"].tolist()[1]
    assert set(q["table_name"]) == {"open"} and set(q["source_id"]) == {"gem_mines"}
    assert rec.rows_loaded == 3 and rec.rows_quarantined == 2


def test_two_releases_side_by_side_keep_their_release(tmp_path: Path) -> None:
    old = write_gcmt(tmp_path / "a.xlsx", title="Global Coal Mine Tracker - April 2024",
                     open_rows=OPEN_ROWS[:1], closed_rows=[])
    new = write_gcmt(tmp_path / "b.xlsx", title="Global Coal Mine Tracker - May 2026",
                     open_rows=[["M0001", "Afghanistan", "Shadashak", "Mothballed", "*", 494]],
                     closed_rows=CLOSED_ROWS)
    res = gem_mines.load([old, new])
    opened = res.tables["open"]
    assert opened[["gem_mine_id", "status", "_release", "_source_file"]].values.tolist() == [
        ["M0001", "Operating", "2024-04", "a.xlsx"],
        ["M0001", "Mothballed", "2026-05", "b.xlsx"],
    ]
    assert res.release == "2026-05"
    assert (old.release, new.release) == ("2024-04", "2026-05")


def test_release_falls_back_to_file_name(tmp_path: Path) -> None:
    rec = write_gcmt(tmp_path / "Global-Coal-Mine-Tracker-January-2023.xlsx", title=None,
                     open_rows=OPEN_ROWS, closed_rows=[])
    res = gem_mines.load([rec])
    assert set(res.tables["open"]["_release"]) == {"2023-01"}
    assert "file name" in res.notes[0]


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("Global Coal Mine Tracker - April 2024", "2024-04"),
        ("Global Coal Plant Tracker - Jan 2017c", "2017-01"),
        ("Global-Coal-Plant-Tracker-July-2023", "2023-07"),
        ("Global Coal Mine Tracker, Sept. 2025 release", "2025-09"),
        ("Global Coal Mine Tracker", None),
        ("Tracker 2024", None),
    ],
)
def test_release_from_text(text: str, release: str | None) -> None:
    assert release_from_text(text) == release


def test_unreadable_workbook_is_a_layout_error(tmp_path: Path) -> None:
    page = tmp_path / "Global-Coal-Mine-Tracker-April-2024.xlsx"
    page.write_text("<html>request form</html>")
    with pytest.raises(LayoutError, match="not a readable workbook"):
        gem_mines.load([FileRecord(path=page)])


def test_fetch_of_gated_workbook_uses_placed_file_or_says_where(tmp_path: Path) -> None:
    # a gated (manual) file is never downloaded, so this test cannot reach the network
    assert all(f.manual for f in load_sources()["gem_mines"].files)
    with pytest.raises(SourceNotFound, match="globalenergymonitor.org"):
        gem_mines.fetch(tmp_path)
    (tmp_path / "gem_coal_mines").mkdir()
    rec = write_gcmt(tmp_path / "gem_coal_mines" / "Global-Coal-Mine-Tracker-April-2024.xlsx",
                     open_rows=OPEN_ROWS, closed_rows=CLOSED_ROWS)
    assert [r.path for r in gem_mines.fetch(tmp_path)] == [rec.path]
    assert [r.path for r in gem_mines.locate(tmp_path)] == [rec.path]
