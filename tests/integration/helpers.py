"""Helpers for integration tests: a full pipeline run in an isolated home, a scratch PG database."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg

from fvi.settings import Settings, get_settings

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


@contextlib.contextmanager
def env(**values: str | None) -> Iterator[Settings]:
    """Set FVI_* variables for a block (module-scoped fixtures can't use monkeypatch)."""
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards; yields its URL."""
    name = f"fvi_test_{secrets.token_hex(4)}"
    with psycopg.connect(**PG_ADMIN, autocommit=True, connect_timeout=5) as con:
        con.execute(f"create database {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(**PG_ADMIN, autocommit=True, connect_timeout=5) as con:
            con.execute(f"drop database if exists {name} with (force)")


def home(tmp: Path) -> str:
    return str(tmp / "fvi_home")
