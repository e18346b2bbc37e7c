"""Why an entity's FVI is what it is: each metric's contribution in FVI points.

For one entity, horizon and persona, a metric's contribution is the published FVI minus the FVI
the same entity would get if that metric's normalised score were the *typical* one (the median
score of the same entity type in the same as-of year), everything else unchanged. It is computed
by the engine itself (the same pillar weights, mine/country blend, aggregation and coverage rule),
so it explains the score and not a model of it. A metric the entity has no value for contributes
nothing (it is reported as missing); an imputed value is marked with how it was imputed.

With arithmetic aggregation and no blend the contributions are exactly
``pillar weight x metric weight in pillar x (score - typical score)``; with the mine/country blend
or geometric aggregation they are the exact one-at-a-time effects (which need not add up to the
distance from the typical entity).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from fvi.scoring.aggregate import Aggregation, blend, weighted
from fvi.scoring.engine import ENTITY_METRICS, Scorer
from fvi.scoring.impute import FLAG_NAMES

COLUMNS = [
    "entity_type", "entity_id", "as_of_year", "horizon", "persona", "metric_id", "pillar", "metric_of",
    "raw_value", "typical_value", "score", "typical_score", "points", "imputation",
]  # fmt: skip


def _year_medians(matrix: np.ndarray, years: np.ndarray) -> np.ndarray:
    """[n, M]: each column's median over the rows of the same as-of year (NaN ignored)."""
    out = np.full(matrix.shape, np.nan)
    for y in np.unique(years):
        rows = years == y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column has no median
            out[rows] = np.nanmedian(matrix[rows], axis=0)
    return out


def contributions(
    scorer: Scorer,
    personas: Mapping[str, Mapping[str, float]],
    *,
    horizons: list[str] | None = None,
    entity_types: tuple[str, ...] | None = None,
    aggregation: Aggregation = "arithmetic",
) -> pd.DataFrame:
    """Per entity (latest year), horizon, persona and metric: the FVI points the metric adds or removes."""
    spec = scorer.spec
    floor = scorer.floor
    frames: list[pd.DataFrame] = []
    country = scorer.panels.get("country")
    c_scores = scorer.metric_scores("country") if country is not None else None
    c_typical = (
        _year_medians(c_scores, country.keys["as_of_year"].to_numpy())
        if c_scores is not None and country is not None
        else None
    )
    c_raw_typical = (
        _year_medians(country.values, country.keys["as_of_year"].to_numpy()) if country is not None else None
    )
    for et in entity_types or tuple(scorer.panels):
        panel = scorer.panels[et]
        first = next(iter(personas.values()), None)
        sel = panel.entity_latest_rows(scorer.scored_rows(et, spec.weight_vector(first)) if first else None)
        if not len(sel):
            continue
        years = panel.keys["as_of_year"].to_numpy()
        scores_all = scorer.metric_scores(et)
        typical_all = _year_medians(scores_all, years)
        raw_typical_all = _year_medians(panel.values, years)
        scores, typical = scores_all[sel], typical_all[sel]
        ctx_rows = panel.context_row[sel] if panel.context_row is not None else None
        for h in horizons or spec.horizons:
            w_own = spec.entities[ENTITY_METRICS[et]].weight_matrix(h, len(spec.pillar_ids))
            own, _ = weighted(scores, w_own, aggregation, floor)
            ctx = None
            if ctx_rows is not None and c_scores is not None:
                country_p = scorer.pillar_scores("country", h, "goalposts", "declared", aggregation)
                ctx = np.full(own.shape, np.nan)
                ok = ctx_rows >= 0
                ctx[ok] = country_p[ctx_rows[ok]]

            def pillars_of(own_p: np.ndarray, ctx_p: np.ndarray | None) -> np.ndarray:
                return own_p if ctx_p is None else blend(own_p, ctx_p, spec.blend, aggregation, floor)

            base_pillars = pillars_of(own, ctx)
            for pid, pw in personas.items():
                wv = spec.weight_vector(pw)
                base = scorer.composite(base_pillars, wv, aggregation)[0][:, 0]
                # the entity's own metrics
                for j, m in enumerate(panel.metrics):
                    has = ~np.isnan(scores[:, j])
                    if not has.any():
                        continue
                    alt = scores.copy()
                    alt[:, j] = typical[:, j]
                    own_alt, _ = weighted(alt, w_own, aggregation, floor)
                    fvi_alt = scorer.composite(pillars_of(own_alt, ctx), wv, aggregation)[0][:, 0]
                    frames.append(
                        _frame(et, panel, sel, h, pid, m, "own", panel.values[sel, j], raw_typical_all[sel, j],
                               scores[:, j], typical[:, j], np.where(has, base - fvi_alt, np.nan),
                               panel.flags[sel, j])
                    )
                # a mine's country metrics reach it through the blend
                if (
                    ctx is not None
                    and ctx_rows is not None
                    and country is not None
                    and c_scores is not None
                    and c_typical is not None
                ):
                    ok = ctx_rows >= 0
                    cr = np.where(ok, ctx_rows, 0)
                    w_c = spec.entities["country"].weight_matrix(h, len(spec.pillar_ids))
                    for k, m in enumerate(country.metrics):
                        cs = c_scores[cr]
                        has = ok & ~np.isnan(cs[:, k])
                        if not has.any():
                            continue
                        alt = cs.copy()
                        alt[:, k] = c_typical[cr, k]
                        ctx_alt, _ = weighted(alt, w_c, aggregation, floor)
                        ctx_alt[~ok] = np.nan
                        fvi_alt = scorer.composite(pillars_of(own, ctx_alt), wv, aggregation)[0][:, 0]
                        frames.append(
                            _frame(et, panel, sel, h, pid, m, "country", country.values[cr, k],
                                   c_raw_typical[cr, k] if c_raw_typical is not None else np.nan,
                                   np.where(ok, cs[:, k], np.nan), np.where(ok, c_typical[cr, k], np.nan),
                                   np.where(has, base - fvi_alt, np.nan), country.flags[cr, k])
                        )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out[out["points"].notna()].reset_index(drop=True)


def _frame(
    et: str, panel, sel, h, pid, m, of, raw, raw_typical, score, typical, points, flags  # noqa: ANN001
) -> pd.DataFrame:
    n = len(sel)
    return pd.DataFrame(
        {
            "entity_type": et,
            "entity_id": panel.keys["entity_id"].to_numpy()[sel],
            "as_of_year": panel.keys["as_of_year"].to_numpy()[sel].astype("int64"),
            "horizon": h,
            "persona": pid,
            "metric_id": m.id,
            "pillar": m.pillar,
            "metric_of": of,
            "raw_value": np.asarray(raw, dtype=float),
            "typical_value": np.asarray(raw_typical, dtype=float),
            "score": np.asarray(score, dtype=float),
            "typical_score": np.asarray(typical, dtype=float),
            "points": np.round(np.asarray(points, dtype=float), 3),
            "imputation": pd.Series([FLAG_NAMES.get(int(f), str(f)) for f in np.asarray(flags)], dtype="string")
            if n
            else pd.Series([], dtype="string"),
        }
    )
