"""One writer per FVI_HOME: a second writer waits or refuses, naming the holder; stale locks clear.

Before the lock, two writers raced on the staging file and the swap (`fvi score` twice ended with
a raw FileNotFoundError); these tests run the real console script against a lock held by another
process, including one killed with SIGKILL while holding it.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import pytest

from fvi.errors import WriterBusy
from fvi.lock import HOLDER_FILE, LOCK_FILE, read_holder, writer_lock
from tests.faults.helpers import hold_lock, run_fvi, start_fvi


def test_no_wait_refuses_naming_the_holder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = hold_lock(home, "score")
    try:
        done = run_fvi(home, "score", "--no-wait")
    finally:
        holder.kill()
        holder.wait()
    assert done.rc == 4, done.err
    assert "`fvi score`" in done.err and f"pid {holder.pid}" in done.err and "started" in done.err
    assert "Traceback" not in done.err
    assert done.err.count("\n") <= 2  # one message, not a traceback


def test_second_writer_waits_then_gives_up_after_the_timeout(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = hold_lock(home, "train")
    try:
        done = run_fvi(home, "build", FVI_LOCK_TIMEOUT="2")
    finally:
        holder.kill()
        holder.wait()
    assert done.rc == 4, done.err
    assert "waiting up to 2 s" in done.err and "`fvi train`" in done.err
    assert "after 2 s" in done.err and "nothing was changed" in done.err


def test_second_writer_proceeds_once_the_first_finishes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = hold_lock(home, "weights", seconds=None)
    second = start_fvi(home, "build")  # no warehouse yet: once it has the lock it says so
    assert second.stderr is not None and holder.stdin is not None
    first_line = second.stderr.readline()
    assert "waiting up to" in first_line and "`fvi weights`" in first_line, first_line
    assert second.poll() is None  # still waiting
    holder.stdin.write("release\n")
    holder.stdin.flush()
    holder.wait(timeout=30)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 1 and "no warehouse yet" in err, err
    assert "stale" not in err  # the first writer released cleanly
    assert read_holder(home) is None  # released and its record removed


def test_stale_lock_of_a_killed_writer_is_cleared(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = hold_lock(home, "score")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (home / LOCK_FILE).exists() and json.loads((home / HOLDER_FILE).read_text())["pid"] == holder.pid
    done = run_fvi(home, "build", "--no-wait")
    assert f"cleared a stale writer lock of `fvi score` (pid {holder.pid}" in done.err
    assert "no longer running" in done.err
    assert done.rc == 1 and "no warehouse yet" in done.err  # it went on to do its work
    assert read_holder(home) is None


def test_lock_is_reentrant_in_a_thread_and_excludes_other_threads(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seen: list[str] = []
    with writer_lock(home, command="run", say=seen.append):
        with writer_lock(home, command="update", say=seen.append) as inner:  # the pipeline inside the CLI
            assert inner.command == "run"
        errors: list[BaseException] = []

        def other() -> None:
            try:
                with writer_lock(home, command="score", wait=False):
                    pass
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert len(errors) == 1 and isinstance(errors[0], WriterBusy)
        assert "`fvi run`" in str(errors[0])
    assert seen == []
    with writer_lock(home, command="score", wait=False):  # free again
        pass


WRITERS = ["ingest", "build", "score", "uncertainty", "audit", "train", "features", "weights", "backtest", "dbt"]


@pytest.mark.parametrize("command", WRITERS)
def test_every_writer_command_takes_the_lock(
    fvi_home: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from fvi.cli import app
    from fvi.cli_guard import run_cli

    holder = hold_lock(fvi_home, "run")
    try:
        rc = run_cli(app, [*command.split(), "--no-wait"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert rc == 4, (command, rc, err[-500:])
    assert "`fvi run`" in err and f"pid {holder.pid}" in err


def test_models_promote_takes_the_lock(fvi_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fvi.cli import app
    from fvi.cli_guard import run_cli

    holder = hold_lock(fvi_home, "train")
    try:
        rc = run_cli(app, ["models", "promote", "fvi_mine_h5", "1", "--no-wait"])
        rc_run = run_cli(app, ["run", "--no-serve", "--no-wait"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert (rc, rc_run) == (4, 4), err
