"""Pillars: the ten themes metrics roll up into, with their metrics and persona weights."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fvi.api.deps import PageDep
from fvi.api.schemas import Page

router = APIRouter(prefix="/pillars", tags=["registry"])


@router.get("", response_model=Page[dict[str, Any]], summary="Pillars")
def list_pillars(page: PageDep) -> dict:
    """Each pillar with its metrics (or why it has none) and the weight every persona gives it."""
    from fvi.registry.metrics import load_metrics, load_pillars
    from fvi.scoring.config import load_personas

    metrics, personas = load_metrics(), load_personas()
    items = []
    for p in load_pillars().values():
        item = p.model_dump(mode="json")
        item["metrics"] = [m.id for m in metrics.values() if m.pillar == p.id]
        item["persona_weights"] = {pid: persona.weights.get(p.id, 0.0) for pid, persona in personas.items()}
        items.append(item)
    return page.slice(items)
