"""carbon_pricing on the real ECP jurisdiction-year price and coverage files."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest import carbon_pricing

pytestmark = pytest.mark.integration


def test_ecp_and_coverage_align(shared_data: Path) -> None:
    res = carbon_pricing.load(carbon_pricing.locate(shared_data))
    ecp, cov = res.tables["ecp"], res.tables["coverage"]
    print(f"carbon_pricing: ecp {len(ecp)}, coverage {len(cov)}, quarantined {len(res.quarantine)}")
    assert len(res.quarantine) == 0 and len(ecp) > 9000
    assert set(zip(ecp["jurisdiction"], ecp["year"], strict=True)) == set(
        zip(cov["jurisdiction"], cov["year"], strict=True)
    )
    swe = ecp[(ecp["jurisdiction"] == "Sweden") & (ecp["year"] == "2020")]
    assert float(swe["ecp_all_jur_co2_usd_k"].item()) > 50
    assert (ecp["ecp_all_supra_co2_usd_k"] == "NA").any()  # publisher's text kept
