"""Issue-11 targets on a built warehouse: strict time-correct back-test figures against the targets.

Run after `make run` (or point FVI_HOME at a built home): `python bench/bench_forecast.py`.
Reads ``gold.fvi_backtest`` (pooled rows) of the live warehouse and prints one JSON document (also
bench/results/forecast.json, not committed) with, per target:

* US mines H5: the best model's AUC (>= 0.80) and FVI - size (>= 0.05, interval above zero);
* GEM mines worldwide (gem_closure level, longest horizon): model AUC (>= 0.80) and model - size
  (>= 0.08);
* countries H5: model AUC (>= 0.80) and FVI (expert and learnt) against the equal-weight composite;
* the largest expected calibration error of the published models (<= 0.05).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.settings import get_settings
from fvi.warehouse import live


def _row(bt: pd.DataFrame, level: str, horizon: int, scorer: str, model: str | None = None) -> dict[str, Any] | None:
    rows = bt[(bt["level"] == level) & (bt["horizon"] == horizon) & (bt["scorer"] == scorer)]
    if model is not None:
        rows = rows[rows["model_name"] == model]
    if rows.empty:
        return None
    r = rows.sort_values("auc", ascending=False).iloc[0]
    out = {
        "scorer": scorer,
        "model_name": r.get("model_name"),
        "n": int(r["n"]),
        "events": int(r["n"] - r["n_positive"]),
        "auc": round(float(r["auc"]), 4),
        "ece": None if pd.isna(r.get("ece")) else round(float(r["ece"]), 4),
    }
    for k in ("auc_minus_size", "auc_minus_size_lo", "auc_minus_size_hi"):
        v = r.get(k)
        out[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)
    return out


def targets(bt: pd.DataFrame) -> dict[str, Any]:
    """Each target with the measured figures and whether it holds."""
    pooled = bt[bt["as_of_year"].isna()]
    out: dict[str, Any] = {}
    us_model, us_fvi = _row(pooled, "us_mine", 5, "model"), _row(pooled, "us_mine", 5, "fvi")
    out["us_mine_H5"] = {
        "model": us_model,
        "fvi": us_fvi,
        "model_auc_ge_0.80": bool(us_model and us_model["auc"] >= 0.80),
        "fvi_minus_size_ge_0.05_and_lo_gt_0": bool(
            us_fvi and (us_fvi["auc_minus_size"] or -1) >= 0.05 and (us_fvi["auc_minus_size_lo"] or -1) > 0
        ),
    }
    gem = pooled[pooled["level"] == "gem_closure"]
    if len(gem):
        h = int(gem["horizon"].max())
        g_model = _row(pooled, "gem_closure", h, "model")
        out[f"gem_closure_H{h}"] = {
            "model": g_model,
            "country_only": _row(pooled, "gem_closure", h, "country_only"),
            "size": _row(pooled, "gem_closure", h, "size"),
            "model_auc_ge_0.80": bool(g_model and g_model["auc"] >= 0.80),
            "model_minus_size_ge_0.08": bool(g_model and (g_model["auc_minus_size"] or -1) >= 0.08),
        }
    c_model, c_fvi = _row(pooled, "country", 5, "model"), _row(pooled, "country", 5, "fvi")
    c_learnt, c_equal = _row(pooled, "country", 5, "fvi_learnt"), _row(pooled, "country", 5, "equal_weight")
    out["country_H5"] = {
        "model": c_model,
        "fvi": c_fvi,
        "fvi_learnt": c_learnt,
        "equal_weight": c_equal,
        "model_auc_ge_0.80": bool(c_model and c_model["auc"] >= 0.80),
        "fvi_ge_equal_weight": bool(c_fvi and c_equal and c_fvi["auc"] >= c_equal["auc"]),
        "fvi_learnt_ge_equal_weight": bool(c_learnt and c_equal and c_learnt["auc"] >= c_equal["auc"]),
    }
    models = pooled[pooled["scorer"] == "model"].dropna(subset=["ece"])
    worst = models.sort_values("ece", ascending=False).head(5)
    out["ece"] = {
        "max": None if models.empty else round(float(models["ece"].max()), 4),
        "worst": worst[["level", "horizon", "model_name", "ece", "n"]].to_dict(orient="records"),
        "all_le_0.05": bool(len(models) and models["ece"].max() <= 0.05),
    }
    return out


def main() -> None:
    settings = get_settings()
    with live(settings) as wh:
        bt = wh.query(f"select * from {wh.schema('gold')}.fvi_backtest")
    result = {"home": str(settings.home_abs), "targets": targets(bt)}
    text = json.dumps(result, indent=2, default=str)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "forecast.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
