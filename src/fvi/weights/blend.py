"""Pillar weights from information gain, blended with the expert (persona) weights.

A pillar's information is the **maximum** MI of its features, not the sum. Pillars hold very
different numbers of metrics (two in one, seven in another) and the feature frame may carry a
pillar's score next to the metrics it is made of; a sum would reward a pillar for having many,
largely redundant indicators (METHODOLOGY rule 4, no double counting), while the max is what
the pillar's single best view of the outcome is worth, a lower bound of the pillar's joint MI.

Per horizon::

    data[p]   = E_nf[p]                                  p has no feature (keeps its expert share)
              = (1 - sum E_nf) * I[p] / sum_{q has features} I[q]
    weight[p] = blend * data[p] + (1 - blend) * E[p]     then renormalised to sum 1

with E the expert weights normalised to sum 1 and I[p] = max(0, max MI of p's features). If no
feature carries any information (all I = 0) the data part falls back to the expert weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

import pandas as pd

WEIGHT_COLUMNS = [
    "horizon",
    "pillar",
    "mi",
    "n_metrics",
    "top_metric",
    "data_weight",
    "expert_weight",
    "weight",
    "blend",
]

ExpertWeights = Mapping[str, float] | Mapping[Any, Mapping[str, float]]


def expert_for(expert: ExpertWeights, horizon: Any) -> dict[str, float]:
    """Expert pillar weights at ``horizon``, normalised: a flat {pillar: w} applies to every horizon."""
    if not expert:
        raise ValueError("expert pillar weights are empty")
    flat = all(isinstance(v, Real) for v in expert.values())
    if flat:
        raw = {str(p): float(w) for p, w in expert.items()}  # type: ignore[arg-type]
    else:
        nested: Mapping[Any, Mapping[str, float]] = expert  # type: ignore[assignment]
        per = nested.get(horizon, nested.get(str(horizon)))
        if per is None:
            raise ValueError(f"no expert pillar weights for horizon {horizon!r} (have {list(nested)})")
        raw = {str(p): float(w) for p, w in per.items()}
    bad = {p: w for p, w in raw.items() if not (math.isfinite(w) and w >= 0)}
    if bad:
        raise ValueError(f"expert pillar weights must be finite and >= 0: {bad}")
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("expert pillar weights sum to 0")
    return {p: w / total for p, w in raw.items()}


def pillar_weights(
    mi_by_metric: pd.DataFrame,
    metric_to_pillar: Mapping[str, str],
    expert_pillar_weights: ExpertWeights,
    blend: float,
) -> pd.DataFrame:
    """One row per (horizon, pillar) with data, expert and final weights; see the module docstring.

    ``mi_by_metric`` has columns horizon, metric, mi (e.g. from ``mutual_information_local``);
    every metric must map to a pillar that has an expert weight, and every expert pillar appears
    in the result. ``blend`` (0 = expert only, 1 = data only) comes from the registry.
    """
    if not (isinstance(blend, Real) and 0.0 <= float(blend) <= 1.0):
        raise ValueError(f"blend must be within [0, 1], not {blend!r}")
    blend = float(blend)
    absent = [c for c in ("horizon", "metric", "mi") if c not in mi_by_metric.columns]
    if absent:
        raise ValueError(f"mi_by_metric lacks columns {absent}")
    unmapped = sorted(set(mi_by_metric["metric"]) - set(metric_to_pillar))
    if unmapped:
        raise ValueError(f"metrics without a pillar: {unmapped}")
    mi = mi_by_metric.assign(pillar=mi_by_metric["metric"].map(metric_to_pillar).astype(str))
    rows: list[dict[str, Any]] = []
    for horizon in sorted(mi["horizon"].unique().tolist()):
        expert = expert_for(expert_pillar_weights, horizon)
        at_h = mi[mi["horizon"] == horizon]
        orphan = sorted(set(at_h["pillar"]) - set(expert))
        if orphan:
            raise ValueError(f"pillars with features but no expert weight at {horizon!r}: {orphan}")
        info: dict[str, float] = {}
        n_metrics: dict[str, int] = {}
        top: dict[str, str | None] = {}
        for pillar, g in at_h.groupby("pillar", sort=True):
            vals = pd.to_numeric(g["mi"]).fillna(0.0)
            i = int(vals.to_numpy().argmax())
            info[str(pillar)] = max(0.0, float(vals.iloc[i]))
            n_metrics[str(pillar)] = len(g)
            top[str(pillar)] = str(g["metric"].iloc[i])
        fixed = sum(w for p, w in expert.items() if p not in info)  # pillars without features
        total_info = sum(info.values())
        data: dict[str, float] = {}
        for p, e in expert.items():
            if p not in info or total_info <= 0:
                data[p] = e
            else:
                data[p] = (1.0 - fixed) * info[p] / total_info
        mixed = {p: blend * data[p] + (1.0 - blend) * expert[p] for p in expert}
        norm = sum(mixed.values())
        for p in sorted(expert):
            rows.append(
                {
                    "horizon": horizon,
                    "pillar": p,
                    "mi": info.get(p, math.nan),
                    "n_metrics": n_metrics.get(p, 0),
                    "top_metric": top.get(p),
                    "data_weight": data[p],
                    "expert_weight": expert[p],
                    "weight": max(0.0, mixed[p] / norm),
                    "blend": blend,
                }
            )
    return pd.DataFrame(rows, columns=WEIGHT_COLUMNS)
