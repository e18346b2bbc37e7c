"""gem_plants on the real Jan 2017 and July 2023 Global Coal Plant Tracker workbooks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import gem_plants
from fvi.ingest.base import FileRecord, LoadResult, load_column_maps

pytestmark = pytest.mark.integration
OLD = "gem_coal_plants/Global-Coal-Plant-Tracker-Jan-2017.xlsx"
NEW = "gem_coal_plants/Global-Coal-Plant-Tracker-July-2023.xlsx"
SHARED = [
    "gem_unit_id", "country", "plant_name", "unit_name", "owner", "parent", "capacity_mw",
    "status", "start_year", "retired_year", "planned_retirement_year", "combustion_technology",
    "region", "latitude", "longitude", "location_accuracy", "annual_co2_mt",
]


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> tuple[LoadResult, list[FileRecord], float]:
    recs = [FileRecord(path=shared_data / OLD), FileRecord(path=shared_data / NEW)]
    start = time.perf_counter()
    res = gem_plants.load(recs)
    return res, recs, time.perf_counter() - start


def test_both_releases_load(loaded) -> None:
    res, (old, new), seconds = loaded
    units = res.tables["units"]
    counts = units["_release"].value_counts().to_dict()
    assert (old.release, new.release) == ("2017-01", "2023-07")
    assert counts["2023-07"] >= 13000 and counts["2017-01"] >= 11000
    assert (new.rows_loaded, new.rows_quarantined) == (counts["2023-07"], 0)
    assert res.release == "2023-07"
    assert seconds < 60, f"loading took {seconds:.1f}s"


def test_2017_rows_without_tracker_id_are_quarantined(loaded) -> None:
    res, (old, _), _ = loaded
    q = res.quarantine.frame()
    assert len(q) == old.rows_quarantined > 0
    assert set(q["reason"]) == {"missing key gem_unit_id"}
    assert q["row_number"].notna().all()


def test_canonical_columns_present_in_both_releases(loaded) -> None:
    res, _, _ = loaded
    units = res.tables["units"]
    for release, part in units.groupby("_release"):
        empty = [c for c in SHARED if part[c].notna().sum() == 0]
        assert empty == [], release
    known = load_column_maps("gem_plants")["units"].columns
    assert [c for c in units.columns if c not in known and not c.startswith("_")] == []


def test_values_are_the_publishers_text(loaded) -> None:
    res, _, _ = loaded
    units = res.tables["units"]
    first_2023 = units[(units["_release"] == "2023-07") & (units["_row_number"] == 2)].iloc[0]
    assert first_2023["gem_unit_id"] == "G108106" and first_2023["status"] == "cancelled"
    assert first_2023["emission_factor_kg_co2_per_tj"] == "94600"
    first_2017 = units[(units["_release"] == "2017-01") & (units["_row_number"] == 2)].iloc[0]
    assert first_2017["gem_unit_id"] == "G108106" and first_2017["status"] == "Cancelled"
    assert first_2017["emission_factor"] == "205.3"
    assert first_2017["annual_co2_mt"] == "3.257710514355787"
