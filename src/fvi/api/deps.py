"""Dependencies every router shares: app state, a per-request warehouse reader, paging, caching.

Routers take ``StateDep`` and ``ReaderDep`` (the cache and the metrics through the state) and guard
writes with ``Depends(require_key("write"))`` from :mod:`fvi.api.security`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from fvi.api.db import Reader
from fvi.api.errors import InvalidField
from fvi.api.fast_json import FastJSON, model_json
from fvi.api.security import rate_limit
from fvi.api.state import AppState
from fvi.cache import cache_key
from fvi.obs.telemetry import span
from fvi.registry.vocabulary import DEFAULT_PERSONA, HorizonLabel
from fvi.warehouse import WarehouseUnavailable

MAX_LIMIT = 500
Horizon = HorizonLabel


def get_state(request: Request) -> AppState:
    return request.app.state.fvi


StateDep = Annotated[AppState, Depends(get_state)]


def get_reader(state: StateDep) -> Iterator[Reader]:
    """A reader on the live build for this request (503 when the warehouse is down or not built)."""
    with state.warehouse.reader() as reader:
        yield reader


def get_optional_reader(state: StateDep) -> Iterator[Reader | None]:
    """Like ``get_reader`` but None when the warehouse is unavailable (for registry-first routes)."""
    with ExitStack() as stack:
        try:
            reader: Reader | None = stack.enter_context(state.warehouse.reader())
        except WarehouseUnavailable:
            reader = None
        yield reader


ReaderDep = Annotated[Reader, Depends(get_reader)]
OptionalReaderDep = Annotated[Reader | None, Depends(get_optional_reader)]



@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    @property
    def meta(self) -> dict[str, int]:
        return {"limit": self.limit, "offset": self.offset}

    def empty(self, note: str) -> dict[str, Any]:
        """An empty page that says why."""
        return {"items": [], "total": 0, **self.meta, "note": note}

    def slice(self, items: list[Any], note: str | None = None) -> dict[str, Any]:
        """A page of an in-memory list (registry-backed routes)."""
        return {"items": items[self.offset : self.offset + self.limit], "total": len(items), **self.meta, "note": note}


def pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(pagination)]


def check_persona(persona: str) -> str:
    from fvi.scoring.config import load_learnt_personas, load_personas

    known = [*load_personas(), *load_learnt_personas()]
    if persona not in known:
        raise InvalidField("query.persona", f"unknown persona {persona!r}; known: {known}")
    return persona


def persona_query(
    persona: Annotated[str, Query(description="Persona preset (see /v1/personas).", max_length=64)] = DEFAULT_PERSONA,
) -> str:
    return check_persona(persona)


PersonaDep = Annotated[str, Depends(persona_query)]


def cached(
    state: AppState, reader: Reader, parts: tuple[Any, ...], compute: Callable[[], Any], model: Any = None
) -> Any:
    """``compute()`` through the shared cache, keyed by the build version so a swap invalidates it.

    With ``model`` (the route's ``response_model``) the answer is validated and written to JSON once,
    when computed, and the cache keeps those bytes: a hit is answered as they are (:class:`FastJSON`),
    without validating and encoding the same page again (a mine profile: ~1-3 ms of CPU per hit).
    """
    key = "resp:" + cache_key(reader.version, *parts)
    with span("cache.get"):
        hit = state.cache.get(key)
    if hit is not None:
        return FastJSON(hit) if isinstance(hit, bytes) else hit
    value = compute()
    stored = value if model is None else model_json(model, value)
    with span("cache.set"):
        state.cache.set(key, stored)
    return value if model is None else FastJSON(stored)


RateLimited = Depends(rate_limit("default"))
ComputeRateLimited = Depends(rate_limit("compute"))
