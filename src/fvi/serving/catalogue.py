"""Names, units and meanings of the model features, for explanations people can read.

Metric-derived features (``score_``, ``log_``, ``imputed_`` + a metric id) and pillar scores take
their name and unit from the metric registry; the history features the ML layer derives itself
(:data:`fvi.ml.features.MINE_HISTORY`, ``COUNTRY_HISTORY``) and the hazard step are described here,
next to nothing else that restates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class FeatureInfo:
    """How to show one feature: a short name, the unit of its value, and where it comes from."""

    feature: str
    name: str
    unit: str
    source: str
    metric_id: str | None = None
    pillar: str | None = None


DERIVED: dict[str, tuple[str, str]] = {
    "fvi": ("Future Viability Index", "0-100 score"),
    "pillar_coverage": ("Share of pillars with data", "share (0-1)"),
    "mine_age_years": ("Mine age", "years"),
    "is_underground": ("Underground mine", "flag (1 underground, 0 surface)"),
    "is_producing": ("Producing this year", "flag (0/1)"),
    "prod_log_change_1y": ("Production change over 1 year", "log ratio"),
    "prod_log_change_3y": ("Production change over 3 years", "log ratio"),
    "prod_log_change_5y": ("Production change over 5 years", "log ratio"),
    "prod_log_change_10y": ("Production change over 10 years", "log ratio"),
    "emp_log_change_1y": ("Employment change over 1 year", "log ratio"),
    "years_producing": ("Years producing so far", "years"),
    "years_since_first_seen": ("Years since first reported", "years"),
    "producing_share_3y": ("Share of the last 3 years producing", "share (0-1)"),
    "productivity_t_per_hour": ("Productivity", "t per labour hour"),
    "prod_share_of_peak": ("Coal production as a share of its peak", "share (0-1)"),
    "years_since_peak": ("Years since peak coal production", "years"),
    "cons_log_change_5y": ("Coal consumption change over 5 years", "log ratio"),
    "coal_elec_share_change_5y": ("Change in coal's share of electricity over 5 years", "percentage points"),
    "k_year": ("Years ahead (hazard step)", "years"),
}
"""Features the ML layer derives from gold panels rather than reading a registry metric."""


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    from fvi.registry.metrics import load_metrics, load_pillars

    metrics = {m.id: (m.name, m.unit, m.pillar) for m in load_metrics().values()}
    pillars = {p.id: p.name for p in load_pillars().values()}
    return metrics, pillars


def describe(feature: str) -> FeatureInfo:
    """Name and unit of ``feature`` (registry first; an unknown name is shown as itself)."""
    metrics, pillars = _registry()
    for prefix, source in (("score_", "score"), ("log_", "log"), ("imputed_", "imputed")):
        mid = feature.removeprefix(prefix)
        if feature.startswith(prefix) and mid in metrics:
            name, unit, pillar = metrics[mid]
            if source == "score":
                return FeatureInfo(feature, f"{name} (score)", "0-100 score", "registry metric", mid, pillar)
            if source == "log":
                return FeatureInfo(feature, f"{name} (log scale)", f"log(1 + {unit})", "registry metric", mid, pillar)
            return FeatureInfo(
                feature, f"{name} imputed", "flag (1 imputed, 0 observed)", "registry metric", mid, pillar
            )
    pid = feature.removeprefix("pillar_")
    if feature.startswith("pillar_") and pid in pillars:
        return FeatureInfo(feature, f"{pillars[pid]} pillar", "0-100 score", "registry pillar", pillar=pid)
    if feature in DERIVED:
        name, unit = DERIVED[feature]
        return FeatureInfo(feature, name, unit, "derived")
    return FeatureInfo(feature, feature, "", "unknown")
