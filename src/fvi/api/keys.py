"""API keys: created once (plaintext shown once), stored only as salted SHA-256, revocable.

A key reads ``fvi_<id>.<secret>``: the id finds the row, the 256-bit random secret is what is
checked. A fast salted hash is enough for secrets that random (there is no dictionary to try);
the salt keeps equal secrets from looking equal. The store is a small SQLite file under FVI_HOME
(readable by its owner only); ``keys_app`` is the ``fvi keys`` command group.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from fvi.settings import Settings, get_settings

SCOPES = ("write", "admin")  # admin implies write; reading needs no key
PREFIX = "fvi_"

_SCHEMA = """
create table if not exists api_keys (
    id text primary key,
    name text not null,
    scopes text not null,
    salt blob not null,
    hash blob not null,
    created_at text not null,
    revoked_at text
)
"""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


class KeyStore:
    """Keys in one SQLite file; every call opens its own connection (safe from any thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5.0)) as con:
            if new:
                os.chmod(self.path, 0o600)
            con.execute(_SCHEMA)
            with con:
                yield con

    def create(self, name: str, scopes: list[str] | tuple[str, ...] = ("write",)) -> tuple[ApiKey, str]:
        """A new key and its plaintext (shown once; only the hash is kept)."""
        bad = sorted(set(scopes) - set(SCOPES))
        if bad:
            raise ValueError(f"unknown scope(s) {bad}; scopes are {list(SCOPES)}")
        if not name.strip():
            raise ValueError("a key needs a name (who or what uses it)")
        key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_bytes(16)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        scope_text = ",".join(sorted(set(scopes)))
        with self._db() as con:
            con.execute(
                "insert into api_keys (id, name, scopes, salt, hash, created_at) values (?, ?, ?, ?, ?, ?)",
                (key_id, name.strip(), scope_text, salt, _digest(salt, secret), created),
            )
        key = ApiKey(key_id, name.strip(), tuple(scope_text.split(",")), created)
        return key, f"{PREFIX}{key_id}.{secret}"

    def revoke(self, key_id: str) -> bool:
        """Mark a key revoked (kept for the audit trail); False if no active key has that id."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db() as con:
            cur = con.execute("update api_keys set revoked_at = ? where id = ? and revoked_at is null", (now, key_id))
            return cur.rowcount > 0

    def list_keys(self) -> list[ApiKey]:
        with self._db() as con:
            rows = con.execute("select id, name, scopes, created_at, revoked_at from api_keys order by created_at, id")
            return [ApiKey(r[0], r[1], tuple(r[2].split(",")), r[3], r[4]) for r in rows]

    def verify(self, plaintext: str) -> ApiKey | None:
        """The active key ``plaintext`` belongs to, or None (malformed, unknown, wrong secret, revoked)."""
        if not plaintext.startswith(PREFIX) or "." not in plaintext or len(plaintext) > 200:
            return None
        key_id, _, secret = plaintext[len(PREFIX) :].partition(".")
        if not self.path.exists():
            return None
        with self._db() as con:
            row = con.execute(
                "select id, name, scopes, salt, hash, created_at, revoked_at from api_keys where id = ?", (key_id,)
            ).fetchone()
        if row is None or not hmac.compare_digest(_digest(row[3], secret), row[4]) or row[6] is not None:
            return None
        return ApiKey(row[0], row[1], tuple(row[2].split(",")), row[5], row[6])


def verify(plaintext: str, store: KeyStore | None = None) -> ApiKey | None:
    return (store or default_store()).verify(plaintext)


def default_store(settings: Settings | None = None) -> KeyStore:
    """The store the service uses: FVI_API_KEYS_PATH, else FVI_HOME/api/keys.sqlite3 (the process's settings)."""
    s = settings or get_settings()
    return KeyStore(s.api.keys_file(s.home_abs))


# ---------------------------------------------------------------------------------------------
# fvi keys …

keys_app = typer.Typer(help="API keys for write and admin routes (reading needs none).", no_args_is_help=True)


@keys_app.command("create")
def _create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="admin or write (repeatable); default write.")
    ] = None,
) -> None:
    """Create a key; the plaintext is printed once and never stored."""
    try:
        key, plaintext = default_store().create(name, scope or ["write"])
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created key {key.id} ({key.name}, scopes {','.join(key.scopes)}); store it now, it is not kept:")
    typer.echo(plaintext)


@keys_app.command("list")
def _list() -> None:
    """Keys with their scopes and state (never the secrets)."""
    keys = default_store().list_keys()
    if not keys:
        typer.echo("no API keys yet: `fvi keys create NAME --scope admin`")
        return
    for k in keys:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        typer.echo(f"{k.id}\t{k.name}\t{','.join(k.scopes)}\tcreated {k.created_at}\t{state}")


@keys_app.command("revoke")
def _revoke(key_id: Annotated[str, typer.Argument(help="The id `fvi keys list` shows.")]) -> None:
    """Revoke a key at once (running services check the store on every request)."""
    if not default_store().revoke(key_id):
        typer.echo(f"no active key with id {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
