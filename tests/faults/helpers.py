"""Helpers for the fault suite: the real ``fvi`` console script in a subprocess, a lock holder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

FVI = Path(sys.executable).with_name("fvi")


@dataclass
class Done:
    rc: int
    out: str
    err: str
    seconds: float


def fvi_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    # the chat's embedding step is not what these tests break: keep each run bounded
    env.update({"FVI_HOME": str(home), "FVI_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE",
                "FVI_CHAT_DOCS_IN_RUN": "false", **extra})
    return env


def start_fvi(home: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(FVI), *args], env=fvi_env(home, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_fvi(home: Path, *args: str, timeout: float = 120, **extra: str) -> Done:
    """Run ``fvi ARGS`` as a user would (the installed console script), with FVI_HOME=home."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(FVI), *args], env=fvi_env(home, **extra), capture_output=True, text=True, timeout=timeout
    )
    return Done(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


HOLDER = """
import sys, time
from pathlib import Path
from fvi.lock import writer_lock
with writer_lock(Path(sys.argv[1]), command=sys.argv[2]):
    print("held", flush=True)
    if sys.argv[3] == "stdin":
        sys.stdin.readline()  # released when the test says so
    else:
        time.sleep(float(sys.argv[3]))
"""


def hold_lock(home: Path, command: str = "score", seconds: float | None = 120) -> subprocess.Popen[str]:
    """A process holding ``home``'s writer lock as ``command`` would; returns once it holds it.

    ``seconds=None``: it holds the lock until a line is written to its stdin, then releases it.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), command, "stdin" if seconds is None else str(seconds)],
        stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=fvi_env(home),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "held", f"lock holder did not start: {line!r}"
    return proc
