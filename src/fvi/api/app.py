"""The FVI service: ``create_app()`` builds the FastAPI app (``fvi serve`` runs it with uvicorn).

Extension points for the routers that come next (predict, explain, models, jobs):

* add the router to ``ROUTERS`` (mounted under ``/v1``, rate-limited), or pass ``routers=`` /
  ``extra_routers=`` to ``create_app``;
* put long-lived objects (model registry, ONNX sessions) on ``AppState.extras`` and a readiness
  check under ``model`` from a function in ``STARTUP_HOOKS`` (or ``startup_hooks=``), which runs
  once when the app starts;
* count predictions with ``fvi.obs.metrics.count_prediction(state.metrics, version, variant)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from fvi.api import entity_store, errors, prediction_service
from fvi.api.deps import RateLimited
from fvi.api.middleware import RequestContextMiddleware
from fvi.api.routers import (
    admin,
    backtest,
    chat,
    countries,
    dashboard,
    data_quality,
    explain,
    health,
    jobs,
    metrics,
    mines,
    model_versions,
    personas,
    pillars,
    predict,
    rankings,
    runs,
    sources,
    weights,
    whatif,
)
from fvi.api.schemas import error_responses
from fvi.api.security import BodySizeLimitMiddleware
from fvi.api.state import AppState, WhatIfFactory
from fvi.api.web import mount_dashboard
from fvi.cache import Cache
from fvi.obs import telemetry
from fvi.obs.access_log import AccessLog
from fvi.settings import ApiSettings, Settings, get_settings

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
StartupHook = Callable[[AppState], None]

ROUTERS: list[APIRouter] = [
    predict.router,
    mines.router,
    countries.router,
    rankings.router,
    metrics.router,
    pillars.router,
    personas.router,
    sources.router,
    data_quality.router,
    runs.router,
    weights.router,
    whatif.router,
    admin.router,
    jobs.router,
    explain.router,
    model_versions.router,
    backtest.router,
    chat.router,
    dashboard.router,
]
STARTUP_HOOKS: list[StartupHook] = [prediction_service.start]


def _version() -> str:
    try:
        return package_version("fvi")
    except PackageNotFoundError:
        return "0+unknown"


def _registry_openapi(app: FastAPI) -> None:
    """Enumerate registry ids (personas, metrics, pillars) in the OpenAPI schema: the registry is the truth."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fvi.registry.metrics import load_metrics, load_pillars
        from fvi.scoring.config import load_learnt_personas, load_personas

        spec = original()
        personas = list(load_personas())
        readable = [*personas, *load_learnt_personas()]  # stored scores exist for learnt personas too
        for item in spec.get("paths", {}).values():
            for op in item.values():
                for param in op.get("parameters", []) if isinstance(op, dict) else []:
                    if param.get("name") == "persona":
                        _enum(param.get("schema", {}), readable)
        body = spec.get("components", {}).get("schemas", {}).get("WhatIfRequest", {}).get("properties", {})
        _enum(body.get("persona", {}), personas)
        pillars = list(load_pillars())
        keys = [*pillars, *(f"pillar_{p}" for p in pillars)]
        for name, ids in (("weights", keys), ("metric_values", list(load_metrics()))):
            for variant in body.get(name, {}).get("anyOf", [body.get(name, {})]):
                if variant.get("type") == "object":
                    variant["propertyNames"] = {"enum": ids}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _enum(schema: dict[str, Any], values: list[str]) -> None:
    """Put ``enum`` on the string branch of a (possibly nullable) parameter schema."""
    for variant in schema.get("anyOf", [schema]):
        if variant.get("type") == "string":
            variant["enum"] = values


def create_app(
    settings: Settings | None = None,
    *,
    api_settings: ApiSettings | None = None,
    routers: Iterable[APIRouter] | None = None,
    extra_routers: Iterable[APIRouter] = (),
    startup_hooks: Iterable[StartupHook] = (),
    whatif_factory: WhatIfFactory | None = None,
    cache: Cache | None = None,
) -> FastAPI:
    """A new app with its own state, metrics registry and middleware (nothing shared between apps)."""
    settings = settings or get_settings()
    api = api_settings or settings.api
    state = AppState.build(settings, api, whatif_factory=whatif_factory, cache=cache)
    state.metrics.registry.register(entity_store.StoreCollector(state))
    hooks = [*STARTUP_HOOKS, *startup_hooks]

    access_log = AccessLog(api.access_log_sample, api.access_log_slow_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in hooks:
            hook(state)
        entity_store.preload(state)
        if api.warm_whatif:
            threading.Thread(target=state.warm, name="fvi-whatif-warm", daemon=True).start()
        access_log.start()
        log.info("fvi api: serving %s (%s warehouse, %s cache)", API_PREFIX, state.warehouse.kind, state.cache.backend)
        try:
            yield
        finally:
            access_log.stop()
            state.close()

    # Swagger UI's script and styles are served from the package (fastapi-offline), never a CDN
    app = FastAPIOffline(
        title="FVI: Future Viability Index",
        version=_version(),
        description=(
            "How likely a coal mine, or a coal country, is to still be viable in 5, 10 and 20 years, why, "
            "and how sure we are. Reads the gold tables of the last good pipeline run."
        ),
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-assets",
        openapi_url="/openapi.json",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry bridge off: the request span is ours (RequestContextMiddleware)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.fvi = state
    errors.install(app)
    _registry_openapi(app)

    v1 = APIRouter(prefix=API_PREFIX, dependencies=[RateLimited], responses=error_responses(422, 429, 500, 503))
    for r in [*(ROUTERS if routers is None else routers), *extra_routers]:
        v1.include_router(r)
    app.include_router(v1)
    app.include_router(health.router)
    mount_dashboard(app, api.web_dir)  # last: every API route above wins over a dashboard file

    # Outermost last: context (server span, trace id, timing, access log, last-resort 500) > CORS > body size
    # > routes.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=api.max_body_bytes)
    if api.cors_origins:
        if "*" in api.cors_origins:
            log.warning("CORS: every origin allowed (FVI_API_CORS_ORIGINS contains '*')")
        app.add_middleware(
            CORSMiddleware,
            allow_origins=api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
            expose_headers=["X-Trace-Id", "Retry-After"],
            max_age=600,
        )
    tracer = telemetry.tracer(telemetry.setup_tracing(api.service_name)) if api.tracing else None
    app.add_middleware(
        RequestContextMiddleware,
        metrics=state.metrics if api.metrics else None,
        errors=state.metrics,
        tracer=tracer,
        access_log=access_log,
    )
    return app
