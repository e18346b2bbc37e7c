"""climate_trace on the real v4.4.0 coal-mining files (sources and confidence zips, country CSV)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import climate_trace
from fvi.ingest.base import FileRecord, LoadResult

pytestmark = pytest.mark.integration
FILES = [
    "climatetrace_coal-mining_emissions_sources_v4_4_0.zip",
    "climatetrace_coal-mining_emissions_sources_confidence_v4_4_0.zip",
    "climatetrace_coal-mining_country_emissions_v4_4_0.csv",
]


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> tuple[LoadResult, list[FileRecord], float]:
    files = [FileRecord(path=shared_data / "climate_trace" / name) for name in FILES]
    start = time.perf_counter()
    res = climate_trace.load(files)
    return res, files, time.perf_counter() - start


def test_sources_keyed_by_gem_mine_id(loaded) -> None:
    res, files, seconds = loaded
    sources = res.tables["sources"]
    print(f"climate_trace: {res.rows_loaded} rows in {seconds:.2f}s "
          f"({ {t: len(f) for t, f in res.tables.items()} })")
    assert len(sources) >= 100_000
    gem_ids = sources["native_source_id"].dropna()
    assert gem_ids.str.startswith("M").all()
    assert gem_ids.nunique() >= 3000
    assert not sources.duplicated(["source_id", "start_time", "gas"]).any()
    assert files[0].rows_loaded == len(sources) and files[0].rows_quarantined == 0
    assert seconds < 30, f"loading took {seconds:.1f}s"


def test_confidence_and_country_load(loaded) -> None:
    res, files, _ = loaded
    confidence, country = res.tables["confidence"], res.tables["country"]
    assert len(confidence) >= 100_000
    words = set(confidence["emissions_quantity"].dropna())
    assert words and words <= {"very low", "low", "medium", "high", "very high"}
    assert confidence["source_id"].isin(set(res.tables["sources"]["source_id"])).all()
    assert len(country) >= 1000 and country["iso3_country"].str.fullmatch(r"[A-Z]{3}").all()
    assert not country.duplicated(["iso3_country", "start_time", "gas"]).any()
    assert [f.rows_loaded for f in files[1:]] == [len(confidence), len(country)]


def test_release_from_file_names(loaded) -> None:
    res, files, _ = loaded
    assert res.release == "v4.4.0" and {f.release for f in files} == {"v4.4.0"}
    assert all(set(t["_release"]) == {"v4.4.0"} for t in res.tables.values())
    assert len(res.quarantine) == 0
