"""The in-process cache and the cache key; Redis is covered by tests/integration/test_cache_redis.py."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from fvi.cache import Cache, MemoryCache, RedisCache, cache_key, make_cache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_get_set_delete_and_default() -> None:
    c = MemoryCache()
    assert c.get("a") is None
    assert c.get("a", "dflt") == "dflt"
    c.set("a", {"x": [1, 2.5]})
    assert c.get("a") == {"x": [1, 2.5]}
    assert c.delete("a") is True
    assert c.delete("a") is False
    assert c.get("a") is None


def test_falsy_values_are_hits() -> None:
    c = MemoryCache()
    for i, v in enumerate([0, "", [], False, None]):
        c.set(f"k{i}", v)
        assert c.get(f"k{i}", "miss") == v
    assert c.stats().hits == 5 and c.stats().misses == 0


def test_ttl_expiry_with_injected_clock() -> None:
    clock = FakeClock()
    c = MemoryCache(clock=clock, default_ttl=60)
    c.set("short", 1, ttl=10)
    c.set("default", 2)
    c.set("forever_not", 3, ttl=1000)
    clock.now += 9.999
    assert c.get("short") == 1
    clock.now += 0.001  # exactly at expiry: gone
    assert c.get("short") is None
    assert c.get("default") == 2
    clock.now += 50.0
    assert c.get("default") is None
    assert c.get("forever_not") == 3
    assert len(c) == 1  # expired entries are dropped when seen


def test_no_ttl_never_expires() -> None:
    clock = FakeClock()
    c = MemoryCache(clock=clock)
    c.set("k", "v")
    clock.now += 1e9
    assert c.get("k") == "v"


@pytest.mark.parametrize("ttl", [0, -1.0])
def test_non_positive_ttl_rejected(ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        MemoryCache().set("k", 1, ttl=ttl)


def test_lru_bound_evicts_least_recently_used() -> None:
    c = MemoryCache(max_entries=3)
    for k in "abc":
        c.set(k, k)
    assert c.get("a") == "a"  # a is now most recent; b is the oldest
    c.set("d", "d")
    assert len(c) == 3
    assert c.get("b") is None
    assert [c.get(k) for k in "acd"] == ["a", "c", "d"]
    c.set("c", "c2")  # overwrite refreshes recency, no eviction
    c.set("e", "e")
    assert c.get("a") is None and c.get("c") == "c2"
    s = c.stats()
    assert s.evictions == 2 and s.size == 3


def test_stats_hits_misses_rate() -> None:
    c = MemoryCache(namespace="ns")
    assert c.stats().hit_rate == 0.0
    c.set("k", 1)
    c.get("k")
    c.get("k")
    c.get("k")
    c.get("nope")
    s = c.stats()
    assert (s.backend, s.namespace, s.hits, s.misses, s.errors, s.sets) == ("memory", "ns", 3, 1, 0, 1)
    assert s.hit_rate == pytest.approx(0.75)
    assert s.as_dict()["hit_rate"] == pytest.approx(0.75)


def test_clear_by_prefix() -> None:
    c = MemoryCache()
    for k in ["pred:1", "pred:2", "weights:H5", "pre"]:
        c.set(k, 1)
    assert c.clear("pred:") == 2
    assert c.get("weights:H5") == 1 and c.get("pre") == 1
    assert c.clear() == 2
    assert len(c) == 0


def test_thread_safety_under_contention() -> None:
    c = MemoryCache(max_entries=50)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(5000):
                k = f"k{(i * seed) % 97}"
                if i % 3:
                    c.get(k)
                else:
                    c.set(k, i)
        except BaseException as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (1, 3, 7, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = c.stats()
    assert len(c) <= 50
    assert s.hits + s.misses == 4 * sum(1 for i in range(5000) if i % 3)


def test_make_cache_picks_backend() -> None:
    mem = make_cache(None, "fvi")
    assert isinstance(mem, MemoryCache) and isinstance(mem, Cache)
    red = make_cache("redis://127.0.0.1:1/0", "fvi")  # constructing never connects
    assert isinstance(red, RedisCache) and red.namespace == "fvi"
    red.close()


def test_cache_key_canonical() -> None:
    k = cache_key("model", "H5", {"b": 1, "a": [0.1, 2]})
    assert len(k) == 64 and int(k, 16) >= 0
    assert k == cache_key("model", "H5", {"a": [0.1, 2], "b": 1})  # key order irrelevant
    assert k != cache_key("model", "H10", {"a": [0.1, 2], "b": 1})
    assert cache_key(0.1) == cache_key(np.float64(0.1))
    assert cache_key([0.5, 1.25]) == cache_key(np.array([0.5, 1.25])) == cache_key((0.5, 1.25))
    assert cache_key(-0.0) == cache_key(0.0)
    assert cache_key(float("nan")) == cache_key(np.nan)
    assert cache_key(float("inf")) != cache_key(float("-inf"))
    assert cache_key(1) != cache_key(1.0)  # type is part of the value
    assert cache_key(0.1 + 0.2) != cache_key(0.3)  # no rounding: distinct floats stay distinct
    assert cache_key(np.int64(7)) == cache_key(7)
    assert cache_key("a", "b") != cache_key("ab") != cache_key(["a", "b"], None)


def test_cache_key_is_stable_across_runs() -> None:
    # sha256(b'["fvi",1,0.1,null,true]'): a changed canonical form would orphan every shared cache
    assert cache_key("fvi", 1, 0.1, None, True) == "97248670934f03df3966b97052b897b4b28236ebc48c68b43d1156be79e60274"


def test_cache_key_rejects_unknown_types() -> None:
    with pytest.raises(TypeError):
        cache_key(object())
