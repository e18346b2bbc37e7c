"""The warehouse as the Python side sees it: bronze writes, reads, and build-aside-then-swap.

Two backends, one interface: an embedded DuckDB file under ``FVI_HOME`` (default) and a
PostgreSQL database (``FVI_WAREHOUSE_URL``). A run never writes into the live warehouse: it
builds a *staging* copy (a new DuckDB file, or PostgreSQL schemas with a run suffix), and only a
run whose every step passed swaps it in. A failed or interrupted run leaves the previous good
warehouse exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlparse

import pandas as pd

from fvi import staged
from fvi.contract import enforce
from fvi.settings import Settings

LAYERS = ("bronze", "silver", "gold", "marts")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached or has not been built yet."""


class Warehouse(ABC):
    """A connection to one (live or staging) warehouse."""

    staging: Staging | None = None
    """Set by :func:`updating`: where the block's model versions and stores go (swapped in with it)."""

    kind: str
    suffix: str = ""

    def schema(self, layer: str) -> str:
        """The schema name of ``layer`` in this warehouse: the layer plus the staging suffix, if any."""
        return _ident(f"{layer}{self.suffix}")

    @abstractmethod
    def write_table(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        """Replace ``layer.name`` with ``frame``; a declared gold table must match its contract (``fvi.contract``)."""

    @abstractmethod
    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query and return a frame."""

    @abstractmethod
    def tables(self, layer: str) -> list[str]:
        """Table and view names in ``layer``."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection; errors on closing are swallowed, so it is safe to call twice."""

    def has_table(self, layer: str, name: str) -> bool:
        """Whether ``layer`` holds a table or view called ``name``."""
        return name in self.tables(layer)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# DuckDB


class DuckDBWarehouse(Warehouse):
    """The embedded DuckDB warehouse: one file, one schema per layer; opened read-only by readers."""

    kind = "duckdb"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = path
        if read_only and not path.exists():
            raise WarehouseUnavailable(f"no warehouse at {path}: run `fvi run` first")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path), read_only=read_only)

    def write_table(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        """Replace ``layer.name`` with ``frame`` (after the gold contract check), creating the schema if needed."""
        enforce(layer, name, frame)
        schema, table = self.schema(layer), _ident(name)
        self.con.execute(f"create schema if not exists {schema}")
        self.con.register("_fvi_frame", frame)
        try:
            self.con.execute(f"create or replace table {schema}.{table} as select * from _fvi_frame")
        finally:
            self.con.unregister("_fvi_frame")

    def copy_table_from(self, other: Path, layer: str, name: str) -> None:
        """Carry ``layer.name`` forward from another warehouse file."""
        schema, table = self.schema(layer), _ident(name)
        self.con.execute(f"attach '{other}' as prev (read_only)")
        try:
            self.con.execute(f"create schema if not exists {schema}")
            self.con.execute(f"create or replace table {schema}.{table} as select * from prev.{layer}.{table}")
        finally:
            self.con.execute("detach prev")

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` with ``?`` placeholders bound to ``params``; the result as a frame."""
        return self.con.execute(sql, params or []).df()

    def tables(self, layer: str) -> list[str]:
        """Table and view names in ``layer``, sorted."""
        rows = self.con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [self.schema(layer)],
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the DuckDB connection; errors on closing are swallowed."""
        with contextlib.suppress(Exception):
            self.con.close()


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def pg_params(url: str) -> dict[str, Any]:
    """Connection parameters from ``postgresql://user:pw@host:port/db``."""
    u = urlparse(url)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 5432,
        "user": unquote(u.username or "postgres"),
        "password": unquote(u.password or ""),
        "dbname": (u.path or "/postgres").lstrip("/") or "postgres",
    }


class PostgresWarehouse(Warehouse):
    """A PostgreSQL warehouse; a staging copy lives in the same database as schemas with ``suffix``."""

    kind = "postgres"

    def __init__(self, url: str, *, suffix: str = "", connect_timeout: int = 5) -> None:
        import psycopg

        self.url = url
        self.suffix = suffix
        p = pg_params(url)
        try:
            self.con = psycopg.connect(
                host=p["host"],
                port=p["port"],
                user=p["user"],
                password=p["password"] or None,
                dbname=p["dbname"],
                connect_timeout=connect_timeout,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            raise WarehouseUnavailable(f"PostgreSQL at {p['host']}:{p['port']} unreachable: {exc}") from exc

    def write_table(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        """Replace ``layer.name`` with ``frame`` in one transaction, loading it with ``COPY``.

        The frame must pass the gold contract check and have SQL-safe column names; column types follow
        the pandas dtypes (integers ``bigint``, floats ``double precision``, booleans, timestamps, else ``text``).
        """
        enforce(layer, name, frame)
        schema, table = self.schema(layer), _ident(name)
        cols = [_ident(c.lower()) if _IDENT.match(c.lower()) else None for c in frame.columns]
        if any(c is None for c in cols):
            raise ValueError(f"{schema}.{table}: unsafe column names {list(frame.columns)}")
        types = [_pg_type(frame[c].dtype) for c in frame.columns]
        ddl = ", ".join(f'"{c}" {t}' for c, t in zip(cols, types, strict=True))
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="\\N")
        buf.seek(0)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(f"create schema if not exists {schema}")
            cur.execute(f"drop table if exists {schema}.{table} cascade")
            cur.execute(f"create table {schema}.{table} ({ddl})")
            col_list = ", ".join(f'"{c}"' for c in cols)
            with cur.copy(f"copy {schema}.{table} ({col_list}) from stdin with (format csv, null '\\N')") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)

    def copy_table_from_schema(self, src_schema: str, layer: str, name: str) -> None:
        """Copy ``src_schema.name`` into this warehouse's ``layer`` schema, replacing any table there."""
        schema, table = self.schema(layer), _ident(name)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(f"create schema if not exists {schema}")
            cur.execute(f"drop table if exists {schema}.{table} cascade")
            cur.execute(f"create table {schema}.{table} as select * from {_ident(src_schema)}.{table}")

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` (``?`` placeholders bound to ``params``); the rows as a frame, empty when it returns none."""
        with self.con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params or None)
            if cur.description is None:
                return pd.DataFrame()
            cols = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)

    def tables(self, layer: str) -> list[str]:
        """Table and view names in ``layer`` (with this warehouse's suffix), sorted."""
        with self.con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                [self.schema(layer)],
            )
            return [r[0] for r in cur.fetchall()]

    def schemas(self) -> list[str]:
        """Every schema name in the database, staging ones included."""
        with self.con.cursor() as cur:
            cur.execute("select schema_name from information_schema.schemata")
            return [r[0] for r in cur.fetchall()]

    def drop_layers(self, suffix: str) -> None:
        """Drop the four layer schemas carrying ``suffix`` (a discarded staging copy) and their tables."""
        with self.con.cursor() as cur:
            for layer in LAYERS:
                cur.execute(f"drop schema if exists {_ident(layer + suffix)} cascade")

    def drop_stale_staging(self, keep: str) -> list[str]:
        """Drop the staging schemas of dead runs (``<layer>__stg_*``) except ``keep``'s; under the writer lock."""
        dropped: list[str] = []
        with self.con.cursor() as cur:
            for schema in sorted(self.schemas()):
                layer, sep, _ = schema.partition("__stg_")
                if sep and layer in LAYERS and not schema.endswith(keep):
                    cur.execute(f"drop schema if exists {_ident(schema)} cascade")
                    dropped.append(schema)
        return dropped

    def swap_in(self, suffix: str) -> None:
        """Make the ``suffix`` schemas live in one transaction; the old ones are dropped."""
        existing = set(self.schemas())
        with self.con.transaction(), self.con.cursor() as cur:
            for layer in LAYERS:
                if f"{layer}__old" in existing:
                    cur.execute(f"drop schema {layer}__old cascade")
            for layer in LAYERS:
                if layer in existing:
                    cur.execute(f"alter schema {layer} rename to {layer}__old")
                if f"{layer}{suffix}" in existing:
                    cur.execute(f"alter schema {_ident(layer + suffix)} rename to {layer}")
            for layer in LAYERS:
                if layer in existing:
                    cur.execute(f"drop schema {layer}__old cascade")

    def close(self) -> None:
        """Close the PostgreSQL connection; errors on closing are swallowed."""
        with contextlib.suppress(Exception):
            self.con.close()


def _pg_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if str(dtype) in ("Int64", "int64", "int32", "Int32"):
        return "bigint"
    if kind == "f":
        return "double precision"
    if kind == "b" or str(dtype) == "boolean":
        return "boolean"
    if kind == "M":
        return "timestamp"
    return "text"


# ---------------------------------------------------------------------------------------------
# Staging and swap


class Staging:
    """A warehouse being built aside for one run; ``commit`` swaps it in, ``discard`` drops it."""

    def __init__(self, settings: Settings, run_id: str, *, fresh: bool = True) -> None:
        """``fresh`` clears stale staging files first; ``fresh=False`` reattaches to this run's (later steps)."""
        self.settings = settings
        self.run_id = run_id
        if settings.is_postgres:
            self.suffix = f"__stg_{run_id[-8:].lower()}"
            self.path: Path | None = None
        else:
            self.suffix = ""
            live = settings.duckdb_path
            live.parent.mkdir(parents=True, exist_ok=True)
            self.path = live.with_name(f"fvi.{run_id}.building.duckdb")
        self.recovered: list[str] = []
        if fresh:  # under the writer lock: finish a commit a kill interrupted, drop dead runs' staging
            self.recovered = staged.recover(settings.home_abs)
            if self.path is not None:
                for stale in settings.duckdb_path.parent.glob("fvi.*.building.duckdb*"):
                    stale.unlink(missing_ok=True)
            else:  # a run killed (or cut off from the server) before its swap left its schemas behind
                with contextlib.suppress(WarehouseUnavailable), PostgresWarehouse(str(settings.warehouse_url)) as wh:
                    gone = wh.drop_stale_staging(keep=self.suffix)
                    self.recovered += [f"dropped the staging schemas of a dead run: {', '.join(gone)}"] if gone else []
        self._models_dir: Path | None = None
        self._feast_dir: Path | None = None
        self._mlflow_db: Path | None = None

    @property
    def models_dir(self) -> Path:
        """Where this run's model versions and ``registry.json`` go: a copy of the live ones, swapped in at commit."""
        if self._models_dir is None:
            self._models_dir = staged.stage_dir(self.settings.home_abs, "models", self.run_id, seed=True)
        return self._models_dir

    @property
    def feast_dir(self) -> Path:
        """Where this run builds the Feast repository (from nothing), swapped in at commit."""
        if self._feast_dir is None:
            self._feast_dir = staged.stage_dir(self.settings.home_abs, "feast", self.run_id, seed=False)
        return self._feast_dir

    @property
    def run_dir(self) -> Path:
        """Where this run's own files go (audit, scoring, Bayes, back-test): renamed to ``runs/<run_id>`` at commit."""
        folder = staged.staged_run_dir(self.settings.home_abs, self.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def docs_store(self) -> Path:
        """Where this run writes the chat's documents and embeddings: a copy of the live store, swapped in at commit."""
        return staged.stage_docs(self.settings.home_abs, self.run_id)

    @property
    def tracking_uri(self) -> str:
        """The run's MLflow store: a copy of the local SQLite store (a tracking server is not staged)."""
        if self.settings.mlflow_tracking_uri:
            return self.settings.mlflow_tracking_uri
        if self._mlflow_db is None:
            self._mlflow_db = staged.stage_mlflow(self.settings.home_abs, self.run_id)
        return f"sqlite:///{self._mlflow_db}"

    def _file_steps(self) -> list[dict[str, str]]:
        home = self.settings.home_abs
        steps: list[dict[str, str]] = []
        for name, target in (("models", self._models_dir), ("feast", self._feast_dir)):
            if target is None and (staged.gen_root(home, name) / self.run_id / staged.SEEDED).exists():
                target = staged.gen_root(home, name) / self.run_id  # staged by an earlier step (Dagster)
            if target is not None:
                steps.append({"kind": "link", "name": name, "target": str(target)})
        db = self._mlflow_db or staged.staged_sqlite(home, self.run_id)
        if db.exists():
            for side in ("-wal", "-journal"):
                if db.with_name(db.name + side).exists():
                    raise RuntimeError(f"{db.name}: SQLite {side[1:]} still present; not swapping")
            steps.append({"kind": "replace", "src": str(db), "dst": str(home / staged.MLFLOW_DB)})
        folder = staged.staged_run_dir(home, self.run_id)
        if folder.is_dir():
            steps.append({"kind": "move_dir", "src": str(folder), "dst": str(home / "runs" / self.run_id)})
        return [*steps, *staged.docs_steps(home, self.run_id)]

    def open(self) -> Warehouse:
        """Open the staging warehouse for writing: the building DuckDB file, or the suffixed PostgreSQL schemas."""
        if self.path is not None:
            return DuckDBWarehouse(self.path)
        assert self.settings.warehouse_url
        return PostgresWarehouse(self.settings.warehouse_url, suffix=self.suffix)

    def live_exists(self) -> bool:
        """Whether a live warehouse exists to carry tables forward from (its file, or its ``bronze`` schema)."""
        if self.path is not None:
            return self.settings.duckdb_path.exists()
        with PostgresWarehouse(str(self.settings.warehouse_url)) as wh:
            return "bronze" in wh.schemas()

    def carry_forward(self, wh: Warehouse, layer: str, table: str) -> bool:
        """Copy ``layer.table`` from the live warehouse into staging; False if it has none."""
        if not self.live_exists():
            return False
        if isinstance(wh, DuckDBWarehouse):
            with DuckDBWarehouse(self.settings.duckdb_path, read_only=True) as live:
                if not live.has_table(layer, table):
                    return False
            wh.copy_table_from(self.settings.duckdb_path, layer, table)
            return True
        assert isinstance(wh, PostgresWarehouse)
        if table not in PostgresWarehouse(str(self.settings.warehouse_url)).tables(layer):
            return False
        wh.copy_table_from_schema(layer, layer, table)
        return True

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt so it builds into staging: the schema suffix, and the DuckDB file path if any."""
        env = {"FVI_SCHEMA_SUFFIX": self.suffix}
        if self.path is not None:
            env["FVI_DUCKDB_PATH"] = str(self.path)
        return env

    def commit(self) -> None:
        """Swap in the warehouse and every staged file store together (journaled: :mod:`fvi.staged`)."""
        if self.path is not None:
            wal = self.path.with_name(self.path.name + ".wal")
            if wal.exists():  # a clean close checkpoints; a leftover WAL means the file is not final
                raise RuntimeError(f"{self.path}: write-ahead log still present; not swapping")
            first = {"kind": "replace", "src": str(self.path), "dst": str(self.settings.duckdb_path)}
        else:
            first = {"kind": "postgres", "url": str(self.settings.warehouse_url), "suffix": self.suffix}
        staged.commit(self.settings.home_abs, [first, *self._file_steps()])

    def discard(self) -> None:
        """Drop the staged file stores and the staging warehouse; the live one is left untouched."""
        home = self.settings.home_abs
        # a failed run's own files stay beside its report, as before staging (nothing reads them as live)
        staged.move_dir(staged.staged_run_dir(home, self.run_id), home / "runs" / self.run_id)
        staged.discard(home, self.run_id)
        if self.path is not None:
            for p in (self.path, self.path.with_name(self.path.name + ".wal")):
                p.unlink(missing_ok=True)
            return
        with contextlib.suppress(WarehouseUnavailable), PostgresWarehouse(str(self.settings.warehouse_url)) as wh:
            wh.drop_layers(self.suffix)


def open_live(settings: Settings, *, read_only: bool = True) -> Warehouse:
    """The live warehouse (what the last good run built)."""
    if settings.is_postgres:
        return PostgresWarehouse(str(settings.warehouse_url))
    return DuckDBWarehouse(settings.duckdb_path, read_only=read_only)


@contextlib.contextmanager
def live(settings: Settings) -> Iterator[Warehouse]:
    """Open the live warehouse for the block (DuckDB read-only) and close it afterwards."""
    wh = open_live(settings)
    try:
        yield wh
    finally:
        wh.close()


@contextlib.contextmanager
def updating(settings: Settings, run_id: str) -> Iterator[Warehouse]:
    """Change the live warehouse without disturbing its readers.

    DuckDB: a copy is written and swapped in only if the block succeeds (a running API keeps its
    read-only handle and moves to the new file; an error leaves the live file as it was).
    PostgreSQL: the block writes in place; each table is replaced in one transaction.
    """
    from fvi.lock import writer_lock_for

    with writer_lock_for(settings, "update"):  # re-entrant: the CLI command already holds it
        if settings.is_postgres:
            with staged_files(settings, run_id) as files, PostgresWarehouse(str(settings.warehouse_url)) as pg:
                pg.staging = files  # models and stores written in the block are still staged
                yield pg
            return
        if not settings.duckdb_path.exists():
            raise WarehouseUnavailable(f"no warehouse at {settings.duckdb_path}: run `fvi run` first")
        staging = Staging(settings, run_id)
        assert staging.path is not None
        copy_file(settings.duckdb_path, staging.path)
        wh = DuckDBWarehouse(staging.path)
        wh.staging = staging  # `fvi train` writes its model versions through it: swapped in with the warehouse
        try:
            yield wh
        except BaseException:
            wh.close()
            staging.discard()
            raise
        wh.close()
        staging.commit()


@contextlib.contextmanager
def staged_files(settings: Settings, run_id: str) -> Iterator[Staging]:
    """Model versions, MLflow and the Feast store written aside in the block, swapped in after it (no warehouse)."""
    files = Staging(settings, run_id)
    try:
        yield files
    except BaseException:
        files.discard()
        raise
    staged.commit(settings.home_abs, files._file_steps())


def export_tables(settings: Settings, layer: str, out_dir: Path, fmt: str) -> list[Path]:
    """Write every table of ``layer`` to ``out_dir/<table>.<fmt>`` (csv or parquet)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with live(settings) as wh:
        for table in wh.tables(layer):
            frame = wh.query(f"select * from {wh.schema(layer)}.{_ident(table)}")
            target = out_dir / f"{table}.{fmt}"
            tmp = target.with_suffix(target.suffix + ".part")
            if fmt == "csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
            os.replace(tmp, target)
            written.append(target)
    return written


def copy_file(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` with its metadata (the live DuckDB file into staging before an update)."""
    shutil.copy2(src, dst)
