"""deploy/: the compose file parsed by a real compose implementation, the Dockerfile linted, .env.example complete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.unit.deploy.tools import DEPLOY, REPO, tool

from fvi.settings import env_names

SERVICES = {
    "postgres",
    "redis",
    "mlflow",
    "api",
    "dagster-webserver",
    "dagster-daemon",
    "prometheus",
    "grafana",
    "jaeger",
}
SECRETS = {"POSTGRES_PASSWORD": "pg-secret-1", "GRAFANA_ADMIN_PASSWORD": "gf-secret-2"}


def env_example() -> dict[str, str]:
    """The settings .env.example sets, and those it lists commented out (``# NAME=value``)."""
    out: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            out.setdefault(m.group(1), m.group(2))
    return out


def set_values() -> dict[str, str]:
    return {
        m.group(1): m.group(2)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if (m := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line))
    }


def mounts(svc: dict) -> list[tuple[str, str, str]]:
    """(kind, source, target) of a service's volumes, short (``src:dst:mode``) or long syntax."""
    out = []
    for vol in svc.get("volumes", []):
        if isinstance(vol, dict):
            out.append((vol["type"], vol["source"], vol["target"]))
        else:
            src, dst = vol.split(":")[:2]
            out.append(("bind" if src.startswith(("/", ".")) else "volume", src, dst))
    return out


def compose_config(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` on a copy of deploy/ whose .env is ``env_text`` (no daemon involved)."""
    work = tmp_path / "repo"
    shutil.copytree(DEPLOY, work / "deploy")
    (work / "deploy" / ".env").write_text(env_text)
    return subprocess.run(
        [tool("docker-compose"), "-f", "compose.yaml", "config"],
        cwd=work / "deploy",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    values = set_values() | SECRETS
    text = "".join(f"{k}={v}\n" for k, v in values.items())
    proc = compose_config(tmp_path_factory.mktemp("compose"), text)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_every_service_is_there_with_a_health_check(config: dict) -> None:
    services = config["services"]
    assert set(services) == SERVICES
    for name, svc in services.items():
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_start_order_waits_for_health(config: dict) -> None:
    services = config["services"]
    api = services["api"]["depends_on"]
    for dep in ("postgres", "redis", "mlflow"):
        assert api[dep]["condition"] == "service_healthy"
    assert services["dagster-daemon"]["depends_on"]["dagster-webserver"]["condition"] == "service_healthy"
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    # every dependency names a service of the stack
    for svc in services.values():
        assert set(svc.get("depends_on", {})) <= SERVICES


def test_named_volumes_hold_the_state(config: dict) -> None:
    declared = set(config["volumes"])
    used: dict[str, set[str]] = {}
    for name, svc in config["services"].items():
        for kind, source, _ in mounts(svc):
            if kind == "volume":
                used.setdefault(source, set()).add(name)
    assert set(used) == declared
    assert used["pgdata"] == {"postgres"} and used["prometheus-data"] == {"prometheus"}
    # the API and both Dagster processes share one FVI_HOME (models, runs) and Dagster one run history
    assert used["fvi-home"] == {"api", "dagster-webserver", "dagster-daemon"}
    assert used["dagster-home"] == {"dagster-webserver", "dagster-daemon"}


def test_the_server_profile_is_wired_to_the_stack(config: dict) -> None:
    services = config["services"]
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    api = services["api"]
    env = api["environment"]
    assert env["FVI_WAREHOUSE_URL"] == f"postgresql://fvi:{SECRETS['POSTGRES_PASSWORD']}@postgres:5432/fvi"
    assert env["FVI_CACHE_URL"].startswith("redis://redis:6379/")
    assert env["FVI_ONLINE_STORE_URL"].startswith("redis://redis:6379/")
    assert env["FVI_CACHE_URL"] != env["FVI_ONLINE_STORE_URL"]
    assert env["FVI_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    workers = api["command"][api["command"].index("--workers") + 1]
    assert int(workers) > 1
    # the settings from the env file reach the containers
    assert env["FVI_SCHEDULE_CRON"] == "0 2 * * *" and env["FVI_API_RATE_PER_MINUTE"] == "300"
    # the configs each service mounts exist in the repository
    binds = 0
    for name, svc in services.items():
        for kind, source, _ in mounts(svc):
            if kind == "bind":
                binds += 1
                assert Path(source).exists(), (name, source)  # resolved inside the copy of deploy/
    assert binds >= 5


def test_a_missing_secret_stops_the_stack_and_names_it(tmp_path: Path) -> None:
    values = set_values() | SECRETS
    del values["POSTGRES_PASSWORD"]
    proc = compose_config(tmp_path, "".join(f"{k}={v}\n" for k, v in values.items()))
    assert proc.returncode != 0
    assert "POSTGRES_PASSWORD" in proc.stderr


def test_env_example_lists_every_setting() -> None:
    listed = set(env_example())
    names = {name for name, _ in env_names()}  # every group of the one Settings, aliases honoured
    assert {"FVI_HOME", "FVI_API_RATE_PER_MINUTE", "FVI_SERVING_REFRESH_SECONDS"} <= names
    for name in names:
        assert name in listed, f"{name} missing from deploy/.env.example"
    # and nothing in it that no service reads
    known = names
    compose_text = (DEPLOY / "compose.yaml").read_text()
    for name in listed - known:
        assert name.startswith("OTEL_") or name in ("FVI_PG_PASSWORD", "FVI_DBT_PROJECT_DIR", "COMPOSE_PROJECT_NAME") \
            or f"${{{name}" in compose_text, f"{name} in .env.example is read by nothing"
    assert not any(set_values()[k] for k in SECRETS), "secrets in .env.example must be blank"
    assert "deploy/.env" in (REPO / ".gitignore").read_text().splitlines()
    assert "deploy/.env" in (REPO / ".dockerignore").read_text().splitlines()


def test_dockerfile_passes_hadolint() -> None:
    proc = subprocess.run(
        [tool("hadolint"), "--format", "json", str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    findings = json.loads(proc.stdout or "[]")
    assert findings == [] and proc.returncode == 0, findings


def test_dockerfile_is_multi_stage_non_root_with_health_check() -> None:
    lines = [ln.strip() for ln in (DEPLOY / "Dockerfile").read_text().splitlines()]
    stages = [ln.split()[-1] for ln in lines if ln.startswith("FROM ")]
    assert stages == ["web", "build", "runtime"]
    final = lines[max(i for i, ln in enumerate(lines) if ln.startswith("FROM ")):]
    user = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    assert user and user[-1] not in ("root", "0", "0:0")
    assert any(ln.startswith("HEALTHCHECK") for ln in final)
    assert any("/health" in ln for ln in final)
    assert any(ln.startswith("COPY --from=build") for ln in final)
    assert any(ln.startswith("COPY --from=web") for ln in final)
    assert not any(re.match(r"^(RUN .*(gcc|build-essential))", ln) for ln in final)
