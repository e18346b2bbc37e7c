"""The prediction service inside the API: built once per worker by a start-up hook, found by the routers.

``start`` (in ``fvi.api.app.STARTUP_HOOKS``) loads every champion and challenger ONNX session and
the feature rows, puts a :class:`ServingService` on ``AppState.extras["serving"]`` and replaces the
``model`` readiness check. Settings come from ``FVI_SERVING_*`` (``Settings.serving``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

from fastapi import Depends, Request
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fvi.api.errors import InvalidField, NotFound, Unavailable
from fvi.api.state import AppState, Check
from fvi.cache import Cache, make_cache
from fvi.registry.vocabulary import entity_key
from fvi.serving.ab import ABRouter
from fvi.serving.jobs import JobStore
from fvi.serving.predictor import InvalidOverride, ModelUnavailable, Predictor, UnknownEntity
from fvi.settings import ServingSettings

log = logging.getLogger(__name__)

EXTRA = "serving"
CACHE_NAMESPACE = "fvi-pred"


@dataclass
class ServingService:
    settings: ServingSettings
    predictor: Predictor
    ab: ABRouter
    jobs: JobStore
    cache: Cache

    def predict_item(self, item: Any) -> dict[str, Any]:
        return predict_item(self.predictor, item)


def predict_item(predictor: Predictor, item: Any) -> dict[str, Any]:
    """One batch item: the prediction, or its error as ``{"status", "detail"}`` (a batch never fails whole)."""
    try:
        eid = normalise_id(item.entity_type, item.entity_id)
        p = predictor.predict(item.entity_type, eid, item.horizon, item.overrides, item.variant)
    except (UnknownEntity, InvalidOverride, ModelUnavailable) as exc:
        status = 404 if isinstance(exc, UnknownEntity) else 422 if isinstance(exc, InvalidOverride) else 503
        return {"status": status, "detail": str(exc), "entity_type": item.entity_type, "entity_id": item.entity_id}
    return {"status": 200, **p.as_dict()}


def normalise_id(entity_type: str, entity_id: str) -> str:
    """US mine (``MSHA…``), country (ISO3) and GEM (``M1052``) ids are case-insensitive."""
    return entity_key(entity_type, entity_id)


class _PredictionCacheCollector(Collector):
    """The prediction cache's counters (its hit ratio is a serving target), read at scrape time."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self._cache.stats()
        for name, doc, value in (
            ("fvi_prediction_cache_hits", "Prediction cache hits since the worker started.", s.hits),
            ("fvi_prediction_cache_misses", "Prediction cache misses since the worker started.", s.misses),
            ("fvi_prediction_cache_errors", "Prediction cache calls the backend could not serve.", s.errors),
            ("fvi_prediction_cache_hit_ratio", "Prediction cache hits / (hits + misses).", s.hit_rate),
        ):
            g = GaugeMetricFamily(name, doc, labels=["backend"])
            g.add_metric([s.backend], float(value))
            yield g


def _model_check(state: AppState) -> Check:
    """Ready when every champion is loaded and the feature rows are in memory."""
    svc: ServingService | None = state.extras.get(EXTRA)
    if svc is None:
        return Check(False, "prediction service not started")
    snap = svc.predictor.snapshot
    if not snap.models and not snap.load_errors:
        return Check(True, "no models trained yet: predictions unavailable (run `fvi train`)")
    broken = [
        f"{k}: {v}"
        for k, v in snap.load_errors.items()
        if k.endswith("@champion") and k.split("@")[0] not in snap.models
    ]
    if broken:
        return Check(False, "champion not loaded: " + "; ".join(broken))
    if snap.rows is None:
        return Check(False, f"features not loaded: {snap.rows_error or 'loading'}")
    champions = ", ".join(
        f"{n} v{arms['champion'].version}" for n, arms in sorted(snap.models.items()) if "champion" in arms
    )
    challengers = sum(1 for arms in snap.models.values() if "challenger" in arms)
    entities = len(snap.rows.index.get("mine", {})) + len(snap.rows.index.get("country", {}))
    return Check(True, f"{champions}; {challengers} challenger(s); features of {entities} entities")


def start(state: AppState) -> None:
    """Start-up hook: load models and feature rows once for this worker (failures are reported, not raised)."""
    cfg = state.settings.serving
    url = state.settings.cache_url
    options: dict[str, Any] = {"default_ttl": cfg.prediction_cache_ttl_seconds}
    if not url:
        options["max_entries"] = cfg.cache_max_entries
    cache = make_cache(url, CACHE_NAMESPACE, **options)
    home = state.settings.home_abs
    ab = ABRouter(cfg.ab_file(home), default_share=cfg.default_challenger_share, counter=state.metrics.predictions)
    where = state.settings.warehouse_url or str(state.settings.duckdb_path)
    predictor = Predictor(
        home / "models",
        cache,
        ab,
        reader=state.warehouse.reader,
        where=where,
        refresh_seconds=cfg.refresh_seconds,
        cache_ttl=cfg.prediction_cache_ttl_seconds,
        live_version=state.warehouse.current_version,
    )
    jobs = JobStore(
        functools.partial(predict_item, predictor),
        max_active=cfg.max_active_jobs,
        ttl=cfg.job_ttl_seconds,
        shared=cache if cache.backend == "redis" else None,
    )
    svc = ServingService(cfg, predictor, ab, jobs, cache)
    try:
        predictor.load()
    except Exception:  # noqa: BLE001 - the API serves scores without models; /ready says what is wrong
        log.exception("serving: models not loaded")
    state.extras[EXTRA] = svc
    if cfg.warm_cache and predictor.snapshot.rows is not None:
        threading.Thread(target=predictor.warm, name="fvi-serving-warm", daemon=True).start()
    state.metrics.registry.register(_PredictionCacheCollector(cache))
    state.add_ready_check("model", _model_check)
    snap = predictor.snapshot
    if snap.models:
        log.info(
            "serving: %d models (%s) and feature rows in %s s%s",
            len(snap.models),
            ", ".join(sorted(snap.models)),
            predictor.started_seconds.get("total"),
            f"; features unavailable: {snap.rows_error}" if snap.rows_error else "",
        )


async def get_service(request: Request) -> ServingService:
    """Async on purpose: a sync dependency costs a hop to the thread pool on every prediction."""
    svc: ServingService | None = request.app.state.fvi.extras.get(EXTRA)
    if svc is None:
        raise Unavailable("the prediction service is not running in this API")
    return svc


ServiceDep = Annotated[ServingService, Depends(get_service)]


def raise_http(exc: Exception) -> NoReturn:
    """Serving errors -> the API's error shapes (404 naming the id, 422 naming the field, 503 with the reason)."""
    if isinstance(exc, UnknownEntity):
        raise NotFound(str(exc)) from None
    if isinstance(exc, InvalidOverride):
        raise InvalidField(exc.field, exc.message) from None
    if isinstance(exc, ModelUnavailable):
        raise Unavailable(str(exc)) from None
    raise exc
