"""The server profile end to end on the demo world, with the ML steps, from `fvi stack`'s local services.

`fvi stack` starts an MLflow tracking server; a whole `fvi run` (ingest, dbt, scores, weights, training,
the Bayesian model, back-test, publish) writes its warehouse into a scratch PostgreSQL database, its
weights into Redis and its model runs into that server; then the stack starts the API (two workers) and
Prometheus, the API is ready on that build and predicts what the gold table holds, and `fvi stack down`
stops every process it started.
"""

from __future__ import annotations

import time

import httpx
import mlflow
import pytest
from tests.integration.helpers import env, scratch_database
from tests.servers import free_port

from fvi.cache import RedisCache
from fvi.demo import write_demo_data
from fvi.lock import pid_alive
from fvi.pipeline import run_pipeline
from fvi.stack import Ports, down, plan, running_pid, status, up
from fvi.warehouse import PostgresWarehouse
from fvi.weights.store import cached_weights

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
REDIS = "redis://127.0.0.1:6379/6"  # the API cache; the stack puts Feast's online store in the next one
GOLD = ("fvi_scores", "fvi_metric_scores", "fvi_weights_history", "fvi_predictions", "fvi_backtest_oof",
        "fvi_explanations", "fvi_predictions_bayes", "fvi_bayes_diagnostics", "fvi_backtest", "fvi_probabilities")


def scrape_health(prometheus_port: int, instance: str, timeout: float = 120.0) -> str:
    """The target's health once Prometheus has scraped it (it finds its targets a moment after it is ready)."""
    deadline = time.monotonic() + timeout
    health = "not a target"
    while time.monotonic() < deadline:
        targets = httpx.get(f"http://127.0.0.1:{prometheus_port}/api/v1/targets", timeout=30).json()
        health = next((t["health"] for t in targets["data"]["activeTargets"]
                       if t["labels"]["instance"] == instance), "not a target")
        if health not in ("not a target", "unknown"):
            return health
        time.sleep(1)
    return health


def test_whole_pipeline_with_ml_on_postgres_redis_and_mlflow_server_then_the_api_predicts(tmp_path) -> None:
    data = tmp_path / "data"
    write_demo_data(data)  # the demo world: the smallest that passes the synthetic row floors of the dbt tests
    ports = Ports(api=free_port(), mlflow=free_port(), dagster=free_port(), prometheus=free_port())
    with scratch_database() as url, env(
        FVI_HOME=str(tmp_path / "home"), FVI_WAREHOUSE_URL=url, FVI_CACHE_URL=REDIS, FVI_ONLINE_STORE_URL=None,
        FVI_MLFLOW_TRACKING_URI=None, FVI_SPARK_MASTER=None, FVI_DATA_DIR=None, FVI_OFFLINE="true",
        FVI_API_WARM_WHATIF="false",
    ) as settings:
        stack = plan(settings, ports=ports, workers=2, skip=("dagster",))  # Dagster: its own test, in-process
        tracking = plan(settings, ports=ports, skip=("api", "dagster", "prometheus"))
        said: list[str] = []
        try:
            up(tracking, say=said.append, timeout=300)
            with env(**stack.env) as server:  # the settings every process of the stack gets
                assert server.is_postgres and server.mlflow_tracking_uri == f"http://127.0.0.1:{ports.mlflow}"
                report = run_pipeline(server, data_dir=data, say=said.append)
            assert report.built and report.error is None and report.plan.synthetic
            assert {"train", "bayes", "backtest"} <= set(report.steps)
            for name in ("train", "bayes", "backtest"):
                assert not report.steps[name]["checks"], (name, report.steps[name]["checks"])

            with PostgresWarehouse(url) as wh:
                for table in GOLD:
                    n = wh.query(f"select count(*) from gold.{table}").iloc[0, 0]
                    assert n > 0, table
                assert wh.query("select bool_and(is_synthetic) from gold.fvi_scores").iloc[0, 0]
                assert set(wh.query("select distinct run_id from gold.fvi_predictions_bayes")["run_id"]) == {
                    report.run_id}
                mlflow_runs = wh.query("select distinct mlflow_run_id from gold.fvi_predictions "
                                       "where mlflow_run_id is not null")["mlflow_run_id"].tolist()
                assert not [x for x in wh.schemas() if "__stg_" in x or x.endswith("__old")]
                row = wh.query(
                    "select entity_id, horizon, p from gold.fvi_predictions p where entity_type = 'mine' "
                    "and model_name = 'fvi_mine_h5' and as_of_year = (select max(as_of_year) from "
                    "gold.fvi_predictions q where q.entity_type = 'mine' and q.model_name = 'fvi_mine_h5') "
                    "order by entity_id limit 1"
                ).iloc[0]
            assert cached_weights(RedisCache(REDIS, "fvi")) is not None  # published to the shared cache

            # the runs and champions are on the tracking server, not in a local store
            client = mlflow.MlflowClient(tracking_uri=server.mlflow_tracking_uri,
                                         registry_uri=server.mlflow_tracking_uri)
            assert client.get_model_version_by_alias("fvi_mine_h5", "champion").version
            assert mlflow_runs and all(client.get_run(r).info.status == "FINISHED" for r in mlflow_runs)
            assert not (settings.home_abs / "mlflow" / "mlflow.db").exists()

            up(stack, say=said.append, timeout=300)  # MLflow already runs: the API and Prometheus start
            assert sum("mlflow: already running" in m for m in said) == 1
            assert set(status(stack).values()) == {"up"}, status(stack)
            base = f"http://127.0.0.1:{ports.api}"
            ready = httpx.get(f"{base}/ready", timeout=30).json()
            assert ready["ready"], ready
            assert ready["checks"]["warehouse"]["detail"] == f"build postgres:{report.run_id}"
            assert ready["checks"]["cache"]["detail"] == "redis"
            body = {"entity_type": "mine", "entity_id": row["entity_id"], "horizon": row["horizon"],
                    "variant": "champion"}
            got = httpx.post(f"{base}/v1/predict", json=body, timeout=60)
            assert got.status_code == 200, got.text
            assert got.json()["p"] == pytest.approx(float(row["p"]), abs=1e-6)
            assert scrape_health(ports.prometheus, f"127.0.0.1:{ports.api}") == "up"  # Prometheus scrapes the API
        finally:
            pids = {s.name: running_pid(stack, s.name) for s in stack.services}
            stopped = down(stack, say=said.append)
            for ns in ("fvi", "fvi-api", "fvi-pred"):
                RedisCache(REDIS, ns).clear()
        assert set(stopped) == {name for name, pid in pids.items() if pid}
        assert not [name for name, pid in pids.items() if pid and pid_alive(pid)]
