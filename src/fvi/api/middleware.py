"""Per-request context: the server span, trace id header, Prometheus timing by route template, access log, last 500.

Pure ASGI (no ``BaseHTTPMiddleware``, no thread hop) and the outermost layer. It opens the request's
SERVER span itself under the caller's ``traceparent`` (named ``METHOD /route/{template}`` once the
router has matched), so the trace id returned in ``X-Trace-Id`` is the span's; any exception that
escapes the routes is logged with that id and answered ``{"detail": "internal error", "trace_id": ...}``,
never with a stack trace or SQL. The access log is sampled and written by another thread
(:mod:`fvi.obs.access_log`). Measured cost per request: ``bench/bench_request_path.py``.
"""

from __future__ import annotations

import json
import logging
import time

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fvi.obs import telemetry
from fvi.obs.access_log import AccessLog
from fvi.obs.metrics import UNMATCHED_ROUTE, ApiMetrics
from fvi.obs.telemetry import new_trace_id

log = logging.getLogger("fvi.api")

TRACE_HEADER = b"x-trace-id"
UNTRACED_PATHS = frozenset({"/health", "/metrics"})  # probes and scrapes: no span, still a trace id


def route_template(scope: Scope) -> str:
    """``/v1/mines/{mine_id}``, not ``/v1/mines/M0740``: bounded label values.

    FastAPI >= 0.16x keeps included routes with their own (relative) path and records the full
    template in its effective route context; older versions copy routes with the full path.
    """
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        path = getattr(fastapi_scope.get("effective_route_context"), "path_format", None)
        if isinstance(path, str) and path:
            return path
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """``tracer`` None: no server span (tracing off); ``metrics`` None: no per-route Prometheus series."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: ApiMetrics | None,
        *,
        tracer: trace.Tracer | None = None,
        access_log: AccessLog | None = None,
        errors: ApiMetrics | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.errors = errors or metrics  # unhandled exceptions are counted even with request metrics off
        self.tracer = tracer
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901 - one request's life
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope.get("method", "GET")
        span = token = None
        if self.tracer is not None and scope["path"] not in UNTRACED_PATHS:
            span = telemetry.server_span(self.tracer, method, scope["path"], scope.get("headers", []))
            token = telemetry.activate(span)
            trace_id = format(span.get_span_context().trace_id, "032x")
        else:
            trace_id = new_trace_id()
        scope.setdefault("state", {})["trace_id"] = trace_id
        trace_header = (TRACE_HEADER, trace_id.encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), trace_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            route = route_template(scope)
            log.exception("unhandled error (trace %s) on %s %s", trace_id, method, route)
            if self.errors is not None:
                self.errors.errors.labels(route, "exception").inc()
            if span is not None:
                span.record_exception(exc)
            status = 500
            if not started:
                body = json.dumps({"detail": "internal error", "trace_id": trace_id}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            trace_header,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            route = route_template(scope)
            seconds = time.perf_counter() - start
            if span is not None:
                telemetry.end_server_span(span, method, route, status)
                telemetry.deactivate(token)
            if self.metrics is not None:
                self.metrics.observe(method, route, status, seconds)
            if self.access_log is not None:
                self.access_log.record(method, route, scope["path"], status, seconds, trace_id, scope.get("client"))
