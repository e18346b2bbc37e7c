"""Weights: persona presets always; the current dynamic pillar weights and their history when computed."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from fvi.api.db import clean
from fvi.api.deps import OptionalReaderDep, PageDep
from fvi.api.routers.personas import persona_items

router = APIRouter(prefix="/weights", tags=["weights"])
log = logging.getLogger(__name__)

HISTORY = "fvi_weights_history"
HISTORY_FIELDS = ("run_id", "level", "horizon", "pillar", "weight", "data_weight", "expert_weight", "mi", "computed_at")


@router.get("", summary="Current dynamic weights, their history, persona presets")
def weights(reader: OptionalReaderDep, page: PageDep) -> dict[str, Any]:
    """``dynamic.levels`` is {level: {horizon: {pillar: weight, data_weight, expert_weight}}} of the latest run.

    ``level`` says which outcomes the weights were learnt from (country decline, mine closure).
    """
    out: dict[str, Any] = {
        "personas": persona_items(),
        "dynamic": {"available": False, "note": None, "levels": {}},
        "history": {"items": [], "total": 0, **page.meta},
    }
    if reader is None:
        out["dynamic"]["note"] = "warehouse unavailable"
        return out
    if not reader.has_table("gold", HISTORY):
        out["dynamic"]["note"] = "no dynamic weights yet: gold.fvi_weights_history has not been built"
        return out
    from fvi.weights import current_weights

    try:
        current = current_weights(reader)
    except (ValueError, KeyError) as exc:
        log.warning("weights: history table unreadable: %s", exc)
        out["dynamic"]["note"] = "gold.fvi_weights_history has an unexpected layout"
        return out
    levels: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in current.to_dict("records"):
        level = levels.setdefault(str(rec.get("level") or "default"), {})
        level.setdefault(str(rec["horizon"]), {})[str(rec["pillar"])] = {
            k: clean(rec.get(k)) for k in ("weight", "data_weight", "expert_weight")
        }
    runs = sorted({str(r) for r in current["run_id"]}) if len(current) else []
    out["dynamic"] = {
        "available": bool(levels),
        "note": None if levels else "the weights history is empty",
        "run_ids": runs,
        "computed_at": clean(current["computed_at"].max()) if len(current) else None,
        "levels": levels,
    }
    table = reader.table("gold", HISTORY)
    total = int(reader.scalar(f"select count(*) as n from {table}") or 0)
    rows = reader.rows(
        f"select * from {table} order by computed_at desc, run_id desc, horizon, pillar limit ? offset ?",
        [page.limit, page.offset],
    )
    items = [{k: r.get(k) for k in HISTORY_FIELDS if k in r} for r in rows]
    out["history"] = {"items": items, "total": total, **page.meta}
    return out
