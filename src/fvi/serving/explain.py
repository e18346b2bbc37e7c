"""Explanations people can read: SHAP values per feature with names and units, and the top drivers in words.

Stored explanations (gold ``fvi_explanations``, written by training for every entity's latest year)
answer plain requests; a what-if (feature overrides), or a stored table that explains another
version than the one serving, is explained on demand with :func:`fvi.ml.explain.explain_row` on the
serving model's native booster. Values are TreeSHAP in the model's log-odds output, so
``base_value + sum(shap) = logit`` of the raw probability.
"""

from __future__ import annotations

import math
from typing import Any

from fvi.serving.catalogue import describe
from fvi.serving.predictor import ServingModel
from fvi.warehouse import Warehouse

EXPLANATIONS_TABLE = "fvi_explanations"

OUTPUTS: dict[str, tuple[str, str, str]] = {
    "log_odds_operating": (
        "log-odds that the mine is still operating at the horizon",
        "raises the chance that the mine is still operating",
        "lowers the chance that the mine is still operating",
    ),
    "log_odds_yearly_stop_hazard": (
        "log-odds of the yearly risk that the mine stops producing (survival compounds it over the horizon)",
        "raises the yearly risk that the mine stops (lowers its chance of still operating)",
        "lowers the yearly risk that the mine stops (raises its chance of still operating)",
    ),
    "log_odds_decline": (
        "log-odds that the country's coal production falls by 25 % or more over the horizon",
        "raises the chance that coal production falls by 25 % or more",
        "lowers the chance that coal production falls by 25 % or more",
    ),
}
NOT_DRIVERS = {"k_year"}
"""Where on the survival curve a hazard is read (k = k_max), not something about the mine: never a driver."""
_GENERIC = ("model output in log-odds", "pushes the model output up", "pushes the model output down")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "missing"
    return f"{value:.4g}"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def build(
    *,
    entity_type: str,
    entity_id: str,
    as_of_year: int,
    horizon: str,
    model_name: str,
    model_version: str,
    output: str,
    base_value: float,
    contributions: list[tuple[str, float | None, float]],
    source: str,
    top: int,
    overrides: dict[str, float] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The response: every feature's SHAP value (largest first), the base value and the top drivers in words."""
    meaning, up, down = OUTPUTS.get(output, _GENERIC)
    ranked = sorted(contributions, key=lambda c: -abs(c[2]))
    features: list[dict[str, Any]] = []
    for feature, value, shap in ranked:
        info = describe(feature)
        features.append(
            {
                "feature": feature,
                "name": info.name,
                "unit": info.unit,
                "value": None if value is None or not math.isfinite(value) else value,
                "shap": shap,
                "direction": "up" if shap > 0 else "down" if shap < 0 else "none",
            }
        )
    drivers: list[dict[str, Any]] = []
    for f in features:
        if len(drivers) >= top:
            break
        if f["shap"] == 0 or f["feature"] in NOT_DRIVERS:
            continue
        words = up if f["shap"] > 0 else down
        if f["value"] is None:
            said = f"{f['name']} missing"
        else:
            said = f"{f['name']} of {_fmt(f['value'])}" + (f" ({f['unit']})" if f["unit"] else "")
        index_input = f["feature"] == "fvi" or f["feature"].startswith("pillar_")
        # the model reads the index's own score among its inputs: say so rather than present it as a cause
        own = " (the index's own score, used by the model as an input)" if index_input else ""
        drivers.append(
            {
                "feature": f["feature"],
                "name": f["name"],
                "shap": f["shap"],
                "is_index_input": index_input,
                "text": f"{said}{own} {words} ({f['shap']:+.2f} log-odds).",
            }
        )
    logit = base_value + sum(c[2] for c in contributions)
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "as_of_year": as_of_year,
        "horizon": horizon,
        "model_name": model_name,
        "model_version": model_version,
        "output": output,
        "output_meaning": meaning,
        "base_value": base_value,
        "logit": logit,
        "p_raw": _sigmoid(logit),
        "source": source,
        "overrides": overrides or {},
        "features": features,
        "top_drivers": drivers,
        "explains": "the model's probability (SHAP); the FVI itself is explained in points by the profile's "
        "score_drivers",
        "summary": " ".join(d["text"] for d in drivers[:3]) or "No feature moved this prediction.",
        "note": note,
    }


def stored(wh: Warehouse, entity_type: str, entity_id: str, horizon: str) -> dict[str, Any] | None:
    """The stored explanation of the entity's latest year at ``horizon``, or None."""
    if not wh.has_table("gold", EXPLANATIONS_TABLE):
        return None
    table = f"{wh.schema('gold')}.{EXPLANATIONS_TABLE}"
    frame = wh.query(
        f"select as_of_year, feature, value, shap, base_value, model_name, model_version, output from {table} "
        f"where entity_type = ? and entity_id = ? and horizon = ? and as_of_year = (select max(as_of_year) "
        f"from {table} where entity_type = ? and entity_id = ? and horizon = ?)",
        [entity_type, entity_id, horizon, entity_type, entity_id, horizon],
    )
    if frame.empty:
        return None
    records: list[dict[Any, Any]] = frame.to_dict("records")
    first = records[0]
    return {
        "as_of_year": int(first["as_of_year"]),
        "model_name": str(first["model_name"]),
        "model_version": str(first["model_version"]),
        "output": str(first["output"]),
        "base_value": float(first["base_value"]),
        "contributions": [(str(r["feature"]), _finite(r["value"]), float(r["shap"])) for r in records],
    }


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def computed(model: ServingModel, values: dict[str, float | None], *, top: int) -> dict[str, Any]:
    """SHAP of one (possibly overridden) feature row through the serving version's native booster."""
    from fvi.ml.explain import explain_row

    with model.explain_lock:  # the explainer is built once per booster and is not meant for concurrent use
        out = explain_row(model.bundle, values)
    row_values = out["values"]
    contributions = [(f, row_values.get(f), float(s)) for f, s in out["contributions"].items()]
    return {
        "model_name": model.name,
        "model_version": model.version,
        "output": model.output,
        "base_value": float(out["base_value"]),
        "contributions": contributions,
    }
