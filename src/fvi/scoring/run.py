"""The scoring step of a run: score, measure uncertainty, audit, and write the gold tables and reports.

Called by the pipeline on the staging warehouse (so a failed step leaves the live one alone) and by
``fvi score`` / ``fvi uncertainty`` on the live one (each table is replaced in one statement).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.provenance import data_world
from fvi.registry import registry_hash
from fvi.registry.vocabulary import DEFAULT_PERSONA, HORIZON_LABELS
from fvi.scoring.audit import run_audit, write_audit
from fvi.scoring.config import ScoringSpec, load_personas
from fvi.scoring.contributions import contributions
from fvi.scoring.engine import Scorer, build_panels, load_frames, metric_frame
from fvi.scoring.uncertainty import UncertaintyParams, run_uncertainty

BAND_KEYS = ["entity_type", "entity_id", "as_of_year", "horizon", "persona"]
BAND_COLUMNS = ["fvi_p05", "fvi_p50", "fvi_p95", "rank_p05", "rank_p50", "rank_p95", "fvi_mc_median"]
TABLES = ("fvi_scores", "fvi_metric_scores", "fvi_sensitivity", "fvi_personas", "fvi_audit_influence")


@dataclass
class ScoringOutcome:
    """What the scoring step produced: the summary written to ``scoring.json``, the gold tables, the audit."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)


def scorer_from_warehouse(wh: Any, spec: ScoringSpec | None = None) -> Scorer:
    """A :class:`Scorer` over the gold country, mine and US mine panels of ``wh`` (spec: the registry's)."""
    spec = spec or ScoringSpec.from_registry()
    countries, mines, us_mines = load_frames(wh, spec)
    return Scorer(spec, build_panels(countries, mines, spec, us_mines))


def _is_synthetic(wh: Any) -> bool:
    frame = wh.query(f"select count(*) filter (where is_synthetic) as n from {wh.schema('gold')}.dim_country")
    return bool(frame.iloc[0, 0])


TIE_MIN = 50
"""Entities sharing one FVI value (to 0.1) from which a tie is reported as a sign of imputation."""


def rising_with_horizon(frame: pd.DataFrame, value: str) -> pd.Series:
    """Per (entity_type, entity_id): whether ``value`` is higher at a longer horizon than a shorter one."""
    wide = frame.pivot_table(index=["entity_type", "entity_id"], columns="horizon", values=value, aggfunc="first")
    order = [h for h in HORIZON_LABELS if h in wide.columns]
    rising = pd.Series(False, index=wide.index)
    for a, b in zip(order, order[1:], strict=False):
        rising |= (wide[b] > wide[a] + 1e-9).fillna(False)
    return rising


def score_checks(scores: pd.DataFrame) -> dict[str, Any]:
    """Ties and horizon trends of the default persona at each entity's latest year, said in words.

    Hundreds of entities at exactly one value are scored on the same imputed inputs, not found
    equal; an FVI rising with the horizon comes from metrics whose declared horizon weights grow
    (``horizon_note`` in metrics.yml says why), and its share is reported, not hidden, with the
    metrics whose weight grows and the registry's reason for each.
    """
    s = scores[scores["persona"] == DEFAULT_PERSONA]
    if s.empty:
        return {"ties": [], "share_rising_with_horizon": {}, "messages": []}
    latest = s.groupby(["entity_type", "entity_id"])["as_of_year"].transform("max")
    s = s[s["as_of_year"] == latest]
    ties: list[dict[str, Any]] = []
    for key, g in s.assign(v=s["fvi"].round(1)).groupby(["entity_type", "horizon", "v"]):
        et, h, v = (str(k) for k in key)
        if len(g) >= TIE_MIN:
            ties.append({"entity_type": et, "horizon": h, "fvi": float(v), "entities": len(g),
                         "mean_imputed_share": round(float(g["imputed_share"].mean()), 3)})
    rising = rising_with_horizon(s, "fvi")
    share = {str(et): round(float(g.mean()), 4) for et, g in rising.groupby(level=0)}
    messages = [
        f"tie: {t['entities']} {t['entity_type']} rows at FVI {t['fvi']} ({t['horizon']}), mean imputed share "
        f"{t['mean_imputed_share']:.0%}: a sign of imputation, not of equal viability"
        for t in sorted(ties, key=lambda t: -int(t["entities"]))[:5]
    ]
    growing = growing_horizon_weights()
    for etype, rising_share in share.items():
        # a mine's pillars blend in its country's, so country metrics move mine scores too
        names = [g["metric"] for g in growing if etype != "country" or g["entity"] == "country"]
        why = (f": the declared weights of {len(names)} metrics grow with the horizon (e.g. {', '.join(names[:3])}),"
               " each with its reason in metrics.yml horizon_note") if names else ""
        messages.append(f"FVI rises with the horizon for {rising_share:.1%} of {etype} entities{why}")
    return {"ties": ties, "share_rising_with_horizon": share, "growing_horizon_weights": growing,
            "messages": messages}


def growing_horizon_weights() -> list[dict[str, Any]]:
    """Metrics whose declared weight is higher at the longest horizon than at the shortest, with the reason."""
    from fvi.registry.metrics import load_metrics

    out = []
    for m in load_metrics().values():
        w = m.horizon_weights.model_dump()
        first, last = w[HORIZON_LABELS[0]], w[HORIZON_LABELS[-1]]
        if last > first:
            out.append({"metric": m.id, "entity": m.entity, "pillar": m.pillar, "weights": w,
                        "reason": m.horizon_note})
    return out


def score_warehouse(
    wh: Any,
    *,
    run_id: str,
    out_dir: Path,
    params: UncertaintyParams | None = None,
    uncertainty: bool = True,
    say: Callable[[str], Any] = print,
) -> ScoringOutcome:
    """Score every entity, run the uncertainty analysis and the audit; write gold tables and run files."""
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    spec = ScoringSpec.from_registry()
    personas = {p.id: p.weights for p in load_personas().values()}
    scorer = scorer_from_warehouse(wh, spec)
    seconds["load"] = round(time.perf_counter() - t0, 2)

    t = time.perf_counter()
    scores = scorer.score_frame(personas)
    seconds["score"] = round(time.perf_counter() - t, 2)

    text = scores.select_dtypes("category").columns  # plain text in the warehouse (DuckDB would make ENUMs)
    scores[text] = scores[text].astype(object)

    params = params or UncertaintyParams.from_defaults(spec.defaults.uncertainty, spec.horizons, personas)
    sensitivity = pd.DataFrame()
    if uncertainty:
        t = time.perf_counter()
        bands, sensitivity, _ = run_uncertainty(scorer, params)
        seconds["uncertainty"] = round(time.perf_counter() - t, 2)
        scores = scores.merge(bands, on=BAND_KEYS, how="left")
        sensitivity.insert(0, "run_id", run_id)
    else:
        # the table keeps one shape: bands not computed are missing, never absent columns
        scores = scores.assign(**{c: np.nan for c in BAND_COLUMNS})

    t = time.perf_counter()
    audit = run_audit(scorer, personas)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_audit(audit, out_dir)
    (out_dir / "uncertainty_params.json").write_text(params.to_json(), encoding="utf-8")
    seconds["audit"] = round(time.perf_counter() - t, 2)

    synthetic = _is_synthetic(wh)
    world = data_world(wh)
    scores = scores.assign(
        run_id=run_id, registry_hash=registry_hash(), is_synthetic=synthetic, data_world=world.fingerprint
    )
    metrics = metric_frame(scorer).assign(run_id=run_id)
    personas_frame = pd.DataFrame(
        [
            {"persona": pid, "name": p.name, "description": p.description, "pillar": pillar, "weight": w}
            for pid, p in load_personas().items()
            for pillar, w in p.weights.items()
        ]
    )
    influence = pd.DataFrame(
        [{"entity_type": et, **row} for et, block in audit["entity_types"].items() for row in block["influence"]]
    ).assign(run_id=run_id)
    t = time.perf_counter()
    default_persona = {DEFAULT_PERSONA: personas[DEFAULT_PERSONA]} if DEFAULT_PERSONA in personas else personas
    contrib = contributions(scorer, default_persona).assign(run_id=run_id)
    contrib[["entity_type", "entity_id", "horizon", "persona", "metric_id", "pillar", "metric_of"]] = contrib[
        ["entity_type", "entity_id", "horizon", "persona", "metric_id", "pillar", "metric_of"]
    ].astype(object)
    seconds["contributions"] = round(time.perf_counter() - t, 2)
    tables = {
        "fvi_scores": scores,
        "fvi_score_contributions": contrib,
        "fvi_metric_scores": metrics,
        "fvi_sensitivity": sensitivity,
        "fvi_personas": personas_frame,
        "fvi_audit_influence": influence,
    }
    t = time.perf_counter()
    for name, frame in tables.items():
        if len(frame.columns):
            wh.write_table("gold", name, frame)
    seconds["write"] = round(time.perf_counter() - t, 2)
    seconds["total"] = round(time.perf_counter() - t0, 2)

    latest = scores.groupby("entity_type")["as_of_year"].max().to_dict()
    checks = score_checks(scores)
    for line in checks["messages"]:
        say(line)
    summary = {
        "checks": checks,
        "run_id": run_id,
        "seconds": seconds,
        "rows": {k: len(v) for k, v in tables.items()},
        "entities_latest_year": {
            et: int(scores.loc[(scores.entity_type == et) & (scores.as_of_year == y), "entity_id"].nunique())
            for et, y in latest.items()
        },
        "latest_as_of_year": {k: int(v) for k, v in latest.items()},
        "flags": {
            "placement": len(audit["placement"]),
            "high_correlation_pairs": sum(len(b["high_correlation_pairs"]) for b in audit["entity_types"].values()),
        },
        "uncertainty": {"draws": params.draws, "seed": params.seed} if uncertainty else None,
    }
    (out_dir / "scoring.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    say(
        f"scored {summary['entities_latest_year']} entities (latest as-of {summary['latest_as_of_year']}) "
        f"in {seconds['total']} s"
    )
    return ScoringOutcome(summary, tables, audit)
