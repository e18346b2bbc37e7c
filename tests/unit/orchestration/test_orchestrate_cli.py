"""`fvi orchestrate`: its Dagster instance lives under FVI_HOME and runs one pipeline run at a time."""

from __future__ import annotations

from pathlib import Path

import yaml

from fvi.orchestration.serve import MODULE, commands, dagster_home
from fvi.settings import get_settings


def test_instance_under_fvi_home_one_run_at_a_time(fvi_home: Path) -> None:
    home = dagster_home(get_settings())
    assert home == fvi_home.resolve() / "dagster"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    assert config["telemetry"]["enabled"] is False


def test_webserver_and_daemon_load_the_same_code_location() -> None:
    cmds = commands("127.0.0.1", 3123)
    assert Path(cmds["webserver"][0]).name == "dagster-webserver" and Path(cmds["webserver"][0]).exists()
    assert Path(cmds["daemon"][0]).name == "dagster-daemon" and Path(cmds["daemon"][0]).exists()
    assert cmds["webserver"][-2:] == ["-m", MODULE] and cmds["daemon"][-2:] == ["-m", MODULE]
    assert cmds["webserver"][1:5] == ["-h", "127.0.0.1", "-p", "3123"]
    workspace = yaml.safe_load((Path(__file__).parents[3] / "deploy" / "dagster" / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == MODULE

