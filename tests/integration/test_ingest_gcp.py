"""gcp on the real Global Carbon Budget 2022 flat CSV."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import gcp

pytestmark = pytest.mark.integration


def test_co2_by_fuel(shared_data: Path) -> None:
    start = time.perf_counter()
    res = gcp.load(gcp.locate(shared_data))
    t = res.tables["co2_by_fuel"]
    print(f"gcp: {len(t)} rows, quarantined {len(res.quarantine)}, {time.perf_counter() - start:.2f}s")
    assert res.release == "2022v27" and len(res.quarantine) == 0
    assert len(t) > 60000
    assert t["iso3_code"].str.fullmatch(r"[A-Z]{3}").fillna(False).groupby(t["country"]).any().sum() > 200
    chn = t[(t["iso3_code"] == "CHN") & (t["year"] == "2021")]
    assert float(chn["coal"].item()) > float(chn["oil"].item())
