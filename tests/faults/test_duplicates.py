"""Duplicates load once or go to quarantine by a declared rule; never a failed build (issue 16, item 1).

Before: two copies of a mining-land row, or the same file copied twice, reached bronze twice and
failed dbt's uniqueness tests, so the whole build failed and no source's new release swapped in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.pipeline import run_pipeline
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.integration

NAME = "global_mining_area_per_country_v1.csv"


def _ingest(data: Path):  # noqa: ANN202
    report = run_pipeline(get_settings(), data_dir=data, build=False, sources=("mining_land",), say=lambda _m: None)
    return report.outcomes[0]


def _query(sql: str):  # noqa: ANN202
    with DuckDBWarehouse(get_settings().duckdb_path, read_only=True) as wh:
        return wh.query(sql)


def test_same_file_twice_is_loaded_once(fvi_home: Path, shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "mining_land"
    folder.mkdir(parents=True)
    real = shared_data / "mining_land" / NAME
    (folder / NAME).symlink_to(real)
    (folder / "global_mining_area_per_country_v1 (copy).csv").write_bytes(real.read_bytes())
    outcome = _ingest(tmp_path / "data")
    assert outcome.status == "loaded", outcome.message
    assert "byte-identical copy" in outcome.message
    n = _query("select count(*) n, count(distinct iso3_code) k from bronze.raw_mining_land__area")
    assert int(n["n"].iloc[0]) == int(n["k"].iloc[0]) == 121


def test_duplicate_rows_load_once_and_conflicts_go_to_quarantine(fvi_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "mining_land"
    folder.mkdir(parents=True)
    (folder / NAME).write_text(
        "COUNTRY_NAME,ISO3_CODE,AREA,N_FEATURES\n"
        "China,CHN,6567.1,5557\n"
        "Chile,CHL,1000.5,900\n"
        "China,CHN,6567.1,5557\n"   # exact copy: loaded once
        "Chile,CHL,999.0,901\n"     # same key, other values: quarantined, row 3 kept
    )
    outcome = _ingest(tmp_path / "data")
    assert outcome.status == "loaded", outcome.message
    assert "1 exact duplicate rows loaded once" in outcome.message
    assert "1 conflicting duplicates of iso3_code quarantined" in outcome.message
    bronze = _query("select iso3_code, area, _row_number from bronze.raw_mining_land__area order by 3")
    assert list(bronze["iso3_code"]) == ["CHN", "CHL"] and list(bronze["area"]) == ["6567.1", "1000.5"]
    q = _query("select row_number, reason from bronze.quarantine")
    assert list(q["row_number"]) == [5]
    assert "row 3" in q["reason"].iloc[0] and "first copy wins" in q["reason"].iloc[0]


def test_an_eia_mine_repeated_with_other_values_is_quarantined_not_held_back(
    fvi_home: Path, shared_data: Path, tmp_path: Path
) -> None:
    """Before: the repeated MSHA ID failed silver's uniqueness test and held all of EIA back."""
    folder = tmp_path / "data" / "eia_us_coal_mines"
    folder.mkdir(parents=True)
    real = shared_data / "eia_us_coal_mines" / "coalpublic2016.csv"
    lines = real.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    msha = lines[1].split(",")[1]
    lines.insert(2, lines[1].replace(lines[1].split(",", 3)[2], "Another name", 1))  # same key, other values
    (folder / "coalpublic2016.csv").write_text("".join(lines), encoding="utf-8")
    report = run_pipeline(get_settings(), data_dir=tmp_path / "data", build=False, sources=("eia_mines",),
                          say=lambda _m: None)
    outcome = report.outcomes[0]
    assert outcome.status == "loaded" and outcome.rows_quarantined == 1, outcome.message
    assert "conflicting duplicates of msha_id+year+mine_type" in outcome.message
    q = _query("select source_file, row_number, reason from bronze.quarantine")
    assert q.to_dict("records") == [{
        "source_file": "coalpublic2016.csv", "row_number": 3,
        "reason": f'duplicate msha_id+year+mine_type ["{msha}", "2016", "Surface"] with other values: '
                  "row 2 of coalpublic2016.csv kept (first copy wins)",
    }]
    assert _query(f"select count(*) n from bronze.raw_eia_mines__mines where msha_id = '{msha}'")["n"][0] == 1
