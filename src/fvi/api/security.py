"""Keys on write and admin routes, per-client rate limits, CORS, and a cap on request bodies.

Reading is open (the index is public information); ``require_key(scope)`` guards what changes
state. Every ``/v1`` route is rate-limited with an in-process token bucket per API key (when a
valid one is sent) or per client IP; each worker process keeps its own buckets.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fvi.api.keys import ApiKey

Clock = Callable[[], float]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from `fvi keys create`.")
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


# ---------------------------------------------------------------------------------------------
# Rate limiting


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0
    remaining: int = 0


class TokenBucket:
    """Buckets of ``burst`` tokens refilled at ``per_minute / 60`` per second, one per client key.

    At most ``max_clients`` buckets are kept (least recently used dropped): a dropped client starts
    again with a full bucket, which errs on the side of serving.
    """

    def __init__(self, per_minute: int, burst: int, *, max_clients: int = 100_000, clock: Clock = time.monotonic):
        if per_minute < 1 or burst < 1:
            raise ValueError("per_minute and burst must be >= 1")
        self.rate = per_minute / 60.0
        self.per_minute = per_minute
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> Verdict:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= cost:
                tokens -= cost
                allowed, wait = True, 0.0
            else:
                allowed, wait = False, (cost - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return Verdict(allowed, wait, int(tokens))


class RateLimiter:
    """Named limits (``default``, ``compute``), each with one rate for anonymous clients and one for keys."""

    def __init__(self, limits: dict[str, tuple[int, int, int]], *, clock: Clock = time.monotonic) -> None:
        """``limits``: name -> (anonymous per minute, per-key per minute, burst)."""
        self._buckets = {
            name: (TokenBucket(anon, burst, clock=clock), TokenBucket(keyed, burst, clock=clock))
            for name, (anon, keyed, burst) in limits.items()
        }

    def check(self, name: str, client: str, keyed: bool, cost: float = 1.0) -> tuple[Verdict, int]:
        """Spend ``cost`` tokens; a cost above the burst is capped at it (allowed only from a full bucket)."""
        anon, per_key = self._buckets[name]
        bucket = per_key if keyed else anon
        return bucket.take(client, min(float(cost), float(bucket.burst))), bucket.per_minute


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def presented_key(request: Request) -> str | None:
    """The key sent as ``X-API-Key`` or ``Authorization: Bearer``, if any."""
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve_key(request: Request) -> ApiKey | None:
    """The verified key of this request (verified once, remembered on ``request.state``)."""
    if hasattr(request.state, "api_key"):
        return request.state.api_key
    plaintext = presented_key(request)
    key = request.app.state.fvi.keys.verify(plaintext) if plaintext else None
    request.state.api_key = key
    return key


def spend(request: Request, name: str = "default", cost: float = 1.0) -> None:
    """Spend ``cost`` tokens of limit ``name`` for this request's client, or answer 429."""
    key = resolve_key(request)
    client = f"key:{key.id}" if key else f"ip:{client_ip(request)}"
    verdict, per_minute = request.app.state.fvi.limiter.check(name, client, key is not None, cost)
    if not verdict.allowed:
        who = f"API key {key.id}" if key else f"client {client_ip(request)}"
        raise HTTPException(
            status_code=429,
            detail=f"rate limit exceeded: {per_minute} {name} requests per minute for {who}; "
            f"retry in {verdict.retry_after:.1f} s",
            headers={"Retry-After": str(max(1, math.ceil(verdict.retry_after)))},
        )


def rate_limit(name: str = "default") -> Callable[[Request], Awaitable[None]]:
    """A dependency that spends one token of limit ``name`` for this client or answers 429.

    A request that does the work of many (a batch of N predictions) spends the rest with :func:`spend`.
    """

    async def dependency(request: Request) -> None:  # async: a sync dependency costs a thread-pool hop per request
        spend(request, name)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency


# ---------------------------------------------------------------------------------------------
# Keys


def require_key(scope: str) -> Callable[..., ApiKey]:
    """A dependency: 401 without a valid key, 403 when the key lacks ``scope``."""

    def dependency(
        request: Request,
        _header: Annotated[str | None, Security(api_key_header)],
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> ApiKey:
        if presented_key(request) is None:
            raise HTTPException(
                status_code=401,
                detail="an API key is required: send it as X-API-Key (create one with `fvi keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = resolve_key(request)
        if key is None:
            raise HTTPException(
                status_code=401,
                detail="API key not recognised or revoked",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not key.allows(scope):
            raise HTTPException(status_code=403, detail=f"API key {key.id} lacks the {scope!r} scope")
        return key

    dependency.__name__ = f"require_key_{scope}"
    return dependency


# ---------------------------------------------------------------------------------------------
# Request size


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: at once from Content-Length, else while the body streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"request body too large: the limit is {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await _send_json(send, 413, {"detail": self._detail()})
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(status_code=413, detail=self._detail())
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Callable[[Message], Awaitable[None]], status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
