"""The Dagster asset graph materialised in-process on a small synthetic world; a failing run swaps nothing;
a Dagster run holds FVI_HOME's writer lock as `fvi run` does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
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


@pytest.fixture(scope="module")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dbt parse`` once for the module (the asset graph reads the manifest; 15 s of CPU)."""
    from fvi.orchestration.assets import ensure_manifest

    with env(FVI_HOME=str(tmp_path_factory.mktemp("parse") / "home"), FVI_WAREHOUSE_URL=None) as settings:
        return ensure_manifest(settings)


def home_with_manifest(home: Path, manifest: Path) -> Path:
    target = home / "dbt" / "target" / "manifest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(manifest, target)  # newer than the project: not parsed again
    return home


def test_asset_graph_runs_the_pipeline_then_a_failed_run_keeps_it(tmp_path: Path, monkeypatch, dbt_manifest) -> None:
    data = tmp_path / "data"
    write_demo_data(data)  # the demo world: the smallest that passes the synthetic row floors of the dbt tests
    home = home_with_manifest(tmp_path / "home", dbt_manifest)
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


HOLD = """
import sys
from pathlib import Path
from fvi.lock import writer_lock
with writer_lock(Path(sys.argv[1]), command="run", say=lambda _m: None):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_dagster_run_holds_the_writer_lock_that_fvi_run_takes(tmp_path: Path, monkeypatch, dbt_manifest) -> None:
    from fvi.errors import WriterBusy
    from fvi.lock import read_holder, writer_lock
    from fvi.orchestration.assets import PLAN_KEY, writer_command

    home = home_with_manifest(tmp_path / "home", dbt_manifest)
    data = tmp_path / "data"
    data.mkdir()
    with env(FVI_HOME=str(home), FVI_DATA_DIR=str(data), FVI_OFFLINE="true", FVI_WAREHOUSE_URL=None,
             FVI_LOCK_NO_WAIT=None, FVI_LOCK_TIMEOUT=None):
        from fvi.orchestration.definitions import JOB_NAME, build_definitions

        job = build_definitions().resolve_job_def(JOB_NAME)
        # 1. while a Dagster run is in its first step, another writer is refused, the Dagster run named
        entered, release = threading.Event(), threading.Event()
        real_plan = pipeline.plan_input

        def slow_plan(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            entered.set()
            assert release.wait(120)
            return real_plan(*args, **kwargs)

        monkeypatch.setattr(pipeline, "plan_input", slow_plan)
        results: list = []
        with dg.instance_for_test() as instance:
            runner = threading.Thread(target=lambda: results.append(
                job.execute_in_process(instance=instance, asset_selection=[PLAN_KEY])))
            runner.start()
            try:
                assert entered.wait(120)
                holder = read_holder(home)
                assert holder is not None and holder.command.startswith("orchestrate run ")
                with pytest.raises(WriterBusy, match=r"being written by `fvi orchestrate run [0-9a-f]{8}`"):
                    with writer_lock(home, command="run", wait=False):
                        pass
            finally:
                release.set()
                runner.join(120)
            assert results and results[0].success
            assert holder.command == writer_command(results[0].run_id)
        assert read_holder(home) is None  # released when the run ended
        monkeypatch.setattr(pipeline, "plan_input", real_plan)

        # 2. while `fvi run` (another process) writes, a Dagster run waits for it, saying who, then runs
        holder_proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        try:
            assert holder_proc.stdout.readline().strip() == "held"
            results.clear()
            with dg.instance_for_test() as instance:
                runner = threading.Thread(target=lambda: results.append(
                    job.execute_in_process(instance=instance, asset_selection=[PLAN_KEY])))
                runner.start()
                time.sleep(3)
                assert runner.is_alive() and not results  # waiting, not writing
                holder_proc.stdin.write("\n")
                holder_proc.stdin.flush()
                runner.join(120)
                assert results and results[0].success
                said = [e.message for e in instance.all_logs(results[0].run_id) if e.message]
                assert any(f"`fvi run` (pid {holder_proc.pid}" in m and "waiting" in m for m in said), said
        finally:
            holder_proc.kill()
            holder_proc.wait(10)

    # 3. with FVI_LOCK_NO_WAIT the Dagster run refuses at once and names the holder; nothing was staged
    holder_proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
    try:
        assert holder_proc.stdout.readline().strip() == "held"
        with env(FVI_HOME=str(home), FVI_DATA_DIR=str(data), FVI_OFFLINE="true", FVI_WAREHOUSE_URL=None,
                 FVI_LOCK_NO_WAIT="true"), dg.instance_for_test() as instance:
            refused = job.execute_in_process(instance=instance, asset_selection=[PLAN_KEY], raise_on_error=False)
            assert not refused.success
            errors = [str(e.event_specific_data.error) for e in refused.all_events
                      if e.is_failure and getattr(e.event_specific_data, "error", None)]
            errors += [e.message for e in instance.all_logs(refused.run_id) if e.message]
            assert any(f"`fvi run` (pid {holder_proc.pid}" in m and "refused" in m for m in errors), errors
        assert len(list((home / "runs").glob("*/plan.json"))) == 2  # the runs of 1 and 2; the refused one wrote none
    finally:
        holder_proc.kill()
        holder_proc.wait(10)
