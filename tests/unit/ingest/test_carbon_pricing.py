"""carbon_pricing on tiny ECP files written here: "NA" stays text, keys checked, snake_case."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest import carbon_pricing
from fvi.ingest.base import FileRecord, LayoutError


def write(path: Path, text: str, dataset: str) -> FileRecord:
    path.write_text(text, encoding="utf-8")
    return FileRecord(path=path, dataset=dataset)


def test_ecp_and_coverage(tmp_path: Path) -> None:
    ecp = write(
        tmp_path / "ecp_CO2_jurisdiction_year.csv",
        "jurisdiction,year,ecp_all_jurCO2_usd_k,ecp_all_supraCO2_usd_k\nSweden,2021,90.51,NA\n",
        "ecp",
    )
    cov = write(
        tmp_path / "tot_coverage_jurisdiction_CO2.csv",
        "jurisdiction,year,cov_all_CO2_jurCO2\nSweden,2021,0.4\n",
        "coverage",
    )
    res = carbon_pricing.load([ecp, cov])
    row = res.tables["ecp"].iloc[0]
    assert row[["jurisdiction", "year", "ecp_all_jur_co2_usd_k", "ecp_all_supra_co2_usd_k"]].tolist() == [
        "Sweden",
        "2021",
        "90.51",
        "NA",
    ]
    assert res.tables["coverage"].iloc[0]["cov_all_co2_jur_co2"] == "0.4"
    assert ecp.release == f"sha256:{ecp.sha256[:12]}" != cov.release


def test_missing_jurisdiction_quarantined(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "ecp.csv",
        "jurisdiction,year,ecp_all_jurCO2_usd_k\nNA,2021,1\nPeru,2021,0\n",
        "ecp",
    )
    res = carbon_pricing.load([rec])
    q = res.quarantine.frame()
    assert q[["row_number", "reason"]].values.tolist() == [[2, "missing key jurisdiction"]]
    assert list(res.tables["ecp"]["jurisdiction"]) == ["Peru"]


def test_coverage_without_share_column_fails(tmp_path: Path) -> None:
    rec = write(tmp_path / "cov.csv", "jurisdiction,year,cov_tax_CO2_jurCO2\nPeru,2021,0\n", "coverage")
    with pytest.raises(LayoutError, match="cov_all_co2_jur_co2"):
        carbon_pricing.load([rec])
