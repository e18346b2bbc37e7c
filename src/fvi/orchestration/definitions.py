"""The Dagster code location: ``dagster-webserver -m fvi.orchestration.definitions`` (loaded lazily)."""

from __future__ import annotations

import dagster as dg

JOB_NAME = "fvi_pipeline"
FEATURE_STORE_JOB = "fvi_feature_store"  # on request (`fvi features` does the same)


def build_definitions() -> dg.Definitions:
    from fvi.orchestration.assets import FEATURE_STORE_KEY, WRITER, all_assets, discard_staging, fvi_writer
    from fvi.orchestration.triggers import nightly_schedule, source_change_sensor
    from fvi.settings import get_settings

    settings = get_settings()
    assets = all_assets(settings)
    # one process, steps in order: the staging warehouse is one file (DuckDB) or one schema set
    pipeline_assets = dg.AssetSelection.all() - dg.AssetSelection.assets(FEATURE_STORE_KEY)
    job = dg.define_asset_job(JOB_NAME, selection=pipeline_assets, executor_def=dg.in_process_executor,
                              hooks={discard_staging}, tags={"fvi/job": "pipeline"})
    features = dg.define_asset_job(FEATURE_STORE_JOB, selection=dg.AssetSelection.assets(FEATURE_STORE_KEY),
                                   executor_def=dg.in_process_executor, tags={"fvi/job": "feature_store"})
    return dg.Definitions(
        assets=assets,
        jobs=[job, features],
        schedules=[nightly_schedule(job, settings)],
        sensors=[source_change_sensor(job, settings)],
        resources={WRITER: fvi_writer},  # FVI_HOME's writer lock for the whole run, as `fvi run` takes it
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
