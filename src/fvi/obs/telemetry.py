"""Traces: one TracerProvider per process, spans around warehouse, cache, predict and explain work.

Spans are always recorded (so every response can carry a real trace id) but leave the process
only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; then the OTLP/HTTP exporter sends them in
batches. Nothing here runs at import time.

The server span of each request is opened by :class:`fvi.api.middleware.RequestContextMiddleware`
(``server_span``), not by the contrib ASGI instrumentation: that one decodes every header, matches
the route a second time and sets a dozen attributes, ~5x the cost of the rest of a cached
prediction (``bench/bench_request_path.py``).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

TRACER_NAME = "fvi"
_lock = threading.Lock()
_provider: TracerProvider | None = None


def make_provider(service_name: str, endpoint: str | None) -> TracerProvider:
    """A provider that records spans; with ``endpoint`` it also batches them to OTLP/HTTP.

    The exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables itself (``/v1/traces`` is
    appended to the endpoint, headers and timeouts come from the environment).
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        log.info("tracing: exporting spans over OTLP/HTTP to %s", endpoint)
    return provider


def setup_tracing(service_name: str = "fvi-api") -> TracerProvider:
    """The process's SDK TracerProvider, created once; reuses one someone else installed first."""
    global _provider
    with _lock:
        if _provider is not None:
            return _provider
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            _provider = existing
            return existing
        provider = make_provider(service_name, os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        trace.set_tracer_provider(provider)
        _provider = provider
        return provider


# The propagated headers (W3C trace context and baggage); others are never read.
PROPAGATED = (b"traceparent", b"tracestate", b"baggage")


def tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """The service's tracer from ``provider`` (default: the global one)."""
    return (provider or trace.get_tracer_provider()).get_tracer(TRACER_NAME)


def _parent(headers: list[tuple[bytes, bytes]]) -> Context | None:
    """The caller's context from ``traceparent``/``tracestate``/``baggage`` (None when none came)."""
    carrier: dict[str, str] | None = None
    for name, value in headers:
        if name in PROPAGATED:
            if carrier is None:
                carrier = {}
            carrier[name.decode("latin-1")] = value.decode("latin-1")
    return propagate.extract(carrier) if carrier else None


def server_span(tracer_: trace.Tracer, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> trace.Span:
    """Start the request's SERVER span under the caller's ``traceparent`` (named by the template later)."""
    return tracer_.start_span(
        method,
        context=_parent(headers),
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path},
    )


def end_server_span(current: trace.Span, method: str, route: str, status: int) -> None:
    """Name the span ``METHOD /route/{template}`` and close it with the status (5xx: an error)."""
    current.update_name(f"{method} {route}")
    current.set_attributes({"http.route": route, "http.response.status_code": status})
    if status >= 500:
        current.set_status(trace.StatusCode.ERROR)
    current.end()


def activate(current: trace.Span) -> object:
    """Make ``current`` the active span of this task (and of threads the request hops to)."""
    return otel_context.attach(trace.set_span_in_context(current))


def deactivate(token: object) -> None:
    otel_context.detach(token)  # type: ignore[arg-type]


_tracer: tuple[trace.TracerProvider, trace.Tracer] | None = None


def _current_tracer() -> trace.Tracer:
    """The global provider's tracer, looked up again only when the provider changes (one call per span saved)."""
    global _tracer
    provider = trace.get_tracer_provider()
    cached = _tracer
    if cached is None or cached[0] is not provider:
        cached = _tracer = (provider, provider.get_tracer(TRACER_NAME))
    return cached[1]


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child span of the current request (``warehouse.query``, ``cache.get``, ``predict``, ``explain``)."""
    clean = {
        k: v if isinstance(v, str | bool | int | float) else str(v) for k, v in attributes.items() if v is not None
    }
    with _current_tracer().start_as_current_span(name, attributes=clean or None) as current:
        yield current


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, or None outside a recorded span."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def new_trace_id() -> str:
    """A random id in the same format, for responses no span covered (tracing off, excluded URL)."""
    return secrets.token_hex(16)
