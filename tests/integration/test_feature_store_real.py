"""The Feast store built from the real-data gold: online values equal gold at each entity's latest year.

Reads the shared build (never writes to its home): the Feast repository goes to a temp folder.
The Redis variant uses the machine's Redis with a random database number and project name (the
key suffix) and removes its keys afterwards.
"""

from __future__ import annotations

import math
import os
import random
import secrets
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

from fvi.feature_store import store as fs
from fvi.settings import Settings
from fvi.warehouse import open_live

pytestmark = pytest.mark.integration

os.environ.setdefault("FEAST_USAGE", "False")
SAMPLE = 20
SEED = 20240531
REDIS = ("127.0.0.1", 6379)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _latest_gold(settings: Settings, table: str, key: str, ids: list[str], yearly: bool) -> pd.DataFrame:
    with open_live(settings) as wh:
        order = f"qualify row_number() over (partition by {key} order by year desc) = 1" if yearly else ""
        marks = ", ".join("?" for _ in ids)
        sql = f"select * from {wh.schema('gold')}.{table} where {key} in ({marks}) {order}"
        return wh.query(sql, ids).set_index(key)


def _sample_ids(settings: Settings, table: str, key: str) -> list[str]:
    with open_live(settings) as wh:
        ids = sorted(wh.query(f"select distinct {key} from {wh.schema('gold')}.{table}")[key])
    return random.Random(SEED).sample(ids, SAMPLE)


def _check_entity(settings: Settings, repo: Path, entity: str, store: Any = None) -> int:
    """Compare every online feature of SAMPLE random ids with gold; returns how many non-null values matched."""
    key = fs.ENTITIES[entity].join_key
    views = [v for v in fs.VIEWS if v.entity == entity]
    ids = _sample_ids(settings, views[0].table, key)
    online = fs.online_features(settings, entity, [*ids, "NO_SUCH_ID"], repo_dir=repo, store=store).set_index(key)
    gold = pd.concat([_latest_gold(settings, v.table, key, ids, v.yearly) for v in views], axis=1)
    gold = gold.loc[:, ~gold.columns.duplicated()]
    matched = 0
    for i in ids:
        for col in online.columns:
            got, want = online.at[i, col], gold.at[i, col]
            if _missing(want):
                assert _missing(got), (entity, i, col, got)
            else:
                assert got == want, (entity, i, col, got, want)
                matched += 1
    assert all(_missing(v) for v in online.loc["NO_SUCH_ID"])
    return matched


def test_online_values_equal_gold_at_latest_year(shared_settings, tmp_path):
    repo = tmp_path / "feast"
    home_feast = shared_settings.home_abs / "feast"  # the pipeline's own store; this test must not touch it
    before = {p: p.stat().st_mtime_ns for p in home_feast.rglob("*")} if home_feast.exists() else {}
    with open_live(shared_settings) as wh:
        summary = fs.build_feature_store(shared_settings, wh, repo_dir=repo)
    after = {p: p.stat().st_mtime_ns for p in home_feast.rglob("*")} if home_feast.exists() else {}
    assert before == after, "the shared home is read-only"
    assert summary["online_store"] == "sqlite"
    assert summary["views"]["mine_static"]["rows_materialised"] >= 6000
    assert summary["views"]["country_yearly"]["rows_materialised"] >= 200
    assert _check_entity(shared_settings, repo, "mine") > SAMPLE
    assert _check_entity(shared_settings, repo, "country") > SAMPLE


def test_redis_online_store(shared_settings, tmp_path):
    db = secrets.randbelow(15) + 1
    project = f"fvi_t{secrets.token_hex(4)}"
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=db)
    repo = tmp_path / "feast"
    try:
        with open_live(shared_settings) as wh:
            summary = fs.build_feature_store(
                shared_settings,
                wh,
                online_store_url=f"redis://{REDIS[0]}:{REDIS[1]}/{db}",
                repo_dir=repo,
                project=project,
            )
        assert summary["online_store"] == "redis" and summary["project"] == project
        views = summary["views"]
        keys = sum(1 for _ in client.scan_iter(match=f"*{project}", count=1000))
        assert keys == views["mine_static"]["rows_materialised"] + views["country_yearly"]["rows_materialised"]
        store = fs.open_store(shared_settings, repo)
        assert _check_entity(shared_settings, repo, "mine", store) > SAMPLE
        assert _check_entity(shared_settings, repo, "country", store) > SAMPLE
        store.teardown()
        assert not any(True for _ in client.scan_iter(match=f"*{project}", count=1000))
    finally:
        for k in client.scan_iter(match=f"*{project}", count=1000):
            client.delete(k)
        client.close()
