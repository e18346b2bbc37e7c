"""With no data and no network, `fvi run` builds from the synthetic world and says so everywhere."""

from __future__ import annotations

import pytest
from tests.integration.helpers import env

from fvi.pipeline import run_pipeline
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_offline_run_without_data_uses_synthetic_demo(tmp_path):
    said: list[str] = []
    with env(FVI_HOME=str(tmp_path / "home"), FVI_OFFLINE="true", FVI_DATA_DIR=None, FVI_WAREHOUSE_URL=None) as s:
        report = run_pipeline(s, say=said.append)
        assert report.plan.kind == "demo" and report.plan.synthetic and report.built
        assert any("SYNTHETIC" in m for m in said)
        with DuckDBWarehouse(s.duckdb_path, read_only=True) as wh:
            flags = wh.query("select distinct is_synthetic from gold.dim_mine")["is_synthetic"].tolist()
            assert flags == [True]
            assert wh.query("select bool_and(is_synthetic) from bronze.ingest_manifest").iloc[0, 0]
            assert 100 <= len(wh.query("select * from gold.dim_mine")) <= 2000
            # the whole chain runs offline on the synthetic world: scores, labels, models, back-test
            assert wh.query("select bool_and(is_synthetic) from gold.fvi_scores").iloc[0, 0]
            assert wh.query("select count(*) from gold.fvi_outcome_gem_transition").iloc[0, 0] > 0
            assert wh.query("select count(*) from gold.fvi_predictions").iloc[0, 0] > 0
            assert wh.query("select count(*) from gold.fvi_backtest").iloc[0, 0] > 0
            # the learnt persona is scored with the dynamic weights, beside the presets
            learnt = wh.query(
                "select entity_type, horizon, count(*) as n from gold.fvi_scores where persona = 'data_driven' "
                "group by 1, 2"
            )
            assert len(learnt) and set(learnt["entity_type"]) >= {"country"}
            assert report.steps["learnt_personas"]["rows"] == int(learnt["n"].sum())
            # every model version says which data world trained it: the synthetic one
            from fvi.ml.model_registry import ModelRegistry

            versions = ModelRegistry(s.home_abs / "models").list_versions()
            assert versions and {v["data_world"]["kind"] for v in versions} == {"synthetic"}
            # the score explained in points for the default persona
            assert wh.query("select count(*) from gold.fvi_score_contributions").iloc[0, 0] > 0
