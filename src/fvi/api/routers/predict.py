"""Predictions: one entity (with optional what-if overrides), or a batch (large batches become jobs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fvi.api.fast_json import FastJSON
from fvi.api.prediction_schemas import BatchRequest, BatchResponse, JobAccepted, PredictRequest, PredictResponse
from fvi.api.prediction_service import ServiceDep, normalise_id, raise_http
from fvi.api.schemas import error_responses
from fvi.api.security import require_key, spend
from fvi.obs.telemetry import span
from fvi.serving.jobs import JobsFull
from fvi.serving.predictor import InvalidOverride, ModelUnavailable, UnknownEntity

router = APIRouter(prefix="/predict", tags=["predictions"], responses=error_responses(404))


@router.post("", response_model=PredictResponse, summary="Predict one entity")
async def predict(body: PredictRequest, svc: ServiceDep) -> Any:
    """P(target) from the serving model for the entity's latest as-of year, with its Bayesian interval.

    Mines: P(still operating at t+H) (``fvi_mine_h5`` at H5, the hazard model's survival at H10/H20);
    countries: P(coal production falls >= 25 % by t+H). ``overrides`` answer a what-if (no interval then).
    The A/B arm is fixed per entity unless ``variant`` forces one.
    """
    # async on purpose: ~20 µs of CPU, cheaper inline than a hop to the thread pool
    with span("predict", entity_type=body.entity_type, horizon=body.horizon):
        try:
            p = svc.predictor.predict(
                body.entity_type,
                normalise_id(body.entity_type, body.entity_id),
                body.horizon,
                body.overrides,
                body.variant,
            )
        except (UnknownEntity, InvalidOverride, ModelUnavailable) as exc:
            raise_http(exc)
    return FastJSON(p.as_dict())  # already PredictResponse's shape: orjson, no second validation


@router.post(
    "/batch",
    response_model=BatchResponse,
    summary="Predict many entities (a job above the synchronous limit)",
    responses={
        202: {"model": JobAccepted, "description": "Accepted as a job: poll status_url (API key with write scope)."},
        **error_responses(401, 403),
    },
)
def predict_batch(body: BatchRequest, svc: ServiceDep, request: Request) -> Any:
    """Up to ``FVI_SERVING_BATCH_SYNC_LIMIT`` items (default 100) are answered now, each with its own status.

    Larger batches (up to ``FVI_SERVING_BATCH_MAX_ITEMS``) need an API key with the ``write`` scope and
    answer 202 with a job id; ``GET /v1/jobs/{job_id}`` gives progress and, once done, the results.
    """
    n = len(body.items)
    if n > 1:
        spend(request, "default", n - 1)  # N predictions cost N tokens (the route's own dependency took one)
    cfg = svc.settings
    if n > cfg.batch_max_items:
        from fvi.api.errors import InvalidField

        raise InvalidField("body.items", f"at most {cfg.batch_max_items} items per batch, got {n}")
    if n > cfg.batch_sync_limit:
        key = require_key("write")(request, None, None)
        try:
            job = svc.jobs.submit(body.items, owner=key.id)
        except JobsFull as exc:
            from fvi.api.errors import Unavailable

            raise Unavailable(str(exc)) from None
        url = f"/v1/jobs/{job.id}"
        return JSONResponse(
            status_code=202,
            content={"job_id": job.id, "status": job.status, "total": n, "status_url": url},
            headers={"Location": url},
        )
    with span("predict.batch", items=n):
        results = [svc.predict_item(item) for item in body.items]
    return {"n": n, "failed": sum(1 for r in results if r["status"] != 200), "results": results}
