"""Liveness (the process answers) and readiness (warehouse, cache, model), outside ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from fvi.api.deps import StateDep
from fvi.api.schemas import Readiness

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness")
def health() -> dict[str, str]:
    """Always 200 while the process serves requests; says nothing about the warehouse."""
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}}, summary="Readiness")
def ready(state: StateDep) -> JSONResponse:
    """200 when every check passes, else 503 naming each failing check and why."""
    checks = state.readiness()
    failing = {name: c.detail for name, c in checks.items() if not c.ok}
    body = {
        "ready": not failing,
        "detail": "; ".join(f"{k}: {v}" for k, v in failing.items()) or None,
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    return JSONResponse(status_code=503 if failing else 200, content=body)


@router.get("/metrics", include_in_schema=False)
def prometheus(state: StateDep) -> Response:
    """Prometheus text format for this process."""
    payload, content_type = state.metrics.render()
    return Response(content=payload, media_type=content_type)
