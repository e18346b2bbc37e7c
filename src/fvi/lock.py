"""One writer per FVI_HOME: every command that changes the warehouse, models or stores takes this lock.

Two writers at once used to race on the staging file and the swap (the second ``fvi score`` ended in
a raw ``FileNotFoundError``). Now the second one waits, saying who holds the lock (command, pid,
start time), for up to ``FVI_LOCK_TIMEOUT`` seconds, or refuses at once with ``--no-wait`` /
``FVI_LOCK_NO_WAIT=1``; either way it exits with :data:`fvi.exit_codes.ExitCode.BUSY`.

The lock is an OS file lock (``flock`` through the ``filelock`` package) on ``FVI_HOME/writer.lock``:
the kernel releases it when its process dies, even by ``kill -9``. Beside it,
``writer.lock.json`` records the holder; a record left by a process that is no longer running is a
stale lock, reported and cleared by the next writer. Within one process the lock is re-entrant (the
CLI takes it, then the pipeline entry point it calls takes it again at no cost); another thread
waits like another process would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from fvi.errors import WriterBusy
from fvi.settings import Settings

LOCK_FILE = "writer.lock"
HOLDER_FILE = "writer.lock.json"

Say = Callable[[str], None]
F = TypeVar("F", bound=Callable[..., Any])

_guard = threading.Lock()
_held: dict[str, tuple[int, int]] = {}  # home -> (thread id, depth) for locks this process holds


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the writer lock."""

    command: str
    pid: int
    started_at: str
    host: str = ""

    def describe(self) -> str:
        """The holder in words for a waiting or refused command: the command, its pid and start time."""
        return f"`fvi {self.command}` (pid {self.pid}, started {self.started_at})"


def _say_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_holder(home: Path) -> Holder | None:
    """The recorded holder of ``home``'s lock, or None (no record, or an unreadable one)."""
    try:
        doc = json.loads((home / HOLDER_FILE).read_text())
        return Holder(str(doc["command"]), int(doc["pid"]), str(doc["started_at"]), str(doc.get("host", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _write_holder(home: Path, holder: Holder) -> None:
    tmp = home / f".{HOLDER_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(holder)))
    os.replace(tmp, home / HOLDER_FILE)


def _stale(holder: Holder | None) -> bool:
    return holder is not None and holder.host in ("", socket.gethostname()) and not pid_alive(holder.pid)


@contextlib.contextmanager
def writer_lock(
    home: Path,
    *,
    command: str,
    timeout: float = 1800.0,
    wait: bool = True,
    say: Say | None = None,
) -> Iterator[Holder]:
    """Hold FVI_HOME's writer lock for the block; raise :class:`WriterBusy` if it cannot be had."""
    say = say or _say_stderr
    home = Path(home).expanduser().resolve()
    key, me = str(home), threading.get_ident()
    with _guard:
        owner = _held.get(key)
        if owner is not None and owner[0] == me:
            _held[key] = (me, owner[1] + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield read_holder(home) or Holder(command, os.getpid(), "")
        finally:
            with _guard:
                tid, depth = _held[key]
                _held[key] = (tid, depth - 1)
        return

    home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(home / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_holder(home)
        who = holder.describe() if holder else "another fvi process"
        if _stale(holder):
            who += ", whose process has ended while a process it started still holds the lock"
        if not wait:
            raise WriterBusy(
                f"FVI_HOME {home} is being written by {who}; refused (--no-wait). "
                "Run again when it has finished."
            ) from None
        say(f"waiting up to {timeout:.0f} s for {who} to finish writing FVI_HOME {home} (--no-wait refuses)")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            holder = read_holder(home)
            who = holder.describe() if holder else "another fvi process"
            raise WriterBusy(
                f"FVI_HOME {home} is still being written by {who} after {timeout:.0f} s "
                "(FVI_LOCK_TIMEOUT); nothing was changed."
            ) from None
    try:
        previous = read_holder(home)
        if previous is not None:
            state = "is no longer running" if not pid_alive(previous.pid) else "did not clear its record"
            say(f"cleared a stale writer lock of {previous.describe()}, which {state}")
        holder = Holder(
            command=command,
            pid=os.getpid(),
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            host=socket.gethostname(),
        )
        _write_holder(home, holder)
        with _guard:
            _held[key] = (me, 1)
        try:
            yield holder
        finally:
            with _guard:
                _held.pop(key, None)
            with contextlib.suppress(OSError):
                (home / HOLDER_FILE).unlink()
    finally:
        lock.release()


def writer_lock_for(
    settings: Settings, command: str, *, no_wait: bool = False, say: Say | None = None
) -> contextlib.AbstractContextManager[Holder]:
    """:func:`writer_lock` on ``settings.home_abs`` with FVI_LOCK_TIMEOUT and FVI_LOCK_NO_WAIT."""
    return writer_lock(
        settings.home_abs,
        command=command,
        timeout=settings.lock_timeout,
        wait=not (no_wait or settings.lock_no_wait),
        say=say,
    )


def locked(command: str) -> Callable[[F], F]:
    """Decorate a writer ``func(settings, ...)``: it runs holding :func:`writer_lock_for` (re-entrant)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(settings: Settings, *args: Any, **kwargs: Any) -> Any:
            say = kwargs.get("say")
            with writer_lock_for(settings, command, say=say if callable(say) else None):
                return func(settings, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
