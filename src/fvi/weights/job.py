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
from fvi.contract import columns
from fvi.registry.metrics import load_defaults, load_metrics
from fvi.registry.vocabulary import us_mine_id_sql
from fvi.scoring.config import load_personas
from fvi.warehouse import Warehouse
from fvi.weights.dynamic import compute_dynamic_weights
from fvi.weights.store import publish_weights, store_weights

KEYS = ("entity_id", "as_of_year")
LEVELS = {"country": "country", "mine": "us_mine"}
"""Outcome level -> entity type whose metric scores are the features."""
FIT_SUFFIX = "_fit"
"""History level of the weights fitted on strict folds (``country_fit``, ``mine_fit``), beside the MI ones."""
OOF_TABLE = "fvi_weights_oof"
OOF_COLUMNS = columns(OOF_TABLE)
"""The back-test's out-of-fold shape, as the gold contract declares it."""


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
    """Binary 'still viable' labels per entity x as-of year x horizon ('H5', ...), with their outcome year."""
    gold = wh.schema("gold")
    if level == "country":
        table = "fvi_outcome_country"
        sql = (
            f"select iso3 as entity_id, as_of_year, horizon, outcome_year, 1 - decline as label "
            f"from {gold}.{table}"
        )
    else:
        table = "fvi_outcome_us_mine"
        sql = (
            f"select {us_mine_id_sql('msha_id')} as entity_id, as_of_year, horizon, outcome_year, viable as label "
            f"from {gold}.{table}"
        )
    if not wh.has_table("gold", table):
        return pd.DataFrame(columns=["entity_id", "as_of_year", "horizon", "outcome_year", "label"])
    frame = wh.query(sql)
    wanted = {int(h[1:]): h for h in load_defaults().horizons}
    frame = frame[frame["horizon"].isin(list(wanted))].copy()
    frame["horizon"] = frame["horizon"].map(wanted)
    return frame


def pillar_rows(wh: Warehouse, entity_type: str, labels: pd.DataFrame) -> pd.DataFrame:
    """Labels joined to the pillar scores of their entity, as-of year and horizon (default persona's rows)."""
    from fvi.registry.vocabulary import DEFAULT_PERSONA

    scores = wh.query(
        f"select * from {wh.schema('gold')}.fvi_scores where entity_type = ? and persona = ?",
        [entity_type, DEFAULT_PERSONA],
    )
    pillars = [c for c in scores.columns if c.startswith("pillar_") and c != "pillar_coverage"]
    keep = ["entity_id", "as_of_year", "horizon", *pillars]
    return labels.merge(scores[keep], on=["entity_id", "as_of_year", "horizon"], how="inner")


def fit_levels(
    wh: Warehouse, expert: Any, default_blend: float
) -> tuple[list[pd.DataFrame], pd.DataFrame, dict[str, Any]]:
    """Strict-fold weight fits per level and horizon: history rows (level ``<level>_fit``), OOF rows, summary."""
    from fvi.ml.backtest_data import FVI_LEARNT
    from fvi.scoring.config import ScoringSpec
    from fvi.weights.blend import expert_for
    from fvi.weights.fit import fit_weights

    spec = ScoringSpec.from_registry()
    rows_out: list[pd.DataFrame] = []
    oof_out: list[pd.DataFrame] = []
    summary: dict[str, Any] = {}
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    if not wh.has_table("gold", "fvi_scores"):
        return rows_out, pd.DataFrame(columns=OOF_COLUMNS), {"skipped": "no scores"}
    for level, entity_type in LEVELS.items():
        data = pillar_rows(wh, entity_type, labels(wh, level).rename(columns={"label": "viable"}))
        for h in sorted(data["horizon"].unique()):
            at_h = data[data["horizon"] == h].reset_index(drop=True)
            e = expert_for(expert, h)
            fit = fit_weights(at_h, spec.pillar_ids, e, default_blend=default_blend)
            if fit is None:
                continue
            w = fit.weights
            rows_out.append(
                pd.DataFrame(
                    {
                        "level": f"{level}{FIT_SUFFIX}",
                        "horizon": h,
                        "pillar": fit.pillars,
                        "mi": float("nan"),
                        "n_metrics": 0,
                        "top_metric": None,
                        "data_weight": fit.fitted,
                        "expert_weight": fit.expert,
                        "weight": w,
                        "blend": fit.blend,
                        "estimator": "simplex_logistic_strict_folds",
                        "engine": "local",
                        "n_rows": fit.n_rows,
                        "computed_at": now,
                    }
                )
            )
            if len(fit.oof):
                oof_out.append(
                    fit.oof.assign(
                        entity_type=entity_type,
                        horizon=int(h[1:]),
                        model_name=FVI_LEARNT,
                        model_version=None,
                        target="viable",
                        cv_scheme="strict_time",
                    )  # fmt: skip
                )
            learnt = [f["auc_learnt"] for f in fit.folds]
            expert_auc = [f["auc_expert"] for f in fit.folds]
            summary[f"{level} {h}"] = {
                "folds": len(fit.folds),
                "blend": fit.blend,
                "auc_learnt_mean": float(pd.Series(learnt).mean()) if learnt else None,
                "auc_expert_mean": float(pd.Series(expert_auc).mean()) if expert_auc else None,
            }
    oof = pd.concat(oof_out, ignore_index=True)[OOF_COLUMNS] if oof_out else pd.DataFrame(columns=OOF_COLUMNS)
    return rows_out, oof, summary


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
    fitted, oof, fit_summary = fit_levels(wh, expert, cfg.blend)
    frames += fitted
    summary["fit"] = fit_summary
    wh.write_table("gold", OOF_TABLE, oof)
    if frames:
        weights = pd.concat(frames, ignore_index=True)
        store_weights(wh, weights, run_id)
        if cache is not None:
            publish_weights(cache, weights)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    summary["engine"] = engine
    return summary
