"""A real Prometheus (Debian's) scrapes a real `fvi serve`; every Grafana panel's query returns a series.

The served FVI_HOME is the prediction-service test world (tiny warehouse + tiny ONNX models) plus a
run report, a weights history and the DQ view, so every ops gauge has something to say.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.gold import write_gold
from tests.servers import free_port, stop, wait_for
from tests.unit.api.serving_world import make_home
from tests.unit.deploy.tools import DEPLOY, tool

from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration]

RUN_OK = "20260301T020000Z_cccccc"
SCRAPE = "1s"


def ops_world(home: Path) -> dict:
    """The serving world plus a good run's report, two runs of weights and DQ rows with sources."""
    make_home(home)
    report = {
        "run_id": RUN_OK,
        "input": {"kind": "local", "data_dir": "/data", "synthetic": False},
        "built": True,
        "error": None,
        "seconds": {"ingest": 3.5, "build": 20.25, "score": 4.0, "total": 30.0},
        "steps": {},
        "registry_hash": "r" * 64,
        "sources": [
            {"source_id": "gem_mines", "status": "loaded", "rows_loaded": 1200, "rows_quarantined": 3},
            {"source_id": "wdi", "status": "carried_forward", "rows_loaded": 0, "rows_quarantined": 0},
        ],
    }
    (home / "runs" / f"{RUN_OK}.json").write_text(json.dumps(report))
    weights = pd.DataFrame(
        {
            "run_id": ["r1", "r1", "r2", "r2"],
            "level": ["country"] * 4,
            "horizon": ["H10"] * 4,
            "pillar": ["01", "02", "01", "02"],
            "weight": [0.5, 0.5, 0.7, 0.3],
        }
    )
    dq = pd.DataFrame(
        {
            "metric_id": ["mine_capacity_mtpa", "mine_workforce_size", "country_gdp_usd"],
            "entity": ["mine", "mine", "country"],
            "source_ids": ["gem_mines", "gem_mines", "wdi,owid"],
            "entities_total": [10, 10, 4],
            "entities_covered": [9, 5, 4],
            "null_rate": [0.1, 0.5, 0.0],
        }
    )
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb") as wh:
        write_gold(wh, "fvi_weights_history", weights)
        wh.write_table("marts", "vw_metric_dq", dq)
    return report


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`fvi serve` and Prometheus on 127.0.0.1, traffic sent across several scrapes."""
    prometheus, promtool = tool("prometheus"), tool("promtool")
    root = tmp_path_factory.mktemp("ops_stack")
    home = root / "home"
    report = ops_world(home)
    api_port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FVI_", "OTEL_"))}
    env.update(
        FVI_HOME=str(home),
        FVI_API_RATE_PER_MINUTE="100000",
        FVI_API_KEY_RATE_PER_MINUTE="100000",
        FVI_API_RATE_BURST="100000",
        FVI_API_WARM_WHATIF="false",
    )
    fvi = str(Path(sys.executable).parent / "fvi")
    api_log = root / "api.log"
    with api_log.open("wb") as out:
        api = subprocess.Popen([fvi, "serve", "--host", "127.0.0.1", "--port", str(api_port)], env=env,
                               stdout=out, stderr=subprocess.STDOUT)
    prom = None
    try:
        wait_for(f"http://127.0.0.1:{api_port}/health", api, api_log)
        conf = root / "prom"
        conf.mkdir()
        shutil.copy(DEPLOY / "prometheus" / "alerts.yml", conf / "alerts.yml")
        text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
        text = text.replace('"api:8000"', f'"127.0.0.1:{api_port}"')
        text = text.replace('"127.0.0.1:9090"', f'"127.0.0.1:{prom_port}"')
        text = text.replace("scrape_interval: 15s", f"scrape_interval: {SCRAPE}")
        text = text.replace("evaluation_interval: 15s", f"evaluation_interval: {SCRAPE}")
        (conf / "prometheus.yml").write_text(text)
        check = subprocess.run([promtool, "check", "config", str(conf / "prometheus.yml")], capture_output=True,
                               text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
        prom_log = root / "prometheus.log"
        with prom_log.open("wb") as out:
            prom = subprocess.Popen(
                [prometheus, f"--config.file={conf / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}", "--web.enable-lifecycle"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        wait_for(f"http://127.0.0.1:{prom_port}/-/ready", prom, prom_log)
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as c:
            deadline = time.monotonic() + 6.0  # traffic across ~6 scrapes, so every rate() has a slope
            while time.monotonic() < deadline:
                assert c.get("/v1/mines").status_code == 200
                assert c.get("/v1/countries").status_code == 200
                assert c.get("/v1/mines/NOPE").status_code == 404
                r = c.post("/v1/predict", json={"entity_type": "mine", "entity_id": "M1", "horizon": "H5"})
                assert r.status_code == 200, r.text
                time.sleep(0.2)
        time.sleep(2.5)  # two more scrapes after the last request
        yield {"prom": f"http://127.0.0.1:{prom_port}", "report": report, "prediction": r.json()}
    finally:
        if prom is not None:
            stop(prom)
        stop(api)


def query(stack: dict, expr: str) -> list[dict]:
    r = httpx.get(f"{stack['prom']}/api/v1/query", params={"query": expr}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", (expr, body)
    return body["data"]["result"]


def by(result: list[dict], label: str) -> dict[str, float]:
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in result}


def test_prometheus_scrapes_the_fvi_series(stack: dict) -> None:
    assert by(query(stack, 'up{job="fvi-api"}'), "job") == {"fvi-api": 1.0}
    routes = by(query(stack, 'sum by (route) (fvi_http_requests_total)'), "route")
    assert {"/v1/mines", "/v1/countries", "/v1/predict"} <= set(routes), routes
    mine_route = next(r for r in routes if r.startswith("/v1/mines/{"))
    assert routes["/v1/mines"] == routes["/v1/predict"] >= 5
    statuses = by(query(stack, 'sum by (status) (fvi_http_requests_total{route="' + mine_route + '"})'), "status")
    assert set(statuses) == {"404"}
    preds = by(query(stack, "fvi_predictions_total"), "model_version")
    assert sum(preds.values()) == routes["/v1/predict"]  # one prediction per POST, by the model that served it
    assert all(v.startswith("fvi_mine_h5:") for v in preds), preds
    assert by(query(stack, "fvi_ready"), "check") == {"warehouse": 1.0, "cache": 1.0, "sources": 1.0, "model": 1.0}
    assert by(query(stack, "fvi_cache_hits"), "backend")["memory"] > 0


def test_pipeline_dq_and_weights_gauges_match_the_files(stack: dict) -> None:
    report = stack["report"]
    steps = by(query(stack, "fvi_pipeline_step_duration_seconds"), "step")
    assert steps == report["seconds"]
    loaded = by(query(stack, 'fvi_pipeline_source_rows{kind="loaded"}'), "source")
    assert loaded == {"gem_mines": 1200.0, "wdi": 0.0}
    assert by(query(stack, "fvi_pipeline_source_loaded"), "source") == {"gem_mines": 1.0, "wdi": 0.0}
    assert query(stack, "fvi_pipeline_last_run_success")[0]["value"][1] == "1"
    cov = {(s["metric"]["source"], s["metric"]["entity"]): float(s["value"][1])
           for s in query(stack, "fvi_dq_coverage_ratio")}
    assert cov == {("gem_mines", "mine"): pytest.approx(0.7), ("wdi", "country"): 1.0, ("owid", "country"): 1.0}
    drift = query(stack, "fvi_weights_drift_l1")
    assert [float(s["value"][1]) for s in drift] == [pytest.approx(0.4)]
    # the stale and failed alerts stay silent on a healthy run; the carried-forward source is pending/firing
    alerts = httpx.get(f"{stack['prom']}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    names = {a["labels"]["alertname"] for a in alerts}
    assert "FviPipelineFailed" not in names and "FviPipelineStale" not in names and "FviApiDown" not in names
    assert "FviSourceNotLoaded" in names
    rules = httpx.get(f"{stack['prom']}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert sum(len(g["rules"]) for g in rules) == 10 and all(r["health"] == "ok" for g in rules for r in g["rules"])


def panels() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        dash = json.loads(path.read_text())
        for p in dash["panels"]:
            for t in p["targets"]:
                out.append((path.stem, p["title"], t["expr"]))
    return out


def test_dashboards_use_the_provisioned_datasource() -> None:
    import yaml

    ds = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {d["uid"] for d in ds["datasources"]}
    for path in (DEPLOY / "grafana" / "dashboards").glob("*.json"):
        dash = json.loads(path.read_text())
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for p in dash["panels"]:
            assert p["datasource"]["uid"] in uids and p["targets"], (path.name, p["title"])
    assert len(panels()) >= 15


def test_every_grafana_panel_query_returns_a_series(stack: dict) -> None:
    empty = [(d, title, expr) for d, title, expr in panels() if not query(stack, expr)]
    assert not empty, empty
