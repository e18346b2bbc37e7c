"""The chat inside the API: one engine per app, built on first use and kept on ``AppState.extras``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fvi.api.state import AppState
from fvi.rag.answer import ChatEngine
from fvi.rag.facts import WarehouseFacts
from fvi.rag.index import IndexHolder
from fvi.rag.sessions import SessionStore
from fvi.settings import Settings
from fvi.warehouse import WarehouseUnavailable

EXTRA = "chat"
_lock = threading.Lock()


@dataclass
class ChatService:
    engine: ChatEngine
    holder: IndexHolder
    sessions: SessionStore


def make_embedder(settings: Settings) -> Any:
    from fvi.rag.embed import Embedder

    cache = settings.chat.model_cache
    return Embedder(cache.expanduser().resolve() if cache else settings.home_abs / "rag" / "models")


def vector_store(settings: Settings) -> Any:
    """The dense half for these settings: pgvector in the server profile, else None (exact cosine in memory)."""
    choice = settings.chat.vector_store
    if choice == "embedded" or (choice == "auto" and not settings.is_postgres):
        return None
    if not settings.is_postgres:
        raise ValueError("FVI_CHAT_VECTOR_STORE=pgvector needs FVI_WAREHOUSE_URL=postgresql://...")
    from fvi.rag.pgvector import PgVectorSearch

    return PgVectorSearch(str(settings.warehouse_url))


def chat_service(state: AppState) -> ChatService:
    svc = state.extras.get(EXTRA)
    if svc is not None:
        return svc
    with _lock:
        svc = state.extras.get(EXTRA)
        if svc is None:
            home = state.settings.home_abs
            holder = IndexHolder(home, lambda: make_embedder(state.settings), vector_store(state.settings))

            @contextmanager
            def facts() -> Iterator[WarehouseFacts | None]:
                try:
                    cm = state.warehouse.reader()
                    reader = cm.__enter__()
                except WarehouseUnavailable:
                    yield None
                    return
                try:
                    yield WarehouseFacts(reader, state.registry_hash)
                finally:
                    cm.__exit__(None, None, None)

            svc = ChatService(ChatEngine(holder, facts, state.settings.chat), holder,
                              SessionStore(home / "rag" / "sessions.sqlite3"))
            state.extras[EXTRA] = svc
    return svc
