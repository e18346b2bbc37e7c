"""Request and response shapes (what /docs shows); field meanings come from the registry and gold schema."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fvi.registry.vocabulary import HorizonLabel

T = TypeVar("T")
Horizon = HorizonLabel


class Page(BaseModel, Generic[T]):
    """One page of a list; ``total`` counts every match, ``note`` explains an empty or partial answer."""

    items: list[T]
    total: int
    limit: int
    offset: int
    note: str | None = None


class ScoreSummary(BaseModel):
    """One entity's FVI at one as-of year, horizon and persona, with its 5-95% band and ranks."""

    model_config = ConfigDict(extra="allow")

    entity_type: str
    id: str
    name: str | None = None
    country_iso3: str | None = None
    status: str | None = None
    as_of_year: int
    horizon: str
    persona: str
    fvi: float | None = Field(default=None, description="0-100; higher means more likely viable.")
    fvi_p05: float | None = None
    fvi_p50: float | None = None
    fvi_p95: float | None = None
    rank: int | None = Field(default=None, description="1 = highest FVI among entities of this type and year.")
    percentile: float | None = None
    pillar_coverage: float | None = Field(default=None, description="Share of pillars with data.")
    imputed_share: float | None = Field(default=None, description="Share of metric values imputed.")
    is_synthetic: bool | None = None


class MineSummary(ScoreSummary):
    capacity_mtpa: float | None = None
    latitude: float | None = None
    longitude: float | None = None


class CountrySummary(ScoreSummary):
    is_coal_producer: bool | None = None
    phase_out_status: str | None = None
    phase_out_year: int | None = None


class RankingItem(ScoreSummary):
    rank_in_country: int | None = None
    percentile_in_country: float | None = None
    rank_in_status: int | None = None
    percentile_in_status: float | None = None


class Band(BaseModel):
    p05: float | None = None
    p50: float | None = None
    p95: float | None = None


class BandDriver(BaseModel):
    factor: str = Field(description="A modelling choice the Monte Carlo varies.")
    st: float = Field(description="Total Sobol index of the choice (rank shifts over all entities of the type).")
    s1: float | None = Field(default=None, description="First-order Sobol index.")
    label: str


class BandExplained(BaseModel):
    width: float = Field(description="p95 - p05 of the FVI, points.")
    drivers: list[BandDriver] = Field(description="The choices behind the spread, largest total index first.")
    text: str


class ViableFromFvi(BaseModel):
    """The FVI read as a probability: the share of entities with this FVI still viable H years later."""

    p: float = Field(description="P(viable at the horizon), 0-1, from the isotonic map of the back-test level.")
    lo: float | None = Field(description="5th percentile over maps refitted on resampled entities.")
    hi: float | None = Field(description="95th percentile over maps refitted on resampled entities.")
    level: str = Field(description="Back-test level whose outcomes fitted the map (us_mine, country, gem_closure).")
    n_labels: int = Field(description="Outcomes the map was fitted on.")
    n_not_viable: int = Field(description="Of them, not viable.")
    label_years: str = Field(description="Outcome years of those labels (first-last).")


class ScoreBlock(BaseModel):
    """Scores of one horizon and persona."""

    fvi: float | None
    band: Band = Field(description="Monte Carlo 5th/50th/95th percentile of the FVI.")
    band_explained: BandExplained | None = Field(
        default=None, description="How wide the band is and which modelling choice drives it (Sobol indices)."
    )
    viable_from_fvi: ViableFromFvi | None = Field(
        default=None,
        description="The FVI read as a calibrated probability (null where too few outcomes of this horizon exist).",
    )
    ranks: dict[str, float | int | None]
    pillars: dict[str, float | None] = Field(description="Pillar id -> 0-100 score (null: no data).")
    pillar_coverage: float | None = None
    imputed_share: float | None = None


class ModelPrediction(BaseModel):
    """The model's probability for one horizon and its credible interval when the Bayesian model ran."""

    model_config = ConfigDict(extra="allow")

    horizon: str
    target: str | None = None
    p: float | None = None
    model_name: str | None = None
    model_version: str | None = None
    p_mean: float | None = None
    p_lo: float | None = None
    p_hi: float | None = None
    p_viable: float | None = Field(default=None, description="P(viable at this horizon); never rises with H.")
    is_published: bool | None = Field(
        default=None, description="False when the model has no skill on its strict back-test here (see note)."
    )
    interval_method: str | None = Field(default=None, description="Where the interval around p comes from.")
    note: str | None = Field(default=None, description="The back-test behind p, or why it is not published.")


class Prediction(BaseModel):
    available: bool
    note: str | None = None
    horizons: dict[str, ModelPrediction] = Field(default_factory=dict)
    all: list[dict[str, Any]] = Field(default_factory=list, description="Every model row for this entity-year.")


class MetricQuality(BaseModel):
    metric_id: str
    name: str | None = None
    unit: str | None = None
    pillar: str | None = None
    raw_value: float | None = None
    value_used: float | None = None
    score: float | None = None
    imputation: str | None = Field(default=None, description="observed, carry_forward, country_median, ... excluded")
    imputed: bool
    missing: bool


class DataQuality(BaseModel):
    imputed_share: float | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="Metric values per imputation kind.")
    metrics: list[MetricQuality] = Field(default_factory=list)
    note: str | None = None


class SourceRelease(BaseModel):
    model_config = ConfigDict(extra="allow")

    source_id: str
    dataset: str | None = None
    release: str | None = None
    retrieved_at: str | None = None
    sha256: str | None = None
    licence_name: str | None = None
    licence_url: str | None = None
    run_id: str | None = None


class Provenance(BaseModel):
    run_id: str | None = None
    registry_hash: str | None = Field(default=None, description="Registry the scores were computed with.")
    registry_hash_current: str | None = Field(default=None, description="Registry this service runs with.")
    is_synthetic: bool | None = None
    sources: list[SourceRelease] = Field(default_factory=list)


class EntityProfile(BaseModel):
    """Everything the index says about one mine, US mine or country at one as-of year."""

    entity_type: str
    id: str
    name: str | None = None
    identity: dict[str, Any]
    location: dict[str, Any] | None = None
    as_of_year: int | None = Field(description="The year scored (latest unless asked); null if never scored.")
    years_scored: list[int]
    pillar_names: dict[str, str]
    scores: dict[str, dict[str, ScoreBlock]] = Field(description="horizon -> persona -> scores.")
    prediction: Prediction
    score_drivers: dict[str, Any] = Field(
        default_factory=dict,
        description="The FVI explained in points: per horizon, the metrics that raise or lower it most against the "
        "typical entity, in words (the score itself, not the model's SHAP drivers).",
    )
    data_quality: DataQuality
    provenance: Provenance
    related: dict[str, Any] = Field(default_factory=dict, description="Links to the same asset elsewhere.")


class WhatIfRequest(BaseModel):
    """Rescore one entity with other pillar weights (or a persona) and/or changed metric values."""

    model_config = ConfigDict(extra="forbid")

    entity_type: Literal["mine", "us_mine", "country"]
    entity_id: str = Field(min_length=1, max_length=64)
    as_of_year: int | None = Field(default=None, ge=1900, le=2200)
    horizons: list[Horizon] | None = Field(default=None, min_length=1, max_length=3)
    persona: str | None = Field(default=None, max_length=64)
    weights: dict[str, float] | None = Field(
        default=None, max_length=64, description="Pillar id ('01' or 'pillar_01') -> weight; must sum to 1."
    )
    metric_values: dict[str, float] | None = Field(
        default=None, max_length=200, description="Metric id -> value in the metric's unit (see /v1/metrics)."
    )

    @model_validator(mode="after")
    def _one_weighting(self) -> WhatIfRequest:
        if self.persona is not None and self.weights is not None:
            raise ValueError("give persona or weights, not both")
        return self


class WhatIfResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    entity_type: str
    entity_id: str
    as_of_year: int
    persona: str
    published_persona: str | None = Field(
        default=None, description="Persona whose stored score fvi_published/delta_vs_published compare with."
    )
    aggregation: str
    overrides: dict[str, float]
    horizons: dict[str, dict[str, Any]]
    registry_hash: str | None = None


class ErrorOut(BaseModel):
    """Every error: ``detail`` says what went wrong and names the id or field."""

    detail: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="Per-field errors (422 only).")
    trace_id: str | None = Field(default=None, description="Quote it when reporting a 500.")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route can answer."""
    text = {
        401: "No API key, or not a valid one.",
        403: "The API key lacks the scope.",
        404: "The id named in the path does not exist.",
        413: "Request body too large.",
        422: "Malformed request; ``detail`` names the field.",
        429: "Rate limit exceeded; see Retry-After.",
        500: "Internal error; ``trace_id`` identifies it in the logs.",
        503: "The warehouse (or what-if scorer) is unavailable; see Retry-After.",
    }
    return {code: {"model": ErrorOut, "description": text[code]} for code in codes}


class CheckOut(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    detail: str | None = None
    checks: dict[str, CheckOut]
