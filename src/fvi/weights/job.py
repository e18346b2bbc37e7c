"""The nightly information-gain job: learn pillar weights from observed outcomes, store and publish them.

Features are the normalised metric scores of ``gold.fvi_metric_scores``; labels the observed
outcomes (``gold.fvi_outcome_country``: no decline of 25 % or more at 5/10/20 years;
``gold.fvi_outcome_us_mine``: still producing 5 years later). Each level (country, mine) gives
weights for the horizons it has outcomes for; the blend factor, bins and expert prior come from
``metrics.yml`` (``defaults.dynamic_weights``).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from fvi.cache import Cache
from fvi.registry.metrics import load_defaults, load_metrics
from fvi.registry.vocabulary import us_mine_id_sql
from fvi.scoring.config import load_personas
from fvi.warehouse import Warehouse
from fvi.weights.dynamic import compute_dynamic_weights
from fvi.weights.store import publish_weights, store_weights

KEYS = ("entity_id", "as_of_year")
LEVELS = {"country": "country", "mine": "us_mine"}
"""Outcome level -> entity type whose metric scores are the features."""


def features(wh: Warehouse, entity_type: str) -> pd.DataFrame:
    """One row per entity x as-of year, one column per metric score (NaN where not scored)."""
    long = wh.query(
        f"select entity_id, as_of_year, metric_id, score from {wh.schema('gold')}.fvi_metric_scores "
        "where entity_type = ?",
        [entity_type],
    )
    wide = long.pivot_table(index=list(KEYS), columns="metric_id", values="score", aggfunc="first")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def labels(wh: Warehouse, level: str) -> pd.DataFrame:
    """Binary 'still viable' labels per entity x as-of year x horizon ('H5', ...)."""
    gold = wh.schema("gold")
    if level == "country":
        frame = wh.query(
            f"select iso3 as entity_id, as_of_year, horizon, 1 - decline as label from {gold}.fvi_outcome_country"
        )
    else:
        frame = wh.query(
            f"select {us_mine_id_sql('msha_id')} as entity_id, as_of_year, horizon, viable as label "
            f"from {gold}.fvi_outcome_us_mine"
        )
    wanted = {int(h[1:]): h for h in load_defaults().horizons}
    frame = frame[frame["horizon"].isin(list(wanted))].copy()
    frame["horizon"] = frame["horizon"].map(wanted)
    return frame


def run_weight_job(
    wh: Warehouse, run_id: str, *, engine: str = "local", master: str | None = None, cache: Cache | None = None
) -> dict[str, Any]:
    """Compute weights per level and horizon, append them to the history, publish the latest to ``cache``."""
    t0 = time.perf_counter()
    cfg = load_defaults().dynamic_weights
    expert = load_personas()[cfg.expert_persona].weights
    metric_pillar = {m.id: m.pillar for m in load_metrics().values()}
    frames: list[pd.DataFrame] = []
    summary: dict[str, Any] = {}
    for level, entity_type in LEVELS.items():
        feats, labs = features(wh, entity_type), labels(wh, level)
        labs = labs[labs["as_of_year"].isin(feats["as_of_year"].unique())]
        if feats.empty or labs.empty:
            summary[level] = "no outcomes to learn from"
            continue
        result = compute_dynamic_weights(
            feats,
            labs,
            expert,
            cfg.blend,
            metric_to_pillar=metric_pillar,
            engine=engine,  # type: ignore[arg-type]
            master=master,
            n_bins=cfg.n_bins,
            correction=cfg.correction,
            keys=KEYS,
        )
        frames.append(result.weights.assign(level=level))
        summary[level] = {
            "horizons": sorted(result.weights["horizon"].unique()),
            "rows": int(result.weights["n_rows"].max()),
            "top": result.weights.sort_values("mi", ascending=False)
            .head(3)[["horizon", "pillar", "mi"]]
            .to_dict("records"),
        }
    if frames:
        weights = pd.concat(frames, ignore_index=True)
        store_weights(wh, weights, run_id)
        if cache is not None:
            publish_weights(cache, weights)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    summary["engine"] = engine
    return summary
