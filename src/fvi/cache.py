"""One cache interface, two backends: in-process (embedded default) and Redis (server profile).

The serving path calls ``get`` in front of a ~50 µs prediction, so the in-process backend keeps
``get`` to one lock, one dict lookup and (only for entries with a TTL) one clock read. Redis is an
optimisation, never a dependency: when it is unreachable every call behaves as a miss, the outage
is logged once and counted, and the client tries again after a back-off.

Values should be JSON-serialisable (dicts, lists, str, int, float, bool, None) or ``bytes`` so
both backends behave the same; Redis stores them as JSON or raw bytes, never pickle. The memory
backend returns the stored object itself (no copy): treat cached values as read-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class CacheStats:
    """Counters since the cache was created; ``errors`` counts calls Redis could not serve."""

    backend: str
    namespace: str
    hits: int
    misses: int
    errors: int
    sets: int
    evictions: int
    size: int | None

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (hits + misses), from 0 to 1; 0.0 before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain dict, ``hit_rate`` included (for JSON health and metrics output)."""
        return {**asdict(self), "hit_rate": self.hit_rate}


class Cache(ABC):
    """What callers may rely on, whichever backend ``make_cache`` picked."""

    backend: str
    namespace: str

    @abstractmethod
    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` on a miss (including expiry or an outage)."""

    @abstractmethod
    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds (None: the cache's default, which may be no expiry)."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""

    @abstractmethod
    def clear(self, prefix: str = "") -> int:
        """Remove every key starting with ``prefix`` (all keys for ""); returns how many went."""

    @abstractmethod
    def stats(self) -> CacheStats:
        """A snapshot of the counters since the cache was created."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release in memory
        """Release connections (no-op for the memory backend)."""


def _check_ttl(ttl: float | None) -> None:
    if ttl is not None and not ttl > 0:
        raise ValueError(f"ttl must be > 0 seconds or None, not {ttl!r}")


# ---------------------------------------------------------------------------------------------
# In-process


class MemoryCache(Cache):
    """Bounded LRU with per-entry TTL, safe across threads; ``clock`` is injectable for tests."""

    backend = "memory"

    def __init__(
        self,
        max_entries: int = 10_000,
        *,
        default_ttl: float | None = None,
        namespace: str = "",
        clock: Clock = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        _check_ttl(default_ttl)
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self.namespace = namespace
        self._clock = clock
        # key -> (expires_at or 0.0 for never, value); order = recency (last = most recent)
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = self._sets = self._evictions = 0

    def get(self, key: str, default: Any = None) -> Any:
        """The live value under ``key``, marked most recently used; ``default`` if absent or expired."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self._misses += 1
                return default
            expires, value = entry
            if expires and expires <= self._clock():
                del self._data[key]
                self._misses += 1
                return default
            self._data.move_to_end(key)
            self._hits += 1
            return value

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (None: the default TTL); evict the least recent past ``max_entries``."""
        _check_ttl(ttl)
        ttl = self.default_ttl if ttl is None else ttl
        expires = self._clock() + ttl if ttl is not None else 0.0
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            self._sets += 1
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
                self._evictions += 1

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there (even if already expired)."""
        with self._lock:
            return self._data.pop(key, None) is not None

    def clear(self, prefix: str = "") -> int:
        """Remove every key starting with ``prefix`` (all keys for ""); returns how many went."""
        with self._lock:
            if not prefix:
                n = len(self._data)
                self._data.clear()
                return n
            doomed = [k for k in self._data if k.startswith(prefix)]
            for k in doomed:
                del self._data[k]
            return len(doomed)

    def stats(self) -> CacheStats:
        """A snapshot of the counters; ``size`` counts stored entries, expired ones not yet purged included."""
        with self._lock:
            return CacheStats(
                backend=self.backend,
                namespace=self.namespace,
                hits=self._hits,
                misses=self._misses,
                errors=0,
                sets=self._sets,
                evictions=self._evictions,
                size=len(self._data),
            )

    def __len__(self) -> int:
        return len(self._data)


# ---------------------------------------------------------------------------------------------
# Redis

_JSON, _BYTES = b"j", b"b"  # one-byte type tag in front of every stored value


def _encode(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES + bytes(value)
    return _JSON + json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _decode(raw: bytes) -> Any:
    tag, body = raw[:1], raw[1:]
    if tag == _BYTES:
        return body
    if tag == _JSON:
        return json.loads(body)
    raise ValueError(f"unknown cache value tag {tag!r}")


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisCache(Cache):
    """Redis under ``<namespace>:`` keys; an unreachable server degrades to misses, never raises.

    Socket timeouts are short (a cache that takes longer than the computation is worse than none)
    and redis-py's own retries are off: after a failure the client stays away for ``backoff``
    seconds, doubling up to ``max_backoff`` while the outage lasts.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        default_ttl: float | None = None,
        socket_timeout: float = 0.25,
        connect_timeout: float = 0.25,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        if not namespace or ":" in namespace:
            raise ValueError(f"namespace must be non-empty and without ':', not {namespace!r}")
        _check_ttl(default_ttl)
        self.url = url
        self.namespace = namespace
        self.default_ttl = default_ttl
        self._prefix = f"{namespace}:"
        self._clock = clock
        self._backoff0 = backoff
        self._max_backoff = max_backoff
        self._backoff = backoff
        self._down_until = 0.0
        self._outage_logged = False
        self._errors_t: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._lock = threading.Lock()
        self._hits = self._misses = self._errors = self._sets = 0

    # -- failure handling ------------------------------------------------------------------------

    def _available(self) -> bool:
        if self._down_until and self._clock() < self._down_until:
            with self._lock:
                self._errors += 1
            return False
        return True

    def _failed(self, op: str, exc: BaseException) -> None:
        with self._lock:
            self._errors += 1
            self._down_until = self._clock() + self._backoff
            retry_in = self._backoff
            self._backoff = min(self._backoff * 2, self._max_backoff)
            first = not self._outage_logged
            self._outage_logged = True
        if first:
            log.warning(
                "cache: Redis %s unavailable (%s on %s: %s); serving misses, retrying in %.1fs",
                self._safe_url(),
                type(exc).__name__,
                op,
                exc,
                retry_in,
            )

    def _ok(self) -> None:
        if self._outage_logged or self._down_until:
            with self._lock:
                was_down = self._outage_logged
                self._outage_logged = False
                self._down_until = 0.0
                self._backoff = self._backoff0
            if was_down:
                log.info("cache: Redis %s reachable again", self._safe_url())

    def _safe_url(self) -> str:
        from urllib.parse import urlparse

        u = urlparse(self.url)
        return f"{u.scheme}://{u.hostname}:{u.port or 6379}{u.path}"

    # -- interface ---------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``<namespace>:key``, or ``default`` on a miss, during an outage or its back-off."""
        raw = None
        if self._available():
            try:
                raw = self._client.get(self._prefix + key)
                self._ok()
            except self._errors_t as exc:
                self._failed("get", exc)
        with self._lock:
            if raw is None:
                self._misses += 1
                return default
            self._hits += 1
        return _decode(raw)  # type: ignore[arg-type]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``<namespace>:key`` for ``ttl`` seconds (None: the default TTL).

        A value that cannot be encoded raises; an unreachable server drops the write silently.
        """
        _check_ttl(ttl)
        ttl = self.default_ttl if ttl is None else ttl
        payload = _encode(value)  # a value that cannot be stored is the caller's bug: raise
        if not self._available():
            return
        try:
            px = max(1, round(ttl * 1000)) if ttl is not None else None
            self._client.set(self._prefix + key, payload, px=px)
            self._ok()
        except self._errors_t as exc:
            self._failed("set", exc)
            return
        with self._lock:
            self._sets += 1

    def delete(self, key: str) -> bool:
        """Remove ``<namespace>:key``; True if it was there, False if not or if Redis is unreachable."""
        if not self._available():
            return False
        try:
            n = self._client.delete(self._prefix + key)
            self._ok()
            return bool(n)
        except self._errors_t as exc:
            self._failed("delete", exc)
            return False

    def clear(self, prefix: str = "") -> int:
        """Remove this namespace's keys starting with ``prefix`` (``SCAN``, ``UNLINK`` by 500); how many went."""
        if not self._available():
            return 0
        pattern = _glob_escape(self._prefix + prefix) + "*"
        removed = 0
        try:
            batch: list[bytes] = []
            for k in self._client.scan_iter(match=pattern, count=500):
                batch.append(k)
                if len(batch) >= 500:
                    removed += int(self._client.unlink(*batch))
                    batch.clear()
            if batch:
                removed += int(self._client.unlink(*batch))
            self._ok()
        except self._errors_t as exc:
            self._failed("clear", exc)
        return removed

    def stats(self) -> CacheStats:
        """A snapshot of the counters; ``size`` is None (counting keys would need a scan) and ``evictions`` 0."""
        with self._lock:
            return CacheStats(
                backend=self.backend,
                namespace=self.namespace,
                hits=self._hits,
                misses=self._misses,
                errors=self._errors,
                sets=self._sets,
                evictions=0,
                size=None,  # Redis evicts on its own policy; counting keys would need a SCAN
            )

    def close(self) -> None:
        """Close the connection pool; a failure to close is ignored."""
        try:
            self._client.close()
        except self._errors_t:
            pass


def make_cache(url: str | None, namespace: str, **options: Any) -> Cache:
    """Redis when ``url`` is set (server profile, ``FVI_CACHE_URL``), else in-process."""
    if url:
        return RedisCache(url, namespace, **options)
    return MemoryCache(namespace=namespace, **options)


# ---------------------------------------------------------------------------------------------
# Keys


def _canon(obj: Any) -> Any:
    """Plain JSON types with one spelling per value (so equal inputs hash equal)."""
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        obj = float(obj)
        if obj != obj:
            return {"$float": "nan"}
        if math.isinf(obj):
            return {"$float": "inf" if obj > 0 else "-inf"}
        return obj + 0.0  # -0.0 -> 0.0; repr of a float is its shortest round-trip spelling
    if isinstance(obj, Mapping):
        return {str(k): _canon(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        # fast path for feature vectors: plain finite floats need only the -0.0 fix
        if all(type(v) is float for v in obj) and all(map(math.isfinite, obj)):
            return [v + 0.0 for v in obj]
        return [_canon(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted((_canon(v) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, bytes):
        return {"$bytes": obj.hex()}
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return {"$decimal": str(obj)}
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return _canon(obj.tolist())
    if hasattr(obj, "isoformat"):  # pandas Timestamp
        return obj.isoformat()
    raise TypeError(f"cache_key: cannot canonicalise {type(obj).__name__}")


def cache_key(*parts: Any) -> str:
    """SHA-256 hex of the canonical JSON of ``parts`` (sorted keys, stable float spelling).

    ``1`` and ``1.0`` are different keys (the type is part of the value); ``-0.0`` equals ``0.0``;
    NaN equals NaN; numpy scalars and arrays hash like the Python values they hold.
    """
    text = json.dumps(_canon(parts), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()
