"""The nightly schedule follows FVI_SCHEDULE_CRON; the sensor starts a run when a file's ETag/Last-Modified changes."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from fvi.orchestration.triggers import nightly_schedule, registry_urls, source_change_sensor
from fvi.settings import get_settings


@pytest.fixture()
def publisher() -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A local server answering HEAD with the headers in ``files`` (404 for unknown paths)."""
    files: dict[str, dict[str, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802
            headers = files.get(self.path)
            self.send_response(200 if headers is not None else 404)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


def job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job("fvi_pipeline")


def test_schedule_is_nightly_at_two_utc_by_default(fvi_home) -> None:
    schedule = nightly_schedule(job(), get_settings())
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    when = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    assert len(data.run_requests) == 1 and data.run_requests[0].tags["fvi/trigger"] == "schedule"


def test_schedule_follows_the_setting(fvi_home, monkeypatch) -> None:
    monkeypatch.setenv("FVI_SCHEDULE_CRON", "30 3 * * 1-5")
    get_settings.cache_clear()
    assert nightly_schedule(job(), get_settings()).cron_schedule == "30 3 * * 1-5"


def evaluate(sensor: dg.SensorDefinition, cursor: str | None) -> dg.SensorResult:
    result = sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    return result


def test_sensor_runs_when_a_source_changes(fvi_home, publisher) -> None:
    base, files = publisher
    files["/a.csv"] = {"ETag": '"v1"'}
    files["/b.xlsx"] = {"Last-Modified": "Mon, 02 Mar 2026 10:00:00 GMT"}
    urls = [f"{base}/a.csv", f"{base}/b.xlsx"]
    sensor = source_change_sensor(job(), get_settings(), urls=lambda: urls)
    assert sensor.minimum_interval_seconds == 3600

    first = evaluate(sensor, None)  # the first look records the versions and starts nothing
    assert not first.run_requests and "recorded" in first.skip_reason.skip_message
    cursor = json.loads(first.cursor)
    assert cursor == {urls[0]: '"v1"|', urls[1]: "|Mon, 02 Mar 2026 10:00:00 GMT"}

    same = evaluate(sensor, first.cursor)
    assert not same.run_requests and "no source changed" in same.skip_reason.skip_message

    files["/b.xlsx"] = {"Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"}
    changed = evaluate(sensor, same.cursor)
    assert len(changed.run_requests) == 1
    request = changed.run_requests[0]
    assert request.tags["fvi/changed"] == urls[1] and request.tags["fvi/trigger"] == "source-change"
    again = evaluate(sensor, changed.cursor)  # the new version is now the known one
    assert not again.run_requests


def test_an_unreachable_source_keeps_its_version(fvi_home, publisher) -> None:
    base, files = publisher
    files["/a.csv"] = {"ETag": '"v1"'}
    url = f"{base}/a.csv"
    sensor = source_change_sensor(job(), get_settings(), urls=lambda: [url])
    first = evaluate(sensor, None)
    del files["/a.csv"]  # 404 now: not a change
    gone = evaluate(sensor, first.cursor)
    assert not gone.run_requests and "1 unreachable" in gone.skip_reason.skip_message
    assert json.loads(gone.cursor) == json.loads(first.cursor)


def test_sensor_is_silent_offline(fvi_home, monkeypatch) -> None:
    monkeypatch.setenv("FVI_OFFLINE", "true")
    get_settings.cache_clear()
    sensor = source_change_sensor(job(), get_settings(), urls=lambda: ["http://127.0.0.1:9/never"])
    result = sensor(dg.build_sensor_context())
    assert isinstance(result, dg.SkipReason) and "FVI_OFFLINE" in result.skip_message


def test_the_sensor_watches_every_registry_file() -> None:
    from fvi.registry import load_sources

    urls = registry_urls()
    assert len(urls) >= len(load_sources()) and all(u.startswith("http") for u in urls)
