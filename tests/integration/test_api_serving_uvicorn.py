"""The prediction service in a real uvicorn process over the session's real-data build (read-only).

Three servers: the server-profile cache (real Redis on 127.0.0.1:6379), Redis down (an unused port:
served without a cache, no 5xx, the outage logged once per cache client), and the warehouse
unreachable (PostgreSQL URL to an unused port: 503 on warehouse routes and predictions, /ready says why,
the model registry still answers).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import pytest
import redis
from tests.servers import free_port, stop, wait_for

from fvi.cache import RedisCache

pytestmark = [pytest.mark.integration]
REDIS_DB = 5
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
NAMESPACES = ("fvi-pred", "fvi-api")
START_TIMEOUT = 180.0


@contextmanager
def server(home: Path, log: Path, **env: str) -> Iterator[httpx.Client]:
    """``uvicorn fvi.api.app:create_app --factory`` (1 worker, no access log) until the block ends."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    full.update(
        FVI_HOME=str(home),
        FVI_API_RATE_PER_MINUTE="100000",
        FVI_API_KEY_RATE_PER_MINUTE="100000",
        FVI_API_RATE_BURST="100000",
        FVI_API_WARM_WHATIF="false",
        **env,
    )
    cmd = [sys.executable, "-m", "uvicorn", "fvi.api.app:create_app", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1", "--no-access-log"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=full, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", proc, log, START_TIMEOUT)
        with httpx.Client(base_url=base, timeout=30.0) as client:
            yield client
    finally:
        stop(proc)


def latest_predictions(home: Path) -> dict[str, tuple[str, str, float, float]]:
    """One entity per type with its stored (id, horizon, p, p_raw) from gold.fvi_predictions."""
    con = duckdb.connect(str(home / "warehouse" / "fvi.duckdb"), read_only=True)
    try:
        out = {}
        for entity_type, horizon, model in (
            ("mine", "H5", "fvi_mine_h5"),
            ("us_mine", "H10", "fvi_mine_hazard"),
            ("country", "H20", "fvi_country_h20"),
        ):
            row = con.execute(
                "select p.entity_id, p.horizon, p.p, p.p_raw from gold.fvi_predictions p where p.entity_type = ? "
                "and p.horizon = ? and p.model_name = ? and p.as_of_year = (select max(as_of_year) from "
                "gold.fvi_predictions q where q.entity_type = p.entity_type and q.entity_id = p.entity_id) "
                "order by p.entity_id limit 1",
                [entity_type, horizon, model],
            ).fetchone()
            assert row is not None, (entity_type, model)
            out[entity_type] = (str(row[0]), str(row[1]), float(row[2]), float(row[3]))
        return out
    finally:
        con.close()


@pytest.fixture()
def clean_redis() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis must run on 127.0.0.1:6379 for the server profile tests: {exc}")
    for ns in NAMESPACES:
        RedisCache(REDIS_URL, ns).clear()
    yield REDIS_URL
    for ns in NAMESPACES:
        RedisCache(REDIS_URL, ns).clear()


def test_predictions_served_and_cached_in_redis(shared_settings, clean_redis: str, tmp_path: Path) -> None:
    home = shared_settings.home_abs
    expected = latest_predictions(home)
    with server(home, tmp_path / "server.log", FVI_CACHE_URL=clean_redis) as c:
        ready = c.get("/ready").json()
        assert ready["ready"], ready
        assert ready["checks"]["cache"]["detail"] == "redis" and "fvi_mine_h5" in ready["checks"]["model"]["detail"]
        for entity_type, (entity_id, horizon, p, p_raw) in expected.items():
            body = {"entity_type": entity_type, "entity_id": entity_id, "horizon": horizon, "variant": "champion"}
            first = c.post("/v1/predict", json=body)
            assert first.status_code == 200, first.text
            got = first.json()
            assert got["p"] == pytest.approx(p, abs=1e-6) and got["p_raw"] == pytest.approx(p_raw, abs=1e-6)
            assert got["cached"] is False
            again = c.post("/v1/predict", json=body).json()
            assert again["cached"] is True and again["p"] == got["p"]
        keys = list(redis.Redis.from_url(clean_redis).scan_iter(match="fvi-pred:*", count=1000))
        assert len(keys) >= len(expected)
        metrics = c.get("/metrics").text
        assert 'fvi_prediction_cache_hits{backend="redis"} 3.0' in metrics
        assert 'variant="champion"' in metrics

        mine_id = expected["mine"][0]
        e = c.get(f"/v1/explain/mine/{mine_id}", params={"horizon": "H5"}).json()
        assert e["source"] == "precomputed" and e["top_drivers"] and e["features"][0]["name"]
        models = c.get("/v1/models").json()
        assert {m["name"] for m in models["models"]} >= {"fvi_mine_h5", "fvi_mine_hazard", "fvi_country_h5"}
        batch = {"items": [{"entity_type": "mine", "entity_id": mine_id, "horizon": h} for h in ("H5", "H10", "H20")]}
        r = c.post("/v1/predict/batch", json=batch)
        assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == [200, 200, 200]


def test_redis_down_serves_without_a_cache(shared_settings, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    dead = f"redis://127.0.0.1:{free_port()}/0"
    mine = latest_predictions(shared_settings.home_abs)["mine"]
    body = {"entity_type": "mine", "entity_id": mine[0], "horizon": "H5", "variant": "champion"}
    with server(shared_settings.home_abs, log, FVI_CACHE_URL=dead) as c:
        statuses, cached = [], []
        for _ in range(20):
            r = c.post("/v1/predict", json=body)
            statuses.append(r.status_code)
            cached.append(r.json().get("cached"))
        assert set(statuses) == {200} and not any(cached)
        assert r.json()["p"] == pytest.approx(mine[2], abs=1e-6)
        ready = c.get("/ready")
        assert ready.status_code == 200 and "degraded" in ready.json()["checks"]["cache"]["detail"]
        assert c.get("/v1/mines", params={"limit": 2}).status_code == 200
        logged = log.read_text().count("unavailable (")
        time.sleep(1.2)  # past the first back-off: the client tries Redis again
        for _ in range(10):
            assert c.post("/v1/predict", json=body).status_code == 200
        text = log.read_text()
    assert 1 <= logged <= len(NAMESPACES)  # once per cache client (responses, predictions)
    assert text.count("unavailable (") == logged  # not again on every request
    assert "Traceback" not in text


def test_warehouse_unreachable(shared_settings, tmp_path: Path) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/fvi"
    with server(shared_settings.home_abs, tmp_path / "server.log", FVI_WAREHOUSE_URL=dead) as c:
        ready = c.get("/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert not checks["warehouse"]["ok"] and "PostgreSQL" in checks["warehouse"]["detail"]
        assert not checks["model"]["ok"] and "warehouse unavailable" in checks["model"]["detail"]
        assert "127.0.0.1" not in checks["model"]["detail"]  # the reason, without host or port
        r = c.post("/v1/predict", json={"entity_type": "country", "entity_id": "ZAF", "horizon": "H5"})
        assert r.status_code == 503 and "warehouse unavailable" in r.json()["detail"] and r.headers["retry-after"]
        assert c.get("/v1/mines").status_code == 503
        assert c.get("/v1/explain/country/ZAF").status_code == 503
        models = c.get("/v1/models")
        assert models.status_code == 200 and models.json()["status"]["rows_error"].startswith("warehouse unavailable")
