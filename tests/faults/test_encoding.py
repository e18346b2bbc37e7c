"""A Latin-1 (Windows cp1252) file loads as what it is, with a note (issue 16, small items).

Before: it was decoded as UTF-8 with replacement characters, silently ("C\ufffdte D\ufffdIvoire").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest.base import encoding_note, text_encoding
from fvi.pipeline import run_pipeline
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.integration

FILE = "global_mining_area_per_country_v1.csv"


def test_a_cp1252_file_is_decoded_and_noted_in_the_manifest(fvi_home: Path, shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / "mining_land" / FILE).read_text(encoding="utf-8")
    assert "Côte D’Ivoire" in text
    data = tmp_path / "data"
    (data / "mining_land").mkdir(parents=True)
    (data / "mining_land" / FILE).write_bytes(text.encode("cp1252"))
    assert text_encoding(data / "mining_land" / FILE) == "cp1252"
    assert encoding_note(shared_data / "mining_land" / FILE) is None  # UTF-8: nothing to say

    report = run_pipeline(get_settings(), data_dir=data, build=False, sources=("mining_land",), say=lambda _m: None)
    outcome = report.outcomes[0]
    assert outcome.status == "loaded" and f"{FILE}: not UTF-8; read as cp1252" in outcome.message
    with DuckDBWarehouse(get_settings().duckdb_path, read_only=True) as wh:
        names = set(wh.query("select country_name from bronze.raw_mining_land__area")["country_name"])
        manifest = wh.query("select message from bronze.ingest_manifest where source_id = 'mining_land'")
    assert "Côte D’Ivoire" in names and not any("\ufffd" in n for n in names)
    assert manifest["message"].str.contains("not UTF-8").all()
