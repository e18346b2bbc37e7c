"""kill -9 during a run leaves the live warehouse byte-identical; the next run clears up and succeeds.

A first step of the fault suite asked by issue 16 (item 4): the real console script on real sample
files, SIGKILLed at a seeded random point once its staging warehouse exists (inside the ingest
step), then checked and re-run.
"""

from __future__ import annotations

import hashlib
import random
import signal
import time
from pathlib import Path

import pytest

from fvi.exit_codes import ExitCode
from fvi.lock import read_holder
from fvi.warehouse import DuckDBWarehouse
from tests.faults.helpers import run_fvi, start_fvi
from tests.faults.test_exit_codes import small_data_dir

pytestmark = pytest.mark.integration

SEED = 20261203
TABLES = ("raw_mining_land__area", "raw_coal_policy__phase_out", "raw_coal_policy__cop26")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bronze(path: Path) -> dict[str, object]:
    with DuckDBWarehouse(path, read_only=True) as wh:
        return {
            t: wh.query(f"select * exclude (_release) from bronze.{t} order by _source_file, _row_number")
            for t in TABLES
        }


@pytest.mark.parametrize("case", range(1))  # more seeds: range(n)
def test_kill_9_inside_ingest_keeps_the_live_warehouse(tmp_path: Path, shared_data: Path, case: int) -> None:
    rng = random.Random(SEED + case)
    home = tmp_path / "home"
    data = small_data_dir(tmp_path, shared_data)
    first = run_fvi(home, "ingest", "--data-dir", str(data))
    assert first.rc == ExitCode.DEGRADED, first.err[-800:]  # 9 of 11 sources absent from this folder
    live = home / "warehouse" / "fvi.duckdb"
    digest, good = _sha(live), _bronze(live)

    proc = start_fvi(home, "ingest", "--data-dir", str(data))
    deadline = time.monotonic() + 120
    while not list(live.parent.glob("fvi.*.building.duckdb")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the second run never started building"
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.4))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _sha(live) == digest  # byte-identical, whether killed early or late
    if proc.returncode == -signal.SIGKILL:
        assert read_holder(home) is not None  # it died holding the lock

    again = run_fvi(home, "ingest", "--data-dir", str(data))
    assert again.rc == ExitCode.DEGRADED, again.err[-800:]
    if proc.returncode == -signal.SIGKILL:
        assert "cleared a stale writer lock" in again.err
    assert not list(live.parent.glob("fvi.*.building.duckdb*"))  # the killed run's staging is gone
    rerun = _bronze(live)
    for table, frame in good.items():
        assert frame.equals(rerun[table]), table  # equal to the clean run
