"""The lean request path: the entity store answers as SQL does, the access log is sampled and off-thread,
tracing and request metrics can be switched off, and cached pages come back byte for byte."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.api.tiny_warehouse import replace_warehouse

from fvi.api import entity_store, profiles, queries
from fvi.api.db import LiveWarehouse
from fvi.obs.access_log import AccessLog
from fvi.settings import Settings

ENTITIES = [("mine", "M1"), ("mine", "M2"), ("mine", "M4"), ("us_mine", "MSHA42"), ("country", "ZAF"),
            ("country", "AUS"), ("mine", "NOPE")]  # fmt: skip


def _profile(r, entity_type: str, entity_id: str, **kw) -> object:
    try:
        return profiles.entity_profile(
            r, entity_type, entity_id, as_of_year=kw.get("as_of_year"), horizon=None, persona=None, registry_hash="h"
        )
    except Exception as exc:  # noqa: BLE001 - the same NotFound either way is part of the comparison
        return f"{type(exc).__name__}: {exc}"


def _both(r, store, fn):
    """``fn()`` read from SQL, then from the store."""
    r.remember(entity_store.MEMO_KEY, "off")
    sql = fn()
    r.remember(entity_store.MEMO_KEY, store)
    return sql, fn()


def test_the_entity_store_answers_profiles_and_lists_as_the_sql_does(warehouse: Path, settings: Settings) -> None:
    live = LiveWarehouse(settings)
    try:
        with live.reader() as r:
            store = entity_store.load(r)
            assert store.latest[("mine", "M1")] == 2024 and store.years[("mine", "M1")]
            for entity_type, entity_id in ENTITIES:
                sql, fast = _both(r, store, lambda: _profile(r, entity_type, entity_id))  # noqa: B023
                assert json.dumps(sql, sort_keys=True, default=str) == json.dumps(fast, sort_keys=True, default=str)
            year = queries.latest_years(r)["mine"]
            for sort in ("rank", "-fvi", "name", "-capacity"):
                for extra in ({}, {"country": "ZAF"}, {"status": "OPERATING"}):
                    kw = {"entity_type": "mine", "horizon": "H10", "persona": "analyst", "as_of_year": year,
                          "order": queries.order_by(sort, ("rank", "fvi", "name", "capacity")), "limit": 2,
                          "offset": 1, **extra}  # fmt: skip
                    sql, fast = _both(r, store, lambda: queries.list_scores(r, **kw))  # noqa: B023
                    assert sql == fast, kw
            # the store answers only what it holds: a page it would get wrong goes to SQL (None)
            assert store.list_scores(entity_type="mine", horizon="H10", persona="balanced", as_of_year=year,
                                     columns=queries.SUMMARY_COLUMNS, extra=(), country=None, status=None,
                                     order="s.rank asc, s.entity_id asc", limit=5, offset=0) is None  # fmt: skip
    finally:
        live.close()


def test_an_older_year_is_read_from_the_warehouse(warehouse: Path, settings: Settings) -> None:
    live = LiveWarehouse(settings)
    try:
        with live.reader() as r:
            store = entity_store.load(r)
            years = store.years[("mine", "M1")]
            assert len(years) > 1, "the tiny warehouse scores M1 in several years"
            assert not store.holds("mine", "M1", years[0]) and store.holds("mine", "M1", None)
            sql, fast = _both(r, store, lambda: _profile(r, "mine", "M1", as_of_year=years[0]))
            assert sql == fast and fast["as_of_year"] == years[0]  # type: ignore[index]
    finally:
        live.close()


def _wait_for_store(client: TestClient) -> entity_store.EntityStore:
    state = client.app.state.fvi  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with state.warehouse.reader() as r:
            found = r.memo(entity_store.MEMO_KEY)
            if isinstance(found, entity_store.EntityStore) and found.version == r.version:
                return found
        time.sleep(0.05)
    pytest.fail("the entity store was not loaded in 30 s")


def test_the_store_loads_in_the_background_and_follows_a_swap(warehouse: Path, client: TestClient) -> None:
    first = client.get("/v1/mines/M1")  # answered from SQL; starts the load
    assert first.status_code == 200
    store = _wait_for_store(client)
    again = client.get("/v1/mines/M1?horizon=H5")  # not cached: from the store
    assert again.status_code == 200 and again.json()["scores"].keys() == {"H5"}

    def rename(wh) -> None:
        wh.con.execute("update gold.dim_mine set mine_name = 'Renamed' where gem_mine_id = 'M2'")

    replace_warehouse(warehouse, rename)
    assert client.get("/v1/mines/M2").json()["name"] == "Renamed"  # the new build, whatever the store's state
    newer = _wait_for_store(client)
    assert newer is not store and newer.version != store.version
    assert newer.identity("mine", "M2")["mine_name"] == "Renamed"  # type: ignore[index]


def test_a_cached_page_is_the_same_bytes(client: TestClient) -> None:
    for url in ("/v1/mines/M1", "/v1/countries/ZAF", "/v1/mines?limit=2", "/v1/rankings?entity_type=country"):
        a, b = client.get(url), client.get(url)
        assert a.status_code == b.status_code == 200 and a.content == b.content, url
        assert a.headers["content-type"] == b.headers["content-type"] == "application/json"


def test_the_access_log_is_sampled_and_written_by_another_thread() -> None:
    seen: list[tuple[str, dict]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((threading.current_thread().name, json.loads(self.format(record))))

    log = AccessLog(sample=0.25, slow_ms=100, handler=Capture())
    log.start()
    try:
        for i in range(8):
            log.record("GET", "/v1/mines/{mine_id}", f"/v1/mines/M{i}", 200, 0.001, f"t{i}", ("10.0.0.1", 5))
        log.record("GET", "/v1/mines", "/v1/mines", 503, 0.001, "err", None)
        log.record("GET", "/v1/mines", "/v1/mines", 200, 0.2, "slow", None)
    finally:
        log.stop()  # flushes the queue
    lines = [fields for _thread, fields in seen]
    assert [x["trace_id"] for x in lines] == ["t3", "t7", "err", "slow"]  # 1 in 4 ordinary requests, then all others
    assert lines[0]["sample_every"] == 4 and lines[0]["route"] == "/v1/mines/{mine_id}" and lines[0]["status"] == 200
    assert "sample_every" not in lines[2] and lines[3]["ms"] == 200.0
    assert {thread for thread, _ in seen} != {threading.current_thread().name}  # formatted and written elsewhere


def test_no_access_log_line_when_sampling_is_off() -> None:
    seen: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    log = AccessLog(sample=0, slow_ms=1000, handler=Capture())
    log.start()
    try:
        for _ in range(50):
            log.record("POST", "/v1/predict", "/v1/predict", 200, 0.0005, "t", None)
    finally:
        log.stop()
    assert seen == []


def test_tracing_and_request_metrics_can_be_switched_off(warehouse: Path, make_client) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from fvi.obs.telemetry import setup_tracing

    exporter = InMemorySpanExporter()
    setup_tracing().add_span_processor(SimpleSpanProcessor(exporter))
    try:
        on = make_client()
        r = on.get("/v1/countries/AUS")
        server = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(r.headers["x-trace-id"], 16)]
        assert any(s.name == "GET /v1/countries/{iso3}" and s.attributes["http.route"] == "/v1/countries/{iso3}"
                   and s.attributes["http.response.status_code"] == 200 for s in server)  # fmt: skip
        assert 'route="/v1/countries/{iso3}"' in on.get("/metrics").text
        exporter.clear()
        off = make_client(tracing=False, metrics=False)
        r = off.get("/v1/countries/AUS")
        assert r.status_code == 200 and len(r.headers["x-trace-id"]) == 32  # still a trace id to quote
        assert not [s for s in exporter.get_finished_spans() if s.name.startswith("GET /v1/countries")]
        assert 'route="/v1/countries/{iso3}"' not in off.get("/metrics").text
    finally:
        exporter.shutdown()
