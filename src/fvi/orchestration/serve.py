"""``fvi orchestrate``: the Dagster webserver and daemon on this machine, sharing one instance under FVI_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fvi.settings import Settings

MODULE = "fvi.orchestration.definitions"
INSTANCE_YAML = """# Written by `fvi orchestrate`: one run at a time (the pipeline has one writer), no telemetry.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def dagster_home(settings: Settings) -> Path:
    """``FVI_HOME/dagster`` with its ``dagster.yaml`` (run history, event logs, compute logs live here)."""
    home = settings.home_abs / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != INSTANCE_YAML:
        config.write_text(INSTANCE_YAML)
    return home


def commands(host: str, port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "webserver": [str(bin_dir / "dagster-webserver"), "-h", host, "-p", str(port), "-m", MODULE],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-m", MODULE],
    }


def orchestrate(settings: Settings, host: str = "127.0.0.1", port: int = 3000, say=print) -> int:  # noqa: ANN001
    """Run both until Ctrl-C or until one exits; return that exit code (0 on Ctrl-C)."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(settings))}
    procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands(host, port).items()}
    say(f"Dagster UI on http://{host}:{port} (instance {env['DAGSTER_HOME']}); daemon running. Ctrl-C stops both.")
    code = 0
    try:
        while True:
            for name, proc in procs.items():
                rc = proc.poll()
                if rc is not None:
                    say(f"dagster {name} exited with {rc}; stopping")
                    code = rc or 1
                    raise StopIteration
            time.sleep(1.0)
    except (KeyboardInterrupt, StopIteration):
        pass
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return code
