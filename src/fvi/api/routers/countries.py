"""Countries (ISO3), listed and one by one, in the same shape as mines."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fvi.api import profiles, queries
from fvi.api.deps import Horizon, PageDep, PersonaDep, ReaderDep, StateDep, cached, check_persona
from fvi.api.errors import NotFound
from fvi.api.schemas import CountrySummary, EntityProfile, Page, error_responses

router = APIRouter(prefix="/countries", tags=["countries"], responses=error_responses(404))

CountrySort = Literal["rank", "-rank", "fvi", "-fvi", "name", "-name"]


@router.get("", response_model=Page[CountrySummary], summary="Search and rank countries")
def list_countries(
    state: StateDep,
    reader: ReaderDep,
    page: PageDep,
    persona: PersonaDep,
    q: Annotated[str | None, Query(max_length=100, description="Name contains (case-insensitive).")] = None,
    horizon: Horizon = "H10",
    as_of_year: Annotated[int | None, Query(ge=1900, le=2200, description="Default: the latest scored.")] = None,
    sort: CountrySort = "rank",
) -> dict:
    """Countries at one as-of year, horizon and persona; ``sort`` takes ``-`` for descending."""
    if not queries.has_scores(reader):
        return page.empty("no scores yet: run `fvi run`")
    year = as_of_year or queries.latest_years(reader).get("country")
    if year is None:
        return page.empty("no country scores in this build")

    def compute() -> dict:
        items, total = queries.list_scores(
            reader,
            entity_type="country",
            horizon=horizon,
            persona=persona,
            as_of_year=year,
            q=q,
            order=queries.order_by(sort, ("rank", "fvi", "name")),
            limit=page.limit,
            offset=page.offset,
        )
        return {"items": [profiles.summary(i) for i in items], "total": total, **page.meta}

    key = ("countries", q, horizon, persona, year, sort, page.limit, page.offset)
    return cached(state, reader, key, compute, Page[CountrySummary])


@router.get("/{iso3}", response_model=EntityProfile, summary="One country: scores, band, model, data quality")
def get_country(
    state: StateDep,
    reader: ReaderDep,
    iso3: Annotated[str, Path(pattern=r"^[A-Za-z]{3}$", description="ISO 3166-1 alpha-3, e.g. IDN")],
    as_of_year: Annotated[int | None, Query(ge=1900, le=2200, description="Default: the latest scored.")] = None,
    horizon: Horizon | None = None,
    persona: Annotated[str | None, Query(max_length=64, description="Default: every persona.")] = None,
) -> dict:
    """Identity, pillar scores and FVI per horizon and persona, ranks, model, quality, provenance, its mines."""
    if persona is not None:
        check_persona(persona)
    if not queries.has_scores(reader):
        raise NotFound(f"country {iso3.upper()!r} not found: no scores in this warehouse yet")
    code = iso3.upper()
    return cached(
        state,
        reader,
        ("country", code, as_of_year, horizon, persona),
        lambda: profiles.entity_profile(
            reader,
            "country",
            code,
            as_of_year=as_of_year,
            horizon=horizon,
            persona=persona,
            registry_hash=state.registry_hash,
        ),
        EntityProfile,
    )
