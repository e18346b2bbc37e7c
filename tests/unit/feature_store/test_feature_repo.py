"""The generated Feast repository: layout, types from data, registry descriptions, online = latest year."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from fvi.feature_store import store as fs
from fvi.registry.metrics import GoldRef, Metric, load_metrics
from fvi.settings import Settings
from fvi.warehouse import DuckDBWarehouse

os.environ.setdefault("FEAST_USAGE", "False")


def _metric(mid: str, entity: str, table: str, column: str, unit: str = "x") -> Metric:
    # model_construct: only the fields the feature store reads, so registry schema changes don't break this
    return Metric.model_construct(
        id=mid,
        name=f"Name of {mid}",
        description=f'Why "{mid}" matters.',
        pillar="01",
        entity=entity,
        gold=GoldRef(table=table, column=column),
        unit=unit,
        polarity="higher_is_better",
    )


METRICS = {
    m.id: m
    for m in [
        _metric("mine_production", "mine", "fct_mine__yearly", "gem_production_mt", "Mt"),
        _metric("mine_workforce", "mine", "fct_mine__yearly", "gem_workforce_size", "workers"),
        _metric("mine_opening_year", "mine", "dim_mine", "opening_year", "year"),
        _metric("coal_share", "country", "fct_country__yearly", "coal_share_of_electricity_pct", "%"),
        _metric("phase_out_year", "country", "fct_country__yearly", "phase_out_year", "year"),
        _metric("cop26", "country", "fct_country__yearly", "has_cop26_coal_pledge", "flag"),
    ]
}

MINE_YEARLY = pd.DataFrame(
    {
        "gem_mine_id": ["M1", "M1", "M1", "M2", "M3", "M3"],
        "year": pd.array([2021, 2022, 2023, 2022, 2020, 2023], dtype="Int32"),
        "gem_production_mt": [1.5, 2.5, 3.25, 10.0, 7.0, float("nan")],
        "gem_workforce_size": pd.array([100, 110, 120, None, 50, 55], dtype="Int32"),
        "gem_status": ["operating"] * 6,  # not a metric: must not become a feature
        "is_synthetic": [False] * 6,
    }
)
DIM_MINE = pd.DataFrame(
    {
        "gem_mine_id": ["M1", "M2", "M3"],
        "mine_name": ["One", "Two", "Three"],
        "country_iso3": ["AAA", "AAA", "BBB"],
        "opening_year": pd.array([1980, None, 2001], dtype="Int32"),
    }
)
COUNTRY_YEARLY = pd.DataFrame(
    {
        "iso3": ["AAA", "AAA", "BBB", "BBB", "BBB"],
        "year": pd.array([1850, 2023, 2021, 2022, 2024], dtype="Int32"),
        "coal_share_of_electricity_pct": [None, 40.5, 12.0, 11.0, 9.75],
        "phase_out_year": pd.array([None, 2040, None, None, 2030], dtype="Int32"),
        "has_cop26_coal_pledge": pd.array([None, True, False, False, True], dtype="boolean"),
        "gdp_usd": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
)


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values("year").groupby(key).tail(1).set_index(key)


def _same(online: Any, gold: Any) -> bool:
    if gold is None or gold is pd.NA or (isinstance(gold, float) and math.isnan(gold)):
        return online is None or (isinstance(online, float) and math.isnan(online))
    return bool(online == gold)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("features") / "home"
    settings = Settings(home=home, warehouse_url=None)
    with DuckDBWarehouse(home / "warehouse" / "tiny.duckdb") as wh:
        wh.write_table("gold", "fct_mine__yearly", MINE_YEARLY)
        wh.write_table("gold", "dim_mine", DIM_MINE)
        wh.write_table("gold", "fct_country__yearly", COUNTRY_YEARLY)
        summary = fs.build_feature_store(settings, wh, metrics=METRICS)
    return settings, fs.feast_dir(settings), summary


def test_layout_keeps_code_data_and_state_apart(built):
    settings, repo, _ = built
    assert repo == settings.home_abs / "feast"
    assert sorted(p.name for p in (repo / "repo").iterdir()) == ["fvi_features.py"]
    assert sorted(p.name for p in (repo / "data").iterdir()) == [
        "dim_mine.parquet",
        "fct_country__yearly.parquet",
        "fct_mine__yearly.parquet",
    ]
    assert [p.relative_to(repo) for p in repo.rglob("*.py")] == [Path("repo/fvi_features.py")]
    assert not list(repo.rglob("*.part"))
    cfg = yaml.safe_load((repo / "feature_store.yaml").read_text())
    assert cfg["project"] == "fvi" and cfg["provider"] == "local"
    assert cfg["offline_store"] == {"type": "file"}
    assert cfg["online_store"]["type"] == "sqlite"
    assert (repo / cfg["registry"]["path"]).is_file()
    assert (repo / cfg["online_store"]["path"]).is_file()


def test_redis_config_from_url(tmp_path):
    cfg = fs._config("fvi", "redis://:p%40ss@10.0.0.5:6380/3")
    assert cfg["online_store"] == {
        "type": "redis",
        "connection_string": "10.0.0.5:6380,db=3,password=p@ss",
        "skip_dedup": True,
    }
    assert fs._redis_connection_string("rediss://cache:6379") == "cache:6379,ssl=true"
    assert fs._redis_connection_string("cache:6379,db=1") == "cache:6379,db=1"


def test_summary(built):
    _, _, summary = built
    assert summary["entities"] == ["mine", "country"]
    views = summary["views"]
    assert {k: v["features"] for k, v in views.items()} == {"mine_yearly": 3, "mine_static": 2, "country_yearly": 4}
    assert {k: v["rows_materialised"] for k, v in views.items()} == {
        "mine_yearly": 3,
        "mine_static": 3,
        "country_yearly": 2,
    }
    assert summary["rows_materialised"] == 8 and summary["features"] == 9
    assert summary["window"][0] == "1850-12-31T00:00:00+00:00"
    assert summary["window"][1] == "2024-12-31T00:00:01+00:00"


def test_views_hold_registry_columns_typed_from_data(built):
    settings, repo, _ = built
    store = fs.open_store(settings, repo)
    views = {v.name: v for v in store.list_feature_views()}
    types = {name: {f.name: str(f.dtype) for f in v.features} for name, v in views.items()}
    assert types == {
        "mine_yearly": {"year": "Int64", "gem_production_mt": "Float64", "gem_workforce_size": "Int64"},
        "mine_static": {"country_iso3": "String", "opening_year": "Int64"},
        "country_yearly": {
            "year": "Int64",
            "coal_share_of_electricity_pct": "Float64",
            "phase_out_year": "Int64",
            "has_cop26_coal_pledge": "Bool",
        },
    }
    prod = next(f for f in views["mine_yearly"].features if f.name == "gem_production_mt")
    assert prod.description == 'Name of mine_production (Mt). Why "mine_production" matters.'
    assert prod.tags["metric_id"] == "mine_production"
    assert {name: v.entities for name, v in views.items()} == {
        "mine_yearly": ["mine"],
        "mine_static": ["mine"],
        "country_yearly": ["country"],
    }
    assert {e.name: e.join_key for e in store.list_entities()} == {"mine": "gem_mine_id", "country": "iso3"}


def test_event_timestamps(built):
    _, repo, _ = built
    yearly = pq.read_table(repo / "data" / "fct_country__yearly.parquet").to_pandas()
    assert list(yearly["event_timestamp"]) == [
        pd.Timestamp(f"{y}-12-31", tz="UTC") for y in COUNTRY_YEARLY["year"].astype(int)
    ]
    static = pq.read_table(repo / "data" / "dim_mine.parquet").to_pandas()
    assert set(static["event_timestamp"]) == {pd.Timestamp(datetime(1970, 1, 1, tzinfo=UTC))}


def test_online_mine_values_are_the_latest_year(built):
    settings, repo, _ = built
    ids = ["M1", "M2", "M3", "NOPE"]
    online = fs.online_features(settings, "mine", ids, repo_dir=repo).set_index("gem_mine_id")
    assert list(online.columns) == ["year", "gem_production_mt", "gem_workforce_size", "country_iso3", "opening_year"]
    gold = _latest(MINE_YEARLY, "gem_mine_id").join(DIM_MINE.set_index("gem_mine_id"))
    for mine in ids[:3]:
        for col in online.columns:
            assert _same(online.at[mine, col], gold.at[mine, col]), (mine, col, online.at[mine, col])
    assert online.at["M1", "gem_production_mt"] == 3.25 and online.at["M1", "year"] == 2023
    assert online.loc["NOPE"].isna().all()
    assert all(v is None or (isinstance(v, float) and math.isnan(v)) for v in online.loc["NOPE"])


def test_online_country_values_and_feature_selection(built):
    settings, repo, _ = built
    online = fs.online_features(
        settings,
        "country",
        ["BBB", "AAA", "ZZZ"],
        ["has_cop26_coal_pledge", "country_yearly:phase_out_year", "coal_share_of_electricity_pct", "year"],
        repo_dir=repo,
    )
    assert list(online["iso3"]) == ["BBB", "AAA", "ZZZ"]
    rows = online.set_index("iso3").to_dict("index")
    assert rows["BBB"] == {
        "has_cop26_coal_pledge": True,
        "phase_out_year": 2030,
        "coal_share_of_electricity_pct": 9.75,
        "year": 2024,
    }
    assert rows["AAA"] == {
        "has_cop26_coal_pledge": True,
        "phase_out_year": 2040,
        "coal_share_of_electricity_pct": 40.5,
        "year": 2023,
    }
    assert all(v is None or (isinstance(v, float) and math.isnan(v)) for v in rows["ZZZ"].values())
    with pytest.raises(KeyError):
        fs.online_features(settings, "country", ["AAA"], ["gdp_usd"], repo_dir=repo)
    with pytest.raises(ValueError):
        fs.online_features(settings, "plant", ["AAA"], repo_dir=repo)


def test_every_registry_metric_becomes_one_feature():
    metrics = load_metrics()
    schemas = {}
    for spec in fs.VIEWS:
        cols = {m.gold.column for m in metrics.values() if m.gold.table == spec.table}
        cols |= set(fs.EXTRA_FEATURES.get(spec.table, {}))
        schemas[spec.table] = pa.schema([(c, pa.float64()) for c in sorted(cols)])
    plan = fs._plan(metrics, schemas)
    served = {(v, f.name) for v, feats in plan.items() for f in feats}
    table_view = {spec.table: spec.name for spec in fs.VIEWS}
    assert {(table_view[m.gold.table], m.gold.column) for m in metrics.values()} <= served
    assert all(f.description for feats in plan.values() for f in feats)


def test_plan_refuses_unknown_tables_and_missing_columns():
    schemas = {spec.table: pa.schema([("year", pa.int32())]) for spec in fs.VIEWS}
    schemas["dim_mine"] = pa.schema([("country_iso3", pa.string())])
    with pytest.raises(ValueError, match="no column 'gem_production_mt'"):
        fs._plan({"m": _metric("m", "mine", "fct_mine__yearly", "gem_production_mt")}, schemas)
    with pytest.raises(ValueError, match="has no feature view"):
        fs._plan({"m": _metric("m", "mine", "fvi_scores", "x")}, schemas)


def test_export_refuses_duplicate_keys(tmp_path):
    settings = Settings(home=tmp_path / "home", warehouse_url=None)
    with DuckDBWarehouse(tmp_path / "dup.duckdb") as wh:
        wh.write_table("gold", "fct_mine__yearly", pd.concat([MINE_YEARLY, MINE_YEARLY.head(1)]))
        wh.write_table("gold", "dim_mine", DIM_MINE)
        wh.write_table("gold", "fct_country__yearly", COUNTRY_YEARLY)
        with pytest.raises(ValueError, match="more than one row"):
            fs.export_offline(settings, wh, tmp_path / "data")


def test_reapply_follows_the_registry(tmp_path):
    settings = Settings(home=tmp_path / "home", warehouse_url=None)
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.write_table("gold", "fct_mine__yearly", MINE_YEARLY)
        wh.write_table("gold", "dim_mine", DIM_MINE)
        wh.write_table("gold", "fct_country__yearly", COUNTRY_YEARLY)
        fs.build_feature_store(settings, wh, metrics=METRICS)
        fewer = {k: v for k, v in METRICS.items() if k != "cop26"}
        again = fs.build_feature_store(settings, wh, metrics=fewer)
    assert again["views"]["country_yearly"]["features"] == 3
    with pytest.raises(KeyError):
        fs.online_features(settings, "country", ["AAA"], ["has_cop26_coal_pledge"])
    online = fs.online_features(settings, "country", ["AAA"], ["phase_out_year"])
    assert online.at[0, "phase_out_year"] == 2040


def test_normalise_gives_the_same_types_for_postgres_objects():
    from decimal import Decimal

    raw = pd.DataFrame(
        {
            "i": [1, None, 3],
            "d": [Decimal("1.5"), None, Decimal("2")],
            "b": [True, None, False],
            "s": ["a", None, "c"],
            "f": [1.0, None, 2.5],
        },
        dtype=object,
    )
    out = fs._normalise(raw)
    assert {c: str(t) for c, t in out.dtypes.items()} == {
        "i": "Int64",
        "d": "float64",
        "b": "boolean",
        "s": "string",
        "f": "float64",
    }
    assert out["d"].tolist()[0] == 1.5 and out["i"].isna().tolist() == [False, True, False]
