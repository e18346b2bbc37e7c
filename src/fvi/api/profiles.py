"""Entity pages (mine, US mine, country) and list items assembled from the gold tables.

Shared by the mines, countries and rankings routers so a mine and a country answer in one shape.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fvi.api import entity_store, queries
from fvi.api.db import Reader, Row
from fvi.api.entity_store import METRIC_SCORE_COLUMNS, EntityStore
from fvi.api.errors import NotFound
from fvi.registry import vocabulary
from fvi.registry.vocabulary import HORIZON_LABELS, is_bad_target

LOCATION_KEYS = {
    "mine": ("latitude", "longitude", "location_accuracy", "region", "subregion", "state_province", "coalfield"),
    "us_mine": ("state", "mine_state_published", "mine_county", "region", "is_region_inferred"),
}
NOT_IMPUTED = {"observed", "excluded", None}
NOUN = {"mine": "mine", "us_mine": "US mine", "country": "country"}
# US mines are the EIA mine spine (gold.fct_us_mine__yearly): their values come from this source
# even where the registry names the GEM source of the metric.
US_MINE_SOURCE = "eia_mines"


def summary(row: Row) -> dict[str, Any]:
    """A list item: ``entity_id``/``entity_name`` as ``id``/``name``, everything else as stored."""
    out = dict(row)
    out["id"] = out.pop("entity_id")
    out["name"] = out.pop("entity_name", None)
    out.pop("run_id", None)
    return out


def _pillar_names() -> dict[str, str]:
    from fvi.registry.metrics import load_pillars

    return {p.id: p.name for p in load_pillars().values()}


def _metric_info() -> dict[str, tuple[str, str]]:
    from fvi.registry.metrics import load_metrics

    return {m.id: (m.name, m.unit) for m in load_metrics().values()}


FACTOR_WORDS = {
    "weights": "the pillar weights (drawn around the persona's)",
    "normalisation": "the normalisation (fixed goalposts, min-max or rank)",
    "imputation": "imputing missing values or leaving them out",
    "aggregation": "arithmetic or geometric aggregation",
}
"""The Monte Carlo's choices (``fvi.scoring.uncertainty.FACTORS``) in words."""


def band_explained(row: Row, drivers: list[Row], noun: str) -> dict[str, Any] | None:
    """The band's width and the choices that drive it, from the Sobol indices of this entity type.

    The indices are of the mean rank shift over all entities of the type at the newest year (the
    same draws as the band), so they say which modelling choice the spread comes from.
    """
    lo, hi = row.get("fvi_p05"), row.get("fvi_p95")
    if lo is None or hi is None:
        return None
    width = round(float(hi) - float(lo), 1)
    raw = [d for d in drivers if d.get("st") is not None]
    ranked = [
        {"factor": d["factor"], "st": round(float(d["st"]), 3),
         "s1": None if d.get("s1") is None else round(float(d["s1"]), 3),
         "label": FACTOR_WORDS.get(str(d["factor"]), str(d["factor"]))}
        for d in raw
    ]  # fmt: skip
    out: dict[str, Any] = {"width": width, "drivers": ranked}
    text = f"The 5-95 % band is {width:g} points wide."
    if ranked:
        top = ranked[0]
        text += (
            f" Of the choices the Monte Carlo varies, {top['label']} drives most of the spread among {noun}s at "
            f"{row.get('horizon')} (total Sobol index {float(raw[0]['st']):.2f}"
        )
        if len(ranked) > 1:
            text += f"; then {ranked[1]['label']}, {float(raw[1]['st']):.2f}"
        text += ")."
    else:
        text += " No Sobol indices were computed for this entity type (run `fvi uncertainty`)."
    out["text"] = text
    return out


def _viable(row: Row | None) -> dict[str, Any] | None:
    if row is None or row.get("p_viable") is None:
        return None
    return {
        "p": row["p_viable"],
        "lo": row.get("p_viable_lo"),
        "hi": row.get("p_viable_hi"),
        "level": row["level"],
        "n_labels": row["n_labels"],
        "n_not_viable": row["n_not_viable"],
        "label_years": row["label_years"],
    }


def _score_blocks(
    rows: list[Row],
    pillars: list[str],
    sens: list[Row] | None = None,
    noun: str = "entity",
    viability: list[Row] | None = None,
) -> dict[str, dict[str, Any]]:
    by_key: dict[tuple[str, str], list[Row]] = {}
    for d in sens or []:
        by_key.setdefault((str(d["horizon"]), str(d["persona"])), []).append(d)
    viable = {(str(v["horizon"]), str(v["persona"])): v for v in viability or []}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(row["horizon"], {})[row["persona"]] = {
            "fvi": row.get("fvi"),
            "band": {"p05": row.get("fvi_p05"), "p50": row.get("fvi_p50"), "p95": row.get("fvi_p95")},
            "band_explained": band_explained(row, by_key.get((str(row["horizon"]), str(row["persona"])), []), noun),
            "viable_from_fvi": _viable(viable.get((str(row["horizon"]), str(row["persona"])))),
            "ranks": {k: row.get(k) for k in queries.RANK_COLUMNS if k in row},
            "pillars": {p: row.get(f"pillar_{p}") for p in pillars},
            "pillar_coverage": row.get("pillar_coverage"),
            "imputed_share": row.get("imputed_share"),
        }
    order = {"H5": 0, "H10": 1, "H20": 2}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 9)))


def _published(preds: list[Row], rows: list[Row]) -> dict[str, Any]:
    """The one published answer per horizon (``fvi.ml.publish``): coherent, gated, interval around the point."""
    order = {h: i for i, h in enumerate(HORIZON_LABELS)}
    horizons: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda x: order.get(queries.horizon_label(x.get("horizon")), 9)):
        h = queries.horizon_label(row.get("horizon"))
        horizons[h] = {
            "horizon": h,
            "target": row.get("target"),
            "p": row.get("p_target"),
            "model_name": row.get("model_name"),
            "model_version": None if row.get("model_version") is None else str(row.get("model_version")),
            "method": row.get("method"),
            "p_mean": None,
            "p_lo": row.get("p_target_lo"),
            "p_hi": row.get("p_target_hi"),
            "p_viable": row.get("p_viable"),
            "is_published": row.get("is_published"),
            "interval_method": row.get("interval_method"),
            "interval_model": "fvi_bayes" if row.get("interval_method") else None,
            "note": row.get("note"),
        }
    held = [h for h, v in horizons.items() if v["is_published"] is False]
    note = f"not published at {', '.join(held)}: no skill on the strict back-test" if held else None
    return {"available": True, "note": note, "horizons": horizons, "all": preds}


def _prediction(
    r: Reader, entity_type: str, entity_id: str, year: int, store: EntityStore | None = None
) -> dict[str, Any]:
    if store is not None and "fvi_predictions" in store.tables:
        preds = store.rows("fvi_predictions", entity_type, entity_id) or []
        bayes = store.rows("fvi_predictions_bayes", entity_type, entity_id) or []
        note = None if preds else f"no model prediction for {entity_type} {entity_id!r} in {year}"
        published = store.rows("fvi_probabilities", entity_type, entity_id)
    else:
        preds, bayes, note = queries.predictions(r, entity_type, entity_id, year)
        published = queries.published_probabilities(r, entity_type, entity_id, year) if preds else None
    if not preds:
        return {"available": False, "note": note, "horizons": {}, "all": []}
    if published:
        return _published(preds, published)
    rank = {"classifier": 0, "hazard": 1}

    def version(row: Row) -> float:
        try:
            return float(row.get("model_version") or 0)
        except (TypeError, ValueError):
            return 0.0

    best: dict[str, Row] = {}
    for row in sorted(preds, key=lambda p: (rank.get(str(p.get("method")), 9), -version(p))):
        best.setdefault(queries.horizon_label(row.get("horizon")), row)
    intervals = {queries.horizon_label(b.get("horizon")): b for b in bayes}
    horizons: dict[str, dict[str, Any]] = {}
    flipped = False
    for h, row in best.items():
        band = intervals.get(h, {})
        if band and _is_bad(row.get("target")) != _is_bad(band.get("target", "viable")):
            band, flipped = _flip(band), True
        horizons[h] = {
            "horizon": h,
            "target": row.get("target"),
            "p": row.get("p"),
            "model_name": row.get("model_name"),
            "model_version": None if row.get("model_version") is None else str(row.get("model_version")),
            "method": row.get("method"),
            "p_mean": band.get("p_mean"),
            "p_lo": band.get("p_lo"),
            "p_hi": band.get("p_hi"),
            "interval_model": band.get("model"),
        }
    missing = sorted(set(best) - set(intervals))
    notes = [f"no credible interval for {', '.join(missing)}"] if missing else []
    if flipped:
        notes.append("the Bayesian model gives P(viable); its interval is shown as 1 - P to match the target")
    return {"available": True, "note": "; ".join(notes) or None, "horizons": horizons, "all": preds}


def _fmt_value(value: Any, unit: str) -> str:
    if value is None:
        return "no value"
    v = float(value)
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.1f}"
    if unit in ("%", "pct", "percent"):
        return f"{text} %"
    return f"{text} {unit}".strip() if unit and unit not in ("index", "score", "flag", "1") else text


def score_drivers(
    r: Reader,
    entity_type: str,
    entity_id: str,
    year: int,
    name: str | None,
    *,
    top: int = 6,
    store: EntityStore | None = None,
) -> dict[str, Any]:
    """The FVI explained in points per horizon: the metrics that move it most against the typical entity."""
    held = store.drivers(entity_type, entity_id, top) if store is not None else None
    rows = held if held is not None else queries.score_contributions(r, entity_type, entity_id, year)
    if not rows:
        return {"available": False, "note": "no contributions stored for this build (run `fvi score`)"}
    info = _metric_info()
    noun = {"mine": "mine", "us_mine": "US mine", "country": "country"}[entity_type]
    where = f" in {name}" if name else ""
    out: dict[str, Any] = {}
    for row in rows:
        block = out.setdefault(row["horizon"], {"persona": row["persona"], "drivers": []})
        if row["persona"] != block["persona"] or len(block["drivers"]) >= top:
            continue
        mname, unit = info.get(row["metric_id"], (row["metric_id"], ""))
        pts = float(row["points"])
        verb = "raises" if pts > 0 else "lowers"
        imputed = "" if row.get("imputation") in (None, "observed") else f" (value imputed: {row['imputation']})"
        of = " (its country's)" if row.get("metric_of") == "country" else ""
        block["drivers"].append(
            {
                **{k: row[k] for k in ("metric_id", "pillar", "metric_of", "raw_value", "typical_value", "imputation")},
                "name": mname,
                "unit": unit or None,
                "value_text": _fmt_value(row["raw_value"], unit),
                "typical_text": _fmt_value(row["typical_value"], unit),
                "points": round(pts, 2),
                "text": (
                    f"{mname}{of} of {_fmt_value(row['raw_value'], unit)}{where} {verb} the score by "
                    f"{abs(pts):.1f} points at {row['horizon']} against the typical "
                    f"{'country' if row.get('metric_of') == 'country' else noun} "
                    f"({_fmt_value(row['typical_value'], unit)}){imputed}."
                ),
            }
        )
    order = {"H5": 0, "H10": 1, "H20": 2}
    return {
        "available": True,
        "method": (
            "FVI points each metric adds or removes against the median entity of the same type and year, "
            "everything else unchanged (the scoring engine's own weights, blend and aggregation)"
        ),
        "horizons": dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 9))),
    }


def _is_bad(target: Any) -> bool:
    """Targets that name a bad outcome (the probability falls as viability rises)."""
    return is_bad_target(target)


def _flip(band: Row) -> Row:
    """An interval of P(viable) turned into one of P(bad outcome): (1 - hi, 1 - lo)."""

    def minus(v: Any) -> Any:
        return None if v is None else 1.0 - float(v)

    lo, hi = minus(band.get("p_hi")), minus(band.get("p_lo"))
    return {**band, "p_mean": minus(band.get("p_mean")), "p_lo": lo, "p_hi": hi}


def _quality(
    r: Reader, entity_type: str, entity_id: str, year: int, scores: list[Row], store: EntityStore | None = None
) -> dict[str, Any]:
    if store is not None and "fvi_metric_scores" in store.tables:
        rows = store.rows("fvi_metric_scores", entity_type, entity_id)
        rows = [{c: row[c] for c in METRIC_SCORE_COLUMNS} for row in rows or []]
    else:
        rows = queries.metric_scores(r, entity_type, entity_id, year)
    imputed_share = next((s.get("imputed_share") for s in scores if s.get("imputed_share") is not None), None)
    if rows is None:
        return {"imputed_share": imputed_share, "note": "gold.fvi_metric_scores is not built in this warehouse"}
    info = _metric_info()
    metrics = [
        {
            **row,
            "name": info.get(row["metric_id"], (None, None))[0],
            "unit": info.get(row["metric_id"], (None, None))[1],
            "imputed": row.get("imputation") not in NOT_IMPUTED,
            "missing": row.get("value_used") is None,
        }
        for row in rows
    ]
    counts = Counter(str(m.get("imputation")) for m in metrics)
    note = None
    if entity_type != "country":
        note = "mine metrics only; the country context blended into the mine's pillars is on /v1/countries/{iso3}"
    return {"imputed_share": imputed_share, "counts": dict(sorted(counts.items())), "metrics": metrics, "note": note}


def _sources_for(entity_type: str) -> set[str]:
    from fvi.registry.metrics import load_metrics

    wanted = {"country"} if entity_type == "country" else {"mine", "country"}
    used = {s for m in load_metrics().values() if m.entity in wanted for s in m.sources}
    return used | {US_MINE_SOURCE} if entity_type == "us_mine" else used


def _provenance(r: Reader, entity_type: str, scores: list[Row], registry_hash: str) -> dict[str, Any]:
    first = scores[0] if scores else {}
    run_id = first.get("run_id")
    used = _sources_for(entity_type)
    sources = [row for row in queries.manifest_for_run(r, run_id) if row["source_id"] in used]
    return {
        "run_id": run_id,
        "registry_hash": first.get("registry_hash"),
        "registry_hash_current": registry_hash,
        "is_synthetic": first.get("is_synthetic"),
        "sources": sources,
    }


_SOURCE_OF = {"mine": "the GEM Global Coal Mine Tracker", "us_mine": "the EIA/MSHA mine files"}


def _linked(
    r: Reader, other_type: str, other_id: str, history: list[Row], store: EntityStore | None = None
) -> dict[str, Any] | None:
    """The same physical mine as the other source scores it, and why the two scores differ."""
    if store is not None:  # its latest year's rows are all this reads of them
        rows = store.rows("fvi_scores", other_type, other_id) or []
    else:
        rows = queries.entity_score_rows(r, other_type, other_id)
    if not rows:
        return None
    mine_year = max((int(h["as_of_year"]) for h in history), default=None)
    other_year = max(int(x["as_of_year"]) for x in rows)
    this_type = "us_mine" if other_type == "mine" else "mine"

    def fvi_by_horizon(rs: list[Row], year: int | None) -> dict[str, Any]:
        return {
            x["horizon"]: x.get("fvi")
            for x in rs
            if x["persona"] == vocabulary.DEFAULT_PERSONA and year is not None and int(x["as_of_year"]) == year
        }

    return {
        "entity_type": other_type,
        "id": other_id,
        "as_of_year": other_year,
        "persona": vocabulary.DEFAULT_PERSONA,
        "fvi": fvi_by_horizon(rows, other_year),
        "this_fvi": fvi_by_horizon(history, mine_year),
        "why_different": (
            f"The same mine is scored twice, once from each source: here from {_SOURCE_OF[this_type]} "
            f"(as of {mine_year}), there from {_SOURCE_OF[other_type]} (as of {other_year}). The two "
            "sources report different metrics (GEM: capacity, reserves, status, ownership; EIA: production, "
            "employees, hours, productivity) and years, and each is ranked among its own kind (GEM mines "
            "worldwide; US mines), so the scores and ranks need not agree."
        ),
    }


def _sensitivity(r: Reader, entity_type: str, store: EntityStore | None) -> list[Row]:
    if store is not None:
        return store.sensitivity.get(entity_type, [])
    return queries.band_sensitivity(r, entity_type)


def entity_profile(
    r: Reader,
    entity_type: str,
    entity_id: str,
    *,
    as_of_year: int | None,
    horizon: str | None,
    persona: str | None,
    registry_hash: str,
) -> dict[str, Any]:
    """The full page of one entity; NotFound names the id (and the year, when it has no scores then)."""
    noun = NOUN[entity_type]
    store = entity_store.get(r)
    key = (entity_type, entity_id)
    if store is not None and (store.holds(entity_type, entity_id, as_of_year) or key not in store.years):
        # the entity's latest year (or an id never scored): from memory, no scan
        try:
            ident = store.identity(entity_type, entity_id, queries.us_msha_id(entity_id))
        except KeyError:
            ident = queries.identity(r, entity_type, entity_id)
        years = list(store.years.get(key, []))
        history = store.rows("fvi_scores", entity_type, entity_id) or []
    else:
        store = None  # an older year: every read below goes to the warehouse
        ident = queries.identity(r, entity_type, entity_id)
        history = queries.entity_score_rows(r, entity_type, entity_id)
        years = sorted({int(row["as_of_year"]) for row in history})
    if ident is None and not years:
        raise NotFound(f"{noun} {entity_id!r} not found")
    if as_of_year is not None and as_of_year not in years:
        raise NotFound(f"{noun} {entity_id!r} has no scores for {as_of_year}; years scored: {years or 'none'}")
    year = as_of_year if as_of_year is not None else (years[-1] if years else None)
    scores = [
        row
        for row in history
        if row["as_of_year"] == year and horizon in (None, row["horizon"]) and persona in (None, row["persona"])
    ]
    pillars = queries.pillar_ids(r)
    identity = dict(ident or {})
    keys = LOCATION_KEYS.get(entity_type, ())
    location = {k: identity.pop(k) for k in keys if k in identity} or None
    name = (
        identity.get("mine_name")
        or identity.get("country_name")
        or next((s.get("entity_name") for s in scores if s.get("entity_name")), None)
    )
    related: dict[str, Any] = {}
    if entity_type == "mine" and identity.get("msha_id") is not None:
        related["us_mine"] = f"/v1/mines/{queries.US_PREFIX}{identity['msha_id']}"
        related["linked"] = _linked(r, "us_mine", f"{queries.US_PREFIX}{identity['msha_id']}", history, store)
    if entity_type == "us_mine" and identity.get("gem_mine_id"):
        related["gem_mine"] = f"/v1/mines/{identity['gem_mine_id']}"
        related["linked"] = _linked(r, "mine", str(identity["gem_mine_id"]), history, store)
    country = identity.get("country_iso3") or ("USA" if entity_type == "us_mine" else None)
    if entity_type != "country" and country:
        related["country"] = f"/v1/countries/{country}"
    if entity_type == "country":
        related["mines"] = queries.mines_in_country(r, entity_id)
    if year is None:
        empty = {"available": False, "note": f"{noun} {entity_id!r} has no scores", "horizons": {}, "all": []}
        return {
            "entity_type": entity_type,
            "id": entity_id,
            "name": name,
            "identity": identity,
            "location": location,
            "as_of_year": None,
            "years_scored": [],
            "pillar_names": _pillar_names(),
            "scores": {},
            "prediction": empty,
            "data_quality": {"note": "not scored"},
            "provenance": {"registry_hash_current": registry_hash},
            "related": related,
        }
    return {
        "entity_type": entity_type,
        "id": entity_id,
        "name": name,
        "identity": identity,
        "location": location,
        "as_of_year": year,
        "years_scored": years,
        "pillar_names": {p: n for p, n in _pillar_names().items() if p in pillars},
        "scores": _score_blocks(
            scores,
            pillars,
            _sensitivity(r, entity_type, store),
            noun,
            queries.viability(r, entity_type, entity_id, year),
        ),
        "prediction": _prediction(r, entity_type, entity_id, year, store),
        "score_drivers": score_drivers(r, entity_type, entity_id, year, name, store=store),
        "data_quality": _quality(r, entity_type, entity_id, year, scores, store),
        "provenance": _provenance(r, entity_type, scores, registry_hash),
        "related": related,
    }
