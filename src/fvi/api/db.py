"""The live warehouse as the service reads it: one handle per build, one cursor per request.

The pipeline swaps a new DuckDB file in with ``os.replace``; a request that finds the file's
inode, mtime or size changed opens the new file, and the old handle is closed once its last
reader is done. DuckDB connections are not safe across threads, so every request reads through
its own ``cursor()``. PostgreSQL connections are re-opened after a connection failure, and the
build "version" (used in cache keys) is the newest run id in the manifest, checked every few
seconds. Every SQL string here uses ``?`` placeholders and fixed identifiers only.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from fvi.obs.telemetry import span
from fvi.settings import Settings
from fvi.warehouse import Warehouse, WarehouseUnavailable, open_live

log = logging.getLogger(__name__)

Row = dict[str, Any]


def clean(value: Any) -> Any:
    """A JSON-safe Python value: NaN/inf -> None, Decimal -> float, numpy scalars -> Python, dates -> ISO."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return clean(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):
        return clean(value.item())
    if value is pd.NaT:
        return None
    return value


class DuckDBSnapshot(Warehouse):
    """One DuckDB build, read-only, ATTACHed to a private in-memory database.

    ``duckdb.connect(path)`` returns the instance already open for that path in this process, so
    after an ``os.replace`` it would keep serving the old file; a fresh in-memory database that
    attaches the path opens the file that is there now.
    """

    kind = "duckdb"
    CATALOG = "fvi"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import duckdb

        self.path = str(path)
        self._lock = threading.Lock()
        self.con = duckdb.connect(":memory:")
        try:
            quoted = self.path.replace("'", "''")
            self.con.execute(f"attach '{quoted}' as {self.CATALOG} (read_only)")
            self.con.execute(f"use {self.CATALOG}")
        except Exception:
            self.con.close()
            raise

    def cursor(self) -> Any:
        """A connection for one thread (cursors do not inherit ``use``, so set it again).

        The parent connection refuses concurrent calls, so it is only touched under a lock, and
        only to make cursors.
        """
        with self._lock:
            cur = self.con.cursor()
        cur.execute(f"use {self.CATALOG}")
        return cur

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        cur = self.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def tables(self, layer: str) -> list[str]:
        cur = self.cursor()
        try:
            rows = cur.execute(
                "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
                "order by 1",
                [self.CATALOG, self.schema(layer)],
            ).fetchall()
        finally:
            cur.close()
        return [r[0] for r in rows]

    def write_table(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        raise PermissionError("the API reads the warehouse; it never writes")

    def close(self) -> None:
        try:
            self.con.close()
        except Exception:  # noqa: BLE001 - closing must never fail a swap
            pass


class _Handle:
    """One open warehouse (one build); closed when retired and no reader holds it."""

    def __init__(self, wh: Warehouse, version: str) -> None:
        self.wh = wh
        self.version = version
        self.users = 0
        self.retired = False
        self.broken = False
        self.memo: dict[Any, Any] = {}  # per-build facts: table lists, latest years
        self.memo_lock = threading.Lock()


class Reader(Warehouse):
    """The read side of :class:`fvi.warehouse.Warehouse` for one request (``query``, ``schema``, ``has_table``).

    Also what ``scorer_from_warehouse`` and ``fvi.weights.current_weights`` need, so they run on it.
    """

    def __init__(self, handle: _Handle, on_failure: Callable[[_Handle, BaseException], None]) -> None:
        self._h = handle
        self._on_failure = on_failure
        self.kind = handle.wh.kind
        self.suffix = handle.wh.suffix
        self.version = handle.version
        self.live: LiveWarehouse | None = None
        self._cur: Any = None

    # -- Warehouse interface ------------------------------------------------------------------

    def schema(self, layer: str) -> str:
        return self._h.wh.schema(layer)

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with span("warehouse.query", **{"db.system": self.kind}):
            if self.kind == "duckdb":
                return self._guard(lambda: self._cursor().execute(sql, params or []).df())
            return self._guard(lambda: self._h.wh.query(sql, params))

    def tables(self, layer: str) -> list[str]:
        key = ("tables", layer)
        cached = self.memo(key)
        if cached is None:
            cached = self._guard(lambda: self._h.wh.tables(layer))
            # PostgreSQL tables may appear without a version change (another job writes them): short memo.
            self.remember(key, cached, ttl=None if self.kind == "duckdb" else 30.0)
        return list(cached)

    def has_table(self, layer: str, name: str) -> bool:
        return name in self.tables(layer)

    def write_table(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        raise PermissionError("the API reads the warehouse; it never writes")

    def close(self) -> None:
        if self._cur is not None:
            try:
                self._cur.close()
            except Exception:  # noqa: BLE001 - closing a cursor must never fail a response
                pass
            self._cur = None

    # -- rows as dicts (faster than a DataFrame for small answers) -----------------------------

    def rows(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        """Rows as dicts of JSON-safe values."""
        with span("warehouse.query", **{"db.system": self.kind}):
            return self._guard(lambda: self._fetch(sql, params or []))

    def one(self, sql: str, params: list[Any] | None = None) -> Row | None:
        out = self.rows(sql, params)
        return out[0] if out else None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None

    def table(self, layer: str, name: str) -> str:
        """``schema.name`` of a table known to exist (identifiers are fixed strings, never user input)."""
        return f"{self.schema(layer)}.{name}"

    # -- per-build memo ---------------------------------------------------------------------

    def memo(self, key: Any) -> Any:
        with self._h.memo_lock:
            hit = self._h.memo.get(key)
        if hit is None:
            return None
        value, expires = hit
        return value if expires is None or expires > time.monotonic() else None

    def remember(self, key: Any, value: Any, ttl: float | None = None) -> Any:
        with self._h.memo_lock:
            self._h.memo[key] = (value, None if ttl is None else time.monotonic() + ttl)
        return value

    # -- internals ----------------------------------------------------------------------------

    def _cursor(self) -> Any:
        if self._cur is None:
            self._cur = self._h.wh.cursor()  # type: ignore[attr-defined]
        return self._cur

    def _fetch(self, sql: str, params: list[Any]) -> list[Row]:
        if self.kind == "duckdb":
            cur = self._cursor()
            cur.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [{c: clean(v) for c, v in zip(cols, r, strict=True)} for r in cur.fetchall()]
        con = self._h.wh.con  # type: ignore[attr-defined]
        with con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params or None)
            if cur.description is None:
                return []
            cols = [d.name for d in cur.description]
            return [{c: clean(v) for c, v in zip(cols, r, strict=True)} for r in cur.fetchall()]

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            self._on_failure(self._h, exc)
            raise


class LiveWarehouse:
    """The live warehouse with reconnect: DuckDB reopened after a swap, PostgreSQL after an outage."""

    def __init__(self, settings: Settings, *, version_check_seconds: float = 5.0) -> None:
        self.settings = settings
        self.kind = "postgres" if settings.is_postgres else "duckdb"
        self.version_check_seconds = version_check_seconds
        self._lock = threading.Lock()
        self._handle: _Handle | None = None
        self._pg_checked = 0.0
        self._duckdb_path: str | None = None

    @property
    def duckdb_path(self) -> str:
        """The warehouse file, resolved once (``Settings.duckdb_path`` resolves the home on every call)."""
        if self._duckdb_path is None:
            self._duckdb_path = str(self.settings.duckdb_path)
        return self._duckdb_path

    # -- versions ---------------------------------------------------------------------------

    def _file_version(self) -> str | None:
        try:
            st = os.stat(self.duckdb_path)
        except FileNotFoundError:
            return None
        return f"duckdb:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"

    def _pg_version(self, wh: Warehouse) -> str:
        """The newest run in the manifest; a lost connection raises (the caller reconnects)."""
        import psycopg

        try:
            frame = wh.query(f"select max(run_id) as v from {wh.schema('bronze')}.ingest_manifest")
            v = frame.iloc[0, 0] if len(frame) else None
        except psycopg.errors.UndefinedTable:  # no manifest yet: one version until there is one
            v = None
        return f"postgres:{str(v) if v else 'none'}"

    # -- handles ----------------------------------------------------------------------------

    def _open(self) -> Warehouse:
        if self.kind == "postgres":
            return open_live(self.settings, read_only=True)
        import duckdb

        try:
            return DuckDBSnapshot(self.duckdb_path)
        except duckdb.Error as exc:  # locked by a writer, or not a DuckDB file
            log.warning("warehouse: cannot open %s: %s", self.duckdb_path, exc)
            raise WarehouseUnavailable("the warehouse file cannot be opened right now") from exc

    def _swap(self, new: _Handle) -> None:
        old, self._handle = self._handle, new
        if old is not None:
            old.retired = True
            if old.users == 0:
                old.wh.close()
        log.info("warehouse: serving build %s", new.version)

    def acquire(self) -> _Handle:
        with self._lock:
            h = self._handle
            if self.kind == "duckdb":
                v = self._file_version()
                if v is None and h is None:
                    raise WarehouseUnavailable("no warehouse built yet: run `fvi run`")
                if v is not None and (h is None or h.version != v):
                    h = _Handle(self._open(), v)
                    self._swap(h)
            else:
                h = self._acquire_pg(h)
            assert h is not None
            h.users += 1
            return h

    def _acquire_pg(self, h: _Handle | None) -> _Handle:
        """(Re)connect when needed and look for a newer run every ``version_check_seconds``; lock held."""
        import psycopg

        now = time.monotonic()
        try:
            if h is None or h.broken:
                wh = self._open()  # raises WarehouseUnavailable when the server is down
                h = _Handle(wh, self._pg_version(wh))
                self._swap(h)
                self._pg_checked = now
            elif now - self._pg_checked >= self.version_check_seconds:
                self._pg_checked = now
                v = self._pg_version(h.wh)
                if v != h.version:
                    h.version = v
                    with h.memo_lock:
                        h.memo.clear()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if h is not None:
                h.broken = True
            raise WarehouseUnavailable("PostgreSQL connection lost") from exc
        return h

    def release(self, h: _Handle) -> None:
        with self._lock:
            h.users -= 1
            if h.retired and h.users == 0:
                h.wh.close()

    def _failed(self, h: _Handle, exc: BaseException) -> None:
        """A PostgreSQL connection failure: reconnect next time and answer 503 now."""
        if self.kind != "postgres":
            return
        import psycopg

        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            h.broken = True
            raise WarehouseUnavailable("PostgreSQL connection lost") from exc

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        h = self.acquire()
        r = Reader(h, self._failed)
        r.live = self  # per-build loaders open their own reader on it (fvi.api.entity_store)
        try:
            yield r
        finally:
            r.close()
            self.release(h)

    def current_version(self) -> str | None:
        """The build a read would see now: the file identity for DuckDB (one stat), the last run seen for PostgreSQL."""
        return self._file_version() if self.kind == "duckdb" else self.version()

    def version(self) -> str | None:
        """The current build's version without opening anything (None before the first read)."""
        h = self._handle
        return h.version if h is not None else None

    def close(self) -> None:
        with self._lock:
            h, self._handle = self._handle, None
            if h is not None:
                h.retired = True
                if h.users == 0:
                    h.wh.close()
