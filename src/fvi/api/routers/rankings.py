"""Rankings: one entity type at one year, horizon and persona, ranked globally, within a country or status."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from fvi.api import profiles, queries
from fvi.api.deps import Horizon, PageDep, PersonaDep, ReaderDep, StateDep, cached
from fvi.api.schemas import Page, RankingItem

router = APIRouter(prefix="/rankings", tags=["rankings"])


@router.get("", response_model=Page[RankingItem], summary="Ranked entities")
def rankings(
    state: StateDep,
    reader: ReaderDep,
    page: PageDep,
    persona: PersonaDep,
    entity_type: Literal["mine", "us_mine", "country"] = "mine",
    horizon: Horizon = "H10",
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$", description="Only this country (ISO3).")] = None,
    status: Annotated[str | None, Query(max_length=60, description="Only this status.")] = None,
    as_of_year: Annotated[int | None, Query(ge=1900, le=2200, description="Default: the latest scored.")] = None,
) -> dict:
    """Best first. With ``country`` the order is the rank within the country; with ``status`` within the status."""
    if not queries.has_scores(reader):
        return page.empty("no scores yet: run `fvi run`")
    year = as_of_year or queries.latest_years(reader).get(entity_type)
    if year is None:
        return page.empty(f"no {entity_type} scores in this build")
    scope = "country" if country and not status else "status" if status and not country else "global"
    order = f"{queries.RANK_SCOPES[scope]} asc nulls last, s.entity_id asc"

    def compute() -> dict:
        items, total = queries.list_scores(
            reader,
            entity_type=entity_type,
            horizon=horizon,
            persona=persona,
            as_of_year=year,
            country=country,
            status=status,
            order=order,
            limit=page.limit,
            offset=page.offset,
        )
        note = f"ordered by rank within {scope}" if scope != "global" else None
        return {"items": [profiles.summary(i) for i in items], "total": total, **page.meta, "note": note}

    key = ("rankings", entity_type, horizon, persona, country, status, year, page.limit, page.offset)
    return cached(state, reader, key, compute, Page[RankingItem])
