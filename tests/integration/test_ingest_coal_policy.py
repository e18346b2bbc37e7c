"""coal_policy on the real Beyond Coal timeline and the semicolon-separated COP26 pledge file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.ingest import coal_policy

pytestmark = pytest.mark.integration


def test_phase_out_and_cop26(shared_data: Path) -> None:
    res = coal_policy.load(coal_policy.locate(shared_data))
    po, cop = res.tables["phase_out"], res.tables["cop26"]
    print(f"coal_policy: phase_out {len(po)}, cop26 {len(cop)}, quarantined {len(res.quarantine)}")
    assert len(res.quarantine) == 0
    assert len(po) > 100 and "Coal free" in set(po["coal_exit_timeline"])
    assert len(cop) > 190 and cop["state_name"].is_unique
    assert cop.loc[cop["state_name"] == "Namibia", "state_iso"].item() == "NA"
    assert cop["status_coal"].str.contains("PPCA").any()
