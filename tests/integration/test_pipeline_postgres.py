"""The server profile: bronze on the machine's real PostgreSQL, built aside and swapped."""

from __future__ import annotations

import pytest
from tests.integration.helpers import env, scratch_database

from fvi.pipeline import run_pipeline
from fvi.warehouse import PostgresWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
SOURCES = ("mining_land", "coal_policy")


def test_postgres_ingest_swaps_and_keeps_previous_on_failure(shared_data, tmp_path):
    bad = tmp_path / "bad"
    (bad / "mining_land").mkdir(parents=True)
    (bad / "mining_land" / "global_mining_area_per_country_v1.csv").write_text("x,y\n1,2\n")
    (bad / "coal_policy").symlink_to(shared_data / "coal_policy")
    with scratch_database() as url, env(FVI_HOME=str(tmp_path / "home"), FVI_WAREHOUSE_URL=url) as s:
        first = run_pipeline(s, data_dir=shared_data, build=False, sources=SOURCES, say=lambda _m: None)
        assert {o.status for o in first.outcomes} == {"loaded"}
        with PostgresWarehouse(url) as wh:
            n = len(wh.query("select * from bronze.raw_mining_land__area"))
            assert n > 100
            assert not [x for x in wh.schemas() if "__stg_" in x or x.endswith("__old")]
        second = run_pipeline(s, data_dir=bad, build=False, sources=SOURCES, say=lambda _m: None)
        status = {o.source_id: o.status for o in second.outcomes}
        assert status == {"mining_land": "carried_forward", "coal_policy": "loaded"}
        with PostgresWarehouse(url) as wh:
            assert len(wh.query("select * from bronze.raw_mining_land__area")) == n
            runs = wh.query("select distinct run_id from bronze.ingest_manifest")
            assert len(runs) == 2
