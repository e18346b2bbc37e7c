"""Explanations: SHAP values per feature (names and units from the registry), base value, top drivers in words."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from fvi.api.deps import ComputeRateLimited, StateDep, cached
from fvi.api.errors import InvalidField, NotFound, Unavailable
from fvi.api.prediction_schemas import ExplainRequest, ExplainResponse, Horizon
from fvi.api.prediction_service import ServiceDep, ServingService, normalise_id, raise_http
from fvi.api.schemas import error_responses
from fvi.api.state import AppState
from fvi.obs.telemetry import span
from fvi.serving import explain as X
from fvi.serving.predictor import InvalidOverride, ModelUnavailable, UnknownEntity
from fvi.warehouse import WarehouseUnavailable

router = APIRouter(prefix="/explain", tags=["explanations"], responses=error_responses(404))

EntityTypePath = Annotated[Literal["mine", "us_mine", "country"], Path(description="mine, us_mine or country.")]
EntityIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="M0740, MSHA100329 or ZAF.")
]
HorizonQuery = Annotated[Horizon, Query(description="Years ahead: H5, H10 or H20.")]
TopQuery = Annotated[int, Query(ge=1, le=50, description="Drivers put into words.")]


def explain(
    state: AppState,
    svc: ServingService,
    entity_type: str,
    entity_id: str,
    horizon: str,
    *,
    overrides: dict[str, float] | None = None,
    variant: str | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """The stored explanation when it explains the version that serves this entity, else SHAP computed now."""
    eid = normalise_id(entity_type, entity_id)
    try:
        model, _arm, as_of, values = svc.predictor.feature_values(entity_type, eid, horizon, overrides, variant)
    except (UnknownEntity, InvalidOverride, ModelUnavailable) as exc:
        raise_http(exc)
    common: dict[str, Any] = {
        "entity_type": entity_type,
        "entity_id": eid,
        "as_of_year": as_of,
        "horizon": horizon,
        "top": top,
    }

    def on_demand(note: str | None) -> dict[str, Any]:
        with span("explain.shap", model=model.name, version=model.version):
            parts = X.computed(model, values, top=top)
        return X.build(**common, **parts, source="computed", overrides=overrides, note=note)

    if overrides:
        return on_demand(None)
    with contextlib.ExitStack() as stack:
        try:
            reader = stack.enter_context(state.warehouse.reader())
        except WarehouseUnavailable:
            return on_demand("stored explanations unreachable (warehouse unavailable): computed now")

        def compute() -> dict[str, Any]:
            with span("explain.stored"):
                found = X.stored(reader, entity_type, eid, horizon)
            if found is None:
                return on_demand("no stored explanation for this entity: computed now")
            if (found["model_name"], found["model_version"]) != (model.name, model.version):
                return on_demand(
                    f"the stored explanation is of {found['model_name']} v{found['model_version']}; "
                    f"v{model.version} serves this entity: computed now"
                )
            kept = {k: v for k, v in found.items() if k != "as_of_year"}
            return X.build(**{**common, "as_of_year": found["as_of_year"]}, **kept, source="precomputed")

        parts = ("explain", entity_type, eid, horizon, top, model.name, model.version)
        return dict(cached(state, reader, parts, compute))
    raise AssertionError("unreachable")  # pragma: no cover


@router.get("/{entity_type}/{entity_id}", response_model=ExplainResponse, summary="Why the model says what it says")
def get_explanation(
    state: StateDep,
    svc: ServiceDep,
    entity_type: EntityTypePath,
    entity_id: EntityIdPath,
    horizon: HorizonQuery = "H5",
    top: TopQuery = 5,
) -> dict[str, Any]:
    """SHAP value of every feature the model uses (largest first), the base value and the top drivers in words.

    Stored explanations (computed at training) answer when they explain the version that serves the
    entity; otherwise SHAP is computed now (``source`` says which).
    """
    return explain(state, svc, entity_type, entity_id, horizon, top=top)


@router.post(
    "/{entity_type}/{entity_id}",
    response_model=ExplainResponse,
    dependencies=[ComputeRateLimited],
    summary="Explain a what-if (feature overrides)",
)
def post_explanation(
    state: StateDep, svc: ServiceDep, entity_type: EntityTypePath, entity_id: EntityIdPath, body: ExplainRequest
) -> dict[str, Any]:
    """SHAP of the entity's feature row with ``overrides`` applied, computed now (rate-limited as compute)."""
    return explain(
        state, svc, entity_type, entity_id, body.horizon, overrides=body.overrides, variant=body.variant, top=body.top
    )


def _streamable(
    svc: ServiceDep, entity_type: EntityTypePath, entity_id: EntityIdPath, horizon: HorizonQuery = "H5"
) -> None:
    """404/422/503 before the stream opens (a stream cannot change its status once started)."""
    try:
        svc.predictor.feature_values(entity_type, normalise_id(entity_type, entity_id), horizon)
    except (UnknownEntity, InvalidOverride, ModelUnavailable) as exc:
        raise_http(exc)


STREAM_DOC = (
    "Server-sent events: `started`, `computing`, then `completed` whose data is the explanation "
    "(the body of GET /v1/explain/{entity_type}/{entity_id}), or `error` with a status and detail."
)


@router.get(
    "/{entity_type}/{entity_id}/stream",
    dependencies=[Depends(_streamable)],
    summary="The same explanation as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"description": STREAM_DOC, "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def stream_explanation(
    state: StateDep,
    svc: ServiceDep,
    entity_type: EntityTypePath,
    entity_id: EntityIdPath,
    horizon: HorizonQuery = "H5",
    top: TopQuery = 5,
) -> StreamingResponse:
    """Events ``started``, ``computing``, then ``completed`` with the explanation (or ``error`` with a status).

    Unknown ids, horizons without a model and unloaded features are refused before the stream opens.
    """
    eid = normalise_id(entity_type, entity_id)

    def event(name: str, data: dict[str, Any]) -> bytes:
        return format_sse_event(event=name, data_str=json.dumps(data, separators=(",", ":")))

    def events() -> Iterator[bytes]:
        yield event("started", {"entity_type": entity_type, "entity_id": eid, "horizon": horizon})
        yield event("computing", {"step": "shap", "horizon": horizon})
        try:
            payload = explain(state, svc, entity_type, eid, horizon, top=top)
        except (NotFound, InvalidField, Unavailable) as exc:
            status = 404 if isinstance(exc, NotFound) else 422 if isinstance(exc, InvalidField) else 503
            yield event("error", {"status": status, "detail": str(exc)})
            return
        yield event("completed", payload)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
