"""Running the dbt project (``warehouse/``) against the live or a staging warehouse.

Profiles are generated under ``FVI_HOME/dbt`` from the settings, so nothing in the repository
holds connection details, and dbt's target/log folders stay out of the source tree.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from fvi.settings import Settings
from fvi.warehouse import pg_params


def project_dir(settings: Settings | None = None) -> Path:
    """The dbt project: ``settings.dbt_project_dir`` (``FVI_DBT_PROJECT_DIR``) or ``warehouse/`` beside the package."""
    if settings is not None and settings.dbt_project_dir:
        return Path(settings.dbt_project_dir).expanduser().resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "warehouse" / "dbt_project.yml").exists():
            return parent / "warehouse"
    raise FileNotFoundError("dbt project not found: set FVI_DBT_PROJECT_DIR to the warehouse/ folder")


def write_profiles(settings: Settings) -> Path:
    """Write ``FVI_HOME/dbt/profiles.yml`` for the configured backend; return its folder."""
    folder = settings.home_abs / "dbt"
    folder.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Any] = {
        "duckdb": {
            "type": "duckdb",
            "path": "{{ env_var('FVI_DUCKDB_PATH') }}",
            "schema": "main",
            "threads": 2,
        }
    }
    if settings.is_postgres:
        p = pg_params(str(settings.warehouse_url))
        outputs["postgres"] = {
            "type": "postgres",
            "host": p["host"],
            "port": p["port"],
            "user": p["user"],
            "password": "{{ env_var('FVI_PG_PASSWORD', '') }}",
            "dbname": p["dbname"],
            "schema": "public",
            "threads": 2,
            "connect_timeout": 10,
        }
    profiles = {"fvi": {"target": "postgres" if settings.is_postgres else "duckdb", "outputs": outputs}}
    text = yaml.safe_dump(profiles, sort_keys=False)
    target = folder / "profiles.yml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return folder


@contextlib.contextmanager
def _env(extra: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class DbtFailed(RuntimeError):
    """dbt reported failing models or tests (``results``: dbt's per-node results, when it got that far)."""

    def __init__(self, message: str, results: Any = None) -> None:
        super().__init__(message)
        self.results = results


def run_dbt(
    settings: Settings,
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    dbt_vars: dict[str, Any] | None = None,
    on_node: Callable[[str, str], None] | None = None,
    quiet: bool = True,
) -> Any:
    """Invoke dbt in-process (``dbtRunner``); raise :class:`DbtFailed` naming what failed."""
    from dbt.cli.main import dbtRunner

    profiles = write_profiles(settings)
    work = settings.home_abs / "dbt"
    extra = {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(profiles),
        "FVI_DUCKDB_PATH": str(settings.duckdb_path),
        "FVI_SCHEMA_SUFFIX": "",
    }
    if settings.is_postgres:
        extra["FVI_PG_PASSWORD"] = pg_params(str(settings.warehouse_url))["password"]
    extra.update(env or {})
    full = [
        *args,
        "--project-dir",
        str(project_dir(settings)),
        "--profiles-dir",
        str(profiles),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    if quiet:  # nothing on the console (not even dbt's own tracebacks): failures come back as DbtFailed
        full = ["--quiet", "--log-level", "none", "--log-level-file", "debug", *full]
    if dbt_vars:
        full += ["--vars", json.dumps(dbt_vars)]

    def _callback(event: Any) -> None:
        if on_node is None:
            return
        name = event.info.name
        if name == "NodeFinished":
            node = event.data.node_info
            on_node(node.unique_id, node.node_status)

    runner = dbtRunner(callbacks=[_callback])
    with _env(extra):
        try:
            result = runner.invoke(full)
        finally:
            _release_duckdb()
    if result.exception is not None:
        raise DbtFailed(f"dbt {' '.join(args)}: {result.exception}") from result.exception
    if not result.success:
        raise DbtFailed(f"dbt {' '.join(args)} failed: {_failures(result.result)}", result.result)
    return result.result


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open in-process between invocations; close it.

    Closing checkpoints the write-ahead log into the file, so the staging file is complete
    before it is swapped in, and no stale handle pins the old file.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        with contextlib.suppress(Exception):
            env.close()
    DuckDBConnectionManager.close_all_connections()


def _failures(results: Any) -> str:
    bad: list[str] = []
    for r in getattr(results, "results", []) or []:
        status = str(getattr(r, "status", ""))
        if status in ("error", "fail", "runtime error"):
            node = getattr(r, "node", None)
            name = getattr(node, "unique_id", "?")
            msg = (getattr(r, "message", "") or "").strip().splitlines()
            bad.append(f"{name}: {status}" + (f" ({msg[0][:300]})" if msg else ""))
    return "; ".join(bad[:20]) or "see FVI_HOME/dbt/logs/dbt.log"
