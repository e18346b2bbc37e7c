"""The API in the server profile: the tiny gold tables in PostgreSQL and the response cache in Redis.

Needs the PostgreSQL and Redis that run on the development and CI machines (127.0.0.1, standard ports).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from tests.integration.helpers import PG_ADMIN, env, scratch_database
from tests.unit.api.tiny_warehouse import RUN, fill

from fvi.api.app import create_app
from fvi.cache import RedisCache
from fvi.settings import ApiSettings, Settings
from fvi.warehouse import PostgresWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture()
def pg(tmp_path) -> Iterator[tuple[Settings, str]]:
    with scratch_database() as url, env(FVI_HOME=str(tmp_path / "home"), FVI_WAREHOUSE_URL=url) as settings:
        with PostgresWarehouse(url) as wh:
            fill(wh)
        yield settings, url


@pytest.fixture()
def namespace() -> Iterator[str]:
    ns = f"fvi-api-test-{secrets.token_hex(4)}"
    yield ns
    RedisCache(REDIS, ns).clear()


def client(settings: Settings, cache: Any, **api: Any) -> TestClient:
    fast = {"warm_whatif": False, "rate_per_minute": 10_000, "key_rate_per_minute": 10_000, "rate_burst": 10_000}
    app = create_app(settings, api_settings=ApiSettings(**{**fast, **api}), cache=cache)
    return TestClient(app, raise_server_exceptions=False)


def test_routes_on_postgres_with_a_redis_cache(pg, namespace) -> None:
    settings, _ = pg
    with client(settings, RedisCache(REDIS, namespace)) as c:
        ready = c.get("/ready").json()
        assert ready["ready"] and ready["checks"]["cache"]["detail"] == "redis"
        assert ready["checks"]["warehouse"]["detail"] == f"build postgres:{RUN}"
        assert [i["id"] for i in c.get("/v1/mines").json()["items"]] == ["M3", "M1", "M4", "M2"]
        assert [i["id"] for i in c.get("/v1/mines?q=coal").json()["items"]] == ["M3", "M1"]  # M3: Kaltim Prima Coal
        assert [i["id"] for i in c.get("/v1/mines?sort=-capacity").json()["items"]] == ["M3", "M1", "M2", "M4"]
        p = c.get("/v1/mines/M1").json()
        assert p["scores"]["H10"]["analyst"]["fvi"] == 60.0 and p["provenance"]["run_id"] == RUN
        assert p["data_quality"]["counts"] == {"carry_forward": 1, "excluded": 1, "observed": 1}
        assert c.get("/v1/mines/MSHA42").json()["related"]["gem_mine"] == "/v1/mines/M3"
        assert c.get("/v1/countries/ZAF").json()["scores"]["H5"]["investor"]["fvi"] == 46.5
        ranked = c.get("/v1/rankings?country=ZAF").json()["items"]
        assert [(i["id"], i["rank_in_country"]) for i in ranked] == [("M1", 1), ("M2", 2)]
        assert c.get("/v1/data-quality?sort=null_rate").json()["items"][0]["metric_id"] == "mine_workforce_size"
        assert c.get("/v1/runs").json()["total"] == 2
        assert c.get("/v1/mines/M999").status_code == 404


def test_workers_share_the_redis_cache(pg, namespace) -> None:
    settings, _ = pg
    with client(settings, RedisCache(REDIS, namespace)) as a, client(settings, RedisCache(REDIS, namespace)) as b:
        assert a.get("/v1/mines/M1").status_code == 200
        assert b.get("/v1/mines/M1").status_code == 200
        assert b.app.state.fvi.cache.stats().hits >= 1


def test_lost_postgres_connection_is_503_then_recovers(pg, namespace) -> None:
    settings, url = pg
    dbname = url.rsplit("/", 1)[1]
    with client(settings, RedisCache(REDIS, namespace), version_check_seconds=3600) as c:
        assert c.get("/v1/mines?offset=0").status_code == 200
        with psycopg.connect(**PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                [dbname],
            )
        r = c.get("/v1/mines?offset=1")  # not cached: must reach PostgreSQL
        assert r.status_code == 503 and r.json()["detail"] == "warehouse unavailable: PostgreSQL connection lost"
        assert "127.0.0.1" not in r.text
        assert c.get("/v1/mines?offset=2").status_code == 200


def test_postgres_down_is_503_without_host_details(tmp_path) -> None:
    with env(FVI_HOME=str(tmp_path / "home"), FVI_WAREHOUSE_URL="postgresql://postgres@127.0.0.1:1/nowhere") as s:
        with client(s, None) as c:
            r = c.get("/v1/mines")
            assert r.status_code == 503 and r.json()["detail"] == "warehouse unavailable: PostgreSQL unreachable"
            ready = c.get("/ready")
            assert ready.status_code == 503 and "warehouse" in ready.json()["detail"]


def test_redis_down_degrades_to_no_cache(pg) -> None:
    settings, _ = pg
    with client(settings, RedisCache("redis://127.0.0.1:1/0", "fvi-api-down")) as c:
        assert c.get("/v1/mines/M1").status_code == 200
        assert c.get("/v1/mines/M1").status_code == 200
        ready = c.get("/ready")
        assert ready.status_code == 200 and "degraded" in ready.json()["checks"]["cache"]["detail"]
