"""The shared vocabulary: horizons, personas, outcome orientation, US mine keys.

Every module that needs one of these words reads it here; the words themselves live in the
registry files (``metrics.yml`` horizons, ``personas.yml`` default, ``outcomes.yml`` bad targets,
``models.yml`` method preference). Nothing else restates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import yaml

#: The prefix that makes an EIA MSHA id an FVI entity id (``MSHA4801353``). dbt's
#: ``dim_entity`` builds the same key (``warehouse/macros/entity_ids.sql``).
US_MINE_PREFIX = "MSHA"


def _yaml(package: str, name: str) -> Any:
    return yaml.safe_load(resources.files(package).joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def _words() -> dict[str, Any]:
    metrics = _yaml("fvi.registry", "metrics.yml")
    personas = _yaml("fvi.registry", "personas.yml")
    outcomes = _yaml("fvi.outcomes", "outcomes.yml")
    models = _yaml("fvi.registry", "models.yml")
    labels = tuple(str(h) for h in metrics["defaults"]["horizons"])
    return {
        "horizon_labels": labels,
        "horizons": tuple(int(h.removeprefix("H")) for h in labels),
        "default_persona": str(personas["default"]),
        "persona_ids": tuple(str(p["id"]) for p in personas["personas"]),
        "bad_targets": frozenset(str(t).lower() for t in outcomes["bad_outcome_targets"]),
        "method_preference": tuple(str(m) for m in models["method_preference"]),
        "global_mine_features": tuple(dict(f) for f in models.get("global_mine_features", [])),
        "global_mine_features_left_out": tuple(dict(f) for f in models.get("global_mine_features_left_out", [])),
        "models": tuple(_model_spec(m, labels) for m in models["models"]),
    }


@dataclass(frozen=True)
class ModelSpec:
    """One declared model (``models.yml`` ``models:``): what it learns, for whom, and how it is checked."""

    name: str
    entity: str
    label: str
    target: str
    horizons: tuple[int, ...]
    feature_horizon: str
    estimator: str
    validation: str
    augment: str | None = None


ESTIMATORS = ("classifier", "hazard", "global_hazard", "stage_conversion")
VALIDATIONS = ("strict", "strict_else_grouped")


def _model_spec(doc: dict[str, Any], labels: tuple[str, ...]) -> ModelSpec:
    spec = ModelSpec(**{**doc, "horizons": tuple(int(h) for h in doc["horizons"])})
    if spec.estimator not in ESTIMATORS or spec.validation not in VALIDATIONS or spec.feature_horizon not in labels:
        raise ValueError(f"models.yml: {spec.name}: estimator, validation or feature_horizon not known")
    if spec.entity not in ("mine", "country"):
        raise ValueError(f"models.yml: {spec.name}: entity must be mine or country")
    return spec


HORIZON_LABELS: tuple[str, ...] = _words()["horizon_labels"]
#: The scored horizons in years, in order: (5, 10, 20).
HORIZONS: tuple[int, ...] = _words()["horizons"]
DEFAULT_PERSONA: str = _words()["default_persona"]
PERSONA_IDS: tuple[str, ...] = _words()["persona_ids"]
#: Outcome target names that mean a bad outcome; probabilities are turned round for them.
BAD_TARGETS: frozenset[str] = _words()["bad_targets"]
#: Which prediction method answers for a horizon when several can (a direct classifier first).
METHOD_PREFERENCE: tuple[str, ...] = _words()["method_preference"]
#: The worldwide mine model's features with source, polarity and reason (``models.yml``).
GLOBAL_MINE_FEATURES: tuple[dict[str, str], ...] = _words()["global_mine_features"]
#: GEM signals the worldwide model leaves out, each with the reason (``models.yml``).
GLOBAL_MINE_FEATURES_LEFT_OUT: tuple[dict[str, str], ...] = _words()["global_mine_features_left_out"]
#: The models ``fvi train`` trains, in order (``models.yml`` ``models:``).
MODELS: tuple[ModelSpec, ...] = _words()["models"]

if TYPE_CHECKING:
    HorizonLabel = str
else:
    HorizonLabel = Literal[HORIZON_LABELS]  # an enum in the OpenAPI schema, from the registry


def horizon_label(value: Any) -> str:
    """``5``, ``"5"``, ``5.0`` or ``"H5"`` → ``"H5"`` (tables store the years, the API the label)."""
    text = str(value).strip().upper()
    if text.startswith("H"):
        text = text[1:]
    try:
        years = int(float(text))
    except ValueError as exc:
        raise ValueError(f"not a horizon: {value!r}") from exc
    return f"H{years}"


def horizon_years(value: Any) -> int:
    """``"H10"`` or ``10`` → ``10``."""
    return int(horizon_label(value)[1:])


def is_bad_target(target: Any) -> bool:
    """True when a model's target names a bad outcome (its probability is turned round)."""
    return str(target).lower() in BAD_TARGETS


def us_mine_id(msha_id: Any) -> str:
    """The FVI entity id of an EIA mine: ``MSHA`` + the integer MSHA id (``4801353.0`` → ``MSHA4801353``)."""
    text = str(msha_id).strip()
    if text.upper().startswith(US_MINE_PREFIX):
        text = text[len(US_MINE_PREFIX):]
    return f"{US_MINE_PREFIX}{int(float(text))}"


def us_mine_id_sql(column: str) -> str:
    """The same key as a SQL expression over an MSHA id column (DuckDB and PostgreSQL)."""
    return f"'{US_MINE_PREFIX}' || cast({column} as varchar)"


def us_mine_ids(msha_ids: Any) -> Any:
    """Vectorised :func:`us_mine_id` over a pandas Series of MSHA ids (nullable ints kept as missing)."""
    import pandas as pd

    s = pd.to_numeric(pd.Series(msha_ids), errors="coerce").astype("Int64")
    return (US_MINE_PREFIX + s.astype("string")).astype(object).where(s.notna(), None)


def msha_of(entity_ids: Any) -> Any:
    """The MSHA id (nullable int) of ``MSHA…`` entity ids; other ids give missing."""
    import pandas as pd

    s = pd.Series(entity_ids).astype("string")
    is_us = s.str.startswith(US_MINE_PREFIX, na=False)
    return pd.to_numeric(s.where(is_us).str.removeprefix(US_MINE_PREFIX), errors="coerce").astype("Int64")


def entity_key(entity_type: str, entity_id: str) -> str:
    """The stored id an id typed by a person means.

    US mine (``msha123``), country (``deu``) and GEM (``m1052``) ids are case-insensitive; other
    ids are taken as given.
    """
    raw = entity_id.strip()
    if entity_type in ("us_mine", "country"):
        return raw.upper()
    if entity_type == "mine" and raw[:1] in ("m", "M") and raw[1:].isdigit():
        return raw.upper()
    return raw
