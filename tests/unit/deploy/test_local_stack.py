"""`fvi stack`: the local server profile's plan is the compose stack's, with this machine's ports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from tests.unit.deploy.tools import DEPLOY, tool

from fvi.settings import Settings, env_names
from fvi.stack import Ports, plan, write_files


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("FVI_WAREHOUSE_URL", "FVI_CACHE_URL", "FVI_ONLINE_STORE_URL", "FVI_SPARK_MASTER"):
        monkeypatch.delenv(name, raising=False)
    return Settings(home=tmp_path / "home")


def test_every_setting_the_stack_sets_is_a_real_setting_and_makes_the_server_profile(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = plan(settings, ports=Ports.from_base(8630))
    known = {name for name, _ in env_names()}
    fvi = {k for k in stack.env if k.startswith("FVI_")}
    assert fvi <= known, fvi - known
    # every setting (and DAGSTER_HOME) the compose file gives the API, the local stack gives too
    api_env = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["api"]["environment"]
    profile = {k for k in api_env if k in known} | {"DAGSTER_HOME"}
    assert {"FVI_WAREHOUSE_URL", "FVI_CACHE_URL", "FVI_MLFLOW_TRACKING_URI"} <= profile
    assert profile <= set(stack.env), profile - set(stack.env)
    for key in ("FVI_CACHE_URL", "FVI_ONLINE_STORE_URL"):  # the same Redis databases as in compose
        assert stack.env[key].rsplit("/", 1)[1] == api_env[key].rsplit("/", 1)[1]
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    loaded = Settings()
    assert loaded.is_postgres and loaded.home_abs == settings.home_abs
    assert loaded.cache_url == "redis://127.0.0.1:6379/0" and loaded.online_store_url == "redis://127.0.0.1:6379/1"
    assert loaded.mlflow_tracking_uri == f"http://127.0.0.1:{stack.service('mlflow').port}"
    assert stack.env["DAGSTER_HOME"] == str(settings.home_abs / "dagster")  # where `fvi orchestrate` keeps it


def test_ports_are_distinct_and_each_service_listens_and_answers_on_its_own(settings: Settings) -> None:
    stack = plan(settings, ports=Ports.from_base(8630))
    ports = {s.name: s.port for s in stack.services}
    assert ports == {"api": 8630, "mlflow": 8631, "dagster": 8632, "prometheus": 8633}
    for service in stack.services:
        assert f"127.0.0.1:{service.port}/" in service.health_url, service
        joined = " ".join(service.argv)
        assert str(service.port) in joined and "127.0.0.1" in joined, service  # never 0.0.0.0
        assert Path(service.argv[0]).name in {"mlflow", "fvi", "prometheus"}
    assert stack.service("api").argv[1:3] == ["serve", "--host"]
    assert stack.service("dagster").argv[1] == "orchestrate"


def test_the_prometheus_config_scrapes_the_api_with_the_alert_rules_and_promtool_accepts_it(
    settings: Settings,
) -> None:
    stack = plan(settings, ports=Ports(api=18001, mlflow=18002, dagster=18003, prometheus=18004))
    write_files(stack)
    config = yaml.safe_load((stack.root / "prometheus.yml").read_text())
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    assert targets == {"fvi-api": ["127.0.0.1:18001"], "prometheus": ["127.0.0.1:18004"]}
    assert config["rule_files"] == [str(DEPLOY / "prometheus" / "alerts.yml")]
    proc = subprocess.run([tool("promtool"), "check", "config", str(stack.root / "prometheus.yml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr
    env_file = (stack.root / "stack.env").read_text()
    assert f"FVI_WAREHOUSE_URL={stack.warehouse_url}\n" in env_file


def test_urls_come_from_the_settings_and_skip_leaves_services_out(settings: Settings) -> None:
    custom = settings.model_copy(update={"warehouse_url": "postgresql://u@127.0.0.1:5433/other",
                                         "cache_url": "redis://127.0.0.1:6380/4", "spark_master": "local[2]"})
    stack = plan(custom, skip=("dagster", "prometheus"))
    assert stack.warehouse_url == "postgresql://u@127.0.0.1:5433/other"
    assert stack.env["FVI_CACHE_URL"] == "redis://127.0.0.1:6380/4" and stack.redis_url == "redis://127.0.0.1:6380"
    assert stack.env["FVI_ONLINE_STORE_URL"] == "redis://127.0.0.1:6380/5"
    assert stack.env["FVI_SPARK_MASTER"] == "local[2]"
    assert [s.name for s in stack.services] == ["mlflow", "api"] and stack.prometheus_config == ""
    assert "FVI_SPARK_MASTER" not in plan(settings).env  # as in compose: Spark only when a master is named
    with pytest.raises(ValueError, match="unknown service"):
        plan(settings, skip=("grafana",))
