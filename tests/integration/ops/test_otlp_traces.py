"""Real OTLP/HTTP from a real `fvi serve`: one trace per request, continuing the caller's traceparent.

The collector is a small HTTP server in the test decoding ``ExportTraceServiceRequest`` with
opentelemetry-proto. Then the collector stops, and the API answers as before.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.integration.ops.test_prometheus_grafana import free_port, stop, wait_for
from tests.unit.api.serving_world import make_home

pytestmark = [pytest.mark.integration]


class Collector:
    """POST /v1/traces → decoded spans, kept as dicts."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                with collector.lock:
                    for rs in req.resource_spans:
                        service = {a.key: a.value.string_value for a in rs.resource.attributes}.get("service.name")
                        for ss in rs.scope_spans:
                            for s in ss.spans:
                                collector.spans.append({
                                    "trace_id": s.trace_id.hex(),
                                    "span_id": s.span_id.hex(),
                                    "parent": s.parent_span_id.hex(),
                                    "name": s.name,
                                    "service": service,
                                    "attributes": {a.key: a.value for a in s.attributes},
                                })
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_id: str, names: set[str], timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                spans = [s for s in self.spans if s["trace_id"] == trace_id]
            if names <= {s["name"] for s in spans}:
                return spans
            time.sleep(0.2)
        pytest.fail(f"trace {trace_id}: spans {sorted(s['name'] for s in spans)}, wanted {sorted(names)}")
        raise AssertionError


def serve(home: Path, log: Path, endpoint: str) -> subprocess.Popen:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FVI_", "OTEL_"))}
    env.update(FVI_HOME=str(home), FVI_API_WARM_WHATIF="false", FVI_API_RATE_PER_MINUTE="100000",
               FVI_API_RATE_BURST="100000", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100",
               OTEL_EXPORTER_OTLP_TIMEOUT="2000")
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "fvi"), "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    proc.base = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    wait_for(f"{proc.base}/health", proc, log)  # type: ignore[attr-defined]
    return proc


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_home(tmp_path_factory.mktemp("otlp") / "home")


@pytest.fixture()
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    with contextlib.suppress(OSError):
        c.server.server_close()


def tree(spans: list[dict]) -> dict[str, list[str]]:
    ids = {s["span_id"]: s["name"] for s in spans}
    out: dict[str, list[str]] = {}
    for s in spans:
        out.setdefault(ids.get(s["parent"], "<caller>"), []).append(s["name"])
    return out


def test_one_trace_per_request_under_the_callers_traceparent_and_no_collector_no_harm(home, collector, tmp_path
                                                                                     ) -> None:
    proc = serve(home, tmp_path / "api.log", collector.url)
    try:
        # predict reads the features the service loaded at start-up: no per-request warehouse span
        for method, url, body, route, inner, io in (
            ("POST", "/v1/predict", {"entity_type": "mine", "entity_id": "M1", "horizon": "H5"}, "POST /v1/predict",
             "predict", set()),
            ("GET", "/v1/explain/mine/M1?horizon=H5&top=2", None, "GET /v1/explain/{entity_type}/{entity_id}",
             "explain.stored", {"warehouse.query", "cache.get"}),
        ):
            trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
            r = httpx.request(method, proc.base + url, json=body, timeout=30,  # type: ignore[attr-defined]
                              headers={"traceparent": f"00-{trace_id}-{caller}-01"})
            assert r.status_code == 200, r.text
            assert r.headers["x-trace-id"] == trace_id  # the response names the caller's trace
            spans = collector.trace(trace_id, {route, inner})
            assert {s["service"] for s in spans} == {"fvi-api"}
            server = [s for s in spans if s["name"] == route]
            assert len(server) == 1 and server[0]["parent"] == caller  # continues the caller's span
            names = {s["name"] for s in spans}
            assert not io or names & io, names
            edges = tree(spans)
            assert edges["<caller>"] == [route]  # one root: everything else hangs under the route's span
        # the collector goes away: the API answers as before (exporting is off the request path)
        collector.server.shutdown()
        collector.server.server_close()
        t0 = time.monotonic()
        for _ in range(5):
            r = httpx.post(proc.base + "/v1/predict", timeout=30,  # type: ignore[attr-defined]
                           json={"entity_type": "mine", "entity_id": "M1", "horizon": "H5"})
            assert r.status_code == 200, r.text
        assert time.monotonic() - t0 < 10
    finally:
        stop(proc)
