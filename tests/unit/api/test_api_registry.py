"""Registry-backed routes (metrics, pillars, personas, sources), data quality, runs and weights."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient
from tests.gold import write_gold
from tests.unit.api.tiny_warehouse import RUN, RUN_OLD, replace_warehouse

from fvi.registry import load_sources
from fvi.registry.metrics import load_metrics, load_pillars
from fvi.scoring.config import load_learnt_personas, load_personas
from fvi.warehouse import DuckDBWarehouse
from fvi.weights import HISTORY_COLUMNS


def test_metrics_carry_the_registry(client: TestClient) -> None:
    body = client.get("/v1/metrics?limit=500").json()
    assert body["total"] == len(load_metrics()) == len(body["items"])
    m = next(i for i in body["items"] if i["id"] == "mine_capacity_mtpa")
    assert {"pillar", "pillar_name", "unit", "polarity", "goalposts", "horizon_weights", "missing_data"} <= set(m)
    assert m["sources"][0]["licence"]["name"]
    only = client.get("/v1/metrics?entity=country&pillar=01&limit=500").json()["items"]
    assert only and all(i["entity"] == "country" and i["pillar"] == "01" for i in only)
    page = client.get("/v1/metrics?limit=2&offset=1").json()
    assert [i["id"] for i in page["items"]] == [i["id"] for i in body["items"][1:3]]


def test_pillars_personas_sources(client: TestClient) -> None:
    pillars = client.get("/v1/pillars").json()
    assert pillars["total"] == len(load_pillars())
    first = pillars["items"][0]
    assert first["metrics"] and set(first["persona_weights"]) == set(load_personas())
    personas = client.get("/v1/personas").json()["items"]
    assert [p["id"] for p in personas] == [*load_personas(), *load_learnt_personas()]
    assert [p["id"] for p in personas if p["learnt"]] == ["data_driven"]  # shown beside the presets
    assert abs(sum(personas[0]["weights"].values()) - 1) < 1e-9
    sources = client.get("/v1/sources?limit=500").json()
    assert sources["total"] == len(load_sources()) and sources["note"] is None
    gem = next(s for s in sources["items"] if s["id"] == "gem_mines")
    assert gem["licence"]["name"] and [r["release"] for r in gem["releases"]] == ["2024-04"]


def test_data_quality(client: TestClient) -> None:
    body = client.get("/v1/data-quality").json()
    assert body["total"] == 3 and [i["metric_id"] for i in body["items"]][0] == "country_gdp_usd"
    worst = client.get("/v1/data-quality?sort=null_rate&entity=mine").json()
    assert [i["metric_id"] for i in worst["items"]] == ["mine_workforce_size", "mine_capacity_mtpa"]
    assert client.get("/v1/data-quality?sort=sql").status_code == 422


def test_data_quality_names_held_back_sources_their_checks_and_rows(warehouse, make_client) -> None:
    """A source carried forward in the latest run shows in the data-quality view (issue 16, item 1)."""
    from fvi.held_back import silver_message, silver_test

    message = silver_message([silver_test("unique_stg_owid__coal_production_iso3_year", 3, "fail")], carried=True)

    def held(wh: DuckDBWarehouse) -> None:
        wh.con.execute("update bronze.ingest_manifest set status = 'carried_forward', message = ? "
                       "where run_id = ? and source_id = 'owid'", [message, RUN])
        wh.con.execute("update bronze.ingest_manifest set status = 'failed', message = 'owid: old' "
                       "where run_id = ? and source_id = 'gem_mines'", [RUN_OLD])  # an older run: not named
        wh.con.execute("alter table marts.vw_metric_dq add column source_ids varchar")
        wh.con.execute("update marts.vw_metric_dq set source_ids = case metric_id "
                       "when 'country_gdp_usd' then 'wdi;owid' else 'gem_mines' end")
        wh.con.execute("create table bronze.raw_owid__coal_production as select 1 as x from range(7)")

    replace_warehouse(warehouse, held)
    client = make_client()
    body = client.get("/v1/data-quality").json()
    by_metric = {i["metric_id"]: i for i in body["items"]}
    assert by_metric["country_gdp_usd"]["held_back"] == (
        "owid carried_forward: unique_stg_owid__coal_production_iso3_year (3 rows)")
    assert by_metric["mine_capacity_mtpa"]["held_back"] is None
    assert list(by_metric["country_gdp_usd"])[:9][-2:] == ["source_ids", "held_back"]  # shown by the dashboard
    assert body["note"] == (
        f"Not loaded fresh in run {RUN}: owid (carried_forward; unique_stg_owid__coal_production_iso3_year "
        "(3 rows); serving 7 rows of the previous good build).")
    sources = client.get("/v1/data-quality/sources").json()
    assert sources["total"] == 1
    (owid,) = sources["items"]
    assert owid["source_id"] == "owid" and owid["status"] == "carried_forward" and owid["rows_served"] == 7
    assert owid["checks"] == [{"check": "unique_stg_owid__coal_production_iso3_year", "rows": 3,
                               "detail": "failing rows"}]
    assert "/secret" not in str(sources)


def test_data_quality_every_source_fresh_says_so(client: TestClient) -> None:
    assert client.get("/v1/data-quality").json()["note"] is None
    assert client.get("/v1/data-quality/sources").json() == {
        "items": [], "total": 0, "note": "every source loaded fresh"}


def test_data_quality_absent_mart_is_an_empty_page_with_a_note(warehouse, make_client) -> None:
    def drop(wh: DuckDBWarehouse) -> None:
        wh.con.execute("drop table marts.vw_metric_dq")

    replace_warehouse(warehouse, drop)
    body = make_client().get("/v1/data-quality").json()
    assert body["items"] == [] and body["total"] == 0 and "vw_metric_dq" in body["note"]


def test_runs(client: TestClient) -> None:
    body = client.get("/v1/runs").json()
    assert [r["run_id"] for r in body["items"]] == ["broken", RUN, RUN_OLD] and body["total"] == 3
    run = body["items"][1]
    assert run["has_report"] and run["built"] is True and run["seconds_total"] == 1.5
    assert run["manifest"]["sources"] == 3
    assert body["items"][2]["has_report"] is False and body["items"][0]["has_report"] is False
    one = client.get(f"/v1/runs/{RUN}").json()
    assert one["report"]["input"]["data_dir"] == "data"  # server paths reduced to names
    assert one["outputs"] == ["audit.json"] and len(one["manifest"]) == 3
    assert all(m["path"].endswith(".xlsx") and "/" not in m["path"] for m in one["manifest"])
    only_manifest = client.get(f"/v1/runs/{RUN_OLD}").json()
    assert only_manifest["report"] is None and only_manifest["manifest"]
    r = client.get("/v1/runs/20990101T000000Z_nope")
    assert r.status_code == 404 and "20990101T000000Z_nope" in r.json()["detail"]
    assert client.get("/v1/runs/..%2F..%2Fetc").status_code in (404, 422)
    assert client.get("/v1/runs?limit=1&offset=1").json()["items"][0]["run_id"] == RUN


def test_weights_without_history(client: TestClient) -> None:
    body = client.get("/v1/weights").json()
    assert [p["id"] for p in body["personas"]] == [*load_personas(), *load_learnt_personas()]
    assert body["dynamic"]["available"] is False and "fvi_weights_history" in body["dynamic"]["note"]
    assert body["history"]["items"] == []


def test_weights_with_history(warehouse, make_client) -> None:
    rows = []
    for run, when, w in (("r1", "2026-01-01", 0.3), ("r2", "2026-02-01", 0.6)):
        for h in ("H5", "H10"):
            for pillar, share in (("01", w), ("02", 1 - w)):
                rows.append(
                    {
                        "run_id": run,
                        "level": "country",
                        "horizon": h,
                        "pillar": pillar,
                        "mi": 0.1,
                        "n_metrics": 2,
                        "top_metric": "m",
                        "data_weight": share,
                        "expert_weight": 0.5,
                        "weight": share,
                        "blend": 0.5,
                        "estimator": "plugin",
                        "engine": "local",
                        "n_rows": 100,
                        "computed_at": pd.Timestamp(when),
                    }
                )
    frame = pd.DataFrame(rows)[HISTORY_COLUMNS]
    replace_warehouse(warehouse, lambda wh: write_gold(wh, "fvi_weights_history", frame))
    body = make_client().get("/v1/weights?limit=3").json()
    dyn = body["dynamic"]
    assert dyn["available"] and dyn["run_ids"] == ["r2"] and dyn["computed_at"].startswith("2026-02-01")
    assert dyn["levels"]["country"]["H10"]["01"] == {"weight": 0.6, "data_weight": 0.6, "expert_weight": 0.5}
    assert body["history"]["total"] == 8 and len(body["history"]["items"]) == 3
    assert body["history"]["items"][0]["run_id"] == "r2"


def test_backtest_route(warehouse, make_client) -> None:
    from fvi.ml.backtest_report import backtest_table

    body = make_client().get("/v1/backtest").json()
    assert body["available"] is False and "fvi backtest" in body["note"]
    base = {"horizon": 5, "fvi_horizon": "H5", "as_of_years": "2018", "outcome_years": "2023", "persona": "analyst",
            "brier": 0.1, "brier_base_rate": 0.12, "ece": 0.02, "lift_riskiest_decile": 3.0}  # fmt: skip
    rows = [
        {**base, "level": "gem_closure", "scorer": "model", "model_name": "fvi_mine_global", "as_of_year": None,
         "n": 400, "n_positive": 300, "auc": 0.89, "auc_minus_size": 0.16, "auc_minus_size_lo": 0.1,
         "auc_minus_size_hi": 0.23},
        {**base, "level": "gem_closure", "scorer": "size", "as_of_year": None, "n": 200, "n_positive": 190,
         "auc": 0.65},
        {**base, "level": "gem_closure", "scorer": "model", "model_name": "fvi_mine_global", "as_of_year": 2018,
         "n": 400, "n_positive": 300, "auc": 0.5},
    ]  # fmt: skip
    table = backtest_table(rows, "run_x", "abc")
    replace_warehouse(warehouse, lambda wh: write_gold(wh, "fvi_backtest", table))
    body = make_client().get("/v1/backtest").json()
    assert body["available"] and body["run_id"] == "run_x"
    level = body["levels"]["gem_closure"]
    assert "worldwide" in level["description"]
    h5 = level["horizons"]["5"]
    assert [r["scorer"] for r in h5] == ["model", "size"]  # pooled rows only, best AUC first
    assert h5[0]["auc"] == 0.89 and h5[0]["auc_minus_size_lo"] == 0.1 and h5[0]["thin"] is False
    assert h5[1]["thin"] is True  # 10 non-viable outcomes


def test_model_features_show_the_coverage_gap(warehouse, make_client) -> None:
    from fvi.registry.vocabulary import GLOBAL_MINE_FEATURES, GLOBAL_MINE_FEATURES_LEFT_OUT

    dim = pd.DataFrame(
        {
            "gem_mine_id": ["A", "B", "C", "D"],
            "status": ["Operating", "operating", "closed", "Closed"],
            "country_iso3": ["AUS", "AUS", "AUS", "USA"],
            "capacity_mtpa": [1.0, 2.0, None, None],
            "workforce_size": [10.0, 20.0, 5.0, None],
        }
    )
    replace_warehouse(warehouse, lambda wh: wh.write_table("gold", "dim_mine", dim))
    body = make_client().get("/v1/data-quality/model-features").json()
    items = {i["id"]: i for i in body["items"]}
    assert len(items) == len(GLOBAL_MINE_FEATURES) + len(GLOBAL_MINE_FEATURES_LEFT_OUT)
    assert items["log_capacity"]["used"] is True
    assert items["log_capacity"]["coverage"] == {"operating": 1.0, "closed": 0.0}
    assert items["log_capacity"]["coverage_gap"] == 1.0
    assert items["workforce_size"]["used"] is False and items["workforce_size"]["coverage"]["closed"] == 0.5
    assert items["te_country"]["coverage_gap"] == 0.0 and items["te_country"]["reason"]
    assert items["coal_grade"]["coverage"] == {"operating": None, "closed": None}  # no such column here
