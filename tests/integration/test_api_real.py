"""The API on the session's real-data build: a GEM mine, a US mine and a country end to end (read-only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fvi.api.app import create_app
from fvi.scoring.config import load_personas
from fvi.settings import ApiSettings

pytestmark = [pytest.mark.integration]
HORIZONS = {"H5", "H10", "H20"}


@pytest.fixture()
def api(shared_settings) -> Iterator[TestClient]:
    fast = ApiSettings(warm_whatif=False, rate_per_minute=100_000, key_rate_per_minute=100_000, rate_burst=100_000)
    with TestClient(
        create_app(shared_settings, api_settings=fast.model_copy(update={"whatif_rate_per_minute": 10_000}))
    ) as c:
        yield c


def ok(client: TestClient, url: str) -> dict:
    r = client.get(url)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    assert r.headers["x-trace-id"]
    return r.json()


def test_ready(api: TestClient) -> None:
    body = ok(api, "/ready")
    assert body["ready"] and body["checks"]["warehouse"]["ok"]


def test_mine_end_to_end(api: TestClient, shared_build) -> None:
    _, report = shared_build
    listed = ok(api, "/v1/mines?limit=5")
    assert listed["total"] >= 1000 and [i["rank"] for i in listed["items"]] == [1, 2, 3, 4, 5]
    top = listed["items"][0]
    assert top["fvi"] >= listed["items"][-1]["fvi"]
    p = ok(api, f"/v1/mines/{top['id']}")
    assert p["entity_type"] == "mine" and p["name"] == top["name"] and p["location"]["latitude"] is not None
    assert set(p["scores"]) == HORIZONS and set(p["scores"]["H10"]) == set(load_personas())
    block = p["scores"]["H10"]["analyst"]
    assert block["fvi"] == pytest.approx(top["fvi"]) and block["ranks"]["rank"] == 1
    assert block["band"]["p05"] <= block["band"]["p95"]
    assert p["data_quality"]["metrics"] and p["data_quality"]["imputed_share"] is not None
    assert p["provenance"]["run_id"] == report["run_id"]
    assert {s["source_id"] for s in p["provenance"]["sources"]} >= {"gem_mines"}
    assert all(s["licence_name"] for s in p["provenance"]["sources"])
    pred = p["prediction"]
    assert pred["available"] or pred["note"]
    for h, model in pred["horizons"].items():  # when the build trained models
        assert h in HORIZONS and 0.0 <= model["p"] <= 1.0 and model["model_version"]
        if model["p_lo"] is not None:
            assert 0.0 <= model["p_lo"] <= model["p_hi"] <= 1.0
    same_country = ok(api, f"/v1/rankings?country={top['country_iso3']}&limit=3")
    assert same_country["items"][0]["rank_in_country"] == 1
    searched = ok(api, f"/v1/mines?q={top['name'][:6].lower()}&country={top['country_iso3']}")
    assert top["id"] in [i["id"] for i in searched["items"]]


def test_us_mine_end_to_end(api: TestClient) -> None:
    listed = ok(api, "/v1/mines?entity_type=us_mine&limit=1")
    mine_id = listed["items"][0]["id"]
    assert mine_id.startswith("MSHA") and listed["total"] >= 100
    p = ok(api, f"/v1/mines/{mine_id}")
    assert p["entity_type"] == "us_mine" and p["identity"]["msha_id"] == int(mine_id[4:])
    assert set(p["scores"]) == HORIZONS and p["related"]["country"] == "/v1/countries/USA"
    assert "eia_mines" in {s["source_id"] for s in p["provenance"]["sources"]}


def test_country_end_to_end(api: TestClient) -> None:
    listed = ok(api, "/v1/countries?limit=500")
    assert listed["total"] >= 100
    ids = [i["id"] for i in listed["items"]]
    p = ok(api, "/v1/countries/CHN" if "CHN" in ids else f"/v1/countries/{ids[0]}")
    assert p["entity_type"] == "country" and set(p["scores"]) == HORIZONS
    assert p["related"]["mines"] and p["data_quality"]["metrics"]
    assert api.get("/v1/countries/XXX").status_code == 404


@pytest.mark.parametrize(
    ("entity_type", "list_url"),
    [
        ("mine", "/v1/mines?limit=1"),
        ("us_mine", "/v1/mines?entity_type=us_mine&limit=1"),
        ("country", "/v1/countries?limit=1"),
    ],
)
def test_what_if_baseline_matches_the_stored_scores(api: TestClient, entity_type: str, list_url: str) -> None:
    entity_id = ok(api, list_url)["items"][0]["id"]
    r = api.post("/v1/score/what-if", json={"entity_type": entity_type, "entity_id": entity_id, "persona": "investor"})
    assert r.status_code == 200, r.text
    path = "countries" if entity_type == "country" else "mines"
    stored = ok(api, f"/v1/{path}/{entity_id}?persona=investor")["scores"]
    for h in HORIZONS:
        got = r.json()["horizons"][h]
        assert got["fvi_baseline"] == pytest.approx(stored[h]["investor"]["fvi"], abs=1e-3)
        assert got["rank"] == stored[h]["investor"]["ranks"]["rank"]


def test_registry_quality_runs(api: TestClient, shared_build) -> None:
    _, report = shared_build
    assert ok(api, "/v1/metrics?limit=500")["total"] >= 20
    dq = ok(api, "/v1/data-quality?sort=null_rate&limit=500")
    assert dq["total"] >= 20 and dq["items"][0]["null_rate"] >= dq["items"][-1]["null_rate"]
    sources = ok(api, "/v1/sources?limit=500")["items"]
    assert all(s["licence"]["name"] for s in sources) and any(s["releases"] for s in sources)
    runs = ok(api, "/v1/runs")["items"]
    assert report["run_id"] in [r["run_id"] for r in runs]
    run = ok(api, f"/v1/runs/{report['run_id']}")
    assert run["report"]["run_id"] == report["run_id"] and run["manifest"]
    assert ok(api, "/v1/weights")["personas"]
