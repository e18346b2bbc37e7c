"""Ties of many entities at one value and FVI rising with the horizon are reported, not hidden."""

from __future__ import annotations

import pandas as pd

from fvi.registry.vocabulary import DEFAULT_PERSONA
from fvi.scoring.run import TIE_MIN, score_checks


def test_a_large_tie_is_reported_as_imputation_and_the_rising_share_is_counted() -> None:
    rows = []
    for i in range(TIE_MIN + 10):
        for h, v in (("H5", 51.3), ("H10", 51.3), ("H20", 51.3 if i % 2 else 52.0)):
            rows.append({"entity_type": "us_mine", "entity_id": f"MSHA{i}", "as_of_year": 2023, "horizon": h,
                         "persona": DEFAULT_PERSONA, "fvi": v, "imputed_share": 0.6})
    rows.append({"entity_type": "us_mine", "entity_id": "MSHA0", "as_of_year": 2020, "horizon": "H5",
                 "persona": DEFAULT_PERSONA, "fvi": 10.0, "imputed_share": 0.0})  # an old year: ignored
    out = score_checks(pd.DataFrame(rows))
    tie = next(t for t in out["ties"] if t["horizon"] == "H5")
    assert tie["entities"] == TIE_MIN + 10 and tie["fvi"] == 51.3 and tie["mean_imputed_share"] == 0.6
    assert out["share_rising_with_horizon"] == {"us_mine": 0.5}
    assert any("sign of imputation" in m for m in out["messages"])
    rising = next(m for m in out["messages"] if "rises with the horizon" in m)
    assert "horizon_note" in rising and "mine_reserves_mt" in {g["metric"] for g in out["growing_horizon_weights"]}
    assert all(g["reason"] for g in out["growing_horizon_weights"])
