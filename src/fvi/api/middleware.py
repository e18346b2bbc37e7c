"""Per-request context: trace id header, Prometheus timing by route template, last-resort 500.

Pure ASGI (no ``BaseHTTPMiddleware``) to keep the per-request cost to a few microseconds. It sits
inside the OpenTelemetry middleware, so the server span is current and its trace id is the one
returned in ``X-Trace-Id``; any exception that escapes the routes is logged with that id and
answered ``{"detail": "internal error", "trace_id": ...}``, never with a stack trace or SQL.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fvi.obs.metrics import UNMATCHED_ROUTE, ApiMetrics
from fvi.obs.telemetry import current_trace_id, new_trace_id

log = logging.getLogger("fvi.api")

TRACE_HEADER = b"x-trace-id"


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
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        trace_id = current_trace_id() or new_trace_id()
        scope.setdefault("state", {})["trace_id"] = trace_id
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (TRACE_HEADER, trace_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error (trace %s) on %s %s", trace_id, scope.get("method"), route_template(scope))
            self.metrics.errors.labels(route_template(scope), "exception").inc()
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
                            (TRACE_HEADER, trace_id.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            self.metrics.observe(scope.get("method", "GET"), route_template(scope), status, time.perf_counter() - start)
