"""The prediction routes over a tiny FVI_HOME with exported models: predict, batch, jobs, explain, models, A/B."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.api.conftest import api_settings
from tests.unit.api.serving_world import make_home

from fvi.api.app import create_app
from fvi.api.keys import KeyStore
from fvi.settings import ServingSettings, Settings


@pytest.fixture()
def client(settings: Settings, make_client: Callable[..., TestClient]) -> TestClient:
    make_home(settings.home_abs)
    return make_client()


@pytest.fixture()
def keys(settings: Settings) -> dict[str, dict[str, str]]:
    store = KeyStore(settings.home_abs / "api" / "keys.sqlite3")
    out = {}
    for scope in ("write", "admin"):
        _, plaintext = store.create(f"test-{scope}", [scope])
        out[scope] = {"X-API-Key": plaintext}
    return out


def predict(c: TestClient, **body) -> dict:
    r = c.post("/v1/predict", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_predict_each_entity_type(client: TestClient) -> None:
    mine = predict(client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion")
    assert mine["model_name"] == "fvi_mine_h5" and mine["model_version"] == "1" and mine["target"] == "operating"
    assert mine["as_of_year"] == 2024 and 0 < mine["p"] < 1 and mine["cached"] is False
    assert mine["interval"] == {"p_mean": 0.6, "p_lo": 0.4, "p_hi": 0.8, "level": 0.9, "model": "bayes_logit_mine_v1"}
    us = predict(client, entity_type="us_mine", entity_id="msha42", horizon="H20")  # ids of US mines: any case
    assert us["entity_id"] == "MSHA42" and us["model_name"] == "fvi_mine_hazard" and us["as_of_year"] == 2016
    country = predict(client, entity_type="country", entity_id="zaf", horizon="H10")
    assert country["model_name"] == "fvi_country_h10" and country["target"] == "decline"
    assert country["interval"]["p_lo"] == pytest.approx(0.1) and country["interval"]["p_hi"] == pytest.approx(0.5)
    default = predict(client, entity_type="country", entity_id="AUS")
    assert default["horizon"] == "H5" and default["interval"] is None


def test_cache_hit_and_metrics(client: TestClient) -> None:
    body = {"entity_type": "mine", "entity_id": "M2", "horizon": "H10"}
    first, second = predict(client, **body), predict(client, **body)
    assert (first["cached"], second["cached"]) == (False, True) and first["p"] == second["p"]
    text = client.get("/metrics").text
    assert 'fvi_prediction_cache_hits{backend="memory"} 1.0' in text
    assert 'fvi_predictions_total{model_version="fvi_mine_hazard:1",variant="champion"} 2.0' in text
    ready = client.get("/ready").json()["checks"]["model"]
    assert ready["ok"] and "fvi_mine_h5 v1" in ready["detail"] and "1 challenger" in ready["detail"]


def test_what_if_overrides(client: TestClient) -> None:
    base = predict(client, entity_type="mine", entity_id="M3", horizon="H5", variant="champion")
    high = predict(client, entity_type="mine", entity_id="M3", horizon="H5", variant="champion", overrides={"fvi": 99})
    low = predict(client, entity_type="mine", entity_id="M3", horizon="H5", variant="champion", overrides={"fvi": 1})
    assert high["overrides"] == {"fvi": 99.0} and high["interval"] is None
    assert high["p"] > low["p"] and base["p"] != high["p"]  # the tiny models learnt that a high FVI survives


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"entity_type": "mine", "entity_id": "M1", "overrides": {"nope": 1}}, 422, "body.overrides.nope"),
        ({"entity_type": "mine", "entity_id": "M1", "overrides": {"fvi": "x"}}, 422, "body.overrides.fvi"),
        ({"entity_type": "mine", "entity_id": "M404"}, 404, "M404"),
        ({"entity_type": "plant", "entity_id": "M1"}, 422, "body.entity_type"),
        ({"entity_type": "mine", "entity_id": "M1", "horizon": "H7"}, 422, "body.horizon"),
        ({"entity_type": "mine", "entity_id": "M1", "variant": "challenger", "horizon": "H20"}, 422, "no challenger"),
        ({"entity_type": "mine", "entity_id": "M1", "extra": 1}, 422, "body.extra"),
    ],
)
def test_predict_errors_name_the_field(client: TestClient, body: dict, status: int, words: str) -> None:
    r = client.post("/v1/predict", json=body)
    assert r.status_code == status and words in r.json()["detail"], r.text


def test_non_finite_override_is_422(client: TestClient) -> None:
    for token in ("NaN", "Infinity", "-Infinity", "1e999"):
        raw = '{"entity_type": "mine", "entity_id": "M1", "overrides": {"fvi": TOKEN}}'.replace("TOKEN", token)
        r = client.post("/v1/predict", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "body.overrides.fvi" in r.json()["detail"], (token, r.text)


def test_ab_split_routes_stably_and_needs_an_admin_key(client: TestClient, keys) -> None:
    ids = ["M1", "M2", "M3", "M4"]

    def arms() -> dict[str, str]:
        return {i: predict(client, entity_type="mine", entity_id=i, horizon="H5")["variant"] for i in ids}

    before = arms()
    assert before == arms()  # the same entity always gets the same arm
    assert client.put("/v1/models/ab", json={"challenger_share": 1.0}).status_code == 401
    assert client.put("/v1/models/ab", json={"challenger_share": 1.0}, headers=keys["write"]).status_code == 403
    r = client.put("/v1/models/ab", json={"challenger_share": 1.0}, headers=keys["admin"])
    assert r.status_code == 200 and r.json()["challenger_share"] == 1.0 and r.json()["updated_by"]
    after = {i: predict(client, entity_type="mine", entity_id=i, horizon="H5") for i in ids}
    assert {p["variant"] for p in after.values()} == {"challenger"}
    assert {p["model_version"] for p in after.values()} == {"2"}
    hazard = predict(client, entity_type="mine", entity_id="M1", horizon="H10")
    assert hazard["variant"] == "champion"  # no challenger for the hazard model
    ab = client.get("/v1/models/ab").json()
    assert ab["stats"]["fvi_mine_h5"]["variants"]["challenger"]["total"] >= 4
    assert client.put("/v1/models/ab", json={"challenger_share": 1.5}, headers=keys["admin"]).status_code == 422


def test_batch_sync_and_async_jobs(settings: Settings, make_client, keys, monkeypatch) -> None:
    monkeypatch.setenv("FVI_SERVING_BATCH_SYNC_LIMIT", "3")
    monkeypatch.setenv("FVI_SERVING_BATCH_MAX_ITEMS", "50")
    settings.serving = ServingSettings()  # settings are read once, at the edge: read this group again
    make_home(settings.home_abs)
    c = make_client()
    items = [
        {"entity_type": "mine", "entity_id": "M1", "horizon": "H5"},
        {"entity_type": "mine", "entity_id": "M404"},
        {"entity_type": "country", "entity_id": "ZAF", "horizon": "H20", "overrides": {"nope": 1}},
    ]
    r = c.post("/v1/predict/batch", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n"] == 3 and body["failed"] == 2
    assert [x["status"] for x in body["results"]] == [200, 404, 422]
    assert body["results"][0]["model_name"] == "fvi_mine_h5" and "M404" in body["results"][1]["detail"]

    many = {"items": [{"entity_type": "mine", "entity_id": f"M{1 + i % 4}", "horizon": "H10"} for i in range(10)]}
    assert c.post("/v1/predict/batch", json=many).status_code == 401  # a job needs a key
    r = c.post("/v1/predict/batch", json=many, headers=keys["write"])
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["total"] == 10 and r.headers["location"] == job["status_url"]
    assert c.get(job["status_url"]).status_code == 401
    deadline = time.monotonic() + 20
    while True:
        status = c.get(job["status_url"], headers=keys["write"]).json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["done"] == 10 and status["failed"] == 0
    assert len(status["results"]) == 10 and {x["model_name"] for x in status["results"]} == {"fvi_mine_hazard"}
    page = c.get(job["status_url"] + "?offset=8&limit=5", headers=keys["write"]).json()
    assert page["offset"] == 8 and len(page["results"]) == 2
    store = KeyStore(settings.home_abs / "api" / "keys.sqlite3")
    _, other = store.create("someone else", ["write"])
    assert c.get(job["status_url"], headers={"X-API-Key": other}).status_code == 404  # not your job
    assert c.get(job["status_url"], headers=keys["admin"]).status_code == 200
    assert c.get("/v1/jobs/doesnotexist0", headers=keys["write"]).status_code == 404
    too_many = {"items": many["items"] * 6}
    r = c.post("/v1/predict/batch", json=too_many, headers=keys["write"])
    assert r.status_code == 422 and "at most 50" in r.json()["detail"]


def test_explain_stored_and_on_demand(client: TestClient) -> None:
    r = client.get("/v1/explain/mine/M1?horizon=H5&top=2")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["source"] == "precomputed" and e["model_name"] == "fvi_mine_h5" and e["as_of_year"] == 2024
    assert e["base_value"] + sum(f["shap"] for f in e["features"]) == pytest.approx(e["logit"])
    fvi = next(f for f in e["features"] if f["feature"] == "fvi")
    assert fvi["name"] == "Future Viability Index" and fvi["unit"] == "0-100 score"
    pillar = next(f for f in e["features"] if f["feature"] == "pillar_01")
    assert pillar["name"] == "Necessity pillar"
    assert 1 <= len(e["top_drivers"]) <= 2 and "chance that the mine is still operating" in e["top_drivers"][0]["text"]
    p = predict(client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion")
    assert e["p_raw"] == pytest.approx(p["p_raw"], abs=1e-5)  # stored SHAP explains the served number

    r = client.post("/v1/explain/mine/M1", json={"horizon": "H5", "overrides": {"fvi": 99}, "variant": "champion"})
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["source"] == "computed" and w["overrides"] == {"fvi": 99.0}
    what_if = predict(
        client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion", overrides={"fvi": 99}
    )
    assert w["p_raw"] == pytest.approx(what_if["p_raw"], abs=1e-5)
    assert next(f for f in w["features"] if f["feature"] == "fvi")["value"] == 99.0

    hazard = client.get("/v1/explain/us_mine/msha42?horizon=H20").json()
    assert hazard["output"] == "log_odds_yearly_stop_hazard" and "yearly risk" in hazard["output_meaning"]
    country = client.get("/v1/explain/country/ZAF?horizon=H10").json()
    assert "coal production falls" in country["top_drivers"][0]["text"]
    assert client.get("/v1/explain/mine/M404").status_code == 404
    bad = client.post("/v1/explain/mine/M1", json={"overrides": {"nope": 1}})
    assert bad.status_code == 422 and "body.overrides.nope" in bad.json()["detail"]


def test_explain_stream(client: TestClient) -> None:
    r = client.get("/v1/explain/mine/M2/stream?horizon=H10")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in r.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    assert [name for name, _ in events] == ["started", "computing", "completed"]
    done = events[-1][1]
    assert done["entity_id"] == "M2" and done["model_name"] == "fvi_mine_hazard" and done["features"]
    assert client.get("/v1/explain/mine/NOPE/stream").status_code == 404  # refused before the stream opens


def test_models_list_and_promote(client: TestClient, keys, settings: Settings) -> None:
    models = client.get("/v1/models").json()
    by_name = {m["name"]: m for m in models["models"]}
    mine = by_name["fvi_mine_h5"]
    assert mine["aliases"] == {"champion": "1", "challenger": "2"} and mine["serving"] == mine["aliases"]
    assert mine["answers"] == ["mine/H5"] and "fvi" in mine["features"]
    assert [v["version"] for v in mine["versions"]] == ["1", "2"] and mine["versions"][0]["cv_auc"] == 0.7
    assert "onnx_path" not in json.dumps(models) and str(settings.home_abs) not in json.dumps(models)
    assert by_name["fvi_mine_hazard"]["answers"] == ["mine/H10", "mine/H20"]
    assert "k_year" not in by_name["fvi_mine_hazard"]["features"]

    url = "/v1/models/fvi_mine_h5/promote"
    assert client.post(url, json={"version": "2"}).status_code == 401
    assert client.post(url, json={"version": "2"}, headers=keys["write"]).status_code == 403
    assert client.post("/v1/models/nope/promote", json={"version": "1"}, headers=keys["admin"]).status_code == 404
    assert client.post(url, json={"version": "9"}, headers=keys["admin"]).status_code == 404

    before = predict(client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion")
    onnx = settings.home_abs / "models" / "fvi_mine_h5" / "2" / "model.onnx"
    good = onnx.read_bytes()
    onnx.write_bytes(good[: len(good) // 2])  # corrupt
    r = client.post(url, json={"version": "2"}, headers=keys["admin"])
    assert r.status_code == 409 and "sha256" in r.json()["detail"] and str(settings.home_abs) not in r.text
    onnx.unlink()
    r = client.post(url, json={"version": "challenger"}, headers=keys["admin"])
    assert r.status_code == 409 and "missing" in r.json()["detail"]
    still = predict(client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion")
    assert still["model_version"] == "1" and still["p"] == before["p"]  # the old version keeps serving

    onnx.write_bytes(good)
    r = client.post(url, json={"version": "2"}, headers=keys["admin"])
    assert r.status_code == 200, r.text
    assert r.json()["aliases"] == {"champion": "2"} and r.json()["serving"] == "2"
    now = predict(client, entity_type="mine", entity_id="M1", horizon="H5", variant="champion")
    assert now["model_version"] == "2" and now["cached"] is False  # sessions swapped, new cache key
    e = client.get("/v1/explain/mine/M1?horizon=H5").json()
    assert e["source"] == "computed" and e["model_version"] == "2" and "v1" in e["note"]  # stored one is stale


def test_ready_without_models_and_with_a_broken_champion(settings: Settings, make_client, warehouse: Path) -> None:
    c = make_client()  # the tiny API warehouse, no models trained
    ready = c.get("/ready").json()
    assert ready["ready"] and "no models trained" in ready["checks"]["model"]["detail"]
    r = c.post("/v1/predict", json={"entity_type": "mine", "entity_id": "M1"})
    assert r.status_code == 503 and "fvi train" in r.json()["detail"]

    home2 = settings.home_abs.parent / "home2"
    make_home(home2)
    onnx = home2 / "models" / "fvi_country_h5" / "1" / "model.onnx"
    onnx.write_bytes(b"not onnx")
    with TestClient(create_app(Settings(home=home2), api_settings=api_settings()), raise_server_exceptions=False) as c2:
        r = c2.get("/ready")
        assert r.status_code == 503 and "fvi_country_h5" in r.json()["checks"]["model"]["detail"]
        assert c2.post("/v1/predict", json={"entity_type": "mine", "entity_id": "M1"}).status_code == 200
        r = c2.post("/v1/predict", json={"entity_type": "country", "entity_id": "ZAF"})
        assert r.status_code == 503
