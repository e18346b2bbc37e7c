"""What-if: rescore one entity with other weights or changed metric values (open, but rate-limited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fvi.api.deps import ComputeRateLimited, ReaderDep, StateDep, check_persona
from fvi.api.errors import InvalidField, NotFound, Unavailable
from fvi.api.schemas import WhatIfRequest, WhatIfResult, error_responses
from fvi.api.state import WhatIfUnavailable
from fvi.obs.telemetry import span
from fvi.registry.vocabulary import entity_key

router = APIRouter(prefix="/score", tags=["what-if"], responses=error_responses(404, 413))

# Which request field a scoring error is about, from the words the scoring engine uses.
_FIELD_HINTS = (
    ("persona", "body.persona"),
    ("pillar", "body.weights"),
    ("weight", "body.weights"),
    ("metric", "body.metric_values"),
    ("horizon", "body.horizons"),
    ("entity type", "body.entity_type"),
)


def _pillar_weights(weights: dict[str, float]) -> dict[str, float]:
    """Accept ``pillar_01`` as well as ``01`` (the column name and the registry id)."""
    out: dict[str, float] = {}
    for key, value in weights.items():
        pid = key.removeprefix("pillar_")
        if pid in out:
            raise InvalidField(f"body.weights.{key}", f"pillar {pid} given twice")
        out[pid] = value
    return out


def _check_metrics(values: dict[str, float]) -> None:
    from fvi.registry.metrics import load_metrics

    known = load_metrics()
    for mid in values:
        if mid not in known:
            raise InvalidField(f"body.metric_values.{mid}", f"unknown metric {mid!r} (see /v1/metrics)")


@router.post("/what-if", response_model=WhatIfResult, dependencies=[ComputeRateLimited], summary="What-if rescoring")
def what_if(body: WhatIfRequest, state: StateDep, reader: ReaderDep) -> dict[str, Any]:
    """FVI, pillars, rank and percentile per horizon under ``persona`` or custom ``weights``.

    ``metric_values`` override the stored values; ``delta`` is the effect of the overrides.
    """
    from fvi.scoring.config import ScoringError

    if body.persona is not None:
        try:
            check_persona(body.persona)
        except InvalidField as exc:
            raise InvalidField("body.persona", exc.message) from None
    weights = _pillar_weights(body.weights) if body.weights is not None else None
    if body.metric_values:
        _check_metrics(body.metric_values)
    try:
        engine = state.whatif(reader)
    except WhatIfUnavailable as exc:
        raise Unavailable(str(exc)) from exc
    entity_id = entity_key(body.entity_type, body.entity_id)
    try:
        with span("scoring.whatif", entity_type=body.entity_type):
            result = engine.rescore(
                body.entity_type,
                entity_id,
                as_of_year=body.as_of_year,
                horizons=list(body.horizons) if body.horizons else None,
                persona=body.persona,
                weights=weights,
                metric_values=body.metric_values,
            )
    except KeyError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else f"{body.entity_type} {entity_id!r} not found") from None
    except ScoringError as exc:
        msg = str(exc)
        field = next((f for word, f in _FIELD_HINTS if word in msg.lower()), "body")
        raise InvalidField(field, msg) from None
    result["registry_hash"] = state.registry_hash
    return result
