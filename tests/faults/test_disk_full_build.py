"""A full disk during the dbt build (issue 16, item 4), on a small filesystem the test makes.

FVI_HOME is put on a tmpfs of its own (``mount -t tmpfs``, where the machine allows it; elsewhere the
test is skipped, and ``test_exit_codes`` covers ENOSPC injected at the warehouse's writes). The
demo world is ingested; then the free space is filled until only the staging copy of the warehouse
and a little more fit, and ``fvi build`` runs out of space inside dbt. It must exit 5 (disk full)
with one line and no traceback (before: exit 1 "warehouse build failed" with dbt's text), leave the
live warehouse byte-identical and leave no staging file; with the space back, the next run succeeds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fvi.demo import write_demo_data
from fvi.exit_codes import ExitCode
from tests.faults.helpers import run_fvi

pytestmark = pytest.mark.integration
SIZE_MB = 96


@pytest.fixture()
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "fs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here ({done.stderr.strip()[:200]})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_disk_full_inside_the_dbt_build_is_exit_5_and_changes_nothing(small_fs: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_demo_data(data)
    home = small_fs / "home"
    first = run_fvi(home, "ingest", "--data-dir", str(data), timeout=600)
    assert first.rc == ExitCode.OK, first.out[-1500:] + first.err[-1500:]
    live = home / "warehouse" / "fvi.duckdb"
    digest = _sha(live)

    filler = small_fs / "filler"
    st = os.statvfs(small_fs)
    leave = live.stat().st_size + 3 * 1024 * 1024  # the staging copy fits; the models dbt builds do not
    with open(filler, "wb") as fh:
        fh.truncate(0)
        block = b"\0" * (1 << 20)
        for _ in range(max(0, (st.f_bavail * st.f_frsize - leave) >> 20)):
            fh.write(block)
    full = run_fvi(home, "build", timeout=900)
    said = full.out + full.err
    assert full.rc == ExitCode.DISK_FULL, said[-3000:]
    assert "no space left on the device" in said and "Traceback" not in said
    assert _sha(live) == digest
    assert not list(live.parent.glob("*.building.duckdb*"))  # the staging copy is gone

    filler.unlink()
    shutil.rmtree(home / "dbt" / "logs", ignore_errors=True)
    again = run_fvi(home, "ingest", "--data-dir", str(data), timeout=600)  # space back: the next run works
    assert again.rc == ExitCode.OK, again.out[-1500:] + again.err[-1500:]
