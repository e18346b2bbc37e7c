"""PostgreSQL lost during a server-profile run (issue 16, item 4), without restarting the shared server.

PostgreSQL on this machine serves every agent and CI job, so the test does not restart it: it cuts
off the run's own connections (``pg_terminate_backend`` on every backend of the run's scratch
database, which is what a restart does to a client), at an instant when the run is writing its
staging schemas (the process is stopped with SIGSTOP while the backends are terminated, then
continued). Then a run killed at that point (SIGKILL): its staging schemas are left behind, and
the next writer drops them (before: they stayed for good, 409 MB on the real samples).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from fvi.exit_codes import ExitCode
from tests.faults.helpers import run_fvi, start_fvi
from tests.faults.test_exit_codes import small_data_dir
from tests.integration.helpers import PG_ADMIN, scratch_database

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as con:
        return {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}


def _bronze(url: str) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with psycopg.connect(url, autocommit=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'bronze' "
            "and table_name like 'raw\\_%' order by 1").fetchall()]
        for t in names:
            cur = con.execute(f'select * from bronze."{t}"')
            keep = [i for i, d in enumerate(cur.description or []) if d.name != "_release"]  # as test_kill9
            out[t] = sorted((tuple(r[i] for i in keep) for r in cur.fetchall()), key=repr)
    return out


def _stop_while_staging(proc: subprocess.Popen[str], url: str) -> None:
    """Stop ``proc`` once its staging schemas exist (and before its swap)."""
    deadline = time.monotonic() + 300
    while not any("__stg_" in s for s in _schemas(url)):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run never staged"
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)
    assert any("__stg_" in s for s in _schemas(url)), "the run swapped before it could be stopped"


def test_a_severed_connection_fails_the_run_cleanly_and_a_killed_runs_schemas_are_dropped(
    tmp_path: Path, shared_data: Path
) -> None:
    data = small_data_dir(tmp_path, shared_data)
    with scratch_database() as url:
        home = tmp_path / "home"
        extra = {"FVI_WAREHOUSE_URL": url}
        first = run_fvi(home, "ingest", "--data-dir", str(data), timeout=600, **extra)
        assert first.rc == ExitCode.DEGRADED, first.out[-1500:] + first.err[-1500:]
        good = _bronze(url)
        assert good and any(good.values())

        cut = start_fvi(home, "ingest", "--data-dir", str(data), **extra)
        _stop_while_staging(cut, url)
        dbname = url.rsplit("/", 1)[1]
        with psycopg.connect(**PG_ADMIN, autocommit=True) as admin:
            n = admin.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = %s "
                "and pid <> pg_backend_pid()", [dbname]).fetchone()
        assert n is not None and n[0] >= 1  # the run's own connection(s)
        cut.send_signal(signal.SIGCONT)
        out, err = cut.communicate(timeout=300)
        assert cut.returncode == ExitCode.FAILED, out[-1500:] + err[-1500:]
        assert "Traceback" not in out + err and "PostgreSQL" in out + err
        assert _bronze(url) == good  # the live schemas are as they were

        killed = start_fvi(home, "ingest", "--data-dir", str(data), **extra)
        _stop_while_staging(killed, url)
        killed.send_signal(signal.SIGKILL)
        killed.wait(60)
        left = {s for s in _schemas(url) if "__stg_" in s}
        assert left  # a dead run cannot clean up after itself
        assert _bronze(url) == good

        again = run_fvi(home, "ingest", "--data-dir", str(data), timeout=600, **extra)
        assert again.rc == ExitCode.DEGRADED, again.out[-1500:] + again.err[-1500:]
        assert not {s for s in _schemas(url) if "__stg_" in s}  # the next writer dropped them
        assert _bronze(url) == good  # the same files again: the same bronze
