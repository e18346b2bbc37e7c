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
