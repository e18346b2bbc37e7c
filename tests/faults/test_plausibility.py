"""Plausibility before replacement, and every bad number accounted for (issue 16, item 5).

Before: a Global Carbon Budget CSV cut mid-line replaced the complete release (31,818 of 63,104
rows, exit 0); ``1e400`` became ``inf`` and ``abc`` / ``12,3x`` / ``N/A?`` became NULL silently.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fvi.pipeline import run_pipeline
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.integration

GCP_FILE = "GCB2022v27_MtCO2_flat.csv"


def _gcp_dir(tmp: Path, shared: Path, text: bytes | None = None) -> Path:
    folder = tmp / "data" / "gcp_co2_by_fuel"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / GCP_FILE
    target.unlink(missing_ok=True)
    if text is None:
        target.symlink_to(shared / "gcp_co2_by_fuel" / GCP_FILE)
    else:
        target.write_bytes(text)
    return tmp / "data"


def _ingest(data: Path, sources: tuple[str, ...] = ("gcp",)):  # noqa: ANN202
    report = run_pipeline(get_settings(), data_dir=data, build=False, sources=sources, say=lambda _m: None)
    return {o.source_id: o for o in report.outcomes}


def _bronze(sql: str) -> pd.DataFrame:
    with DuckDBWarehouse(get_settings().duckdb_path, read_only=True) as wh:
        return wh.query(sql)


def _gcp_rows() -> int:
    return int(_bronze("select count(*) n from bronze.raw_gcp__co2_by_fuel")["n"].iloc[0])


@pytest.fixture()
def gcp_loaded(fvi_home: Path, shared_data: Path, tmp_path: Path) -> tuple[Path, bytes, int]:
    data = _gcp_dir(tmp_path, shared_data)
    assert _ingest(data)["gcp"].status == "loaded"
    full = (shared_data / "gcp_co2_by_fuel" / GCP_FILE).read_bytes()
    return data, full, _gcp_rows()


def test_file_cut_mid_line_is_refused_and_the_previous_release_kept(gcp_loaded, shared_data, tmp_path) -> None:
    _, full, rows = gcp_loaded
    assert rows == 63104
    cut = full[: len(full) // 2]
    cut = cut[: cut.rindex(b"\n") + 25]  # half the file, ending inside a line
    outcome = _ingest(_gcp_dir(tmp_path, shared_data, cut))["gcp"]
    assert outcome.status == "carried_forward", outcome.message
    assert "ends mid-line" in outcome.message and GCP_FILE in outcome.message
    assert _gcp_rows() == rows


def test_half_the_rows_is_refused_even_when_cut_at_a_line_end(gcp_loaded, shared_data, tmp_path) -> None:
    _, full, rows = gcp_loaded
    cut = full[: full.index(b"\n", len(full) // 2) + 1]  # a clean cut: only the row count tells
    outcome = _ingest(_gcp_dir(tmp_path, shared_data, cut))["gcp"]
    assert outcome.status == "carried_forward", outcome.message
    assert "rows against 63104 in the previous release" in outcome.message
    assert _gcp_rows() == rows


def test_a_refused_release_can_be_accepted_on_purpose(gcp_loaded, shared_data, tmp_path, monkeypatch) -> None:
    _, full, _ = gcp_loaded
    cut = full[: full.index(b"\n", len(full) // 2) + 1]
    monkeypatch.setenv("FVI_ACCEPT_IMPLAUSIBLE", "1")
    get_settings.cache_clear()
    outcome = _ingest(_gcp_dir(tmp_path, shared_data, cut))["gcp"]
    assert outcome.status == "loaded" and "accepted although implausible" in outcome.message
    assert _gcp_rows() < 40000


def test_every_bad_number_cell_is_quarantined_with_its_column(fvi_home, tmp_path) -> None:
    header = "Country,ISO 3166-1 alpha-3,Year,Total,Coal,Oil,Gas,Cement,Flaring,Other,Per Capita\n"
    rows = [
        "Aland,ALA,2000,1e400,1.0,2,3,0,0,,0.1",      # overflows to inf
        "Bland,BLA,2000,5.5,abc,2,3,0,0,,0.1",
        "Cland,CLA,2000,5.5,12,3x,3,0,0,,0.1",     # "12,3x" unquoted: coal 12, oil '3x'
        "Dland,DLA,2000,5.5,1,2,N/A?,0,0,,0.1",
        "Eland,ELA,2000,5.5,1,2,3,0,0,,-1E-3",
        "Fland,FLA,2000,5.5,1,2,3,0,0,,inf",
    ]
    data = tmp_path / "data" / "gcp_co2_by_fuel"
    data.mkdir(parents=True)
    (data / GCP_FILE).write_text(header + "\n".join(rows) + "\n")
    outcome = _ingest(tmp_path / "data")["gcp"]
    assert outcome.status == "loaded", outcome.message
    q = _bronze("select row_number, reason from bronze.quarantine order by row_number, reason")
    cells = q[q["reason"].str.contains("not a finite number")]
    got = sorted((int(r.row_number), r.reason.split(":")[0]) for r in cells.itertuples())
    assert got == [(2, "total"), (3, "coal"), (4, "oil"), (5, "gas"), (7, "per_capita")], q.to_string()
    assert len(q) == len(cells)  # nothing else quarantined
    bronze = _bronze("select country, total, coal, gas, per_capita from bronze.raw_gcp__co2_by_fuel order by 1")
    assert list(bronze["country"]) == ["Aland", "Bland", "Cland", "Dland", "Eland", "Fland"]  # rows kept
    assert pd.isna(bronze.set_index("country").loc["Aland", "total"])
    assert bronze.set_index("country").loc["Eland", "per_capita"] == "-1E-3"  # valid numbers untouched
    numeric = pd.to_numeric(bronze[["total", "coal", "gas", "per_capita"]].stack(), errors="coerce")
    assert numeric.abs().lt(float("inf")).all()  # nothing non-finite left for silver to cast


def _positive(cell: str) -> bool:
    try:
        return float(cell) > 0
    except ValueError:
        return False


def test_a_negative_tonnage_is_refused_by_the_declared_range(gcp_loaded, shared_data, tmp_path) -> None:
    _data, full, rows = gcp_loaded
    lines = full.decode("utf-8").splitlines(keepends=True)
    coal = [c.strip('"') for c in lines[0].split(",")].index("Coal")
    row = next(i for i, line in enumerate(lines[1:], start=1) if _positive(line.split(",")[coal]))
    cells = lines[row].split(",")
    cells[coal] = "-" + cells[coal]
    lines[row] = ",".join(cells)
    out = _ingest(_gcp_dir(tmp_path / "neg", shared_data, "".join(lines).encode("utf-8")))["gcp"]
    assert out.status == "carried_forward" and "column coal: 1 values outside [0, None]" in out.message
    assert _gcp_rows() == rows


def test_recoded_keys_are_refused_by_the_declared_key_coverage(gcp_loaded, shared_data, tmp_path) -> None:
    _data, full, rows = gcp_loaded
    lines = full.decode("utf-8").splitlines(keepends=True)
    recoded = [lines[0]] + ["X-" + line for line in lines[1:]]  # every country renamed, same row count
    out = _ingest(_gcp_dir(tmp_path / "keys", shared_data, "".join(recoded).encode("utf-8")))["gcp"]
    assert out.status == "carried_forward" and "only 0% of the previous release's country values" in out.message
    assert _gcp_rows() == rows
