"""The metric registry: what each metric measures, its pillar, unit, polarity, goalposts, weights, sources."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from fvi.api.deps import PageDep
from fvi.api.schemas import Page

router = APIRouter(prefix="/metrics", tags=["registry"])


def metric_items() -> list[dict[str, Any]]:
    from fvi.registry import load_sources
    from fvi.registry.metrics import load_metrics, load_pillars

    pillars, sources = load_pillars(), load_sources()
    out = []
    for m in load_metrics().values():
        item = m.model_dump(mode="json")
        item["pillar_name"] = pillars[m.pillar].name if m.pillar in pillars else None
        item["sources"] = [
            {"id": s, "title": sources[s].title if s in sources else None, "licence": _licence(sources, s)}
            for s in m.sources
        ]
        out.append(item)
    return out


def _licence(sources: dict[str, Any], source_id: str) -> dict[str, str] | None:
    src = sources.get(source_id)
    return {"name": src.licence.name, "url": src.licence.url} if src else None


@router.get("", response_model=Page[dict[str, Any]], summary="The metric registry")
def list_metrics(
    page: PageDep,
    pillar: Annotated[str | None, Query(max_length=8, description="Only this pillar id, e.g. 04.")] = None,
    entity: Literal["mine", "country"] | None = None,
) -> dict:
    """Every metric with pillar, unit, polarity, goalposts, horizon weights, missing-data rule and sources."""
    items = [m for m in metric_items() if pillar in (None, m["pillar"]) and entity in (None, m["entity"])]
    return page.slice(items)
