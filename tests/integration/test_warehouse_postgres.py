"""The same gold build passes its dbt tests on the machine's PostgreSQL (server profile)."""

from __future__ import annotations

import pytest
from tests.integration.helpers import env, scratch_database

from fvi.pipeline import run_pipeline
from fvi.warehouse import PostgresWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


def test_full_build_on_postgres(shared_data, tmp_path):
    with scratch_database() as url, env(FVI_HOME=str(tmp_path / "home"), FVI_WAREHOUSE_URL=url) as s:
        # scoring runs on PostgreSQL too; the model steps are covered on DuckDB (shared build, demo run)
        report = run_pipeline(s, data_dir=shared_data, say=lambda _m: None, ml=False)  # raises if a dbt test fails
        assert report.built
        with PostgresWarehouse(url) as wh:
            rows, ids = wh.query("select count(*), count(distinct gem_mine_id) from gold.dim_mine").iloc[0]
            assert rows == ids >= 6000
            assert set(wh.tables("marts")) >= {"vw_metric_dq"}
            gold = set(wh.tables("gold"))
            assert {"fvi_scores", "fvi_metric_scores", "fvi_sensitivity", "fvi_weights_history"} <= gold
            scored = wh.query("select entity_type, count(distinct entity_id) n from gold.fvi_scores group by 1")
            assert dict(zip(scored.entity_type, scored.n, strict=True))["mine"] >= 6000
            leftovers = [x for x in wh.schemas() if "__stg_" in x or x.endswith("__old")]
            assert leftovers == []
