"""Health and readiness, 503 without a warehouse, trace ids, the 500 shape, /metrics, swaps, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from tests.unit.api.tiny_warehouse import replace_warehouse

from fvi.api.state import Check
from fvi.obs.metrics import count_prediction


def samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    body = r.json()
    assert r.status_code == 200 and body["ready"] is True
    assert set(body["checks"]) == {"warehouse", "cache", "sources", "model"}
    assert body["checks"]["cache"]["detail"] == "memory"


def test_without_a_warehouse(make_client) -> None:
    c = make_client()  # FVI_HOME has no warehouse
    assert c.get("/health").status_code == 200
    r = c.get("/ready")
    assert r.status_code == 503 and r.json()["ready"] is False
    assert "warehouse" in r.json()["detail"] and "fvi run" in r.json()["detail"]
    for url in ("/v1/mines", "/v1/mines/M1", "/v1/countries", "/v1/rankings", "/v1/data-quality"):
        r = c.get(url)
        assert r.status_code == 503, url
        assert r.json()["detail"].startswith("warehouse unavailable") and r.headers["retry-after"] == "5"
    assert c.get("/v1/metrics").status_code == 200  # the registry needs no warehouse
    assert c.get("/v1/sources").json()["note"].startswith("warehouse unavailable")
    assert c.get("/v1/weights").json()["dynamic"]["note"] == "warehouse unavailable"
    assert c.get("/v1/runs").json()["total"] == 0


def test_warehouse_without_scores_is_not_ready(settings, make_client) -> None:
    import pandas as pd

    from fvi.warehouse import DuckDBWarehouse

    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.write_table("gold", "dim_country", pd.DataFrame({"iso3": ["ZAF"]}))
    c = make_client()
    r = c.get("/ready")
    assert r.status_code == 503 and "fvi_scores" in r.json()["checks"]["warehouse"]["detail"]
    assert c.get("/v1/mines").json()["note"].startswith("no scores yet")
    assert c.get("/v1/mines/M1").status_code == 404


def test_model_check_is_pluggable(warehouse: Path, make_client) -> None:
    def hook(state) -> None:
        state.add_ready_check("model", lambda _s: Check(False, "no ONNX model loaded"))
        state.extras["model_registry"] = "stub"

    c = make_client(startup_hooks=[hook])
    r = c.get("/ready")
    assert r.status_code == 503 and r.json()["detail"] == "model: no ONNX model loaded"
    assert c.app.state.fvi.extras["model_registry"] == "stub"


def test_a_crashing_check_is_a_reason_not_a_crash(warehouse: Path, make_client) -> None:
    def boom(_state):
        raise RuntimeError("secret internals")

    c = make_client(startup_hooks=[lambda s: s.add_ready_check("model", boom)])
    r = c.get("/ready")
    assert r.status_code == 503 and "secret" not in r.text and "RuntimeError" in r.json()["detail"]


def test_trace_id_on_every_response(client: TestClient) -> None:
    seen = set()
    for method, url in (("GET", "/health"), ("GET", "/v1/mines"), ("GET", "/v1/mines/NOPE"), ("GET", "/nowhere")):
        r = client.request(method, url)
        tid = r.headers["x-trace-id"]
        assert len(tid) == 32 and int(tid, 16) >= 0
        seen.add(tid)
    r = client.get("/v1/mines?limit=0")
    assert r.status_code == 422 and r.headers["x-trace-id"]
    assert len(seen) == 4


def test_trace_id_continues_an_incoming_trace(client: TestClient) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = client.get("/v1/personas", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert r.headers["x-trace-id"] == trace_id


def test_unhandled_errors_are_500_with_a_trace_id_only(warehouse: Path, make_client) -> None:
    broken = APIRouter()

    @broken.get("/boom")
    def boom() -> None:
        raise RuntimeError("select secret from gold.fvi_scores where password = 'x'")

    c = make_client(extra_routers=[broken])
    r = c.get("/v1/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error", "trace_id": r.headers["x-trace-id"]}
    assert "secret" not in r.text and "Traceback" not in r.text
    s = samples(c)
    assert s[("fvi_http_errors_total", (("kind", "exception"), ("route", "/v1/boom")))] == 1


def test_warehouse_query_errors_do_not_leak_sql(warehouse: Path, make_client) -> None:
    def drop_column(wh) -> None:
        wh.con.execute("alter table gold.dim_mine drop column capacity_mtpa")

    replace_warehouse(warehouse, drop_column)
    r = make_client().get("/v1/mines")
    assert r.status_code == 500 and "capacity" not in r.text and "select" not in r.text.lower()


def test_prometheus_metrics(client: TestClient) -> None:
    client.get("/v1/mines/M1")
    client.get("/v1/mines/M1")
    client.get("/v1/mines/M2")
    client.get("/v1/mines/NOPE")
    count_prediction(client.app.state.fvi.metrics, "lgbm-3", "B", 5)
    s = samples(client)
    route = "/v1/mines/{mine_id}"
    ok = ("fvi_http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))
    missing = ("fvi_http_requests_total", (("method", "GET"), ("route", route), ("status", "404")))
    assert s[ok] == 3 and s[missing] == 1
    assert s[("fvi_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))] == 4
    assert not any("M1" in dict(labels).get("route", "") for _, labels in s)  # templates, never raw paths
    assert s[("fvi_predictions_total", (("model_version", "lgbm-3"), ("variant", "B")))] == 5
    cache = (("backend", "memory"), ("namespace", "fvi-api"))
    assert s[("fvi_cache_hits", cache)] >= 1 and s[("fvi_cache_misses", cache)] >= 2


def test_each_app_has_its_own_registry(warehouse: Path, make_client) -> None:
    a, b = make_client(), make_client()
    a.get("/v1/personas")
    key = ("fvi_http_requests_total", (("method", "GET"), ("route", "/v1/personas"), ("status", "200")))
    assert samples(a)[key] == 1 and key not in samples(b)


def test_a_swapped_warehouse_is_served_at_once(warehouse: Path, client: TestClient) -> None:
    assert client.get("/v1/mines/M1").json()["name"] == "Alpha Coal Mine"

    def rename(wh) -> None:
        wh.con.execute("update gold.dim_mine set mine_name = 'Alpha Renamed' where gem_mine_id = 'M1'")

    replace_warehouse(warehouse, rename)
    assert client.get("/v1/mines/M1").json()["name"] == "Alpha Renamed"  # no stale cache either


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    expected = {
        "/v1/mines", "/v1/mines/{mine_id}", "/v1/countries", "/v1/countries/{iso3}", "/v1/rankings", "/v1/metrics",
        "/v1/pillars", "/v1/personas", "/v1/sources", "/v1/data-quality", "/v1/runs", "/v1/runs/{run_id}",
        "/v1/weights", "/v1/score/what-if", "/v1/admin/cache/flush", "/health", "/ready",
    }  # fmt: skip
    assert expected <= paths
    persona = next(p for p in spec["paths"]["/v1/mines"]["get"]["parameters"] if p["name"] == "persona")
    assert persona["schema"]["enum"][0] == "analyst"  # registry ids, enumerated
    body = spec["components"]["schemas"]["WhatIfRequest"]["properties"]
    assert "mine_capacity_mtpa" in body["metric_values"]["anyOf"][0]["propertyNames"]["enum"]
    assert "404" in spec["paths"]["/v1/mines/{mine_id}"]["get"]["responses"]
    assert client.get("/docs").status_code == 200


def test_docs_work_offline(client: TestClient) -> None:
    """Every script and stylesheet /docs loads is served by the app itself (no CDN)."""
    import re

    page = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for url in assets:
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 1000, url


@pytest.mark.parametrize("url", ["/v1/mines?limit=501", "/v1/mines?offset=-1", "/v1/countries?as_of_year=abc"])
def test_query_validation_names_the_parameter(client: TestClient, url: str) -> None:
    r = client.get(url)
    name = url.split("?")[1].split("=")[0]
    assert r.status_code == 422 and f"query.{name}:" in r.json()["detail"]


def test_spans_for_warehouse_and_cache_under_the_request_trace(client: TestClient) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from fvi.obs.telemetry import setup_tracing

    exporter = InMemorySpanExporter()
    setup_tracing().add_span_processor(SimpleSpanProcessor(exporter))
    try:
        r = client.get("/v1/countries/AUS")
        trace_id = int(r.headers["x-trace-id"], 16)
        names = {s.name for s in exporter.get_finished_spans() if s.context.trace_id == trace_id}
        assert {"warehouse.query", "cache.get", "cache.set"} <= names
        assert any(n.startswith("GET /v1/countries") for n in names)  # the server span, by template
    finally:
        exporter.shutdown()


def test_otlp_exporter_only_with_an_endpoint() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    from fvi.obs.telemetry import make_provider

    def processors(provider) -> list:
        return list(provider._active_span_processor._span_processors)  # noqa: SLF001 - no public accessor

    assert processors(make_provider("t", None)) == []
    with_endpoint = make_provider("t", "http://127.0.0.1:4318")
    (batch,) = processors(with_endpoint)
    inner = getattr(batch, "_batch_processor", batch)
    assert isinstance(inner._exporter, OTLPSpanExporter)  # noqa: SLF001
    with_endpoint.shutdown()


def test_concurrent_reads_survive_swaps(warehouse: Path, client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def hammer(n: int) -> list[int]:
        return [client.get(f"/v1/mines?limit=1&offset={n * 100 + i}").status_code for i in range(15)]

    def rename(wh) -> None:
        wh.con.execute("update gold.dim_mine set owners = 'new owner'")

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(hammer, n) for n in range(6)]
        replace_warehouse(warehouse, rename)
        replace_warehouse(warehouse, rename)
        codes = [c for f in futures for c in f.result()]
    assert set(codes) == {200} and len(codes) == 90
    assert client.get("/v1/mines/M1").json()["identity"]["owners"] == "new owner"
