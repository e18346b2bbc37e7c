"""coal_policy on tiny files written here: phase-out timeline and the semicolon COP26 file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest import coal_policy
from fvi.ingest.base import FileRecord, LayoutError

COP26 = "state_iso;state_name;status_deforestation;status_methane;status_coal;status_cars\n"


def write(path: Path, text: str, dataset: str) -> FileRecord:
    path.write_text(text, encoding="utf-8")
    return FileRecord(path=path, dataset=dataset)


def test_semicolon_file_and_namibia_iso2(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "cop26.csv",
        COP26 + "AL;Albania;PledgedCOP26;Pledged;PledgedPlusPPCANoCoal;NotPledged\n"
        "NA;Namibia;NotPledged;NotPledged;NotPledgedUsesCoal;NotPledged\n",
        "cop26",
    )
    res = coal_policy.load([rec])
    t = res.tables["cop26"]
    assert list(t["state_iso"]) == ["AL", "NA"]  # "NA" is Namibia, not missing
    assert t.iloc[1]["status_coal"] == "NotPledgedUsesCoal"
    assert len(res.quarantine) == 0


def test_phase_out_and_bad_rows(tmp_path: Path) -> None:
    text = (
        "Entity,Code,Year,Coal Exit Timeline (Beyond Coal)\nAlbania,ALB,2021,Coal free\n"
        "Chile,CHL,2040s,Phase out by 2040\nSpain,ESP,2025,Phase out by 2030,x\n"
    )
    res = coal_policy.load([write(tmp_path / "phase.csv", text, "phase_out")])
    t = res.tables["phase_out"]
    assert t.iloc[0][["entity", "iso3_code", "year", "coal_exit_timeline"]].tolist() == [
        "Albania",
        "ALB",
        "2021",
        "Coal free",
    ]
    q = res.quarantine.frame()
    assert list(q["row_number"]) == [3, 4]
    assert q["reason"][1] == "expected 4 fields, got 5"


def test_cop26_without_status_coal_fails(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "cop26.csv",
        COP26.replace("status_coal", "coal") + "AL;Albania;a;b;c;d\n",
        "cop26",
    )
    with pytest.raises(LayoutError, match="status_coal"):
        coal_policy.load([rec])
