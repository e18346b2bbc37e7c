"""wdi on the real bulk CSV, bulk XLSX and DataBank extract in shared/data: one long table."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fvi.ingest import wdi

pytestmark = pytest.mark.integration


def test_three_indicators_in_one_long_table(shared_data: Path) -> None:
    start = time.perf_counter()
    files = wdi.locate(shared_data)
    res = wdi.load(files)
    t = res.tables["indicators"]
    print(
        f"wdi: {len(t)} rows from {len(files)} files, quarantined {len(res.quarantine)}, "
        f"{time.perf_counter() - start:.2f}s; releases {[f.release for f in files]}"
    )
    assert set(t["indicator_code"]) == set(wdi.INDICATOR_CODES)
    assert len(res.quarantine) == 0
    assert not t.duplicated(["indicator_code", "country_code", "year"]).any()
    assert not t["country_name"].str.contains("Last Updated|Data from database|Data Source").any()
    assert all(f.release and f.release[:2] == "20" for f in files)  # "Last Updated" dates found
    usa = t[(t["country_code"] == "USA") & (t["year"] == "2020")].set_index("indicator_code")
    assert float(usa.loc["NY.GDP.MKTP.CD", "value"]) > 1e13
    coal = t[(t["country_code"] == "USA") & (t["indicator_code"] == "EG.ELC.COAL.ZS")]
    assert 0 < float(coal.loc[coal["year"] == "2014", "value"].item()) < 100  # series ends ~2015
