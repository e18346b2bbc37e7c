"""Mines: GEM mines (``M0740``) and US (EIA/MSHA) mines (``MSHA100329``), listed and one by one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fvi.api import profiles, queries
from fvi.api.deps import Horizon, PageDep, PersonaDep, ReaderDep, StateDep, cached, check_persona
from fvi.api.errors import NotFound
from fvi.api.schemas import EntityProfile, MineSummary, Page, error_responses
from fvi.registry.vocabulary import entity_key

router = APIRouter(prefix="/mines", tags=["mines"], responses=error_responses(404))

MineSort = Literal["rank", "-rank", "fvi", "-fvi", "name", "-name", "capacity", "-capacity"]
ISO3 = Query(pattern=r"^[A-Za-z]{3}$", description="ISO 3166-1 alpha-3 country code.")


@router.get("", response_model=Page[MineSummary], summary="Search and rank mines")
def list_mines(
    state: StateDep,
    reader: ReaderDep,
    page: PageDep,
    persona: PersonaDep,
    q: Annotated[str | None, Query(max_length=100, description="Name contains (case-insensitive).")] = None,
    country: Annotated[str | None, ISO3] = None,
    status: Annotated[str | None, Query(max_length=60, description="operating, proposed, closed, ...")] = None,
    horizon: Horizon = "H10",
    entity_type: Annotated[
        Literal["mine", "us_mine"], Query(description="GEM mines (mine) or US EIA mines (us_mine).")
    ] = "mine",
    as_of_year: Annotated[int | None, Query(ge=1900, le=2200, description="Default: the latest scored.")] = None,
    sort: MineSort = "rank",
) -> dict:
    """Mines at one as-of year, horizon and persona; ``sort`` takes ``-`` for descending."""
    if not queries.has_scores(reader):
        return page.empty("no scores yet: run `fvi run`")
    year = as_of_year or queries.latest_years(reader).get(entity_type)
    if year is None:
        return page.empty(f"no {entity_type} scores in this build")
    params = (q, country, status, horizon, persona, entity_type, year, sort, page.limit, page.offset)

    def compute() -> dict:
        items, total = queries.list_scores(
            reader,
            entity_type=entity_type,
            horizon=horizon,
            persona=persona,
            as_of_year=year,
            q=q,
            country=country,
            status=status,
            order=queries.order_by(sort, ("rank", "fvi", "name", "capacity")),
            limit=page.limit,
            offset=page.offset,
        )
        return {"items": [profiles.summary(i) for i in items], "total": total, **page.meta}

    return cached(state, reader, ("mines", *params), compute, Page[MineSummary])


@router.get("/{mine_id}", response_model=EntityProfile, summary="One mine: scores, band, model, data quality")
def get_mine(
    state: StateDep,
    reader: ReaderDep,
    mine_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="M0740 or MSHA100329")],
    as_of_year: Annotated[int | None, Query(ge=1900, le=2200, description="Default: the latest scored.")] = None,
    horizon: Horizon | None = None,
    persona: Annotated[str | None, Query(max_length=64, description="Default: every persona.")] = None,
) -> dict:
    """Identity and location, pillar scores and FVI per horizon and persona, ranks, model, quality, provenance."""
    if persona is not None:
        check_persona(persona)
    if not queries.has_scores(reader):
        raise NotFound(f"mine {mine_id!r} not found: no scores in this warehouse yet")
    entity_type = "us_mine" if queries.us_msha_id(mine_id) is not None else "mine"
    entity_id = entity_key(entity_type, mine_id)
    return cached(
        state,
        reader,
        ("mine", entity_type, entity_id, as_of_year, horizon, persona),
        lambda: profiles.entity_profile(
            reader,
            entity_type,
            entity_id,
            as_of_year=as_of_year,
            horizon=horizon,
            persona=persona,
            registry_hash=state.registry_hash,
        ),
        EntityProfile,
    )
