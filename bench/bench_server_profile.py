"""Benchmark (issue 14): the whole pipeline in the server profile beside the embedded default.

One `run_pipeline` (ingest, dbt, scores, weights, training, the Bayesian model, back-test, publish) on
the data directory, each in a fresh FVI_HOME:

- embedded: DuckDB under FVI_HOME, the in-process cache, MLflow's SQLite store;
- server: a scratch PostgreSQL database (created, then dropped), Redis for the cache, and an MLflow
  tracking server started by `fvi stack` (stopped afterwards).

Prints the seconds per step of both and the load average before and after each (the machine is shared).
Usage: .venv/bin/python bench/bench_server_profile.py [--data-dir ../shared/data] [--only embedded|server]
       [--redis redis://127.0.0.1:6379/13] [--mlflow-port 8631] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' helpers: one way to set FVI_* for a block and make a scratch database

from tests.integration.helpers import env as settings_for  # noqa: E402
from tests.integration.helpers import scratch_database as scratch_db  # noqa: E402


def timed(settings: object, data_dir: Path) -> dict[str, object]:
    from fvi.pipeline import run_pipeline

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    report = run_pipeline(settings, data_dir=data_dir, say=lambda _m: None)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    return {
        "wall_s": round(wall, 1),
        "steps_s": {k: v for k, v in report.seconds.items() if k != "total"},
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }


def embedded(data_dir: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fvi-bench-emb-") as home, settings_for(
        FVI_HOME=home, FVI_WAREHOUSE_URL=None, FVI_CACHE_URL=None, FVI_MLFLOW_TRACKING_URI=None,
        FVI_SPARK_MASTER=None, FVI_DATA_DIR=None,
    ) as settings:
        return timed(settings, data_dir)


def server(data_dir: Path, redis: str, mlflow_port: int) -> dict[str, object]:
    from fvi.stack import Ports, down, plan, up

    with tempfile.TemporaryDirectory(prefix="fvi-bench-srv-") as home, scratch_db() as url, settings_for(
        FVI_HOME=home, FVI_WAREHOUSE_URL=url, FVI_CACHE_URL=redis, FVI_ONLINE_STORE_URL=redis,
        FVI_MLFLOW_TRACKING_URI=None, FVI_SPARK_MASTER=None, FVI_DATA_DIR=None,
    ) as settings:
        stack = plan(settings, ports=Ports(mlflow=mlflow_port), skip=("api", "dagster", "prometheus"))  # type: ignore[arg-type]
        up(stack, say=print, timeout=600)
        try:
            with settings_for(**stack.env) as profile:
                return timed(profile, data_dir)
        finally:
            down(stack, say=print)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("FVI_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--only", choices=("embedded", "server"))
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    ap.add_argument("--mlflow-port", type=int, default=8631)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    data = args.data_dir.resolve()
    results: dict[str, object] = {"data_dir": str(data), "cpus": os.cpu_count()}
    if args.only in (None, "embedded"):
        results["embedded"] = embedded(data)
        print("embedded", json.dumps(results["embedded"]))
    if args.only in (None, "server"):
        results["server"] = server(data, args.redis, args.mlflow_port)
        print("server", json.dumps(results["server"]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
