"""RedisCache against the real local Redis (127.0.0.1:6379), and against no Redis at all."""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Iterator

import pytest
import redis

from fvi.cache import RedisCache, make_cache

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def server() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis must run on 127.0.0.1:6379 for the server profile tests: {exc}")
    return client


@pytest.fixture()
def cache(server: redis.Redis) -> Iterator[RedisCache]:
    ns = f"fvi_test_{secrets.token_hex(6)}"
    c = RedisCache(REDIS_URL, ns)
    try:
        yield c
    finally:
        c.close()
        leftover = list(server.scan_iter(match=f"{ns}:*"))
        if leftover:
            server.delete(*leftover)


def test_round_trip_json_and_bytes(cache: RedisCache, server: redis.Redis) -> None:
    value = {"weights": {"H5": {"01": 0.1, "02": 0.30000000000000004}}, "n": 3, "ok": True, "none": None}
    cache.set("w", value)
    assert cache.get("w") == value  # floats survive exactly (JSON uses repr)
    cache.set("blob", b"\x00\x01onnx")
    assert cache.get("blob") == b"\x00\x01onnx"
    assert cache.get("absent", "dflt") == "dflt"
    raw = server.get(f"{cache.namespace}:w")
    assert raw is not None and raw.startswith(b"j{")  # namespaced, JSON with a type tag, no pickle
    s = cache.stats()
    assert (s.backend, s.hits, s.misses, s.errors, s.sets) == ("redis", 2, 1, 0, 2)
    assert s.hit_rate == pytest.approx(2 / 3)


def test_ttl_is_set_on_the_server(cache: RedisCache, server: redis.Redis) -> None:
    cache.set("t", 1, ttl=0.2)
    cache.set("keep", 1)
    pttl = server.pttl(f"{cache.namespace}:t")
    assert 0 < pttl <= 200
    assert server.ttl(f"{cache.namespace}:keep") == -1
    time.sleep(0.3)
    assert cache.get("t") is None
    assert cache.get("keep") == 1


def test_delete_and_clear_by_prefix(cache: RedisCache, server: redis.Redis) -> None:
    other = RedisCache(REDIS_URL, cache.namespace + "_other")
    try:
        for k in ["pred:1", "pred:2", "pred*3", "weights:H5"]:
            cache.set(k, 1)
        other.set("pred:1", 1)
        assert cache.delete("pred:1") is True
        assert cache.delete("pred:1") is False
        assert cache.clear("pred*") == 1  # glob characters in the prefix are literal
        assert cache.clear("pred:") == 1
        assert cache.get("weights:H5") == 1
        assert other.get("pred:1") == 1  # another namespace is untouched
        assert cache.clear() == 1
        assert list(server.scan_iter(match=f"{cache.namespace}:*")) == []
    finally:
        other.clear()
        other.close()


def test_make_cache_with_url_is_redis(server: redis.Redis) -> None:
    ns = f"fvi_test_{secrets.token_hex(6)}"
    c = make_cache(REDIS_URL, ns)
    try:
        assert isinstance(c, RedisCache)
        c.set("k", [1, 2])
        assert c.get("k") == [1, 2]
    finally:
        c.clear()
        c.close()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_redis_down_is_a_miss_logged_once_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    c = RedisCache(f"redis://127.0.0.1:{_unused_port()}/0", "fvi_down", backoff=5.0, clock=clock)
    caplog.set_level(logging.INFO, logger="fvi.cache")
    t0 = time.perf_counter()
    assert c.get("k", "dflt") == "dflt"  # the one real attempt: connection refused
    for _ in range(20):  # inside the back-off: no network at all
        assert c.get("k") is None
        c.set("k", 1)
        assert c.delete("k") is False
        assert c.clear() == 0
    elapsed = time.perf_counter() - t0
    clock.now += 5.0  # back-off over: it tries again, fails again, still says nothing new
    assert c.get("k") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    s = c.stats()
    assert s.errors == 1 + 20 * 4 + 1
    assert s.misses == 22 and s.hits == 0 and s.sets == 0
    assert elapsed < 2.0  # short timeouts and no retry storm
    c.close()


def test_redis_back_after_outage(server: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    """The same client recovers: point it at a dead port, then at the live server."""
    clock = Clock()
    ns = f"fvi_test_{secrets.token_hex(6)}"
    c = RedisCache(f"redis://127.0.0.1:{_unused_port()}/0", ns, backoff=1.0, clock=clock)
    caplog.set_level(logging.INFO, logger="fvi.cache")
    assert c.get("k") is None
    c._client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)  # the server "comes back"
    assert c.get("k") is None and c.stats().errors == 2  # still backing off: not even tried
    clock.now += 1.0
    c.set("k", 7)
    assert c.get("k") == 7
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    c.clear()
    c.close()
