"""Persona presets: points of view as pillar weights (fixed; the dynamic weights are on /v1/weights)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fvi.api.deps import PageDep
from fvi.api.schemas import Page

router = APIRouter(prefix="/personas", tags=["registry"])


def persona_items() -> list[dict[str, Any]]:
    from fvi.scoring.config import load_learnt_personas, load_personas

    presets = [
        {"id": p.id, "name": p.name, "description": p.description, "weights": dict(p.weights), "learnt": False}
        for p in load_personas().values()
    ]
    learnt = [
        {"id": p.id, "name": p.name, "description": p.description, "weights": {}, "learnt": True,
         "weights_from": "/v1/weights (the latest learnt weights per horizon)"}
        for p in load_learnt_personas().values()
    ]  # fmt: skip
    return presets + learnt


@router.get("", response_model=Page[dict[str, Any]], summary="Persona presets")
def list_personas(page: PageDep) -> dict:
    """Each persona's pillar weights (sum 1); pass its id as ``persona`` to the score routes."""
    return page.slice(persona_items())
