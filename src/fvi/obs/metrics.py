"""Prometheus metrics of the service, in one CollectorRegistry per app (tests never collide).

Other parts of the service record through the app's :class:`ApiMetrics` (``AppState.metrics``):
``count_prediction(metrics, model_version, variant)`` increments ``fvi_predictions_total``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Buckets from 1 ms (a cached GET) to 10 s (a cold what-if scorer build).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"


class _CacheCollector(Collector):
    """Cache hits, misses and errors read from ``Cache.stats()`` at scrape time (no double counting)."""

    def __init__(self, stats: Callable[[], Any]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self._stats()
        labels = ["backend", "namespace"]
        values = [s.backend, s.namespace]
        for name, doc, value in (
            ("fvi_cache_hits", "Cache hits since the service started.", s.hits),
            ("fvi_cache_misses", "Cache misses since the service started (expiry and outages included).", s.misses),
            ("fvi_cache_errors", "Cache calls the backend could not serve.", s.errors),
            ("fvi_cache_hit_ratio", "Hits / (hits + misses).", s.hit_rate),
        ):
            g = GaugeMetricFamily(name, doc, labels=labels)
            g.add_metric(values, float(value))
            yield g


class ApiMetrics:
    """Request latency and counts by route template, errors, cache gauges, model predictions."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.latency = Histogram(
            "fvi_http_request_duration_seconds",
            "Request latency by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "fvi_http_requests", "Requests by route template and status.", ["method", "route", "status"], registry=r
        )
        self.errors = Counter(
            "fvi_http_errors", "Server-side failures by route template and kind.", ["route", "kind"], registry=r
        )
        self.predictions = Counter(
            "fvi_predictions", "Model predictions served.", ["model_version", "variant"], registry=r
        )
        # (method, route template, status) -> (latency child, count child); bounded by the route table
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def watch_cache(self, stats: Callable[[], Any]) -> None:
        """Expose a cache's counters (``Cache.stats``) as gauges."""
        self.registry.register(_CacheCollector(stats))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request; the labelled children are looked up once per (method, route, status), not per call."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.latency.labels(method, route),
                self.requests.labels(method, route, str(status)),
            )
        children[0].observe(seconds)
        children[1].inc()
        if status >= 500:
            self.errors.labels(route, "unavailable" if status == 503 else "server_error").inc()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def count_prediction(metrics: ApiMetrics, model_version: str, variant: str = "default", n: int = 1) -> None:
    """Record ``n`` predictions served by ``model_version`` (``variant``: the A/B arm)."""
    metrics.predictions.labels(model_version=model_version, variant=variant).inc(n)
