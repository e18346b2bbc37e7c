"""Read routes shaped for the dashboard: compact map points, medians, production, calibration, quarantine.

Each reads tables (or the back-test report) that a build already holds; none computes a score. The map
route exists for speed: the overview needs every mine at once, and one columnar answer is a tenth of the
bytes and one request instead of thirteen pages of full list items.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from fvi.api import queries
from fvi.api.db import Reader, clean
from fvi.api.deps import Horizon, OptionalReaderDep, PageDep, PersonaDep, ReaderDep, StateDep, cached
from fvi.api.errors import NotFound
from fvi.api.schemas import error_responses

router = APIRouter(prefix="/dashboard", tags=["dashboard"], responses=error_responses(404))
log = logging.getLogger(__name__)

MAP_COLUMNS = ("id", "name", "country_iso3", "status", "latitude", "longitude", "capacity_mtpa", "fvi", "rank")
# the mines table: band and percentile for its CSV, no coordinates
TABLE_COLUMNS = (
    "id", "name", "country_iso3", "status", "capacity_mtpa", "fvi", "fvi_p05", "fvi_p95", "rank", "percentile",
)  # fmt: skip
# ~11 m: finer than any mine's footprint, and a third of the characters of a full double
COORD_DECIMALS = 4
# FVI and capacity are shown with one decimal: three keep every shown digit and halve the characters
VALUE_DECIMALS = 3
ISO3 = Query(pattern=r"^[A-Za-z]{3}$", description="ISO 3166-1 alpha-3 country code.")
MINE_ID = Path(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="M0740 or MSHA100329")


def _columnar(
    state: Any, reader: Reader, *, name: str, columns: tuple[str, ...], entity_type: str, horizon: str, persona: str
) -> dict[str, Any] | JSONResponse:
    """Every scored mine of ``entity_type`` at the latest year: one array per column, in rank order (unranked last).

    Serialised once per build and view (FastAPI's encoder would walk tens of thousands of values for nothing).
    """
    out: dict[str, Any] = {"as_of_year": None, "total": 0, "synthetic": False, "note": None}
    out["columns"] = {c: [] for c in columns}
    if not queries.has_scores(reader):
        return {**out, "note": "no scores yet: run `fvi run`"}
    year = queries.latest_years(reader).get(entity_type)
    if year is None:
        return {**out, "note": f"no {entity_type} scores in this build"}

    def compute() -> dict[str, Any]:
        # only the columns asked for: a sixth of the list route's query time on 6,000 mines
        _extra, join = queries._dim_select(reader, entity_type)
        dims = ("capacity_mtpa", "latitude", "longitude")  # queries.DIM["mine"]: the joined dim_mine columns
        picked = ", ".join(
            (f"d.{c}" if join else f"cast(null as double precision) as {c}")
            if c in dims
            else f"s.{'entity_id' if c == 'id' else 'entity_name' if c == 'name' else c} as {c}"
            for c in columns
        )
        synth = "s.is_synthetic" if "is_synthetic" in queries.score_columns(reader) else "false"
        rows = reader.rows(
            f"select {picked}, {synth} as is_synthetic from {reader.table('gold', 'fvi_scores')} s{join} "
            "where s.entity_type = ? and s.horizon = ? and s.persona = ? and s.as_of_year = ? "
            f"order by {queries.order_by('rank', ('rank',))}",
            [entity_type, horizon, persona, year],
        )
        cols: dict[str, list[Any]] = {c: [] for c in columns}
        for row in rows:
            for c in columns:
                v = clean(row.get(c))
                if isinstance(v, float):
                    v = round(v, COORD_DECIMALS if c in ("latitude", "longitude") else VALUE_DECIMALS)
                cols[c].append(v)
        synthetic = any(bool(row.get("is_synthetic")) for row in rows)
        return {"as_of_year": year, "total": len(rows), "synthetic": synthetic, "note": None, "columns": cols}

    body = cached(state, reader, (name, entity_type, horizon, persona, year), compute)
    return JSONResponse(body)


EntityTypeQuery = Annotated[Literal["mine", "us_mine"], Query(description="GEM mines or US EIA mines.")]


@router.get("/map-mines", response_model=None, summary="Every scored mine in one columnar answer (map, KPIs, rankings)")
def map_mines(
    state: StateDep,
    reader: ReaderDep,
    persona: PersonaDep,
    horizon: Horizon = "H10",
    entity_type: EntityTypeQuery = "mine",
) -> dict[str, Any] | JSONResponse:
    """``columns`` holds one array per field, all the same length, in rank order (unranked last)."""
    return _columnar(state, reader, name="dashboard-map", columns=MAP_COLUMNS, entity_type=entity_type,
                     horizon=horizon, persona=persona)  # fmt: skip


@router.get("/mine-table", response_model=None, summary="Every scored mine in one columnar answer (the mines table)")
def mine_table(
    state: StateDep,
    reader: ReaderDep,
    persona: PersonaDep,
    horizon: Horizon = "H10",
    entity_type: EntityTypeQuery = "mine",
) -> dict[str, Any] | JSONResponse:
    """The table's columns (band and percentile for the CSV, no coordinates), one array per field, in rank order.

    The table filters and sorts in the browser; one answer replaces ``/v1/mines`` read page by page (13 requests
    for 6,360 GEM mines at the largest page).
    """
    return _columnar(state, reader, name="dashboard-table", columns=TABLE_COLUMNS, entity_type=entity_type,
                     horizon=horizon, persona=persona)  # fmt: skip


def _medians(reader: Reader, pillars: list[str], where: str, params: list[Any]) -> tuple[dict[str, Any], int]:
    if not pillars:
        return {}, 0
    # percentile_cont(0.5) within group: the median on DuckDB and PostgreSQL alike
    aggs = ", ".join(f"percentile_cont(0.5) within group (order by pillar_{p}) as p_{p}" for p in pillars)
    row = reader.one(f"select count(*) as n, {aggs} from {reader.table('gold', 'fvi_scores')} where {where}", params)
    if not row:
        return {}, 0
    return {p: clean(row.get(f"p_{p}")) for p in pillars}, int(row.get("n") or 0)


@router.get("/pillar-medians", summary="Pillar score medians: worldwide and within one country")
def pillar_medians(
    state: StateDep,
    reader: ReaderDep,
    persona: PersonaDep,
    horizon: Horizon = "H10",
    entity_type: Annotated[Literal["mine", "us_mine", "country"], Query()] = "mine",
    country: Annotated[str | None, ISO3] = None,
) -> dict[str, Any]:
    """Medians over the entities of ``entity_type`` at the latest scored year (``n`` entities each)."""
    out: dict[str, Any] = {"as_of_year": None, "pillars": [], "global": {}, "n_global": 0, "country": None,
                           "n_country": 0, "note": None}  # fmt: skip
    if not queries.has_scores(reader):
        return {**out, "note": "no scores yet: run `fvi run`"}
    year = queries.latest_years(reader).get(entity_type)
    if year is None:
        return {**out, "note": f"no {entity_type} scores in this build"}
    pillars = queries.pillar_ids(reader)
    iso3 = country.upper() if country else None

    def compute() -> dict[str, Any]:
        base = "entity_type = ? and horizon = ? and persona = ? and as_of_year = ?"
        params: list[Any] = [entity_type, horizon, persona, year]
        glob, n_glob = _medians(reader, pillars, base, params)
        res = {**out, "as_of_year": year, "pillars": pillars, "global": glob, "n_global": n_glob}
        if iso3 and entity_type != "country":
            res["country"], res["n_country"] = _medians(
                reader, pillars, base + " and country_iso3 = ?", [*params, iso3]
            )
        return res

    return cached(state, reader, ("dashboard-medians", entity_type, horizon, persona, year, iso3), compute)


PRODUCTION_MINE = (
    ("gem_production_mt", "GEM (reported production)"),
    ("eia_production_mt", "EIA (US mines matched to this GEM mine)"),
    ("ct_activity_mt", "Climate TRACE (estimated activity)"),
)


@router.get("/production/{mine_id}", summary="A mine's production per year, by source (GEM, EIA, Climate TRACE)")
def production(state: StateDep, reader: ReaderDep, mine_id: Annotated[str, MINE_ID]) -> dict[str, Any]:
    """Million tonnes per year; ``series`` names each column's source. Years without any figure are left out."""
    msha = queries.us_msha_id(mine_id)
    if msha is not None:
        if not reader.has_table("gold", "fct_us_mine__yearly"):
            return {"mine_id": mine_id, "series": {}, "items": [], "note": "gold.fct_us_mine__yearly is not built"}
        table = reader.table("gold", "fct_us_mine__yearly")

        def us() -> dict[str, Any]:
            rows = reader.rows(
                f"select year, production_mt as eia_production_mt from {table} "
                "where msha_id = ? and production_mt is not null order by year",
                [msha],
            )
            if not rows and reader.one(f"select 1 as x from {table} where msha_id = ? limit 1", [msha]) is None:
                raise NotFound(f"mine {mine_id!r} not found")
            items = [{k: clean(v) for k, v in r.items()} for r in rows]
            return {"mine_id": mine_id, "series": {"eia_production_mt": "EIA (MSHA mine)"}, "items": items,
                    "note": None if items else "no production reported"}  # fmt: skip

        return cached(state, reader, ("dashboard-production", mine_id), us)
    if not reader.has_table("gold", "fct_mine__yearly"):
        return {"mine_id": mine_id, "series": {}, "items": [], "note": "gold.fct_mine__yearly is not built"}
    table = reader.table("gold", "fct_mine__yearly")

    def gem() -> dict[str, Any]:
        rows = reader.rows(
            f"select year, gem_production_mt, eia_production_mt, ct_activity_t / 1e6 as ct_activity_mt "
            f"from {table} where gem_mine_id = ? order by year",
            [mine_id],
        )
        if not rows and queries.identity(reader, "mine", mine_id) is None:
            raise NotFound(f"mine {mine_id!r} not found")
        items = [
            {k: clean(v) for k, v in r.items()} for r in rows if any(r.get(c) is not None for c, _ in PRODUCTION_MINE)
        ]
        return {"mine_id": mine_id, "series": dict(PRODUCTION_MINE), "items": items,
                "note": None if items else "no production figure from GEM, EIA or Climate TRACE"}  # fmt: skip

    return cached(state, reader, ("dashboard-production", mine_id), gem)


@router.get("/calibration", summary="Reliability bins of the back-test: predicted probability vs what happened")
def calibration(state: StateDep, reader: OptionalReaderDep) -> dict[str, Any]:
    """Pooled bins per level, horizon (years) and scorer, from the back-test report of the run in gold.

    Each bin: ``p_mean`` (mean predicted probability of viable), ``observed`` (share viable), ``n``.
    """
    out: dict[str, Any] = {"available": False, "run_id": None, "note": None, "levels": {}}
    if reader is None:
        return {**out, "note": "warehouse unavailable"}
    if not reader.has_table("gold", "fvi_backtest"):
        return {**out, "note": "no back-test yet: run `fvi run` (or `fvi backtest`)"}
    run_id = reader.scalar(f"select max(run_id) as r from {reader.table('gold', 'fvi_backtest')}")
    if not run_id:
        return {**out, "note": "the back-test table is empty"}
    path = state.settings.home_abs / "runs" / str(run_id) / "backtest" / "backtest.json"
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        log.info("calibration: no readable back-test report for run %s: %s", run_id, exc)
        return {**out, "run_id": run_id, "note": f"the back-test report of run {run_id} is not on this server"}
    levels: dict[str, Any] = {}
    for level, entry in (report.get("levels") or {}).items():
        horizons = entry.get("horizons") if isinstance(entry, dict) else None
        if not isinstance(horizons, dict):
            continue
        for h, hd in horizons.items():
            for scorer in (hd.get("scorers") or {}).values() if isinstance(hd, dict) else []:
                bins = [
                    {k: clean(b.get(k)) for k in ("bin", "p_mean", "observed", "n")}
                    for b in scorer.get("calibration") or []
                ]
                if bins:
                    levels.setdefault(str(level), {}).setdefault(str(h), []).append(
                        {
                            "scorer": scorer.get("scorer"),
                            "model_name": scorer.get("model_name"),
                            "ece": clean(scorer.get("ece")),
                            "bins": bins,
                        }  # fmt: skip
                    )
    return {**out, "available": bool(levels), "run_id": run_id, "levels": levels,
            "note": None if levels else "the back-test report holds no calibration bins"}  # fmt: skip


@router.get("/quarantine", summary="Rows that could not be read at ingest, with the reason")
def quarantine(
    reader: ReaderDep,
    page: PageDep,
    source_id: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9_]+$")] = None,
) -> dict[str, Any]:
    """``counts`` is rows per source and reason over the whole table; ``items`` one page of rows, newest run first."""
    if not reader.has_table("bronze", "quarantine"):
        return {**page.empty("bronze.quarantine is not built in this warehouse"), "counts": []}
    table = reader.table("bronze", "quarantine")
    cond, params = (" where source_id = ?", [source_id]) if source_id else ("", [])
    counts = reader.rows(
        f"select source_id, reason, count(*) as n from {table}{cond} group by source_id, reason "
        "order by n desc, source_id, reason limit 200",
        params,
    )
    total = int(reader.scalar(f"select count(*) as n from {table}{cond}", params) or 0)
    rows = reader.rows(
        f"select * from {table}{cond} order by run_id desc, source_id, table_name, row_number limit ? offset ?",
        [*params, page.limit, page.offset],
    )
    items = [{k: clean(v) for k, v in r.items()} for r in rows]
    return {"items": items, "total": total, **page.meta, "counts": counts,
            "note": None if total else "no row was quarantined"}  # fmt: skip
