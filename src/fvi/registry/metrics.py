"""The metric registry: pillars and metrics from ``metrics.yml``, validated, as pydantic models.

Scoring reads pillar, entity, polarity, goalposts, horizon weights and the missing-data rule
from here; the warehouse reads the seed written by :func:`write_metric_seed` (a drift test keeps
the committed seed equal to what this file gives).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from fvi.registry import RegistryError, _read, validate

SEED_COLUMNS = [
    "metric_id", "entity", "gold_table", "gold_column", "pillar", "unit", "source_ids", "confidence_column",
]
SEED_PATH = Path(__file__).resolve().parents[3] / "warehouse" / "seeds" / "metric_registry.csv"


class Pillar(BaseModel):
    """A pillar of the index; one with no metric says why in ``unsupported_reason``."""

    id: str
    name: str
    description: str
    unsupported_reason: str | None = None
    mine_country_blend: float | None = None


class Winsorisation(BaseModel):
    """The JRC outlier rule, applied to each metric's values before scaling.

    While |skew| > ``max_skew`` and kurtosis > ``max_kurtosis``, the most extreme value on the skewed
    side is pulled in to the next one, ``max_points`` times at most.
    """

    max_skew: float
    max_kurtosis: float
    max_points: int


class ScoringDefaults(BaseModel):
    """Scoring constants (``defaults.scoring``); no threshold or weight is a literal in scoring code.

    ``mine_country_blend`` and ``min_pillar_coverage`` are shares (0 to 1); ``double_counting_r`` is
    the |Pearson r| above which two metrics are flagged as counting the same thing.
    """

    mine_country_blend: float
    min_pillar_coverage: float
    geometric_floor: float
    as_of_from: int
    winsorisation: Winsorisation
    double_counting_r: float
    influence_bins: int
    unranked_statuses: list[str] = []


class UncertaintyDefaults(BaseModel):
    """The Monte Carlo and Sobol settings of the uncertainty analysis (``defaults.uncertainty``)."""

    draws: int
    seed: int
    dirichlet_concentration: float
    normalisations: list[Literal["goalposts", "minmax", "rank"]]
    imputations: list[Literal["declared", "none"]]
    aggregations: list[Literal["arithmetic", "geometric"]]
    sobol_base_samples: int


class DynamicWeightDefaults(BaseModel):
    """The information-gain weight job (``defaults.dynamic_weights``): bins, correction, blend with the expert prior."""

    blend: float
    n_bins: int
    correction: Literal["none", "miller_madow"]
    expert_persona: str


class Defaults(BaseModel):
    """Registry-wide choices (``defaults:`` in metrics.yml): aggregation, horizons, scoring, uncertainty, weights."""

    aggregation: Literal["arithmetic", "geometric"]
    horizons: list[str]  # the enum lives in metrics.schema.yml
    scoring: ScoringDefaults
    uncertainty: UncertaintyDefaults
    dynamic_weights: DynamicWeightDefaults


class GoldRef(BaseModel):
    """Where a metric's value lives in the warehouse: a gold table and column."""

    table: str
    column: str


class Goalposts(BaseModel):
    """The metric's values mapped to 0 and 100 (``low < high``; ``polarity`` says which end is good)."""

    low: float
    high: float


class HorizonWeights(BaseModel):
    """The metric's weight inside its pillar at each horizon (5, 10 and 20 years ahead)."""

    H5: float
    H10: float
    H20: float


class RelatedField(BaseModel):
    """Another metric of the same entity and year that stands in for a missing value (times ``factor``)."""

    metric: str
    factor: float = 1.0
    note: str | None = None


class MissingData(BaseModel):
    """How a missing value is treated: related metrics tried first, then ``rule`` (and its limits)."""

    rule: Literal["none", "carry_forward_years", "country_median", "pillar_mean", "exclude"]
    max_years: int | None = None
    fill_value: float | None = None
    from_related: list[RelatedField] | None = None
    note: str | None = None


class Metric(BaseModel):
    """One metric of ``metrics.yml``: its pillar, entity, gold column, unit, polarity, goalposts and weights."""

    id: str
    name: str
    description: str
    pillar: str
    entity: Literal["mine", "country"]
    gold: GoldRef
    unit: str
    polarity: Literal["higher_is_better", "lower_is_better"]
    goalposts: Goalposts
    goalpost_note: str | None = None
    horizon_weights: HorizonWeights
    horizon_note: str | None = None
    sources: list[str] = Field(min_length=1)
    missing_data: MissingData
    transform: Literal["none", "log", "log1p", "per_capita", "per_gdp", "boolean"] = "none"
    confidence_source: str | None = None
    us_mine_column: str | None = None
    known_from_column: str | None = None
    note: str | None = None


def check_metrics(doc: Any) -> tuple[dict[str, Pillar], dict[str, Metric]]:
    """Validate a parsed metrics document (schema, then cross-references); raise RegistryError."""
    validate(doc, "metrics.schema.yml", "metrics.yml")
    pillars = {p["id"]: Pillar.model_validate(p) for p in doc["pillars"]}
    if len(pillars) != len(doc["pillars"]):
        raise RegistryError("metrics.yml: duplicate pillar id")
    metrics: dict[str, Metric] = {}
    for raw in doc["metrics"]:
        m = Metric.model_validate(raw)
        if m.id in metrics:
            raise RegistryError(f"metrics.yml: duplicate metric id {m.id}")
        if m.pillar not in pillars:
            raise RegistryError(f"metrics.yml: {m.id}: unknown pillar {m.pillar}")
        if not m.goalposts.low < m.goalposts.high:
            raise RegistryError(f"metrics.yml: {m.id}: goalposts need low < high (polarity says the direction)")
        if m.transform == "log" and m.goalposts.low <= 0:
            raise RegistryError(f"metrics.yml: {m.id}: a log transform needs goalposts > 0")
        w = m.horizon_weights
        if w.H5 + w.H10 + w.H20 <= 0:
            raise RegistryError(f"metrics.yml: {m.id}: horizon weights are all zero")
        if len({w.H5, w.H10, w.H20}) > 1 and not m.horizon_note:
            raise RegistryError(
                f"metrics.yml: {m.id}: horizon weights change with the horizon ({w.H5}/{w.H10}/{w.H20}) "
                "but horizon_note does not say why"
            )
        metrics[m.id] = m
    for m in metrics.values():
        for rel in m.missing_data.from_related or []:
            other = metrics.get(rel.metric)
            if other is None or other.entity != m.entity or other.id == m.id:
                raise RegistryError(
                    f"metrics.yml: {m.id}: from_related {rel.metric!r} must be another {m.entity} metric"
                )
    used = {m.pillar for m in metrics.values()}
    for p in pillars.values():
        if p.id in used and p.unsupported_reason:
            raise RegistryError(f"metrics.yml: pillar {p.id} has metrics and an unsupported_reason")
        if p.id not in used and not p.unsupported_reason:
            raise RegistryError(f"metrics.yml: pillar {p.id} has no metric and no unsupported_reason")
    return pillars, metrics


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, Pillar], dict[str, Metric]]:
    _, doc = _read("metrics.yml")
    return check_metrics(doc)


def load_metrics() -> dict[str, Metric]:
    """All metrics by id, in file order."""
    return dict(_loaded()[1])


def load_defaults() -> Defaults:
    """Registry-wide scoring and uncertainty choices (``defaults:`` in metrics.yml)."""
    _, doc = _read("metrics.yml")
    return Defaults.model_validate(doc["defaults"])


def load_pillars() -> dict[str, Pillar]:
    """All pillars by id, in file order."""
    return dict(_loaded()[0])


def metric_seed_rows(metrics: dict[str, Metric] | None = None) -> list[dict[str, str]]:
    """One row per metric for ``warehouse/seeds/metric_registry.csv``."""
    rows = []
    for m in (metrics or load_metrics()).values():
        rows.append({
            "metric_id": m.id,
            "entity": m.entity,
            "gold_table": m.gold.table,
            "gold_column": m.gold.column,
            "pillar": m.pillar,
            "unit": m.unit,
            "source_ids": ";".join(m.sources),
            "confidence_column": m.confidence_source or "",
        })
    return rows


def metric_seed_text(metrics: dict[str, Metric] | None = None) -> str:
    """The CSV text of the metric seed (header ``SEED_COLUMNS``, one row per metric, Unix line ends)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SEED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(metric_seed_rows(metrics))
    return buf.getvalue()


def write_metric_seed(path: Path | None = None) -> Path:
    """Write the dbt seed the data-quality mart reads (regenerate after editing metrics.yml)."""
    target = Path(path) if path is not None else SEED_PATH
    target.write_text(metric_seed_text(), encoding="utf-8")
    return target


if __name__ == "__main__":  # python -m fvi.registry.metrics  -> regenerate the seed
    print(write_metric_seed())
