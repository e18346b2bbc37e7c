"""Mines, US mines, countries and rankings against the tiny warehouse (ranks known by hand)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.gold import write_gold
from tests.unit.api.tiny_warehouse import RUN, replace_warehouse

from fvi.warehouse import DuckDBWarehouse


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [i["id"] for i in resp.json()["items"]]


def test_mines_default_latest_year_h10_analyst_ranked(client: TestClient) -> None:
    r = client.get("/v1/mines")
    body = r.json()
    assert ids(r) == ["M3", "M1", "M4", "M2"] and body["total"] == 4
    first = body["items"][0]
    assert first["as_of_year"] == 2024 and first["horizon"] == "H10" and first["persona"] == "analyst"
    assert first["fvi"] == 80.0 and first["rank"] == 1 and first["capacity_mtpa"] == 30.0
    assert first["fvi_p05"] == 70.0 and first["fvi_p95"] == 90.0 and first["name"] == "Gamma Mine"


def test_mines_pagination_counts_every_match(client: TestClient) -> None:
    page1 = client.get("/v1/mines?limit=2&offset=0").json()
    page2 = client.get("/v1/mines?limit=2&offset=2").json()
    past = client.get("/v1/mines?limit=2&offset=10").json()
    assert [i["id"] for i in page1["items"] + page2["items"]] == ["M3", "M1", "M4", "M2"]
    assert page1["total"] == page2["total"] == past["total"] == 4 and past["items"] == []
    assert (page1["limit"], page2["offset"]) == (2, 2)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("rank", ["M3", "M1", "M4", "M2"]),
        ("-rank", ["M2", "M4", "M1", "M3"]),
        ("-fvi", ["M3", "M1", "M4", "M2"]),
        ("fvi", ["M2", "M4", "M1", "M3"]),
        ("name", ["M1", "M2", "M4", "M3"]),
        ("-capacity", ["M3", "M1", "M2", "M4"]),  # no capacity: last either way
        ("capacity", ["M2", "M1", "M3", "M4"]),
    ],
)
def test_mines_sorting(client: TestClient, sort: str, expected: list[str]) -> None:
    assert ids(client.get(f"/v1/mines?sort={sort}")) == expected


def test_mines_sort_outside_whitelist_is_422(client: TestClient) -> None:
    r = client.get("/v1/mines?sort=entity_id;drop table x")
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid request: query.sort")


def test_mines_filters(client: TestClient) -> None:
    assert ids(client.get("/v1/mines?q=COAL")) == ["M3", "M1"]  # M3 is also known as Kaltim Prima Coal
    assert ids(client.get("/v1/mines?q=%25")) == []  # a LIKE wildcard is just a character here
    assert ids(client.get("/v1/mines?country=zaf")) == ["M1", "M2"]
    assert ids(client.get("/v1/mines?status=Operating")) == ["M3", "M1"]
    assert ids(client.get("/v1/mines?country=AUS&status=proposed")) == ["M4"]
    assert client.get("/v1/mines?country=ZA").status_code == 422


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("belchatow", ["M2"]),  # accents folded: the local name "Bełchatów"
        ("BEŁCHATÓW", ["M2"]),
        ("sangatta", ["M3"]),  # GEM's "Mine Name AKAs"
        ("kaltim", ["M3"]),
        ("m1", ["M1"]),  # an id, case-insensitive
        ("Gmma", ["M3"]),  # no substring match: the closest name
        ("zzzzqqq", []),
    ],
)
def test_mine_search_folds_accents_reads_other_names_and_ranks_fuzzy(client: TestClient, q: str, expected) -> None:
    assert ids(client.get("/v1/mines", params={"q": q})) == expected


def test_country_search_and_ids_are_forgiving(client: TestClient) -> None:
    assert ids(client.get("/v1/countries?q=Austrlia")) == ["AUS"]
    assert ids(client.get("/v1/countries?q=zaf")) == ["ZAF"]
    assert client.get("/v1/mines/m1").status_code == 200
    assert client.get("/v1/mines/m1").json()["id"] == "M1"


def test_mines_horizon_persona_year(client: TestClient) -> None:
    item = client.get("/v1/mines?horizon=H5&persona=investor&as_of_year=2023&limit=1").json()["items"][0]
    assert (item["id"], item["fvi"], item["as_of_year"]) == ("M3", 80.0 + 1.0 + 0.5 - 1, 2023)
    r = client.get("/v1/mines?persona=pirate")
    assert r.status_code == 422 and "query.persona" in r.json()["detail"] and "analyst" in r.json()["detail"]
    assert client.get("/v1/mines?horizon=H7").status_code == 422


def test_us_mines_list_uses_their_own_latest_year(client: TestClient) -> None:
    body = client.get("/v1/mines?entity_type=us_mine").json()
    assert [(i["id"], i["as_of_year"]) for i in body["items"]] == [("MSHA42", 2016)]


def test_mine_profile(client: TestClient) -> None:
    r = client.get("/v1/mines/M1")
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["entity_type"] == "mine" and p["name"] == "Alpha Coal Mine" and p["as_of_year"] == 2024
    assert p["years_scored"] == [2023, 2024]
    assert p["identity"]["owners"] == "A Ltd" and p["location"]["latitude"] == -26.1
    assert set(p["scores"]) == {"H5", "H10", "H20"} and set(p["scores"]["H10"]) == {"analyst", "investor"}
    block = p["scores"]["H10"]["analyst"]
    assert block["fvi"] == 60.0 and block["band"] == {"p05": 50.0, "p50": 60.0, "p95": 70.0}
    assert block["ranks"]["rank"] == 2 and block["ranks"]["rank_in_country"] == 1
    assert block["pillars"] == {"01": 65.0, "02": 55.0}
    assert p["pillar_names"]["01"]  # names from the registry
    assert p["prediction"]["available"] is False and "fvi_predictions" in p["prediction"]["note"]
    dq = p["data_quality"]
    assert dq["imputed_share"] == 0.25 and dq["counts"] == {"carry_forward": 1, "excluded": 1, "observed": 1}
    flags = {m["metric_id"]: (m["imputed"], m["missing"]) for m in dq["metrics"]}
    assert flags == {
        "mine_capacity_mtpa": (False, False),
        "mine_production_mt": (True, False),
        "mine_workforce_size": (False, True),
    }
    prov = p["provenance"]
    assert prov["run_id"] == RUN and prov["registry_hash"] == "r" * 64 and prov["registry_hash_current"]
    # the releases of the latest run at or before the scores' run, only sources the mine's metrics use
    assert {(s["source_id"], s["release"]) for s in prov["sources"]} == {("gem_mines", "2024-04"), ("owid", "2024-04")}
    assert all("path" not in s for s in prov["sources"])
    assert p["related"]["country"] == "/v1/countries/ZAF"


def test_profile_explains_the_score_in_points_and_words(client: TestClient) -> None:
    body = client.get("/v1/mines/M1").json()
    drivers = body["score_drivers"]
    assert drivers["available"] and list(drivers["horizons"]) == ["H10"]
    h10 = drivers["horizons"]["H10"]
    assert h10["persona"] == "analyst" and [d["points"] for d in h10["drivers"]] == [-6.1, -1.5]  # largest first
    first = h10["drivers"][0]["text"]
    assert first.startswith("Coal share of electricity (its country's) of 0 % in Alpha Coal Mine lowers the score by "
                            "6.1 points at H10"), first
    assert "imputed: country_median" in first and "against the typical country (35.0 %)" in first
    d = h10["drivers"][0]  # plain labels for the dashboard's chart
    assert (d["name"], d["value_text"], d["typical_text"]) == ("Coal share of electricity", "0 %", "35.0 %")
    assert client.get("/v1/mines/M2").json()["score_drivers"]["available"] is False


def test_mine_profile_filters_and_years(client: TestClient) -> None:
    p = client.get("/v1/mines/M3?horizon=H20&persona=investor&as_of_year=2023").json()
    assert list(p["scores"]) == ["H20"] and list(p["scores"]["H20"]) == ["investor"]
    assert p["as_of_year"] == 2023 and p["related"]["us_mine"] == "/v1/mines/MSHA42"
    r = client.get("/v1/mines/M3?as_of_year=1999")
    assert r.status_code == 404 and "M3" in r.json()["detail"] and "1999" in r.json()["detail"]
    assert client.get("/v1/mines/M3?persona=pirate").status_code == 422


def test_missing_pillar_is_null_not_nan(client: TestClient) -> None:
    block = client.get("/v1/mines/M4").json()["scores"]["H10"]["analyst"]
    assert block["pillars"]["02"] is None and block["pillar_coverage"] == 0.5


def test_us_mine_profile(client: TestClient) -> None:
    for mine_id in ("MSHA42", "msha42"):
        p = client.get(f"/v1/mines/{mine_id}").json()
        assert p["entity_type"] == "us_mine" and p["id"] == "MSHA42" and p["name"] == "Eagle Mine"
        assert p["as_of_year"] == 2016 and p["location"]["state"] == "Wyoming"
        links = {k: v for k, v in p["related"].items() if k != "linked"}
        assert links == {"gem_mine": "/v1/mines/M3", "country": "/v1/countries/USA"}
        assert p["related"]["linked"]["id"] == "M3"
        assert p["scores"]["H10"]["analyst"]["fvi"] == 50.0  # 58 at 2016, minus 8 years
        assert "eia_mines" in {s["source_id"] for s in p["provenance"]["sources"]}


def test_unknown_mine_is_404_naming_it(client: TestClient) -> None:
    for mine_id in ("M999", "MSHA999"):
        r = client.get(f"/v1/mines/{mine_id}")
        assert r.status_code == 404 and mine_id in r.json()["detail"]
    assert client.get("/v1/mines/bad%20id").status_code == 422


def test_countries(client: TestClient) -> None:
    assert ids(client.get("/v1/countries")) == ["AUS", "USA", "ZAF"]
    assert ids(client.get("/v1/countries?q=united")) == ["USA"]
    assert ids(client.get("/v1/countries?sort=-name")) == ["USA", "ZAF", "AUS"]
    item = client.get("/v1/countries?limit=1").json()["items"][0]
    assert item["is_coal_producer"] is True and item["fvi"] == 65.0


def test_country_profile(client: TestClient) -> None:
    p = client.get("/v1/countries/zaf").json()
    assert p["entity_type"] == "country" and p["id"] == "ZAF" and p["name"] == "South Africa"
    assert p["scores"]["H10"]["analyst"]["fvi"] == 45.0
    assert {m["status"]: m["mines"] for m in p["related"]["mines"]} == {"closed": 1, "operating": 1}
    assert p["data_quality"]["metrics"][0]["metric_id"] == "country_gdp_usd"
    assert client.get("/v1/countries/XXX").status_code == 404
    assert client.get("/v1/countries/XXXX").status_code == 422


def test_rankings_scopes(client: TestClient) -> None:
    body = client.get("/v1/rankings?entity_type=mine&country=ZAF").json()
    assert [(i["id"], i["rank_in_country"]) for i in body["items"]] == [("M1", 1), ("M2", 2)]
    assert "country" in body["note"]
    body = client.get("/v1/rankings?status=operating").json()
    assert [(i["id"], i["rank_in_status"]) for i in body["items"]] == [("M3", 1), ("M1", 2)]
    body = client.get("/v1/rankings?entity_type=country&limit=2").json()
    assert [(i["id"], i["rank"]) for i in body["items"]] == [("AUS", 1), ("USA", 2)] and body["total"] == 3
    assert client.get("/v1/rankings?entity_type=plant").status_code == 422


def test_predictions_when_the_model_tables_exist(warehouse, make_client) -> None:
    import pandas as pd

    def models(wh: DuckDBWarehouse) -> None:
        key = {"entity_type": ["mine", "mine", "mine"], "entity_id": ["M1"] * 3, "as_of_year": [2024] * 3}
        preds = pd.DataFrame(
            {
                **key,
                "horizon": ["H5", "H5", "H10"],  # the declared type of gold.fvi_predictions.horizon
                "target": ["operating"] * 3,
                "p": [0.8, 0.6, 0.7],
                "model_name": ["lgbm_mine_h5", "hazard_mine", "hazard_mine"],
                "model_version": ["3", "1", "1"],
                "method": ["classifier", "hazard", "hazard"],
            }
        )
        country = {"entity_type": ["country"], "entity_id": ["ZAF"], "as_of_year": [2024], "horizon": ["H10"]}
        decline = {"target": ["decline"], "p": [0.3], "model_name": ["c"], "model_version": ["1"]}
        decline |= {"method": ["classifier"]}
        write_gold(wh, "fvi_predictions", pd.concat([preds, pd.DataFrame(country | decline)]))
        bayes = pd.DataFrame(
            {
                "entity_type": ["mine", "country"],
                "entity_id": ["M1", "ZAF"],
                "as_of_year": [2024, 2024],
                "horizon": ["H5", "H10"],
                "p_mean": [0.75, 0.8],
                "p_lo": [0.6, 0.7],
                "p_hi": [0.9, 0.95],
            }
        )
        write_gold(wh, "fvi_predictions_bayes", bayes)

    replace_warehouse(warehouse, models)
    pred = make_client().get("/v1/mines/M1").json()["prediction"]
    assert pred["available"] is True and len(pred["all"]) == 3
    h5 = pred["horizons"]["H5"]
    assert (h5["p"], h5["model_name"], h5["p_lo"], h5["p_hi"]) == (0.8, "lgbm_mine_h5", 0.6, 0.9)
    assert pred["horizons"]["H10"]["p_lo"] is None and "H10" in pred["note"]
    country = make_client().get("/v1/countries/ZAF").json()["prediction"]
    band = country["horizons"]["H10"]  # P(decline) with the Bayesian P(viable) band turned round
    assert band["p"] == 0.3 and band["p_mean"] == pytest.approx(0.2)
    assert (band["p_lo"], band["p_hi"]) == (pytest.approx(0.05), pytest.approx(0.3)) and "1 - P" in country["note"]


def test_a_build_scored_without_uncertainty_still_answers(settings, make_client) -> None:
    """`fvi score --no-uncertainty` once left fvi_scores without band columns and every list route 500."""
    from tests.unit.api.tiny_warehouse import scores_frame, write_runs, write_warehouse

    def no_bands(wh) -> None:
        frame = scores_frame()
        bands = [c for c in frame if c.startswith(("fvi_p", "rank_p"))]
        write_gold(wh, "fvi_scores", frame.drop(columns=bands))

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_warehouse(settings.duckdb_path, extra=no_bands)
    write_runs(settings.home_abs)
    client = make_client()
    for path in ("/v1/mines", "/v1/countries", "/v1/rankings", "/v1/rankings?entity_type=country"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        items = r.json()["items"]
        assert items and all(i["fvi_p05"] is None for i in items)


def test_linked_entities_show_each_other_and_why_they_differ(client: TestClient) -> None:
    """M3 is also EIA's MSHA42: each profile shows the other's score and says why the two differ."""
    linked = client.get("/v1/mines/M3").json()["related"]["linked"]
    assert linked["id"] == "MSHA42" and linked["entity_type"] == "us_mine"
    assert set(linked["fvi"]) == {"H5", "H10", "H20"} and linked["fvi"]["H10"] is not None
    assert linked["this_fvi"]["H10"] == 80.0 and "scored twice" in linked["why_different"]
    back = client.get("/v1/mines/msha42").json()["related"]["linked"]
    assert back["id"] == "M3" and back["fvi"]["H10"] == 80.0


def test_the_band_width_is_explained_by_the_choices_that_drive_it(settings, make_client) -> None:
    """A band 20 points wide says which modelling choice (Sobol indices of its entity type) it comes from."""
    import pandas as pd
    from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

    def sensitivity(wh) -> None:
        rows = [
            {"entity_type": "mine", "as_of_year": year, "horizon": "H10", "persona": "analyst", "factor": f,
             "output": "mean_abs_rank_shift", "s1": st / 2, "s1_conf": 0.01, "st": st, "st_conf": 0.01,
             "n_evaluations": 768, "n_entities": 4, "mean_output": 0.4, "seed": 1}
            for year, order in ((2023, (0.9, 0.1, 0.1, 0.1)), (2024, (0.05, 0.57, 0.2, 0.1)))
            for f, st in zip(("weights", "normalisation", "imputation", "aggregation"), order, strict=True)
        ]
        write_gold(wh, "fvi_sensitivity", pd.DataFrame(rows))

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_warehouse(settings.duckdb_path, extra=sensitivity)
    write_runs(settings.home_abs)
    block = make_client().get("/v1/mines/M1").json()["scores"]["H10"]["analyst"]
    assert block["band"] == {"p05": 50.0, "p50": 60.0, "p95": 70.0}
    explained = block["band_explained"]
    assert explained["width"] == 20.0
    assert [d["factor"] for d in explained["drivers"]] == ["normalisation", "imputation", "aggregation", "weights"]
    text = explained["text"]
    assert "20 points wide" in text and "normalisation" in text and "0.57" in text


def test_a_band_without_sobol_indices_says_so(client: TestClient) -> None:
    explained = client.get("/v1/mines/M1").json()["scores"]["H10"]["analyst"]["band_explained"]
    assert explained["width"] == 20.0 and explained["drivers"] == [] and "No Sobol indices" in explained["text"]


def test_the_fvi_is_read_as_a_calibrated_probability_where_outcomes_allow(settings, make_client) -> None:
    """gold.fvi_viability gives a score block its P(viable) with band and label count; no row, no number."""
    import pandas as pd
    from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

    def viability(wh) -> None:
        row = {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H10", "persona": "analyst",
               "level": "gem_closure", "fvi": 60.0, "p_viable": 0.81, "p_viable_lo": 0.74, "p_viable_hi": 0.86,
               "n_labels": 4093, "n_not_viable": 574, "label_years": "2019-2023"}  # fmt: skip
        write_gold(wh, "fvi_viability", pd.DataFrame([row]))

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_warehouse(settings.duckdb_path, extra=viability)
    write_runs(settings.home_abs)
    profile = make_client().get("/v1/mines/M1").json()
    assert profile["as_of_year"] == 2024
    scores = profile["scores"]
    got = scores["H10"]["analyst"]["viable_from_fvi"]
    assert got == {"p": 0.81, "lo": 0.74, "hi": 0.86, "level": "gem_closure", "n_labels": 4093,
                   "n_not_viable": 574, "label_years": "2019-2023"}  # fmt: skip
    assert scores["H5"]["analyst"]["viable_from_fvi"] is None
