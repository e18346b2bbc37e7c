"""The SQL behind the routes, in one place: gold tables only, ``?`` parameters, whitelisted sorts.

Identifiers (schemas, tables, columns, ORDER BY clauses) come from this module, never from the
request; request values only ever travel as parameters, so the same text runs on DuckDB and
PostgreSQL. Optional tables (predictions, weights history, data-quality mart) are looked up
first and answered with a note when absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from fvi.api import entity_store, search
from fvi.api.db import Reader, Row
from fvi.registry import vocabulary
from fvi.registry.vocabulary import US_MINE_PREFIX

EntityType = Literal["mine", "us_mine", "country"]
US_PREFIX = US_MINE_PREFIX
_PILLAR = re.compile(r"^pillar_(\d+)$")

SUMMARY_COLUMNS = (
    "entity_type", "entity_id", "entity_name", "country_iso3", "status", "as_of_year", "horizon", "persona", "fvi",
    "fvi_p05", "fvi_p50", "fvi_p95", "rank", "percentile", "rank_in_country", "percentile_in_country",
    "rank_in_status", "percentile_in_status", "pillar_coverage", "imputed_share", "run_id", "is_synthetic",
)  # fmt: skip
RANK_COLUMNS = (
    "rank", "percentile", "rank_in_country", "percentile_in_country", "rank_in_status", "percentile_in_status",
    "rank_p05", "rank_p50", "rank_p95",
)  # fmt: skip
# Joined dimension columns per entity type (alias d); a missing dimension table gives NULLs.
DIM = {
    "mine": (
        "dim_mine",
        "gem_mine_id",
        {"capacity_mtpa": "double precision", "latitude": "double precision", "longitude": "double precision"},
    ),
    "country": (
        "dim_country",
        "iso3",
        {"is_coal_producer": "boolean", "phase_out_status": "varchar", "phase_out_year": "integer"},
    ),
}
SORT_FIELDS = {
    "rank": "s.rank",
    "fvi": "s.fvi",
    "name": "s.entity_name",
    "percentile": "s.percentile",
    "capacity": "d.capacity_mtpa",
}
RANK_SCOPES = {"global": "s.rank", "country": "s.rank_in_country", "status": "s.rank_in_status"}


def order_by(sort: str, allowed: Iterable[str]) -> str:
    """An ORDER BY clause from a whitelisted ``field`` or ``-field``; ties broken by id (stable pages)."""
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in allowed or name not in SORT_FIELDS:
        raise ValueError(f"sort field {sort!r} not allowed")
    return f"{SORT_FIELDS[name]} {'desc' if desc else 'asc'} nulls last, s.entity_id asc"


# ---------------------------------------------------------------------------------------------
# Build facts (memoised per build)


def score_columns(r: Reader) -> list[str]:
    cols = r.memo("score_columns")
    if cols is None:
        frame = r.query(f"select * from {r.table('gold', 'fvi_scores')} limit 0")
        cols = r.remember("score_columns", [str(c) for c in frame.columns])
    return list(cols)


def pillar_ids(r: Reader) -> list[str]:
    """Pillar ids present as ``pillar_XX`` columns in this build's scores."""
    return [m.group(1) for c in score_columns(r) if (m := _PILLAR.match(c))]


def latest_years(r: Reader) -> dict[str, int]:
    years = r.memo("latest_years")
    if years is None:
        rows = r.rows(
            f"select entity_type, max(as_of_year) as y from {r.table('gold', 'fvi_scores')} group by entity_type"
        )
        years = r.remember("latest_years", {row["entity_type"]: int(row["y"]) for row in rows if row["y"] is not None})
    return dict(years)


def has_scores(r: Reader) -> bool:
    return r.has_table("gold", "fvi_scores")


# ---------------------------------------------------------------------------------------------
# Lists


def _dim_select(r: Reader, entity_type: str) -> tuple[str, str]:
    """(extra select list, join clause) for the entity's dimension table."""
    if entity_type not in DIM:
        return "", ""
    table, key, cols = DIM[entity_type]
    if r.has_table("gold", table):
        extra = "".join(f", d.{c}" for c in cols)
        return extra, f" left join {r.table('gold', table)} d on d.{key} = s.entity_id"
    extra = "".join(f", cast(null as {t}) as {c}" for c, t in cols.items())
    return extra, ""


def list_scores(
    r: Reader,
    *,
    entity_type: str,
    horizon: str,
    persona: str,
    as_of_year: int,
    q: str | None = None,
    country: str | None = None,
    status: str | None = None,
    order: str,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """One page of scores of ``entity_type`` with the total count; the ORDER BY comes from ``order_by``."""
    where = ["s.entity_type = ?", "s.horizon = ?", "s.persona = ?", "s.as_of_year = ?"]
    params: list[Any] = [entity_type, horizon, persona, as_of_year]
    order_params: list[Any] = []
    if q:
        # accents, alternative names and ids in Python (one index per build); fuzzy hits closest first
        ids, fuzzy = search.index_for(r, entity_type, as_of_year).match(q)
        if not ids:
            return [], 0
        pg = getattr(r, "kind", "duckdb") != "duckdb"
        where.append("s.entity_id = any(?)" if pg else "list_contains(?, s.entity_id)")
        params.append(ids)
        if fuzzy:
            order = ("array_position(?, s.entity_id)" if pg else "list_position(?, s.entity_id)") + ", " + order
            order_params = [ids]
    if country:
        where.append("s.country_iso3 = ?")
        params.append(country.upper())
    if status:
        where.append("lower(s.status) = lower(?)")
        params.append(status)
    extra, join = _dim_select(r, entity_type)
    if "d.capacity_mtpa" in order and not join:
        order = order.replace("d.capacity_mtpa", "s.rank")
    if not q:
        store = entity_store.get(r)
        if store is not None and store.type_latest.get(entity_type) == as_of_year:
            page = store.list_scores(
                entity_type=entity_type, horizon=horizon, persona=persona, as_of_year=as_of_year,
                columns=SUMMARY_COLUMNS, extra=tuple(DIM[entity_type][2]) if entity_type in DIM else (),
                country=country, status=status, order=order, limit=limit, offset=offset,
            )  # fmt: skip
            if page is not None:
                return page
    have = set(score_columns(r))
    # a build scored without the uncertainty step has no band columns: they read as missing
    cols = ", ".join(f"s.{c}" if c in have else f"cast(null as double precision) as {c}" for c in SUMMARY_COLUMNS)
    scores = r.table("gold", "fvi_scores")
    cond = " and ".join(where)
    total = int(r.scalar(f"select count(*) as n from {scores} s where {cond}", params) or 0)
    if offset >= total:
        return [], total
    items = r.rows(
        f"select {cols}{extra} from {scores} s{join} where {cond} order by {order} limit ? offset ?",
        [*params, *order_params, limit, offset],
    )
    return items, total


# ---------------------------------------------------------------------------------------------
# One entity


def us_msha_id(entity_id: str) -> int | None:
    digits = entity_id[len(US_PREFIX) :]
    return int(digits) if entity_id.upper().startswith(US_PREFIX) and digits.isdigit() else None


def identity(r: Reader, entity_type: str, entity_id: str) -> Row | None:
    """The entity's dimension row (latest year for a US mine), or None."""
    if entity_type == "mine" and r.has_table("gold", "dim_mine"):
        return r.one(f"select * from {r.table('gold', 'dim_mine')} where gem_mine_id = ?", [entity_id])
    if entity_type == "country" and r.has_table("gold", "dim_country"):
        return r.one(f"select * from {r.table('gold', 'dim_country')} where iso3 = ?", [entity_id])
    if entity_type == "us_mine" and r.has_table("gold", "fct_us_mine__yearly"):
        msha = us_msha_id(entity_id)
        if msha is None:
            return None
        return r.one(
            f"select * from {r.table('gold', 'fct_us_mine__yearly')} where msha_id = ? order by year desc limit 1",
            [msha],
        )
    return None


def entity_score_rows(r: Reader, entity_type: str, entity_id: str) -> list[Row]:
    """Every score row of one entity (all years, horizons, personas): one scan, cheaper than two filtered ones."""
    return r.rows(
        f"select * from {r.table('gold', 'fvi_scores')} where entity_type = ? and entity_id = ? "
        "order by as_of_year, horizon, persona",
        [entity_type, entity_id],
    )


def score_contributions(r: Reader, entity_type: str, entity_id: str, as_of_year: int) -> list[Row]:
    """Each metric's contribution to the FVI in points (``gold.fvi_score_contributions``), largest first."""
    if not r.has_table("gold", "fvi_score_contributions"):
        return []
    return r.rows(
        "select horizon, persona, metric_id, pillar, metric_of, raw_value, typical_value, score, typical_score, "
        f"points, imputation from {r.table('gold', 'fvi_score_contributions')} "
        "where entity_type = ? and entity_id = ? and as_of_year = ? "
        "order by horizon, persona, abs(points) desc, metric_id",
        [entity_type, entity_id, as_of_year],
    )


def band_sensitivity(r: Reader, entity_type: str) -> list[Row]:
    """Sobol indices of the Monte Carlo's choices for this entity type at its newest Sobol year."""
    if not r.has_table("gold", "fvi_sensitivity"):
        return []
    t = r.table("gold", "fvi_sensitivity")
    return r.rows(
        f"select horizon, persona, factor, s1, st, as_of_year, n_entities from {t} where entity_type = ? "
        f"and as_of_year = (select max(as_of_year) from {t} where entity_type = ?) order by horizon, persona, st desc",
        [entity_type, entity_type],
    )


def viability(r: Reader, entity_type: str, entity_id: str, as_of_year: int) -> list[Row]:
    """The entity's FVI read as a calibrated P(viable) (``gold.fvi_viability``) at ``as_of_year``."""
    if not r.has_table("gold", "fvi_viability"):
        return []
    return r.rows(
        "select horizon, persona, level, p_viable, p_viable_lo, p_viable_hi, n_labels, n_not_viable, label_years "
        f"from {r.table('gold', 'fvi_viability')} where entity_type = ? and entity_id = ? and as_of_year = ?",
        [entity_type, entity_id, as_of_year],
    )


def metric_scores(r: Reader, entity_type: str, entity_id: str, as_of_year: int) -> list[Row] | None:
    if not r.has_table("gold", "fvi_metric_scores"):
        return None
    return r.rows(
        "select metric_id, pillar, raw_value, value_used, score, imputation "
        f"from {r.table('gold', 'fvi_metric_scores')} "
        "where entity_type = ? and entity_id = ? and as_of_year = ? order by pillar, metric_id",
        [entity_type, entity_id, as_of_year],
    )


def mines_in_country(r: Reader, iso3: str) -> list[Row]:
    if not r.has_table("gold", "dim_mine"):
        return []
    return r.rows(
        "select status, count(*) as mines, sum(capacity_mtpa) as capacity_mtpa "
        f"from {r.table('gold', 'dim_mine')} where country_iso3 = ? group by status order by status",
        [iso3],
    )


horizon_label = vocabulary.horizon_label


def predictions(
    r: Reader, entity_type: str, entity_id: str, as_of_year: int
) -> tuple[list[Row], list[Row], str | None]:
    """(model predictions, Bayesian intervals, note) for one entity-year; empty lists with a note if absent."""
    if not r.has_table("gold", "fvi_predictions"):
        return [], [], "no model predictions yet: gold.fvi_predictions has not been built (run `fvi train`)"
    key = [entity_type, entity_id, as_of_year]
    where = "where entity_type = ? and entity_id = ? and as_of_year = ?"
    preds = r.rows(f"select * from {r.table('gold', 'fvi_predictions')} {where}", key)
    bayes: list[Row] = []
    if r.has_table("gold", "fvi_predictions_bayes"):
        bayes = r.rows(f"select * from {r.table('gold', 'fvi_predictions_bayes')} {where}", key)
    note = None if preds else f"no model prediction for {entity_type} {entity_id!r} in {as_of_year}"
    return preds, bayes, note


def published_probabilities(r: Reader, entity_type: str, entity_id: str, as_of_year: int) -> list[Row] | None:
    """Rows of ``gold.fvi_probabilities`` for one entity-year, or None when the table is not built."""
    if not r.has_table("gold", "fvi_probabilities"):
        return None
    where = "where entity_type = ? and entity_id = ? and as_of_year = ?"
    return r.rows(f"select * from {r.table('gold', 'fvi_probabilities')} {where}", [entity_type, entity_id, as_of_year])


def manifest_for_run(r: Reader, run_id: str | None) -> list[Row]:
    """The ingest manifest of the latest run at or before ``run_id`` (the releases a score was built from)."""
    if not r.has_table("bronze", "ingest_manifest"):
        return []
    key = ("manifest", run_id)
    cached = r.memo(key)
    if cached is not None:
        return list(cached)
    manifest = r.table("bronze", "ingest_manifest")
    run = r.scalar(f"select max(run_id) as run_id from {manifest} where run_id <= ?", [run_id or ""])
    if run is None:
        run = r.scalar(f"select max(run_id) as run_id from {manifest}")
    rows = r.rows(
        "select source_id, dataset, release, retrieved_at, sha256, bytes, rows_loaded, rows_quarantined, "
        f"licence_name, licence_url, status, run_id from {manifest} where run_id = ? order by source_id, dataset",
        [run],
    )
    return list(r.remember(key, rows))


def manifest_runs(r: Reader) -> list[Row]:
    if not r.has_table("bronze", "ingest_manifest"):
        return []
    return r.rows(
        "select run_id, count(*) as files, count(distinct source_id) as sources, "
        "sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined "
        f"from {r.table('bronze', 'ingest_manifest')} group by run_id order by run_id desc"
    )


def manifest_of(r: Reader, run_id: str) -> list[Row]:
    if not r.has_table("bronze", "ingest_manifest"):
        return []
    return r.rows(
        f"select * from {r.table('bronze', 'ingest_manifest')} where run_id = ? order by source_id, dataset", [run_id]
    )


def held_back_sources(r: Reader) -> list[Row]:
    """Sources the live build did not load fresh in its latest run: which, which check, how many rows.

    One row per source: ``status`` (carried_forward, failed, refused, missing), ``checks`` (each
    failed check with its failing rows where counted, :func:`fvi.held_back.checks`), ``message`` (paths
    cut to the file name), ``files``, ``rows_quarantined`` and ``rows_served``: the rows of the source's
    bronze tables in the live build (the previous good release when carried forward; 0 when left empty).
    """
    from fvi.errors import scrub_paths
    from fvi.held_back import checks
    from fvi.ingest.base import load_column_maps

    if not r.has_table("bronze", "ingest_manifest"):
        return []
    cached = r.memo(("held-back",))
    if cached is not None:
        return list(cached)
    t = r.table("bronze", "ingest_manifest")
    rows = r.rows(
        f"select run_id, source_id, status, min(message) as message, count(*) as files, "
        f"sum(coalesce(rows_quarantined, 0)) as rows_quarantined from {t} "
        f"where run_id = (select max(run_id) from {t}) and status <> 'loaded' "
        "group by run_id, source_id, status order by source_id"
    )
    out: list[Row] = []
    for row in rows:
        source = str(row["source_id"])
        served = 0
        for table in load_column_maps(source):
            name = f"raw_{source}__{table}"
            if r.has_table("bronze", name):
                served += int(r.scalar(f"select count(*) as n from {r.table('bronze', name)}") or 0)
        message = scrub_paths(str(row["message"] or ""))
        out.append({
            "source_id": source, "status": row["status"], "run_id": row["run_id"], "checks": checks(message),
            "message": message, "files": int(row["files"] or 0),
            "rows_quarantined": int(row["rows_quarantined"] or 0), "rows_served": served,
        })  # fmt: skip
    return list(r.remember(("held-back",), out))
