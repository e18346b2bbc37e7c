"""deploy/prometheus: promtool accepts the config and the rules, and the rules' unit tests pass."""

from __future__ import annotations

import re
import subprocess

from tests.unit.deploy.tools import DEPLOY, REPO, tool

PROM = DEPLOY / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], cwd=PROM, capture_output=True, text=True, timeout=120)


def test_promtool_checks_config_and_rules() -> None:
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml")):
        proc = promtool(*args)
        assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


def test_alert_rules_fire_on_the_series_that_should_raise_them() -> None:
    proc = promtool("test", "rules", "alerts_test.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_alert_is_tested_and_documented() -> None:
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", (PROM / "alerts.yml").read_text(), re.M))
    assert len(alerts) >= 10
    tested = set(re.findall(r"alertname: (\w+)", (PROM / "alerts_test.yml").read_text()))
    assert alerts <= tested, alerts - tested
    ops = (REPO / "docs" / "operations.md").read_text()
    missing = [a for a in sorted(alerts) if f"### {a}" not in ops]
    assert not missing, f"docs/operations.md has no section for {missing}"
