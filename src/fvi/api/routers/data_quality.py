"""Data quality per metric (``marts.vw_metric_dq``) and the sources held back in the latest run.

Per metric: coverage, null rate, latest year, share imputed, and ``held_back``: the metric's sources
that the latest run did not load fresh (their previous good data is what the metric shows). The
page's ``note`` names every held-back source, its failed check and rows (the dashboard shows it);
``/data-quality/sources`` gives them in full.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from fvi.api import queries
from fvi.api.deps import PageDep, ReaderDep, StateDep, cached
from fvi.api.schemas import Page

router = APIRouter(prefix="/data-quality", tags=["registry"])

DQ_SORTS = {
    "metric_id": "metric_id asc",
    "null_rate": "null_rate desc nulls last, metric_id",
    "share_imputed": "share_imputed desc nulls last, metric_id",
    "latest_year": "latest_year asc nulls first, metric_id",
}


@router.get("", response_model=Page[dict[str, Any]], summary="Data quality per metric")
def data_quality(
    state: StateDep,
    reader: ReaderDep,
    page: PageDep,
    entity: Literal["mine", "country"] | None = None,
    pillar: Annotated[str | None, Query(max_length=8)] = None,
    sort: Literal["metric_id", "null_rate", "share_imputed", "latest_year"] = "metric_id",
) -> dict:
    """One row per metric; ``null_rate``/``share_imputed`` sort worst first, ``latest_year`` stalest first."""
    if not reader.has_table("marts", "vw_metric_dq"):
        return page.empty("marts.vw_metric_dq is not built in this warehouse")
    where: list[str] = []
    params: list[Any] = []
    if entity:
        where.append("entity = ?")
        params.append(entity)
    if pillar:
        where.append("pillar = ?")
        params.append(pillar)
    cond = f" where {' and '.join(where)}" if where else ""
    table = reader.table("marts", "vw_metric_dq")

    def compute() -> dict:
        # a view over the metric tables (~0.2 s on the real build): computed once per build and page
        total = int(reader.scalar(f"select count(*) as n from {table}{cond}", params) or 0)
        sql = f"select * from {table}{cond} order by {DQ_SORTS[sort]} limit ? offset ?"
        held = queries.held_back_sources(reader)
        items = [_with_held_back(row, held) for row in reader.rows(sql, [*params, page.limit, page.offset])]
        return {"items": items, "total": total, **page.meta, "note": held_back_note(held)}

    return cached(state, reader, ("data-quality", entity, pillar, sort, page.limit, page.offset), compute)


def _with_held_back(row: dict[str, Any], held: list[dict[str, Any]]) -> dict[str, Any]:
    """``row`` with ``held_back`` after ``source_ids``: which of its sources serve previous data, and why."""
    ids = set(str(row.get("source_ids") or "").split(";"))
    mine = [f"{h['source_id']} {h['status']}: {_checks_text(h)}" for h in held if h["source_id"] in ids]
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value
        if key == "source_ids":
            out["held_back"] = "; ".join(mine) or None
    out.setdefault("held_back", "; ".join(mine) or None)
    return out


def _checks_text(h: dict[str, Any]) -> str:
    parts = [f"{c['check']} ({c['rows']} rows)" if c["rows"] is not None else f"{c['check']}: {c['detail']}"
             for c in h["checks"]]
    return ", ".join(parts) or str(h["message"])


def held_back_note(held: list[dict[str, Any]]) -> str | None:
    """One sentence naming every held-back source, its failed checks and the rows it still serves."""
    if not held:
        return None
    said = [f"{h['source_id']} ({h['status']}; {_checks_text(h)}; serving {h['rows_served']:,} rows of the "
            f"previous good build)" if h["rows_served"] else
            f"{h['source_id']} ({h['status']}; {_checks_text(h)}; no previous data: empty)" for h in held]
    return f"Not loaded fresh in run {held[0]['run_id']}: " + "; ".join(said) + "."


@router.get("/sources", summary="Sources held back in the latest run: which check failed, on how many rows")
def held_back(reader: ReaderDep) -> dict[str, Any]:
    """Each source the latest run did not load fresh, with its failed checks and the rows it still serves."""
    items = queries.held_back_sources(reader)
    return {"items": items, "total": len(items), "note": held_back_note(items) or "every source loaded fresh"}


COVERAGE_STATUSES = ("operating", "closed")


@router.get("/model-features", summary="The worldwide mine model's features: source, reason and coverage")
def model_features(reader: ReaderDep) -> dict[str, Any]:
    """The worldwide mine model's features and the GEM signals it leaves out, with their coverage.

    Coverage is the share of operating and of closed GEM mines that carry the source column; a large
    gap is why a signal is left out (its presence would say "still operating at the release").
    """
    from fvi.ml.global_mines import MODEL_NAME
    from fvi.registry.vocabulary import GLOBAL_MINE_FEATURES, GLOBAL_MINE_FEATURES_LEFT_OUT

    declared = [(f, True) for f in GLOBAL_MINE_FEATURES] + [(f, False) for f in GLOBAL_MINE_FEATURES_LEFT_OUT]
    out: dict[str, Any] = {"model": MODEL_NAME, "note": None, "items": []}
    coverage: dict[str, dict[str, float | None]] = {}
    if reader.has_table("gold", "dim_mine"):
        table = reader.table("gold", "dim_mine")
        known = set(reader.query(f"select * from {table} limit 0").columns)
        columns = sorted({str(f.get("column")) for f, _ in declared if f.get("column") in known})
        if columns:
            counts = ", ".join(f'count("{c}") as "{c}"' for c in columns)
            marks = ", ".join("?" for _ in COVERAGE_STATUSES)
            rows = reader.rows(
                f"select lower(status) as status, count(*) as n, {counts} from {table} "
                f"where lower(status) in ({marks}) group by lower(status)",
                list(COVERAGE_STATUSES),
            )
            for r in rows:
                n = float(r["n"])
                for c in columns:
                    coverage.setdefault(c, {})[str(r["status"])] = round(float(r[c]) / n, 4) if n else None
    else:
        out["note"] = "gold.dim_mine is not built in this warehouse"
    for f, used in declared:
        col = str(f.get("column", ""))
        cov = {s: coverage.get(col, {}).get(s) for s in COVERAGE_STATUSES}
        gap = None if None in cov.values() else round(float(cov["operating"]) - float(cov["closed"]), 4)
        out["items"].append(
            {
                "id": f["id"],
                "column": col,
                "used": used,
                "source": f.get("source"),
                "polarity": f.get("polarity"),
                "reason": f.get("reason"),
                "coverage": cov,
                "coverage_gap": gap,
            }
        )
    return out
