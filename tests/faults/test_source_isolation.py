"""One source failing its silver tests no longer blocks the build (issue 16, item 1).

Before: a source whose silver dbt tests failed (a negative area here) failed the whole build, so
nothing swapped and every other source's new release waited for a fix to one file. Now the run
keeps that source's previous good bronze, builds and swaps the rest, and the run report and the
warehouse's ingest manifest and ``/ready`` say which source, which test and how many rows.

The world is the generated demo world (every source present, small); a second run replaces one
published mining-land value with a negative one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from fvi.api import queries
from fvi.api.db import LiveWarehouse
from fvi.api.state import _sources_check
from fvi.demo import write_demo_data
from fvi.exit_codes import DEGRADED_STATUSES
from fvi.pipeline import run_pipeline
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.integration

MINING = Path("mining_land") / "global_mining_area_per_country_v1.csv"
RANGE_TEST = "range_stg_mining_land__area_mining_land_km2"


def _run(home: Path, data: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FVI_HOME", str(home))
    monkeypatch.setenv("FVI_OFFLINE", "1")
    get_settings.cache_clear()
    try:
        return run_pipeline(get_settings(), data_dir=data, score=False, say=lambda _m: None)
    finally:
        get_settings.cache_clear()


def _query(home: Path, sql: str):
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        return wh.query(sql)


def test_a_source_failing_silver_tests_is_carried_forward_and_the_rest_swaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good"
    write_demo_data(good)
    home = tmp_path / "home"
    first = _run(home, good, monkeypatch)
    assert first.built and all(o.status == "loaded" for o in first.outcomes)
    area = "select country_name, area from bronze.raw_mining_land__area order by country_name"
    before = _query(home, area)

    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    text = (bad / MINING).read_text().splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("Japan,"))
    name, code, value, rest = text[row].split(",", 3)
    text[row] = ",".join([name, code, "-" + value, rest])  # passes ingest, fails the silver range test
    (bad / MINING).write_text("\n".join(text) + "\n")

    second = _run(home, bad, monkeypatch)
    assert second.built, second.error  # before: DbtFailed, nothing swapped
    by_source = {o.source_id: o for o in second.outcomes}
    mining = by_source.pop("mining_land")
    assert mining.status == "carried_forward" and mining.status in DEGRADED_STATUSES
    assert RANGE_TEST in mining.message and "(1 rows)" in mining.message
    assert all(o.status == "loaded" for o in by_source.values())  # every other source's data swapped in

    assert _query(home, area).equals(before)  # the previous good bronze, not the negative value
    assert (_query(home, "select min(mining_land_km2) m from silver.stg_mining_land__area")["m"] >= 0).all()
    manifest = _query(home, f"select source_id, status, message from bronze.ingest_manifest "
                            f"where run_id = '{second.run_id}'")  # the live warehouse is the second run's
    assert set(manifest["source_id"]) == {o.source_id for o in second.outcomes}
    held = manifest[manifest["source_id"] == "mining_land"]
    assert set(held["status"]) == {"carried_forward"} and held["message"].str.contains("1 rows").all()
    report = (home / "runs" / f"{second.run_id}.json").read_text()
    assert RANGE_TEST in report

    monkeypatch.setenv("FVI_HOME", str(home))
    get_settings.cache_clear()
    live = LiveWarehouse(get_settings())
    check = _sources_check(SimpleNamespace(warehouse=live))  # what /ready says under "sources"
    with live.reader() as r:
        held = queries.held_back_sources(r)  # what the data-quality view says
    live.close()
    get_settings.cache_clear()
    assert check.ok and "mining_land carried_forward" in check.detail and RANGE_TEST in check.detail
    assert [(h["source_id"], h["status"]) for h in held] == [("mining_land", "carried_forward")]
    assert [(c["check"].startswith(RANGE_TEST), c["rows"]) for c in held[0]["checks"]] == [(True, 1)]
    assert held[0]["rows_served"] >= len(before) > 0  # the previous good rows are what is served
