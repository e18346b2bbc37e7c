"""POST /v1/score/what-if on a hand-computable scorer (two pillars, mines M1 in ZAF and M9 without a country)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from fvi.registry.metrics import Defaults, Metric, Pillar, load_defaults
from fvi.scoring.config import ScoringSpec
from fvi.scoring.engine import Scorer, build_panels
from fvi.scoring.whatif import WhatIf


def _metric(mid: str, pillar: str, entity: str, polarity: str = "higher_is_better") -> Metric:
    return Metric.model_validate(
        {
            "id": mid,
            "name": mid,
            "description": "test",
            "pillar": pillar,
            "entity": entity,
            "gold": {"table": "fct_country__yearly" if entity == "country" else "fct_mine__yearly", "column": mid},
            "unit": "x",
            "polarity": polarity,
            "goalposts": {"low": 0, "high": 100},
            "horizon_weights": {"H5": 1, "H10": 1, "H20": 1},
            "sources": ["owid"],
            "missing_data": {"rule": "none"},
        }
    )


def tiny_whatif(_reader: object) -> WhatIf:
    """ZAF: c1 80 (pillar 01), c2 20 lower-is-better (pillar 02) -> 80, 80. M1: m1 20 in pillar 02.

    Blend 0.4: M1 pillar 02 = 0.6 * 20 + 0.4 * 80 = 44, pillar 01 = 80 -> FVI 62 with equal weights.
    Metric ids are real registry ids so the route's registry check lets them through.
    """
    c1, c2, m1 = "country_coal_share_of_electricity_pct", "country_gdp_usd", "mine_capacity_mtpa"
    metrics = [_metric(c1, "01", "country"), _metric(c2, "02", "country", "lower_is_better"), _metric(m1, "02", "mine")]
    defaults = load_defaults().model_dump()
    defaults["scoring"].update(mine_country_blend=0.4, as_of_from=2024)
    spec = ScoringSpec(
        {m.id: m for m in metrics},
        {p: Pillar(id=p, name=p, description="test") for p in ("01", "02")},
        Defaults.model_validate(defaults),
    )
    countries = pd.DataFrame(
        {"entity_id": ["ZAF", "AUS"], "entity_name": ["ZAF", "AUS"], "country_iso3": ["ZAF", "AUS"]}
        | {"year": [2024, 2024], c1: [80.0, 40.0], c2: [20.0, 60.0]}
    )
    mines = pd.DataFrame(
        {"entity_id": ["M1", "M9"], "entity_name": ["M1", "M9"], "country_iso3": ["ZAF", "ZZZ"]}
        | {"status": ["operating", "operating"], "year": [2024, 2024], m1: [20.0, 90.0]}
    )
    return WhatIf(Scorer(spec, build_panels(countries, mines, spec)))


EQUAL = {"01": 0.5, "02": 0.5}


@pytest.fixture()
def wclient(warehouse, make_client) -> TestClient:
    return make_client(whatif_factory=tiny_whatif)


def post(client: TestClient, **body):
    return client.post("/v1/score/what-if", json=body)


def test_weights_and_metric_override(wclient: TestClient) -> None:
    r = post(
        wclient,
        entity_type="mine",
        entity_id="M1",
        weights={"pillar_01": 0.5, "02": 0.5},
        metric_values={"mine_capacity_mtpa": 70},
        horizons=["H10"],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    h = body["horizons"]["H10"]
    assert h["fvi_baseline"] == pytest.approx(62.0) and h["fvi"] == pytest.approx(77.0) and h["delta"] == 15.0
    assert h["pillars"]["02"] == pytest.approx(74.0) and body["persona"] == "custom" and body["registry_hash"]


def test_country_rank_and_lowercase_id(wclient: TestClient) -> None:
    h = post(wclient, entity_type="country", entity_id="aus", weights={"01": 1.0}, horizons=["H20"]).json()
    assert h["horizons"]["H20"]["fvi"] == pytest.approx(40.0) and h["horizons"]["H20"]["rank"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entity_type": "mine", "entity_id": "M1", "weights": {"01": 0.2}}, "body.weights"),  # sum != 1
        ({"entity_type": "mine", "entity_id": "M1", "weights": {"99": 1.0}}, "body.weights"),
        ({"entity_type": "mine", "entity_id": "M1", "persona": "pirate"}, "body.persona"),
        (
            {"entity_type": "mine", "entity_id": "M1", "weights": EQUAL, "metric_values": {"nope": 1}},
            "body.metric_values.nope",
        ),
        ({"entity_type": "mine", "entity_id": "M1", "persona": "analyst", "weights": EQUAL}, "body"),
        ({"entity_type": "plant", "entity_id": "M1"}, "body.entity_type"),
        ({"entity_type": "mine"}, "body.entity_id"),
        ({"entity_type": "mine", "entity_id": "M1", "horizons": ["H7"]}, "body.horizons.0"),
        ({"entity_type": "mine", "entity_id": "M1", "weights": {"01": "heavy"}}, "body.weights.01"),
        ({"entity_type": "mine", "entity_id": "M1", "surprise": 1}, "body.surprise"),
    ],
)
def test_malformed_bodies_name_the_field(wclient: TestClient, body: dict, field: str) -> None:
    r = wclient.post("/v1/score/what-if", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("invalid request: ") and f"{field}:" in detail, detail


def test_country_metric_on_a_country_is_fine_but_mine_metric_is_not(wclient: TestClient) -> None:
    r = post(wclient, entity_type="country", entity_id="ZAF", weights=EQUAL, metric_values={"mine_capacity_mtpa": 1})
    assert r.status_code == 422 and "body.metric_values" in r.json()["detail"]


def test_not_json_is_422(wclient: TestClient) -> None:
    r = wclient.post("/v1/score/what-if", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid request: body")


def test_unknown_entity_is_404(wclient: TestClient) -> None:
    r = post(wclient, entity_type="mine", entity_id="M404", weights=EQUAL)
    assert r.status_code == 404 and "M404" in r.json()["detail"]
    r = post(wclient, entity_type="mine", entity_id="M1", weights=EQUAL, as_of_year=2001)
    assert r.status_code == 404 and "2001" in r.json()["detail"]


def test_scorer_built_once_per_build(warehouse, make_client) -> None:
    calls = []

    def counting(reader):
        calls.append(reader.version)
        return tiny_whatif(reader)

    c = make_client(whatif_factory=counting)
    for _ in range(3):
        assert post(c, entity_type="mine", entity_id="M1", weights=EQUAL).status_code == 200
    assert len(calls) == 1
    os.utime(warehouse, ns=(1, 1))  # the file changed (a new build) -> rebuilt on next use
    assert post(c, entity_type="mine", entity_id="M1", weights=EQUAL).status_code == 200
    assert len(calls) == 2


def test_default_scorer_without_scoring_inputs_is_503(client: TestClient) -> None:
    r = post(client, entity_type="mine", entity_id="M1", weights=EQUAL)
    assert r.status_code == 503 and "what-if is unavailable" in r.json()["detail"]
    assert "select" not in r.text.lower()


def test_what_if_is_rate_limited_per_client(warehouse, make_client) -> None:
    c = make_client(whatif_factory=tiny_whatif, whatif_rate_per_minute=1, rate_burst=4)  # compute burst = 4 // 4
    assert post(c, entity_type="mine", entity_id="M1", weights=EQUAL).status_code == 200
    r = post(c, entity_type="mine", entity_id="M1", weights=EQUAL)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "per minute" in r.json()["detail"]
    assert c.get("/v1/mines").status_code == 200  # the read limit is a separate bucket
