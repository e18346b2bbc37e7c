"""The Dagster asset graph materialised in-process on a small synthetic world; a failing run swaps nothing."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from tests.integration.helpers import env

from fvi import pipeline
from fvi.demo import write_demo_data
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def reports(home: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (home / "runs").glob("*.json")}


def test_asset_graph_runs_the_pipeline_then_a_failed_run_keeps_it(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    write_demo_data(data)  # the demo world: the smallest that passes the synthetic row floors of the dbt tests
    home = tmp_path / "home"
    with env(FVI_HOME=str(home), FVI_DATA_DIR=str(data), FVI_OFFLINE="true", FVI_WAREHOUSE_URL=None,
             FVI_CACHE_URL=None, FVI_ONLINE_STORE_URL=None, FVI_MLFLOW_TRACKING_URI=None, FVI_SPARK_MASTER=None
             ) as settings:
        from fvi.orchestration.definitions import FEATURE_STORE_JOB, JOB_NAME, build_definitions

        defs = build_definitions()
        job = defs.resolve_job_def(JOB_NAME)
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(instance=instance)
            assert result.success
            materialised = {e.asset_key for e in result.get_asset_materialization_events()}
            graph = defs.resolve_asset_graph()
            on_request = {dg.AssetKey(["feature_store"])}  # the Feast store is built only on request
            assert materialised == set(graph.get_all_asset_keys()) - on_request
            steps = ("scores", "outcomes", "weights", "learnt_personas", "models", "bayes", "backtest")
            for step in steps:
                assert dg.AssetKey([step]) in materialised, step
            for source in pipeline.CONNECTORS:
                assert dg.AssetKey(["bronze", source]) in materialised, source
            # lineage: dbt staging models hang off the ingest assets
            parents = graph.get(dg.AssetKey(["silver", "stg_gem_mines__mines"])).parent_keys
            assert dg.AssetKey(["bronze", "gem_mines"]) in parents

        good = [r for r in reports(home).values() if r.get("built")]
        assert len(good) == 1
        report = good[0]
        assert report["error"] is None and report["input"]["synthetic"] is True
        assert {"score", "train", "backtest", "build"} <= set(report["seconds"])
        assert "features" not in report["seconds"] and not (home / "feast").exists()
        assert {s["source_id"] for s in report["sources"]} == set(pipeline.CONNECTORS)
        live = settings.duckdb_path
        with DuckDBWarehouse(live, read_only=True) as wh:
            assert wh.query("select count(*) from gold.fvi_scores").iloc[0, 0] > 0
            assert wh.query("select count(*) from gold.fvi_predictions").iloc[0, 0] > 0
            runs_in_manifest = wh.query("select distinct run_id from bronze.ingest_manifest")["run_id"].tolist()
            assert runs_in_manifest == [report["run_id"]]
        with dg.instance_for_test() as instance:  # on request: its own job, from the live warehouse
            store = defs.resolve_job_def(FEATURE_STORE_JOB).execute_in_process(instance=instance)
        assert store.success
        assert {e.asset_key for e in store.get_asset_materialization_events()} == on_request
        assert (home / "feast" / "store" / "online.db").stat().st_size > 0
        before = live.stat().st_mtime_ns, live.stat().st_size

        # a run that fails (here while writing the bronze reference tables) swaps nothing and says why
        def broken(*_args, **_kwargs) -> None:
            raise RuntimeError("injected failure in the reference tables")

        monkeypatch.setattr(pipeline, "write_reference_tables", broken)
        with dg.instance_for_test() as instance:
            bad = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not bad.success
        assert (live.stat().st_mtime_ns, live.stat().st_size) == before
        assert not list(live.parent.glob("*.building.duckdb*"))  # the staging copy was discarded
        failed = [r for r in reports(home).values() if r.get("error")]
        assert len(failed) == 1 and "injected failure in the reference tables" in failed[0]["error"]
        assert failed[0]["error"].startswith("bronze__reference")
        assert not any(r.get("built") for r in reports(home).values() if r["run_id"] == failed[0]["run_id"])
        with DuckDBWarehouse(live, read_only=True) as wh:
            assert wh.query("select distinct run_id from bronze.ingest_manifest")["run_id"].tolist() == [
                report["run_id"]
            ]
