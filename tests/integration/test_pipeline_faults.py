"""Bad input never loses data: a broken source fails alone, a failed run keeps the last good one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fvi import pipeline
from fvi.pipeline import run_pipeline
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

SOURCES = ("mining_land", "coal_policy")


def _data_dir(tmp: Path, shared: Path, *, mining_csv: str | None = None) -> Path:
    """A data dir laid out like shared/data: real files linked, or a generated mining-land CSV."""
    root = tmp / "data"
    (root / "coal_policy").mkdir(parents=True, exist_ok=True)
    (root / "mining_land").mkdir(parents=True, exist_ok=True)
    for f in (shared / "coal_policy").iterdir():
        link = root / "coal_policy" / f.name
        if not link.exists():
            link.symlink_to(f)
    target = root / "mining_land" / "global_mining_area_per_country_v1.csv"
    target.unlink(missing_ok=True)
    if mining_csv is None:
        target.symlink_to(shared / "mining_land" / "global_mining_area_per_country_v1.csv")
    else:
        target.write_text(mining_csv)
    return root


def _run(data_dir: Path):
    return run_pipeline(get_settings(), data_dir=data_dir, build=False, sources=SOURCES, say=lambda _m: None)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bronze(table: str, order: str = "_row_number"):
    with DuckDBWarehouse(get_settings().duckdb_path, read_only=True) as wh:
        return wh.query(f"select * from bronze.{table} order by {order}")


pytestmark = pytest.mark.integration


def test_unknown_layout_fails_that_source_only(fvi_home, shared_data, tmp_path):
    bad = "COUNTRY_NAME,ISO_CODE,AREA,N_FEATURES\nChina,CHN,1.5,3\n"
    report = _run(_data_dir(tmp_path, shared_data, mining_csv=bad))
    by_id = {o.source_id: o for o in report.outcomes}
    assert by_id["mining_land"].status == "failed"
    assert "missing required columns" in by_id["mining_land"].message
    assert "iso3_code" in by_id["mining_land"].message
    assert by_id["coal_policy"].status == "loaded"
    assert len(_bronze("raw_coal_policy__phase_out")) > 100
    assert len(_bronze("raw_mining_land__area")) == 0  # created empty, not absent


def test_failed_source_keeps_previous_bronze(fvi_home, shared_data, tmp_path):
    _run(_data_dir(tmp_path, shared_data))
    before = _bronze("raw_mining_land__area")
    report = _run(_data_dir(tmp_path, shared_data, mining_csv="nonsense\n1\n"))
    outcome = next(o for o in report.outcomes if o.source_id == "mining_land")
    assert outcome.status == "carried_forward"
    after = _bronze("raw_mining_land__area")
    assert len(after) == len(before) > 100


def test_malformed_row_is_quarantined_with_reason(fvi_home, shared_data, tmp_path):
    csv = (
        "COUNTRY_NAME,ISO3_CODE,AREA,N_FEATURES\n"
        "China,CHN,6567.1,5557\n"
        "Broken,,12.0,3\n"
        "Too,MANY,1,2,3\n"
        "Chile,CHL,1000.5,900\n"
    )
    _run(_data_dir(tmp_path, shared_data, mining_csv=csv))
    assert list(_bronze("raw_mining_land__area")["iso3_code"]) == ["CHN", "CHL"]
    q = _bronze("quarantine", order="row_number")
    assert list(q["row_number"]) == [3, 4]
    assert "missing key iso3_code" in q["reason"].iloc[0]
    assert "expected 4 fields, got 5" in q["reason"].iloc[1]


def test_interrupted_run_leaves_live_warehouse_untouched(fvi_home, shared_data, tmp_path, monkeypatch):
    data = _data_dir(tmp_path, shared_data)
    _run(data)
    live = get_settings().duckdb_path
    digest = _sha(live)
    real = pipeline.connector

    class Boom:
        def __getattr__(self, name):
            if name == "load":
                def load(files):
                    raise KeyboardInterrupt("simulated interruption mid-ingest")
                return load
            return getattr(real("coal_policy"), name)

    monkeypatch.setattr(pipeline, "connector", lambda sid: Boom() if sid == "coal_policy" else real(sid))
    with pytest.raises(KeyboardInterrupt):
        _run(data)
    assert _sha(live) == digest
    assert not list(live.parent.glob("fvi.*.building.duckdb*"))


def test_rerun_same_input_is_idempotent(fvi_home, shared_data, tmp_path):
    data = _data_dir(tmp_path, shared_data)
    _run(data)
    first = {t: _bronze(t) for t in ("raw_mining_land__area", "raw_coal_policy__cop26", "raw_coal_policy__phase_out")}
    _run(data)
    for table, frame in first.items():
        again = _bronze(table)
        assert frame.equals(again), table
    with DuckDBWarehouse(get_settings().duckdb_path, read_only=True) as wh:
        runs = wh.query("select run_id, count(*) n from bronze.ingest_manifest group by 1")
    assert len(runs) == 2  # the manifest appends one entry set per run; the data does not change


def test_failed_scoring_step_keeps_the_previous_warehouse(fvi_home, shared_data, tmp_path, monkeypatch):
    """Scoring runs on the staging warehouse; if it fails, nothing is swapped in."""
    data = _data_dir(tmp_path, shared_data)
    _run(data)
    live = get_settings().duckdb_path
    before = _sha(live)

    def boom(*_a, **_k):
        raise RuntimeError("scoring exploded")

    monkeypatch.setattr("fvi.dbt.run_dbt", lambda *a, **k: None)  # the build itself is covered elsewhere
    monkeypatch.setattr("fvi.scoring.run.score_warehouse", boom)
    with pytest.raises(RuntimeError, match="scoring exploded"):
        run_pipeline(get_settings(), data_dir=data, build=True, sources=SOURCES, say=lambda _m: None)
    assert _sha(live) == before
    assert not list(live.parent.glob("*.building.duckdb"))
