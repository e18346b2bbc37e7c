"""Scores and model probabilities per mine (or country) and horizon, flat, for checks outside the project.

One row per mine and horizon (H5, H10, H20) at the latest as-of year of that mine's data: a GEM
mine (``entity_type`` mine) at its newest tracker release, a US mine (``us_mine``) at its newest
EIA year, keyed by ``msha_id``. ``mine_id`` is the scored entity: the GEM Mine ID
for GEM rows, ``MSHA<id>`` for EIA rows. Each key is unique: ``gem_mine_id`` is set on GEM rows
only and ``msha_id`` on EIA rows only, so a check joining on either never counts a mine twice; a
US mine that GEM also lists has both rows, linked by ``linked_msha_id`` / ``linked_gem_mine_id``.
``p_operating`` comes from ``gold.fvi_predictions`` (target operating) for the same entity, as-of
year and horizon, its interval from ``gold.fvi_predictions_bayes`` (5th-95th percentile of
P(viable); H5 only for mines today); both are NULL where no model has predicted.
Countries carry ``p_decline`` (target decline) and the Bayesian band turned into one for decline.
Files are written to a temporary name and swapped in, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.provenance import data_world
from fvi.registry.vocabulary import BAD_TARGETS, DEFAULT_PERSONA, METHOD_PREFERENCE, horizon_label, msha_of
from fvi.settings import Settings
from fvi.warehouse import Warehouse, live

HORIZONS = ("H5", "H10", "H20")
MINE_ENTITIES = ("mine", "us_mine")  # order = precedence on equal as-of years
_PILLAR = re.compile(r"^pillar_\d+$")
_SCORE_EXTRA = ["pillar_coverage", "imputed_share"]
MINE_COLUMNS = [
    "mine_id", "gem_mine_id", "msha_id", "mine_name", "country_iso3", "status", "entity_type", "entity_id",
    "as_of_year", "horizon", "persona", "fvi", "fvi_p05", "fvi_p50", "fvi_p95", "p_operating", "p_operating_lo",
    "p_operating_hi",
]  # fmt: skip
COUNTRY_COLUMNS = [
    "iso3", "country_name", "as_of_year", "horizon", "persona", "fvi", "fvi_p05", "fvi_p50", "fvi_p95", "p_decline",
    "p_decline_lo", "p_decline_hi",
]  # fmt: skip
TAIL_COLUMNS = [
    "closing_year", "linked_gem_mine_id", "linked_msha_id", "model_name", "model_version", "method", "probability_note",
    "run_id", "registry_hash", "data_world", "licence_notice",
]  # fmt: skip
RESTRICTED = re.compile(r"\b(NC|ND|non-?commercial|no ?deriv)", re.IGNORECASE)


def _gold(wh: Warehouse, name: str) -> str:
    return f"{wh.schema('gold')}.{name}"


def latest_scores(wh: Warehouse, entity_types: tuple[str, ...], persona: str, as_of: int | None) -> pd.DataFrame:
    """Scores of the persona at each entity's latest as-of year (or exactly ``as_of``)."""
    if not wh.has_table("gold", "fvi_scores"):
        raise LookupError("no scores yet: run `fvi run` (or `fvi score`)")
    marks = ", ".join("?" for _ in entity_types)
    scores = _gold(wh, "fvi_scores")
    if as_of is not None:
        sql = f"select * from {scores} where entity_type in ({marks}) and persona = ? and as_of_year = ?"
        params: list[Any] = [*entity_types, persona, int(as_of)]
    else:
        sql = (
            f"with latest as (select entity_type, entity_id, max(as_of_year) as latest_year from {scores} "
            f"where entity_type in ({marks}) and persona = ? group by entity_type, entity_id) "
            f"select s.* from {scores} s join latest l on s.entity_type = l.entity_type "
            "and s.entity_id = l.entity_id and s.as_of_year = l.latest_year "
            f"where s.persona = ? and s.entity_type in ({marks})"
        )
        params = [*entity_types, persona, persona, *entity_types]
    frame = wh.query(sql, params)
    frame = frame[frame["horizon"].isin(HORIZONS)].copy()
    keys = ["entity_type", "entity_id", "as_of_year", "horizon"]
    if frame.duplicated(keys).any():
        raise ValueError("fvi_scores holds more than one row per entity, as-of year, horizon and persona")
    return frame


def predictions(
    wh: Warehouse,
    target: str,
    entity_types: tuple[str, ...],
    model_name: str | None = None,
    methods: tuple[str, ...] = METHOD_PREFERENCE,
) -> pd.DataFrame:
    """One probability per entity, as-of year and horizon from ``fvi_predictions``.

    Several models may answer the same question (for mines at H5 the direct classifier and the
    hazard model's S(5)); the row kept is the first by ``methods`` (default :data:`METHOD_PREFERENCE`),
    then model name, then the highest model version of that model. ``model_name`` pins one model.
    ``methods=("hazard",)`` first gives one survival curve across H5/H10/H20 instead.
    """
    cols = ["entity_type", "entity_id", "as_of_year", "horizon", "p", "model_name", "model_version", "method"]
    if not wh.has_table("gold", "fvi_predictions"):
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" for _ in entity_types)
    frame = wh.query(
        f"select * from {_gold(wh, 'fvi_predictions')} where target = ? and entity_type in ({marks})",
        [target, *entity_types],
    )
    for col in ("model_name", "model_version", "method"):
        if col not in frame:
            frame[col] = None
    if model_name is not None:
        frame = frame[frame["model_name"] == model_name]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    frame["horizon"] = frame["horizon"].map(horizon_label)
    frame["as_of_year"] = frame["as_of_year"].astype(int)
    rank = {m: i for i, m in enumerate(methods)}
    frame["_method"] = frame["method"].map(rank).fillna(len(rank))
    version = frame["model_version"].astype(str)
    frame["_version"] = pd.to_numeric(version, errors="coerce")
    frame["_version_text"] = version
    frame = frame.sort_values(
        ["_method", "model_name", "_version", "_version_text"],
        ascending=[True, True, False, False],
        na_position="last",
        kind="stable",
    )
    return frame.drop_duplicates(["entity_type", "entity_id", "as_of_year", "horizon"])[cols]


def bayes_intervals(wh: Warehouse, target: str, entity_types: tuple[str, ...]) -> pd.DataFrame:
    """``p_lo``/``p_hi`` of ``target`` per entity, as-of year and horizon from ``fvi_predictions_bayes``.

    The Bayesian models give P(viable) for mines and countries alike (``fvi.ml.bayes``), so for a
    bad-outcome target (decline) the band is flipped: (1 - p_hi, 1 - p_lo). A ``target`` column, if
    the table ever carries one, says per row which way round it is.
    """
    cols = ["entity_type", "entity_id", "as_of_year", "horizon", "p_lo", "p_hi"]
    if not wh.has_table("gold", "fvi_predictions_bayes"):
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" for _ in entity_types)
    frame = wh.query(
        f"select * from {_gold(wh, 'fvi_predictions_bayes')} where entity_type in ({marks})", [*entity_types]
    )
    if frame.empty:
        return pd.DataFrame(columns=cols)
    row_bad = frame["target"].astype(str).str.lower().isin(BAD_TARGETS) if "target" in frame else False
    flip = pd.Series(row_bad, index=frame.index) != (target.lower() in BAD_TARGETS)
    lo, hi = frame["p_lo"].astype(float), frame["p_hi"].astype(float)
    frame["p_lo"], frame["p_hi"] = lo.where(~flip, 1.0 - hi), hi.where(~flip, 1.0 - lo)
    frame["horizon"] = frame["horizon"].map(horizon_label)
    frame["as_of_year"] = frame["as_of_year"].astype(int)
    return frame.drop_duplicates(["entity_type", "entity_id", "as_of_year", "horizon"], keep="last")[cols]


def published(
    wh: Warehouse, target: str, entity_types: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The published answer (``gold.fvi_probabilities``) as prediction and interval frames, or None.

    Coherent across horizons, gated by the back-test, observed status first (``fvi.ml.publish``);
    the probability is given in ``target``'s orientation (``decline`` turns P(viable) round).
    """
    if not wh.has_table("gold", "fvi_probabilities"):
        return None
    marks = ", ".join("?" for _ in entity_types)
    frame = wh.query(
        f"select * from {_gold(wh, 'fvi_probabilities')} where entity_type in ({marks})", [*entity_types]
    )
    keys = ["entity_type", "entity_id", "as_of_year", "horizon"]
    flip = target.lower() in BAD_TARGETS
    pv, lo, hi = (frame[c].astype(float) for c in ("p_viable", "p_lo", "p_hi"))
    frame["p"] = 1.0 - pv if flip else pv
    frame["p_lo"], frame["p_hi"] = (1.0 - hi, 1.0 - lo) if flip else (lo, hi)
    frame["as_of_year"] = frame["as_of_year"].astype(int)
    preds = frame[[*keys, "p", "model_name", "model_version", "method", "note"]].rename(
        columns={"note": "probability_note"}
    )
    return preds, frame[[*keys, "p_lo", "p_hi"]]


def _answers(
    wh: Warehouse, target: str, entity_types: tuple[str, ...], model_name: str | None, methods: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published probabilities by default; the raw model rows when a model or method order is pinned."""
    if model_name is None and tuple(methods) == METHOD_PREFERENCE:
        pub = published(wh, target, entity_types)
        if pub is not None:
            return pub
    return predictions(wh, target, entity_types, model_name, methods), bayes_intervals(wh, target, entity_types)


def _with_model(frame: pd.DataFrame, preds: pd.DataFrame, bayes: pd.DataFrame, name: str) -> pd.DataFrame:
    keys = ["entity_type", "entity_id", "as_of_year", "horizon"]
    frame = frame.astype({"as_of_year": int})
    out = frame.merge(preds.rename(columns={"p": name}), on=keys, how="left")
    out = out.merge(bayes.rename(columns={"p_lo": f"{name}_lo", "p_hi": f"{name}_hi"}), on=keys, how="left")
    for col in (name, f"{name}_lo", f"{name}_hi"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def _pillars(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if _PILLAR.match(c)) + [c for c in _SCORE_EXTRA if c in frame]


def _horizon_order(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    order = {h: i for i, h in enumerate(HORIZONS)}
    return frame.sort_values(
        [key, "horizon"], key=lambda s: s.map(order) if s.name == "horizon" else s, kind="stable"
    ).reset_index(drop=True)


def _eia_links(wh: Warehouse) -> pd.DataFrame:
    """msha_id -> gem_mine_id from the latest EIA year that names one."""
    if not wh.has_table("gold", "fct_us_mine__yearly"):
        return pd.DataFrame(columns=["msha_id", "eia_gem_mine_id"])
    links = wh.query(
        f"select msha_id, year, gem_mine_id from {_gold(wh, 'fct_us_mine__yearly')} where gem_mine_id is not null"
    )
    links = links.sort_values(["msha_id", "year"]).drop_duplicates("msha_id", keep="last")
    return links.rename(columns={"gem_mine_id": "eia_gem_mine_id"})[["msha_id", "eia_gem_mine_id"]]


def _dim_msha(wh: Warehouse) -> pd.DataFrame:
    if not wh.has_table("gold", "dim_mine"):
        return pd.DataFrame(columns=["gem_mine_id", "dim_msha_id", "closing_year"])
    dim = wh.query(f"select * from {_gold(wh, 'dim_mine')}")
    dim = dim.rename(columns={"msha_id": "dim_msha_id"})
    if "closing_year" not in dim:
        dim["closing_year"] = None
    return dim[["gem_mine_id", "dim_msha_id", "closing_year"]].drop_duplicates("gem_mine_id")


def mine_score_frame(
    wh: Warehouse,
    *,
    as_of: int | None = None,
    persona: str = DEFAULT_PERSONA,
    model_name: str | None = None,
    methods: tuple[str, ...] = METHOD_PREFERENCE,
) -> pd.DataFrame:
    """The export table of mines (see the module docstring for keys and precedence)."""
    scores = latest_scores(wh, MINE_ENTITIES, persona, as_of)
    pillars = _pillars(scores)
    if scores.empty:
        return pd.DataFrame(columns=MINE_COLUMNS + pillars + TAIL_COLUMNS)
    is_us = scores["entity_type"] == "us_mine"
    scores["msha_eia"] = msha_of(scores["entity_id"].where(is_us)).to_numpy()
    links, dim = _eia_links(wh), _dim_msha(wh)
    links["msha_id"] = links["msha_id"].astype("Int64")
    scores = scores.merge(links, left_on="msha_eia", right_on="msha_id", how="left").drop(columns="msha_id")
    scores["gem_mine_id"] = scores["entity_id"].where(~is_us.to_numpy(), scores["eia_gem_mine_id"])
    scores = scores.merge(dim, on="gem_mine_id", how="left")
    scores["mine_id"] = scores["entity_id"]
    # One source per mine: the later as-of year, then GEM before EIA, then the smallest MSHA id.
    scores["_rank"] = scores["entity_type"].map({t: i for i, t in enumerate(MINE_ENTITIES)})
    heads = scores.sort_values(
        ["mine_id", "as_of_year", "_rank", "msha_eia"],
        ascending=[True, False, True, True],
        na_position="last",
        kind="stable",
    ).drop_duplicates("mine_id")
    eia_msha = scores[is_us.to_numpy()].groupby("mine_id")["msha_eia"].min()
    chosen = scores.merge(heads[["mine_id", "entity_type", "entity_id"]], on=["mine_id", "entity_type", "entity_id"])
    gem_row = chosen["entity_type"] == "mine"
    fallback = chosen["mine_id"].map(eia_msha).astype("Int64")
    # keys stay unique per source: gem_mine_id only on GEM rows, msha_id only on EIA rows; the other
    # source's id of the same mine goes to linked_* so a join on either key never doubles a mine
    linked_msha = chosen["dim_msha_id"].astype("Int64").fillna(fallback)
    chosen["linked_msha_id"] = linked_msha.where(gem_row).astype("Int64")
    chosen["linked_gem_mine_id"] = chosen["gem_mine_id"].where(~gem_row)
    chosen["gem_mine_id"] = chosen["gem_mine_id"].where(gem_row)
    chosen["msha_id"] = chosen["msha_eia"].where(~gem_row).astype("Int64")
    chosen = chosen.rename(columns={"entity_name": "mine_name"}).assign(persona=persona)
    out = _with_model(chosen, *_answers(wh, "operating", MINE_ENTITIES, model_name, methods), "p_operating")
    for col in MINE_COLUMNS + TAIL_COLUMNS:
        if col not in out:
            out[col] = None
    return _horizon_order(out[MINE_COLUMNS + pillars + TAIL_COLUMNS], "mine_id")


def country_score_frame(
    wh: Warehouse,
    *,
    as_of: int | None = None,
    persona: str = DEFAULT_PERSONA,
    model_name: str | None = None,
    methods: tuple[str, ...] = METHOD_PREFERENCE,
) -> pd.DataFrame:
    """The export table of countries: one row per country and horizon at its latest as-of year."""
    scores = latest_scores(wh, ("country",), persona, as_of)
    pillars = _pillars(scores)
    if scores.empty:
        return pd.DataFrame(columns=COUNTRY_COLUMNS + pillars + TAIL_COLUMNS)
    out = _with_model(scores, *_answers(wh, "decline", ("country",), model_name, methods), "p_decline")
    out = out.rename(columns={"entity_name": "country_name"}).assign(iso3=out["entity_id"], persona=persona)
    for col in COUNTRY_COLUMNS + TAIL_COLUMNS:
        if col not in out:
            out[col] = None
    return _horizon_order(out[COUNTRY_COLUMNS + pillars + TAIL_COLUMNS], "iso3")


def write_frame(frame: pd.DataFrame, out: Path, fmt: str) -> None:
    """CSV or Parquet to a hidden temporary file, then ``os.replace``: readers never see half a file."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def licence_notice(wh: Warehouse) -> str:
    """The terms a file derived from this build must carry (non-commercial or no-derivatives sources).

    Every source of the latest ingest manifest under a licence such as CC BY-NC-ND is named.
    """
    if not wh.has_table("bronze", "ingest_manifest"):
        return ""
    manifest = f"{wh.schema('bronze')}.ingest_manifest"
    rows = wh.query(
        f"select distinct source_id, licence_name, licence_url from {manifest} "
        f"where run_id = (select max(run_id) from {manifest}) and licence_name is not null order by source_id"
    )
    parts = [
        f"{r.source_id}: {r.licence_name}" + (f" <{r.licence_url}>" if isinstance(r.licence_url, str) else "")
        for r in rows.itertuples(index=False)
        if RESTRICTED.search(str(r.licence_name))
    ]
    return ("Derived from sources licensed " + "; ".join(parts)) if parts else ""


def stamp(wh: Warehouse, frame: pd.DataFrame, *, as_of: int | None, what: str) -> pd.DataFrame:
    """Refuse an empty export with the reason; stamp the data world and the licence terms on every row."""
    if frame.empty:
        years = ""
        if wh.has_table("gold", "fvi_scores"):
            r = wh.query(f"select min(as_of_year) as lo, max(as_of_year) as hi from {_gold(wh, 'fvi_scores')}")
            if len(r) and pd.notna(r["lo"].iloc[0]):
                years = f"; scored as-of years are {int(r['lo'].iloc[0])}-{int(r['hi'].iloc[0])}"
        at = f" at or before as-of {as_of}" if as_of is not None else ""
        raise LookupError(f"no {what} scores{at}: nothing to export{years}")
    world = data_world(wh)
    return frame.assign(data_world=f"{world.label} [{world.fingerprint}]", licence_notice=licence_notice(wh) or None)


def _export(settings: Settings, out: Path, fmt: str, table: Callable[..., pd.DataFrame], **options: Any) -> int:
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    with live(settings) as wh:
        what = "country" if table is country_score_frame else "mine"
        frame = stamp(wh, table(wh, **options), as_of=options.get("as_of"), what=what)
    write_frame(frame, out, fmt)
    return len(frame)


def export_mine_scores(
    settings: Settings,
    out: Path,
    fmt: str = "csv",
    *,
    as_of: int | None = None,
    persona: str = DEFAULT_PERSONA,
    model_name: str | None = None,
    methods: tuple[str, ...] = METHOD_PREFERENCE,
) -> int:
    """Write the mine export table to ``out``; returns the number of rows."""
    return _export(settings, out, fmt, mine_score_frame, as_of=as_of, persona=persona, model_name=model_name,
                   methods=methods)


def export_country_scores(
    settings: Settings,
    out: Path,
    fmt: str = "csv",
    *,
    as_of: int | None = None,
    persona: str = DEFAULT_PERSONA,
    model_name: str | None = None,
    methods: tuple[str, ...] = METHOD_PREFERENCE,
) -> int:
    """Write the country export table to ``out``; returns the number of rows."""
    return _export(settings, out, fmt, country_score_frame, as_of=as_of, persona=persona, model_name=model_name,
                   methods=methods)
