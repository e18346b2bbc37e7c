"""The asset graph, one asset per pipeline step, each calling the step function ``fvi run`` calls.

Plan → one ingest per source → bronze reference tables → dbt models (dagster-dbt)
→ scores → outcomes → weights → models → Bayesian intervals → back-test → publish; and, on request only,
``feature_store`` (Feast) from the live warehouse after ``published`` (job ``fvi_feature_store``).

Every asset runs a step function of :mod:`fvi.pipeline` against the run's staging warehouse; only
``published`` swaps it in, so a failed or partial run leaves the live warehouse as it was (the
failure hook discards the staging copy and writes a failed run report, which raises the alert).

Every asset requires the resource ``fvi_writer``: FVI_HOME's writer lock (:mod:`fvi.lock`, the one
``fvi run`` takes), held from before the first step until the run ends. With the jobs' in-process
executor a run initialises it once, so a scheduled run and ``fvi run`` never write at once: the
second waits up to ``FVI_LOCK_TIMEOUT`` naming the holder, or refuses at once with
``FVI_LOCK_NO_WAIT``.
"""


import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from fvi import pipeline
from fvi.orchestration import runs
from fvi.settings import Settings, get_settings

INGEST_RETRY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
PLAN_KEY = dg.AssetKey(["fvi_run"])
WRITER = "fvi_writer"
REFERENCE_KEY = dg.AssetKey(["bronze", "reference"])


def bronze_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", source_id])


def _run(context: Any) -> tuple[Settings, str]:
    return get_settings(), runs.fvi_run_id(context.instance, context.run_id)


def writer_command(dagster_run_id: str) -> str:
    """How the lock's holder record names a Dagster run (``fvi orchestrate run <id>``)."""
    return f"orchestrate run {dagster_run_id[:8]}"


@dg.resource(description="FVI_HOME's writer lock (fvi.lock), held for the whole run as `fvi run` holds it.")
def fvi_writer(init_context: dg.InitResourceContext):  # noqa: ANN201 - a generator resource
    from fvi.lock import writer_lock_for

    settings = get_settings()
    say = init_context.log.warning if init_context.log is not None else None
    run_id = init_context.run.run_id if init_context.run is not None else "adhoc"
    with writer_lock_for(settings, writer_command(run_id), say=say) as holder:
        yield holder


@dg.asset(key=PLAN_KEY, group_name="ingest", description="Where this run reads from (data dir, live URLs or demo).",
          required_resource_keys={WRITER})
def fvi_run(context: AssetExecutionContext) -> dict[str, Any]:
    from fvi.warehouse import Staging

    settings, run_id = _run(context)
    plan = pipeline.plan_input(settings, None, context.log.warning)
    runs.save_plan(settings, run_id, plan, context.run_id)
    Staging(settings, run_id)  # a new staging build: stale ones of crashed runs are cleared
    context.add_output_metadata({"fvi_run_id": run_id, "input": plan.kind, "synthetic": plan.synthetic})
    return {"run_id": run_id, "kind": plan.kind, "data_dir": str(plan.data_dir), "synthetic": plan.synthetic}


def ingest_asset(source_id: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=bronze_key(source_id),
        ins={"run": dg.AssetIn(PLAN_KEY)},
        group_name="ingest",
        retry_policy=INGEST_RETRY,
        required_resource_keys={WRITER},
        description=f"Ingest {source_id} into the staging bronze layer (fvi.pipeline.ingest_source).",
        kinds={"python"},
    )
    def _ingest(context: AssetExecutionContext, run: dict[str, Any]) -> pipeline.SourceOutcome:
        from fvi.warehouse import Staging

        settings = get_settings()
        plan = pipeline.InputPlan(run["kind"], Path(run["data_dir"]), synthetic=run["synthetic"])
        staging = Staging(settings, run["run_id"], fresh=False)
        wh = staging.open()
        try:
            outcome = pipeline.ingest_source(source_id, plan, wh, staging, run["run_id"])
        finally:
            wh.close()
        context.add_output_metadata(
            {
                "status": outcome.status,
                "rows_loaded": outcome.rows_loaded,
                "rows_quarantined": outcome.rows_quarantined,
                "seconds": round(outcome.seconds, 2),
                "message": outcome.message[:500],
            }
        )
        return outcome

    return _ingest


def reference_asset() -> dg.AssetsDefinition:
    ins = {f"src_{s}": dg.AssetIn(bronze_key(s)) for s in pipeline.CONNECTORS}
    ins["run"] = dg.AssetIn(PLAN_KEY)

    @dg.asset(key=REFERENCE_KEY, ins=ins, group_name="ingest", required_resource_keys={WRITER},
              description="Countries, the manifest history and the quarantine (fvi.pipeline.write_reference_tables).")
    def _reference(context: AssetExecutionContext, run: dict[str, Any], **outcomes: pipeline.SourceOutcome
                   ) -> list[dict[str, Any]]:
        import pandas as pd

        from fvi.ingest.base import QUARANTINE_COLUMNS
        from fvi.warehouse import Staging

        settings = get_settings()
        staging = Staging(settings, run["run_id"], fresh=False)
        ordered = [outcomes[f"src_{s}"] for s in pipeline.CONNECTORS]
        manifest_rows = [r for o in ordered for r in o.manifest]
        frames = [o.quarantine for o in ordered if o.quarantine is not None and len(o.quarantine)]
        quarantine = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUARANTINE_COLUMNS)
        wh = staging.open()
        try:
            pipeline.write_reference_tables(wh, run["run_id"], settings, manifest_rows, quarantine)
        finally:
            wh.close()
        context.add_output_metadata({"quarantined_rows": len(quarantine), "manifest_rows": len(manifest_rows)})
        return [dataclasses.asdict(dataclasses.replace(o, quarantine=None)) for o in ordered]

    return _reference


class FviDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the bronze tables of one ingest asset each (``reference`` for the pipeline's own)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return bronze_key(dbt_resource_props["source_name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


TRANSLATOR = FviDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=False, enable_duplicate_source_asset_keys=True)
)


def ensure_manifest(settings: Settings) -> Path:
    """The dbt manifest under FVI_HOME (``dbt parse`` when missing or older than the project)."""
    from fvi.dbt import project_dir, run_dbt

    manifest = settings.home_abs / "dbt" / "target" / "manifest.json"
    project = project_dir(settings)
    newest = max((p.stat().st_mtime for p in project.rglob("*") if p.is_file() and "target" not in p.parts),
                 default=0.0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        run_dbt(settings, ["parse"])
    return manifest


def dbt_asset(settings: Settings) -> dg.AssetsDefinition:
    manifest_path = ensure_manifest(settings)
    manifest = json.loads(manifest_path.read_text())
    keys = {
        uid: TRANSLATOR.get_asset_key(node)
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }

    @dbt_assets(manifest=manifest, dagster_dbt_translator=TRANSLATOR, name="fvi_dbt", required_resource_keys={WRITER})
    def fvi_dbt(context: AssetExecutionContext):  # noqa: ANN202 - a generator of results
        from fvi.dbt import run_dbt
        from fvi.warehouse import Staging

        settings, run_id = _run(context)
        plan = runs.load_plan(settings, run_id)
        staging = Staging(settings, run_id, fresh=False)
        finished: list[tuple[str, str]] = []
        t0 = time.perf_counter()
        run_dbt(settings, ["build"], env=staging.dbt_env(), dbt_vars=pipeline.dbt_vars(run_id, plan),
                on_node=lambda node, status: finished.append((node, status)))
        runs.save_step(settings, run_id, "build", {"nodes": len(finished),
                                                   "seconds": round(time.perf_counter() - t0, 2)})
        selected = set(context.selected_asset_keys)
        for uid, status in finished:
            key = keys.get(uid)
            if key is not None and key in selected:
                yield dg.MaterializeResult(asset_key=key, metadata={"dbt_status": str(status), "unique_id": uid})

    return fvi_dbt


def step_asset(name: str, step_name: str, step: Callable[[pipeline.StepContext], dict[str, Any]], dep: Any,
               group: str) -> dg.AssetsDefinition:
    """Asset ``name`` running ``fvi.pipeline`` step ``step_name`` (its summary keeps the step's name)."""

    @dg.asset(name=name, deps=[dep], group_name=group, description=(step.__doc__ or "").strip() or None,
              required_resource_keys={WRITER})
    def _step(context: AssetExecutionContext) -> dg.MaterializeResult:
        from fvi.warehouse import Staging

        settings, run_id = _run(context)
        staging = Staging(settings, run_id, fresh=False)
        wh = staging.open()
        try:
            result = step(pipeline.StepContext(settings, staging, wh, run_id, context.log.info))
        finally:
            wh.close()
        runs.save_step(settings, run_id, step_name, result)
        meta = {k: v for k, v in result.items() if isinstance(v, int | float | str | bool)}
        return dg.MaterializeResult(metadata=meta)

    return _step


STEP_GROUPS = {"score": "scores", "outcomes": "scores", "weights": "scores", "learnt_personas": "scores"}
STEP_NAMES = {"score": "scores", "train": "models"}
_LAST = list(pipeline.ML_STEPS)[-1]
LAST_STEP = STEP_NAMES.get(_LAST, _LAST)  # what `published` waits for
FEATURE_STORE_KEY = dg.AssetKey(["feature_store"])


@dg.asset(key=dg.AssetKey(["published"]), ins={"sources": dg.AssetIn(REFERENCE_KEY)}, deps=[LAST_STEP],
          group_name="publish", description="Swap the staging warehouse in; append the manifest; write the report.",
          required_resource_keys={WRITER})
def published(context: AssetExecutionContext, sources: list[dict[str, Any]]) -> dg.MaterializeResult:
    from fvi.warehouse import Staging

    settings, run_id = _run(context)
    plan = runs.load_plan(settings, run_id)
    steps = runs.load_steps(settings, run_id)
    Staging(settings, run_id, fresh=False).commit()
    outcomes = [pipeline.SourceOutcome(**s) for s in sources]
    pipeline.append_manifest(settings, [r for o in outcomes for r in o.manifest])
    report = pipeline.RunReport(run_id, plan, outcomes, built=True)
    report.seconds = {"ingest": round(sum(o.seconds for o in outcomes), 2)}
    report.seconds.update({k: v["seconds"] for k, v in steps.items() if isinstance(v.get("seconds"), int | float)})
    report.steps = {k: v for k, v in steps.items() if k != "build"}
    report.seconds["total"] = round(sum(v for k, v in report.seconds.items() if k != "total"), 2)
    pipeline._save_report(settings, report)  # noqa: SLF001 - the same report `fvi run` writes
    return dg.MaterializeResult(metadata={"fvi_run_id": run_id, "seconds_total": report.seconds["total"]})


@dg.asset(key=FEATURE_STORE_KEY, deps=[dg.AssetKey(["published"])], group_name="features",
          description="On request: the Feast store (offline parquet, online store) from the live warehouse.",
          required_resource_keys={WRITER})
def feature_store(context: AssetExecutionContext) -> dg.MaterializeResult:
    """Not in the pipeline job: nothing reads the store yet, and importing Feast is most of its cost."""
    from fvi.feature_store import build_feature_store
    from fvi.warehouse import live

    settings = get_settings()
    with live(settings) as wh:
        summary = build_feature_store(settings, wh, online_store_url=settings.online_store_url)
    context.log.info(f"feature store: {summary['rows_materialised']} rows in {summary['seconds']} s")
    return dg.MaterializeResult(metadata={k: v for k, v in summary.items() if isinstance(v, int | float | str)})




def all_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The whole graph, in pipeline order."""
    out: list[dg.AssetsDefinition] = [fvi_run, *[ingest_asset(s) for s in pipeline.CONNECTORS], reference_asset()]
    dbt = dbt_asset(settings)
    out.append(dbt)
    dep: Any = dbt
    for name, step in {**pipeline.SCORE_STEPS, **pipeline.ML_STEPS}.items():
        asset = step_asset(STEP_NAMES.get(name, name), name, step, dep, STEP_GROUPS.get(name, "models"))
        out.append(asset)
        dep = asset
    out.append(published)
    out.append(feature_store)
    return out


@dg.failure_hook(name="fvi_discard_staging")
def discard_staging(context: dg.HookContext) -> None:
    """A failed step: drop the staging copy (the live warehouse never changed) and record the failure."""
    from fvi.warehouse import Staging

    settings = get_settings()
    run_id = runs.fvi_run_id(context.instance, context.run_id)
    Staging(settings, run_id, fresh=False).discard()
    folder = settings.home_abs / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    exc = context.op_exception
    report = {
        "run_id": run_id,
        "built": False,
        "error": f"{context.op.name}: {type(exc).__name__}: {exc}" if exc else f"{context.op.name} failed",
        "orchestrator": "dagster",
        "dagster_run_id": context.run_id,
        "steps": runs.load_steps(settings, run_id),
    }
    (folder / f"{run_id}.json").write_text(json.dumps(report, default=str))
