"""subsidies on the real ONE/OECD-IISD tracker export and the IMF 2015 table."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest import subsidies

pytestmark = pytest.mark.integration


def test_both_tables(shared_data: Path) -> None:
    res = subsidies.load(subsidies.locate(shared_data))
    ffs, imf = res.tables["ffs_tracker"], res.tables["imf_2015"]
    print(f"subsidies: ffs {len(ffs)}, imf {len(imf)}, quarantined {len(res.quarantine)}")
    assert len(res.quarantine) == 0
    assert ffs["iso3_code"].nunique() > 150 and set(ffs["year"]) >= {"2010", "2022"}
    assert len(imf) > 140 and "Australia" in set(imf["country"])
    assert imf["coal_pct_gdp"].notna().sum() > 100
