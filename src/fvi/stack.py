"""``fvi stack up|down|status``: the server profile from local services, for a machine without Docker.

The same processes as ``deploy/compose.yaml``, from local packages: PostgreSQL (the warehouse) and
Redis (API cache, Feast online store) are used where they already run, or started (the Debian
cluster through ``pg_ctlcluster``, a ``redis-server`` of our own); then the MLflow tracking server,
the API (``fvi serve``), Dagster (``fvi orchestrate``: webserver and daemon) and Prometheus (scraping
the API, with the alert rules of ``deploy/prometheus/alerts.yml``).

Everything the stack writes lives under ``FVI_HOME/stack``: ``stack.env`` (the server-profile
settings every process gets; ``set -a; . FVI_HOME/stack/stack.env`` before ``fvi run`` builds into the
same warehouse), ``<service>.pid`` and ``<service>.log`` of each process it started, the MLflow store,
and Prometheus's config and data. ``down`` stops exactly the processes whose pid files it wrote (their
whole process group) and nothing else; PostgreSQL is left running unless ``up`` started it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from fvi.settings import Settings

Say = Callable[[str], None]

DEFAULT_WAREHOUSE_URL = "postgresql://postgres@127.0.0.1:5432/fvi"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
SERVICES = ("postgres", "redis", "mlflow", "api", "dagster", "prometheus")
STARTED_PG = "postgres.started"  # marks a cluster `up` started (so `down` stops it again)


@dataclass(frozen=True)
class Ports:
    """Host ports of the services the stack starts (PostgreSQL and Redis come from their URLs)."""

    api: int = 8000
    mlflow: int = 5000
    dagster: int = 3000
    prometheus: int = 9090

    @classmethod
    def from_base(cls, base: int) -> Ports:
        """Four consecutive ports from ``base``: API, MLflow, Dagster, Prometheus."""
        return cls(api=base, mlflow=base + 1, dagster=base + 2, prometheus=base + 3)


@dataclass(frozen=True)
class Service:
    """A process the stack starts: how, where it listens, and the URL that says it is up."""

    name: str
    argv: list[str]
    port: int
    health_url: str
    env: dict[str, str] = field(default_factory=dict)  # beside the stack's settings, for this process only


@dataclass(frozen=True)
class StackPlan:
    """What ``up`` will do: the settings every process gets and the processes, in start order."""

    root: Path
    env: dict[str, str]
    warehouse_url: str
    redis_url: str
    services: list[Service] = field(default_factory=list)
    prometheus_config: str = ""

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)


def repo_deploy_dir() -> Path | None:
    """``deploy/`` of the checkout this package runs from (an editable install), if present."""
    candidate = Path(__file__).resolve().parents[2] / "deploy"
    return candidate if (candidate / "prometheus" / "alerts.yml").exists() else None


def _bin(name: str) -> str:
    """A console script of this environment, else the one on PATH, else the bare name (reported at ``up``)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def prometheus_config(api_port: int, prometheus_port: int, rules: Path | None) -> str:
    """The stack's Prometheus config: ``deploy/prometheus/prometheus.yml`` with local targets."""
    lines = [
        "# Written by `fvi stack up` from deploy/prometheus/prometheus.yml, with this machine's targets.",
        "global:",
        "  scrape_interval: 15s",
        "  evaluation_interval: 15s",
        "  external_labels:",
        "    stack: fvi-local",
    ]
    if rules is not None:
        lines += ["rule_files:", f"  - {rules}"]
    lines += [
        "scrape_configs:",
        "  - job_name: fvi-api",
        "    metrics_path: /metrics",
        "    static_configs:",
        f'      - targets: ["127.0.0.1:{api_port}"]',
        "  - job_name: prometheus",
        "    static_configs:",
        f'      - targets: ["127.0.0.1:{prometheus_port}"]',
    ]
    return "\n".join(lines) + "\n"


def plan(
    settings: Settings,
    *,
    ports: Ports | None = None,
    warehouse_url: str | None = None,
    redis_url: str | None = None,
    workers: int = 2,
    skip: tuple[str, ...] = (),
) -> StackPlan:
    """The stack for ``settings.home``: URLs from the arguments, else the settings, else the defaults."""
    ports = ports or Ports()
    unknown = set(skip) - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown service(s) {sorted(unknown)}; the stack has {', '.join(SERVICES)}")
    root = settings.home_abs / "stack"
    wh = warehouse_url or (settings.warehouse_url if settings.is_postgres else None) or DEFAULT_WAREHOUSE_URL
    redis = (redis_url or settings.cache_url or DEFAULT_REDIS_URL).rstrip("/")
    base, _, db = redis.rpartition("/")
    redis, cache_db = (base, int(db)) if db.isdigit() and base.startswith("redis") else (redis, 0)
    env = {
        "FVI_HOME": str(settings.home_abs),
        "FVI_WAREHOUSE_URL": wh,
        "FVI_CACHE_URL": f"{redis}/{cache_db}",  # as in compose: the API cache in one database,
        "FVI_ONLINE_STORE_URL": settings.online_store_url or f"{redis}/{cache_db + 1}",  # Feast's in the next
        "FVI_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{ports.mlflow}",
        "DAGSTER_HOME": str(settings.home_abs / "dagster"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if settings.spark_master:  # as in compose: Spark only where the operator names a master
        env["FVI_SPARK_MASTER"] = settings.spark_master
    deploy = repo_deploy_dir()
    services = [
        Service(
            "mlflow",
            [_bin("mlflow"), "server", "--host", "127.0.0.1", "--port", str(ports.mlflow), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{root / 'mlflow' / 'mlflow.db'}",
             "--artifacts-destination", str(root / "mlflow" / "artifacts")],
            ports.mlflow,
            f"http://127.0.0.1:{ports.mlflow}/health",
            # MLflow 3's job runner (GenAI evaluation jobs; nothing here uses them) is seven more processes
            {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        ),
        Service(
            "api",
            [_bin("fvi"), "serve", "--host", "127.0.0.1", "--port", str(ports.api), "--workers", str(workers)],
            ports.api,
            f"http://127.0.0.1:{ports.api}/health",
        ),
        Service(
            "dagster",
            [_bin("fvi"), "orchestrate", "--host", "127.0.0.1", "--port", str(ports.dagster)],
            ports.dagster,
            f"http://127.0.0.1:{ports.dagster}/server_info",
        ),
        Service(
            "prometheus",
            [_bin("prometheus"), f"--config.file={root / 'prometheus.yml'}",
             f"--storage.tsdb.path={root / 'prometheus-data'}",
             f"--web.listen-address=127.0.0.1:{ports.prometheus}"],
            ports.prometheus,
            f"http://127.0.0.1:{ports.prometheus}/-/ready",
        ),
    ]
    rules = deploy / "prometheus" / "alerts.yml" if deploy else None
    return StackPlan(
        root=root,
        env=env,
        warehouse_url=wh,
        redis_url=redis,
        services=[s for s in services if s.name not in skip],
        prometheus_config=prometheus_config(ports.api, ports.prometheus, rules) if "prometheus" not in skip else "",
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL and Redis: used where they run, started where they do not


def _pg_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(_admin_url(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl()


def ensure_postgres(stack: StackPlan, say: Say) -> None:
    """Reach the warehouse's server (start the local Debian cluster if it is down) and create its database."""
    import psycopg

    url = stack.warehouse_url
    if not _pg_reachable(url):
        host = urlsplit(url).hostname or "127.0.0.1"
        ctl = shutil.which("pg_ctlcluster")
        clusters = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").is_dir() else []
        if host not in ("127.0.0.1", "localhost", "::1") or not ctl or not clusters:
            raise RuntimeError(f"PostgreSQL at {host} is not reachable and cannot be started here (FVI_WAREHOUSE_URL)")
        version = clusters[-1].parent.name
        subprocess.run([ctl, "--skip-systemctl-redirect", version, "main", "start"], check=True)
        (stack.root / STARTED_PG).write_text(version)
        for _ in range(60):
            if _pg_reachable(url):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"PostgreSQL {version} was started but does not accept connections")
        say(f"postgres: started cluster {version}/main")
    name = urlsplit(url).path.lstrip("/") or "postgres"
    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as con:
        if not con.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            con.execute(f'create database "{name}"')
            say(f"postgres: created database {name}")
    say(f"postgres: up ({_redact(url)})")


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(f"{url}/0", socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_service(stack: StackPlan) -> Service | None:
    """A ``redis-server`` of the stack's own when nothing answers at the Redis URL (local hosts only)."""
    if _redis_ping(stack.redis_url):
        return None
    parts = urlsplit(stack.redis_url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise RuntimeError(f"Redis at {parts.hostname} is not reachable (FVI_CACHE_URL)")
    port = parts.port or 6379
    argv = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port),
            "--save", "", "--appendonly", "no", "--dir", str(stack.root)]
    return Service("redis", argv, port, "")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


# ---------------------------------------------------------------------------------------------
# Processes


def pid_file(stack: StackPlan, name: str) -> Path:
    return stack.root / f"{name}.pid"


def running_pid(stack: StackPlan, name: str) -> int | None:
    """The pid the stack recorded for ``name`` when that process still runs."""
    from fvi.lock import pid_alive

    try:
        pid = int(pid_file(stack, name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(service: Service, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{service.name} exited with {proc.returncode} at start-up; log {log}:\n{tail}")
        up = _redis_ping(f"redis://127.0.0.1:{service.port}") if service.name == "redis" else _answers(
            service.health_url)
        if up:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not answer {service.health_url or service.port} in {timeout:.0f} s"
                               f" (log {log})")
        time.sleep(0.5)


def _start(stack: StackPlan, service: Service, timeout: float, say: Say) -> None:
    if running_pid(stack, service.name):
        say(f"{service.name}: already running (pid {running_pid(stack, service.name)})")
        return
    if not Path(service.argv[0]).exists() and not shutil.which(service.argv[0]):
        raise RuntimeError(f"{service.name}: {service.argv[0]} is not installed (make setup / make services)")
    log = stack.root / f"{service.name}.log"
    env = {**os.environ, **stack.env, **service.env}
    with log.open("ab") as out:
        proc = subprocess.Popen(service.argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=stack.root)
    pid_file(stack, service.name).write_text(str(proc.pid))
    try:
        _wait(service, proc, log, timeout)
    except BaseException:
        _stop_pid(proc.pid)
        pid_file(stack, service.name).unlink(missing_ok=True)
        raise
    where = f"http://127.0.0.1:{service.port}" if service.health_url else f"port {service.port}"
    say(f"{service.name}: up on {where} (pid {proc.pid}, log {log})")


def _stop_pid(pid: int, grace: float = 20.0) -> None:
    from fvi.lock import pid_alive

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def write_files(stack: StackPlan) -> None:
    """``stack.env`` and Prometheus's config under ``FVI_HOME/stack``."""
    stack.root.mkdir(parents=True, exist_ok=True)
    (stack.root / "mlflow").mkdir(exist_ok=True)
    lines = ["# The server-profile settings of `fvi stack up`: `set -a; . this-file; set +a` then `fvi run`."]
    lines += [f"{k}={v}" for k, v in stack.env.items()]
    (stack.root / "stack.env").write_text("\n".join(lines) + "\n")
    if stack.prometheus_config:
        (stack.root / "prometheus.yml").write_text(stack.prometheus_config)


def up(stack: StackPlan, *, say: Say = print, timeout: float = 180.0) -> None:
    """Start every service in order, each answering before the next starts; on failure stop what started."""
    write_files(stack)
    started: list[str] = []
    try:
        ensure_postgres(stack, say)
        extra = redis_service(stack)
        services = ([extra] if extra else []) + stack.services
        if extra is None:
            say(f"redis: up ({stack.redis_url})")
        for service in services:
            fresh = not running_pid(stack, service.name)
            _start(stack, service, timeout, say)
            if fresh:
                started.append(service.name)
    except BaseException:
        for name in reversed(started):
            pid = running_pid(stack, name)
            if pid:
                _stop_pid(pid)
            pid_file(stack, name).unlink(missing_ok=True)
        raise
    api = next((s for s in stack.services if s.name == "api"), None)
    if api is not None:
        ready = _ready_detail(f"http://127.0.0.1:{api.port}/ready")
        say(f"api /ready: {ready}")
    say(f"settings: {stack.root / 'stack.env'} (`set -a; . {stack.root / 'stack.env'}; set +a; fvi run` builds)")


def _ready_detail(url: str) -> str:
    import httpx

    try:
        r = httpx.get(url, timeout=10)
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"
    if r.status_code == 200:
        return "ready"
    try:
        return f"{r.status_code}: {r.json().get('detail', '')}"
    except ValueError:
        return str(r.status_code)


def down(stack: StackPlan, *, say: Say = print) -> list[str]:
    """Stop the processes ``up`` started (by their recorded pids); return their names."""
    stopped = []
    for name in reversed(("redis", *SERVICES)):
        pid = running_pid(stack, name)
        if pid:
            _stop_pid(pid)
            stopped.append(name)
            say(f"{name}: stopped (pid {pid})")
        pid_file(stack, name).unlink(missing_ok=True)
    marker = stack.root / STARTED_PG
    if marker.exists():
        version = marker.read_text().strip()
        ctl = shutil.which("pg_ctlcluster")
        if ctl:
            subprocess.run([ctl, "--skip-systemctl-redirect", version, "main", "stop"], check=False)
            stopped.append("postgres")
            say(f"postgres: stopped cluster {version}/main (started by `fvi stack up`)")
        marker.unlink()
    if not stopped:
        say("nothing of the stack was running")
    return stopped


def status(stack: StackPlan) -> dict[str, str]:
    """Each service: ``up`` (its health URL answers), ``running`` (process only) or ``stopped``."""
    out: dict[str, str] = {"postgres": "up" if _pg_reachable(stack.warehouse_url) else "down",
                           "redis": "up" if _redis_ping(stack.redis_url) else "down"}
    for service in stack.services:
        pid = running_pid(stack, service.name)
        if pid is None:
            out[service.name] = "stopped"
        else:
            out[service.name] = "up" if _answers(service.health_url) else f"running (pid {pid}), not answering"
    return out
