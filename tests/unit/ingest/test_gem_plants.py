"""gem_plants on tiny workbooks written here: the 2017 and 2023 layouts map to one column set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from fvi.ingest import gem_plants
from fvi.ingest.base import FileRecord, LayoutError
from fvi.registry import load_sources

HEADER_2023 = [
    "GEM unit/phase ID", "GEM location ID", "Country", "Plant name", "Unit name", "Owner",
    "Parent", "Capacity (MW)", "Status", "Start year", "Retired year", "Planned retirement",
    "Annual CO2 (million tonnes / annum)",
]
ROWS_2023 = [
    ["G108106", "L100001", "Albania", "Porto Romano", "Unit 1", "Enel SpA", "Enel SpA", 800.0,
     "cancelled", None, None, None, 3.1],
    ["G108585", "L100003", "Argentina", "Río Turbio", "Unit 1", "YCRT", "YCRT", 120.0,
     "operating", 2022.0, None, 2060, 0.6],
]
HEADER_2017 = [
    "Tracker ID", "Unit", "Plant", "Sponsor", "Parent", "Capacity (MW)", "Status", "Year",
    "Planned Retire", "Year Retire", "Country", "Region", "Annual CO2 (mt/year)", "Emission factor",
]
ROWS_2017 = [
    ["G108106", "Porto Romano Unit 1", "Porto Romano", "Enel", "Enel", 800.0, "Cancelled", None,
     None, None, "Albania", "non-EU Europe", 3.257710514355787, 205.3],
    [None, "To come", "To come", "Shanxi Coal", "Shanxi Coal", 350.0, "Pre", None, None, None,
     "China", "East Asia", 0.03, 205.3],
]


def write_gcpt(
    path: Path, header: list[str], rows: list[list[Any]], *, title: str | None,
    sheet: str = "Coal Projects",
) -> FileRecord:
    """A GCPT-shaped workbook: About sheet (title in B2, as GEM lays it out) and a units sheet."""
    wb = Workbook()
    about = wb.active
    about.title = "About"
    if title:
        about["B2"] = title
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return FileRecord(path=path)


def test_2023_layout(tmp_path: Path) -> None:
    rec = write_gcpt(tmp_path / "g.xlsx", HEADER_2023, ROWS_2023,
                     title="Global Coal Plant Tracker - July 2023")
    res = gem_plants.load([rec])
    units = res.tables["units"]
    assert units["gem_unit_id"].tolist() == ["G108106", "G108585"]
    assert units["start_year"].isna().tolist() == [True, False]
    assert units.loc[1, "start_year"] == "2022"
    assert units.loc[1, "planned_retirement_year"] == "2060"
    assert units["capacity_mw"].tolist() == ["800", "120"]
    assert units["annual_co2_mt"].tolist() == ["3.1", "0.6"]
    assert set(units["_release"]) == {"2023-07"} and rec.release == "2023-07"
    assert units["_row_number"].tolist() == [2, 3]


def test_2017_layout_maps_to_same_columns_and_quarantines_missing_id(tmp_path: Path) -> None:
    rec = write_gcpt(tmp_path / "g.xlsx", HEADER_2017, ROWS_2017,
                     title="Global Coal Plant Tracker - Jan 2017c")
    res = gem_plants.load([rec])
    units = res.tables["units"]
    assert len(units) == 1
    row = units.iloc[0]
    assert (row["gem_unit_id"], row["plant_name"], row["unit_name"], row["owner"]) == (
        "G108106", "Porto Romano", "Porto Romano Unit 1", "Enel"
    )
    assert row["annual_co2_mt"] == "3.257710514355787"  # lossless text
    assert row["emission_factor"] == "205.3"  # lb/MMBtu: not merged with the kg/TJ column
    assert pd.isna(row["emission_factor_kg_co2_per_tj"])
    assert row["_release"] == "2017-01"
    q = res.quarantine.frame()
    assert q[["row_number", "reason"]].values.tolist() == [[3, "missing key gem_unit_id"]]
    assert (rec.rows_loaded, rec.rows_quarantined) == (1, 1)


def test_both_releases_side_by_side(tmp_path: Path) -> None:
    a = write_gcpt(tmp_path / "a.xlsx", HEADER_2017, ROWS_2017[:1],
                   title="Global Coal Plant Tracker - Jan 2017c")
    b = write_gcpt(tmp_path / "b.xlsx", HEADER_2023, ROWS_2023, title=None, sheet="Units")
    b.path.rename(tmp_path / "Global-Coal-Plant-Tracker-January-2026.xlsx")
    b = FileRecord(path=tmp_path / "Global-Coal-Plant-Tracker-January-2026.xlsx")
    res = gem_plants.load([a, b])
    units = res.tables["units"]
    assert units[["gem_unit_id", "status", "_release"]].values.tolist() == [
        ["G108106", "Cancelled", "2017-01"],
        ["G108106", "cancelled", "2026-01"],
        ["G108585", "operating", "2026-01"],
    ]
    assert units.loc[2, "gem_location_id"] == "L100003"
    assert pd.isna(units.loc[0, "gem_location_id"])  # 2017 has no location ID
    assert res.release == "2026-01"
    assert "About sheet" in res.notes[0] and "file name" in res.notes[1]


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    header = [h if h != "Plant name" else "Station" for h in HEADER_2023]
    rec = write_gcpt(tmp_path / "g.xlsx", header, ROWS_2023, title=None)
    with pytest.raises(LayoutError, match="plant_name"):
        gem_plants.load([rec])


def test_missing_units_sheet_names_it(tmp_path: Path) -> None:
    rec = write_gcpt(tmp_path / "g.xlsx", HEADER_2023, ROWS_2023, title=None, sheet="Summary")
    with pytest.raises(LayoutError, match="missing sheet.*'Units'.*'Coal Projects'"):
        gem_plants.load([rec])


def test_fetch_of_gated_workbook_uses_placed_file(tmp_path: Path) -> None:
    # a gated (manual) file is never downloaded, so this test cannot reach the network
    assert all(f.manual for f in load_sources()["gem_plants"].files)
    (tmp_path / "gem_coal_plants").mkdir()
    rec = write_gcpt(tmp_path / "gem_coal_plants" / "Global-Coal-Plant-Tracker-July-2023.xlsx",
                     HEADER_2023, ROWS_2023, title="Global Coal Plant Tracker - July 2023")
    files = gem_plants.fetch(tmp_path)
    assert [r.path for r in files] == [rec.path]
    assert len(gem_plants.load(files).tables["units"]) == 2
