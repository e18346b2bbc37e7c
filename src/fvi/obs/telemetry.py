"""Traces: one TracerProvider per process, spans around warehouse, cache, predict and explain work.

Spans are always recorded (so every response can carry a real trace id) but leave the process
only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; then the OTLP/HTTP exporter sends them in
batches. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
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


def instrument_app(app: Any, provider: TracerProvider) -> None:
    """Server spans for every request (named by route template); send/receive spans off: noise."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/health,/metrics", exclude_spans=["receive", "send"]
    )


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child span of the current request (``warehouse.query``, ``cache.get``, ``predict``, ``explain``)."""
    with trace.get_tracer(TRACER_NAME).start_as_current_span(name) as current:
        for key, value in attributes.items():
            if value is not None:
                current.set_attribute(key, value if isinstance(value, str | bool | int | float) else str(value))
        yield current


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, or None outside a recorded span."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def new_trace_id() -> str:
    """A random id in the same format, for responses no span covered (tracing off, excluded URL)."""
    return secrets.token_hex(16)
