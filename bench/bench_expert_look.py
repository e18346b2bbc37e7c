"""Issue-10 acceptance figures on a built warehouse: the numbers an expert would reject, counted.

Run after `make run` (or point FVI_HOME at a built home): `python bench/bench_expert_look.py`.
Reads the live warehouse only and prints one JSON document (also written to
bench/results/expert_look.json, not committed):

* share of entities whose published P(viable) rises with the horizon (must be 0);
* share whose published point lies outside its interval (must be 0);
* closed mines ranked among the top half (must be 0), and closed mines ranked at all;
* non-producers in the default-persona country top 20 (must be 0);
* median |FVI - its Monte Carlo band median| (the band is laid around the published score);
* share of latest-year rows without a band; share of entities whose FVI rises with the horizon;
* the largest groups of entities tied at one FVI value (a sign of imputation).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.registry.vocabulary import DEFAULT_PERSONA
from fvi.scoring.run import rising_with_horizon
from fvi.settings import get_settings
from fvi.warehouse import live


def _share(mask: pd.Series) -> float:
    return round(float(mask.mean()), 4) if len(mask) else float("nan")


def probabilities(wh: Any) -> dict[str, Any]:
    if not wh.has_table("gold", "fvi_probabilities"):
        return {"available": False}
    p = wh.query(f"select * from {wh.schema('gold')}.fvi_probabilities where is_published and p_viable is not null")
    latest = p.groupby(["entity_type", "entity_id"])["as_of_year"].transform("max")
    p = p[p["as_of_year"] == latest]
    rises = rising_with_horizon(p, "p_viable")
    has_band = p["p_lo"].notna() & p["p_hi"].notna()
    outside = (p["p_viable"] < p["p_lo"] - 1e-9) | (p["p_viable"] > p["p_hi"] + 1e-9)
    out: dict[str, Any] = {"entities": int(len(rises)), "share_rising_with_horizon": _share(rises)}
    out["share_point_outside_interval"] = _share(outside[has_band])
    out["rows_with_interval"] = int(has_band.sum())
    out["by_entity_type"] = {
        et: {
            "entities": int(len(g)),
            "share_rising": _share(rises.loc[et]) if et in rises.index.get_level_values(0) else None,
            "share_outside": _share(outside[has_band & (p["entity_type"] == et)]),
        }
        for et, g in rises.groupby(level=0)
    }
    return out


def scores(wh: Any) -> dict[str, Any]:
    s = wh.query(
        f"select * from {wh.schema('gold')}.fvi_scores where persona = ?", [DEFAULT_PERSONA]
    )
    latest = s.groupby(["entity_type", "entity_id"])["as_of_year"].transform("max")
    s = s[s["as_of_year"] == latest]
    out: dict[str, Any] = {}
    mines = s[s["entity_type"].isin(["mine", "us_mine"])]
    status = mines["status"].astype("string").str.lower()
    closed = mines[status.isin(["closed", "retired", "permanently abandoned"])]
    n_ranked = mines.groupby(["entity_type", "horizon", "as_of_year"])["rank"].transform("max")
    top_half = mines["rank"].notna() & (mines["rank"] <= n_ranked / 2)
    out["closed_mine_rows"] = int(len(closed))
    out["closed_ranked_in_top_half"] = int((top_half & mines.index.isin(closed.index)).sum())
    out["closed_ranked_at_all"] = int(closed["rank"].notna().sum())
    countries = s[s["entity_type"] == "country"]
    top20 = countries[countries["rank"].notna() & (countries["rank"] <= 20)]
    out["non_producers_in_country_top20"] = int(
        (top20["status"].astype("string").str.lower() == "non_producer").sum()
    )
    out["non_producers_in_country_top20_by_horizon"] = {
        h: int((g["status"].astype("string").str.lower() == "non_producer").sum()) for h, g in top20.groupby("horizon")
    }
    if "fvi_p50" in s.columns:
        band = s["fvi_p05"].notna() & s["fvi_p95"].notna()
        out["share_latest_rows_without_band"] = _share(~band)
        med_col = "fvi_mc_median" if "fvi_mc_median" in s.columns else "fvi_p50"
        gap = (s.loc[band, "fvi"] - s.loc[band, med_col]).abs()
        out["median_abs_score_minus_band_median"] = round(float(gap.median()), 3) if len(gap) else None
        out["band_median_column"] = med_col
        out["median_band_width"] = round(float((s.loc[band, "fvi_p95"] - s.loc[band, "fvi_p05"]).median()), 2)
    rises = rising_with_horizon(s, "fvi")
    out["share_fvi_rising_with_horizon"] = {et: _share(g) for et, g in rises.groupby(level=0)}
    ties = (
        s[s["horizon"] == "H10"]
        .assign(v=lambda f: f["fvi"].round(1))
        .groupby(["entity_type", "v"])
        .size()
        .sort_values(ascending=False)
    )
    out["largest_ties_at_h10"] = [
        {"entity_type": et, "fvi": float(v), "entities": int(n)} for (et, v), n in ties.head(5).items() if n > 1
    ]
    return out


def main() -> None:
    settings = get_settings()
    with live(settings) as wh:
        doc = {"home": "FVI_HOME", "probabilities": probabilities(wh), "scores": scores(wh)}
    text = json.dumps(doc, indent=2, default=lambda o: o.item() if isinstance(o, np.generic) else str(o))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "expert_look.json").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
