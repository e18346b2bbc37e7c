"""Request and response shapes of the prediction routes (predict, batch, jobs, explain, models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fvi.registry.vocabulary import HorizonLabel

Horizon = HorizonLabel
EntityType = Literal["mine", "us_mine", "country"]
Variant = Literal["champion", "challenger"]
MAX_OVERRIDES = 100
BATCH_MAX = 10_000
"""Hard cap on a batch's length in the schema; ``FVI_SERVING_BATCH_MAX_ITEMS`` may lower it."""

Overrides = dict[str, float]


class PredictRequest(BaseModel):
    """One entity by id; ``overrides`` set model features first (what-if)."""

    model_config = ConfigDict(extra="forbid")

    entity_type: EntityType = Field(description="GEM mine (mine), US EIA mine (us_mine) or country.")
    entity_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="M0740, MSHA100329 or ZAF."
    )
    horizon: Horizon = Field(default="H5", description="Years ahead: 5, 10 or 20.")
    overrides: Overrides | None = Field(
        default=None,
        max_length=MAX_OVERRIDES,
        description="Model feature -> value (see GET /v1/models for each model's features).",
    )
    variant: Variant | None = Field(default=None, description="Force an A/B arm; default: the entity's stable arm.")


class Interval(BaseModel):
    p_mean: float
    p_lo: float
    p_hi: float
    level: float = Field(description="Central credible mass between p_lo and p_hi.")
    model: str = Field(description="The hierarchical Bayesian model the interval comes from.")


class PredictResponse(BaseModel):
    """The model's probability of ``target`` at ``horizon`` for the entity's latest as-of year."""

    entity_type: str
    entity_id: str
    as_of_year: int
    horizon: str
    target: str = Field(description="operating (mines: still operating) or decline (countries: production -25 %).")
    p: float = Field(description="Calibrated probability of the target.")
    p_raw: float = Field(description="The model's uncalibrated probability.")
    model_name: str
    model_version: str
    variant: str = Field(description="A/B arm that answered: champion or challenger.")
    cached: bool
    interval: Interval | None = Field(
        default=None, description="Bayesian credible interval for the same target (none for what-ifs)."
    )
    overrides: dict[str, float] = Field(default_factory=dict)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PredictRequest] = Field(min_length=1, max_length=BATCH_MAX)


class BatchItem(BaseModel):
    """A prediction (``status`` 200) or why this item failed (404 unknown id, 422 bad override, 503)."""

    model_config = ConfigDict(extra="allow")

    status: int
    detail: str | None = None
    entity_type: str
    entity_id: str


class BatchResponse(BaseModel):
    n: int
    failed: int
    results: list[BatchItem]


class JobAccepted(BaseModel):
    job_id: str
    status: str
    total: int
    status_url: str


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    failed: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    owner: str | None = None
    offset: int = 0
    results: list[BatchItem] | None = Field(default=None, description="Present once the job has finished.")


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon: Horizon = "H5"
    overrides: Overrides | None = Field(default=None, max_length=MAX_OVERRIDES)
    variant: Variant | None = None
    top: int = Field(default=5, ge=1, le=50, description="Drivers put into words.")


class FeatureContribution(BaseModel):
    feature: str
    name: str
    unit: str
    value: float | None
    shap: float = Field(description="Contribution in log-odds of the model output.")
    direction: Literal["up", "down", "none"]


class Driver(BaseModel):
    feature: str
    name: str
    shap: float
    text: str


class ExplainResponse(BaseModel):
    entity_type: str
    entity_id: str
    as_of_year: int
    horizon: str
    model_name: str
    model_version: str
    output: str
    output_meaning: str
    base_value: float = Field(description="Expected model output (log-odds) over the training rows.")
    logit: float = Field(description="base_value + sum of shap.")
    p_raw: float
    source: Literal["precomputed", "computed"]
    overrides: dict[str, float] = Field(default_factory=dict)
    features: list[FeatureContribution]
    top_drivers: list[Driver]
    summary: str
    note: str | None = None


class ModelVersionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: str
    aliases: list[str]
    cv_auc: float | None = None
    cv: dict[str, Any] = Field(default_factory=dict)
    cv_scheme: str | None = None
    created_at: str | None = None
    n_features: int | None = None
    data_world: dict[str, Any] | None = Field(
        default=None,
        description="The data the version was trained on: kind (real | synthetic), source releases, fingerprint. "
        "A version from another world than the live build's is never served for it.",
    )


class ModelOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    kind: str | None = None
    entity: str | None = None
    target: str | None = None
    aliases: dict[str, str]
    serving: dict[str, str] = Field(description="Alias -> version loaded in this worker.")
    answers: list[str] = Field(description="entity group/horizon pairs this model answers.")
    features: list[str] = Field(default_factory=list, description="Feature order (what overrides may name).")
    load_errors: dict[str, str] = Field(default_factory=dict)
    versions: list[ModelVersionOut]


class ABOut(BaseModel):
    enabled: bool
    challenger_share: float
    salt: str
    updated_at: str | None = None
    updated_by: str | None = None
    stats: dict[str, Any] = Field(default_factory=dict, description="Predictions served per model and arm here.")


class ABUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    challenger_share: float = Field(ge=0.0, le=1.0, description="0.1 = 90/10 champion/challenger.")
    salt: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")


class ModelsOut(BaseModel):
    models: list[ModelOut]
    ab: ABOut
    status: dict[str, Any] = Field(default_factory=dict, description="This worker's loaded models, rows and cache.")


class PromoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=r"^([0-9]{1,9}|challenger)$", description="A version number, or 'challenger'.")


class PromoteOut(BaseModel):
    name: str
    version: str
    aliases: dict[str, str]
    serving: str | None = Field(description="Champion version now serving in this worker.")
    load_error: str | None = None
