"""The predictor in-process: parity with the exported models, cache keys, overrides, A/B arms, reloads, outages."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, Counter
from tests.gold import write_gold
from tests.unit.api.serving_world import LATEST, make_home
from tests.unit.ml.ml_world import build_world

from fvi.api.db import LiveWarehouse
from fvi.cache import MemoryCache
from fvi.ml.model_registry import CHALLENGER, CHAMPION, Calibration, ModelRegistry, load_bundle
from fvi.serving.ab import ABConfig, ABRouter, bucket
from fvi.serving.predictor import InvalidOverride, ModelUnavailable, Predictor, ScalarCalibration, UnknownEntity
from fvi.serving.rows import FEATURES_TABLE, forget_rows, load_rows
from fvi.settings import Settings
from fvi.warehouse import DuckDBWarehouse, WarehouseUnavailable


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home")


def predictor(home: Path, *, share: float = 0.1, counter: Counter | None = None, reader=None) -> Predictor:
    settings = Settings(home=home)
    live = LiveWarehouse(settings)
    ab = ABRouter(home / "serving" / "ab.json", default_share=share, counter=counter)
    p = Predictor(
        home / "models",
        MemoryCache(1000, namespace="t"),
        ab,
        reader=reader or live.reader,
        where=str(settings.duckdb_path),
        refresh_seconds=3600,
    )
    p.load()
    return p


def _row(home: Path, entity_type: str, entity_id: str, horizon: str) -> dict:
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        frame = wh.query(
            f"select * from gold.{FEATURES_TABLE} where entity_type = ? and entity_id = ? and horizon = ? "
            "and as_of_year = ?",
            [entity_type, entity_id, horizon, LATEST[entity_type]],
        )
    return {k: v for k, v in frame.iloc[0].items() if k not in ("entity_type", "entity_id", "as_of_year", "horizon")}


@pytest.mark.parametrize(
    ("entity_type", "entity_id", "horizon", "model", "feature_horizon"),
    [
        ("mine", "M1", "H5", "fvi_mine_h5", "H5"),
        ("mine", "M4", "H5", "fvi_mine_h5", "H5"),  # a missing feature value
        ("us_mine", "MSHA42", "H10", "fvi_mine_hazard", "H10"),  # S(10) beyond k_max = 8: hazard held
        ("mine", "M2", "H20", "fvi_mine_hazard", "H10"),
        ("country", "ZAF", "H10", "fvi_country_h10", "H10"),
    ],
)
def test_predictions_equal_the_exported_model(home, entity_type, entity_id, horizon, model, feature_horizon) -> None:
    p = predictor(home)
    out = p.predict(entity_type, entity_id, horizon, variant=CHAMPION)
    bundle = load_bundle(home / "models", model)
    expected, raw = bundle.predict(_row(home, entity_type, entity_id, feature_horizon), int(horizon[1:]))
    assert out.model_name == model and out.model_version == "1" and out.as_of_year == LATEST[entity_type]
    assert out.p == pytest.approx(float(expected[0]), abs=1e-9)
    assert out.p_raw == pytest.approx(float(raw[0]), abs=1e-9)
    assert out.target == ("decline" if entity_type == "country" else "operating")


def test_scalar_calibration_matches_the_registry_one() -> None:
    p = np.concatenate([np.linspace(0, 1, 101), [1e-9, 1 - 1e-9, 0.33333]])
    iso = Calibration("isotonic", {"x": [0.1, 0.2, 0.2, 0.6, 0.9], "y": [0.0, 0.1, 0.3, 0.5, 1.0]})
    for cal in (Calibration(), Calibration("sigmoid", {"a": 0.7, "b": -0.2}), iso):
        fast = ScalarCalibration(cal)
        assert [fast(float(v)) for v in p] == pytest.approx(cal.apply(p).tolist(), abs=1e-12)


def test_second_call_is_a_cache_hit_and_overrides_change_the_key(home) -> None:
    p = predictor(home)
    first = p.predict("mine", "M1", "H5", variant=CHAMPION)
    again = p.predict("mine", "M1", "H5", variant=CHAMPION)
    assert not first.cached and again.cached and (again.p, again.p_raw) == (first.p, first.p_raw)
    what_if = p.predict("mine", "M1", "H5", {"fvi": 95.0, "pillar_01": 90}, variant=CHAMPION)
    assert not what_if.cached and what_if.p != first.p and what_if.interval is None
    same = p.predict("mine", "M1", "H5", {"pillar_01": 90.0, "fvi": 95}, variant=CHAMPION)  # order, int vs float
    assert same.cached and same.p == what_if.p
    # the override reaches the model: equal to the bundle on the changed row
    row = {**_row(home, "mine", "M1", "H5"), "fvi": 95.0, "pillar_01": 90.0}
    assert what_if.p == pytest.approx(float(load_bundle(home / "models", "fvi_mine_h5").predict(row)[0][0]))
    stats = p.cache.stats()
    assert (stats.hits, stats.misses) == (2, 2)


def test_interval_is_in_the_terms_of_the_prediction(home) -> None:
    p = predictor(home)
    mine = p.predict("mine", "M1", "H5", variant=CHAMPION)
    assert mine.interval == (0.6, 0.4, 0.8, "bayes_logit_mine_v1")  # P(viable) = P(operating)
    country = p.predict("country", "ZAF", "H10")
    mean, lo, hi, _ = country.interval
    assert (mean, lo, hi) == pytest.approx((0.3, 0.1, 0.5))  # P(decline) = 1 - P(viable): bounds swap
    assert p.predict("country", "AUS", "H10").interval is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"no_such_feature": 1.0}, "unknown feature 'no_such_feature'"),
        ({"k_year": 3.0}, "unknown feature 'k_year'"),  # the hazard step is the model's own
        ({"fvi": float("nan")}, "finite"),
        ({"fvi": float("inf")}, "finite"),
        ({"fvi": 1e39}, "float32"),
        ({"fvi": True}, "number"),
    ],
)
def test_bad_overrides_are_refused_naming_the_feature(home, overrides, message) -> None:
    p = predictor(home)
    with pytest.raises(InvalidOverride, match=message) as err:
        p.predict("mine", "M1", "H10", overrides)
    assert err.value.field == f"body.overrides.{next(iter(overrides))}"


def test_unknown_entities_and_unserved_horizons(home) -> None:
    p = predictor(home)
    with pytest.raises(UnknownEntity, match="M999"):
        p.predict("mine", "M999", "H5")
    with pytest.raises(UnknownEntity, match="ZAF"):
        p.predict("mine", "ZAF", "H5")  # a country id is not a mine
    ModelRegistry(home / "models")  # nothing changed on disk
    assert p.snapshot.routes[("mine", "H5")] == "fvi_mine_h5"
    assert p.snapshot.routes[("mine", "H20")] == "fvi_mine_hazard"


def test_ab_arms_are_stable_and_follow_the_share(home) -> None:
    assert bucket("s", "M1") == bucket("s", "M1") and bucket("s", "M1") != bucket("t", "M1")
    ids = [f"M{i}" for i in range(2000)]
    share = sum(bucket("fvi-ab-1", i) < 0.1 for i in ids) / len(ids)
    assert 0.08 < share < 0.12
    registry = CollectorRegistry()
    counter = Counter("fvi_predictions", "x", ["model_version", "variant"], registry=registry)
    a, b = predictor(home, counter=counter), predictor(home)
    arms = {eid: a.predict("mine", eid, "H5").variant for eid in ("M1", "M2", "M3", "M4")}
    assert arms == {eid: b.predict("mine", eid, "H5").variant for eid in arms}  # every worker agrees
    assert arms == {eid: a.predict("mine", eid, "H5").variant for eid in arms}  # and again
    assert a.predict("mine", "M1", "H10").variant == CHAMPION  # the hazard model has no challenger
    a.ab.save(ABConfig(challenger_share=1.0))
    assert {a.predict("mine", eid, "H5").variant for eid in arms} == {CHALLENGER}
    assert {a.predict("mine", eid, "H5").model_version for eid in arms} == {"2"}
    a.ab.save(ABConfig(enabled=False, challenger_share=1.0))
    assert a.predict("mine", "M1", "H5").variant == CHAMPION
    stats = a.ab.stats()["fvi_mine_h5"]
    n_challenger = 8 + 2 * sum(v == CHALLENGER for v in arms.values())  # two rounds at 10 %, two at 100 %
    assert stats["variants"][CHALLENGER]["versions"] == {"2": n_challenger}
    assert stats["total"] == 4 * 4 + 1
    labels = {"model_version": "fvi_mine_h5:2", "variant": CHALLENGER}
    assert registry.get_sample_value("fvi_predictions_total", labels) == n_challenger
    b.ab.reload()  # the other worker reads the file on its next refresh
    assert b.ab.config.enabled is False


def test_forced_challenger_where_there_is_none(home) -> None:
    p = predictor(home)
    with pytest.raises(InvalidOverride, match="no challenger"):
        p.predict("mine", "M1", "H10", variant=CHALLENGER)


def test_refresh_picks_up_a_promotion_and_a_new_build(home) -> None:
    p = predictor(home)
    assert p.predict("mine", "M1", "H5", variant=CHAMPION).model_version == "1"
    assert not p.refresh()
    ModelRegistry(home / "models").promote("fvi_mine_h5", 2)  # another worker promoted
    assert p.refresh()
    assert p.predict("mine", "M1", "H5", variant=CHAMPION).model_version == "2"
    old_build = p.snapshot.rows.build
    live = home / "warehouse" / "fvi.duckdb"
    staging = live.with_name("fvi.next.duckdb")
    shutil.copyfile(live, staging)
    with DuckDBWarehouse(staging) as wh:  # a new build, swapped in as the pipeline does
        wh.write_table("gold", "fvi_marker", pd.DataFrame({"x": [1]}))
    os.replace(staging, live)
    assert p.refresh() and p.snapshot.rows.build != old_build
    assert p.predict("mine", "M1", "H5", variant=CHAMPION).cached is False  # the build is part of the key


def test_a_warehouse_outage_at_start_is_reported_then_recovered(home) -> None:
    live = LiveWarehouse(Settings(home=home))
    down = {"now": True}

    @contextmanager
    def reader() -> Iterator:
        if down["now"]:
            raise WarehouseUnavailable("PostgreSQL at 127.0.0.1:1 unreachable: refused")
        with live.reader() as r:
            yield r

    p = predictor(home, reader=reader)
    assert p.snapshot.models and p.snapshot.rows is None
    assert p.snapshot.rows_error == "warehouse unavailable: PostgreSQL unreachable"  # no host or port
    with pytest.raises(ModelUnavailable, match="warehouse unavailable"):
        p.predict("mine", "M1", "H5")
    down["now"] = False
    assert p.refresh()
    assert p.predict("mine", "M1", "H5").p > 0


def test_no_models_means_nothing_to_load(tmp_path) -> None:
    home = tmp_path / "empty"
    p = predictor(home)
    assert p.snapshot.models == {} and p.snapshot.rows is None and p.snapshot.rows_error is None
    with pytest.raises(ModelUnavailable):
        p.predict("mine", "M1", "H5")


def test_a_corrupt_challenger_is_reported_and_the_champion_serves(home) -> None:
    onnx = home / "models" / "fvi_mine_h5" / "2" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:100])
    p = predictor(home, share=1.0)
    assert "fvi_mine_h5@challenger" in p.snapshot.load_errors
    assert p.predict("mine", "M1", "H5").variant == CHAMPION


def test_computed_rows_equal_the_gold_table_rows(tmp_path) -> None:
    """Rows computed with fvi.ml.features and rows read from gold.fvi_model_features agree."""
    path = build_world(tmp_path / "world.duckdb", n_us=40, n_gem=8, n_countries=6)
    forget_rows()
    needs = {"mine": {"H5", "H10"}, "country": {"H5", "H20"}}
    with DuckDBWarehouse(path, read_only=True) as wh:
        computed = load_rows(wh, "b1", needs)
    assert computed.source.startswith("computed") and computed.seconds > 0
    assert {t for t, _ in computed.index["mine"]} == {"mine", "us_mine"}
    latest_us = max(
        y for (t, _), y in zip(computed.index["mine"], computed.years["mine"], strict=True) if t == "us_mine"
    )
    assert latest_us == 2016
    table = pd.concat([f.assign(horizon=h) for (g, h), f in computed.frames.items()], ignore_index=True).drop(
        columns=["country_iso3", "data_year"], errors="ignore"
    )
    copy = tmp_path / "with_table.duckdb"
    shutil.copyfile(path, copy)
    with DuckDBWarehouse(copy) as wh:
        write_gold(wh, FEATURES_TABLE, table)
    with DuckDBWarehouse(copy, read_only=True) as wh:
        read = load_rows(wh, "b1", needs)
    assert read.source == f"gold.{FEATURES_TABLE}" and read.index == computed.index
    for key, frame in computed.frames.items():
        cols = [c for c in frame.columns if c not in ("country_iso3", "data_year")]
        a = frame[cols].drop(columns=["entity_type", "entity_id"]).to_numpy(dtype="float64")
        b = read.frames[key][cols].drop(columns=["entity_type", "entity_id"]).to_numpy(dtype="float64")
        assert np.array_equal(a, b, equal_nan=True), key
    assert math.isfinite(read.seconds) and os.path.exists(copy)


def test_warming_fills_the_cache_without_counting_traffic(home) -> None:
    p = predictor(home)
    out = p.warm()
    assert out["predictions"] == 5 * 3 + 3 * 3 and out["failed"] == 0  # (mines + countries) x (H5, H10, H20)
    assert p.ab.stats() == {}
    assert p.predict("us_mine", "MSHA42", "H20").cached and p.predict("country", "USA", "H5").cached
    assert not p.predict("mine", "M1", "H5", {"fvi": 3.0}).cached  # what-ifs still compute


def test_one_survival_curve_answers_every_hazard_horizon(home) -> None:
    p = predictor(home)
    assert p.snapshot.curves == {"fvi_mine_hazard": ["H10", "H20"]}
    h10 = p.predict("mine", "M3", "H10")
    h20 = p.predict("mine", "M3", "H20")  # computed with H10, cached then
    assert not h10.cached and h20.cached and h20.p < h10.p
    bundle = load_bundle(home / "models", "fvi_mine_hazard")
    expected, _ = bundle.predict(_row(home, "mine", "M3", "H10"), 20)
    assert h20.p == pytest.approx(float(expected[0]), abs=1e-9)
    what_if = p.predict("mine", "M3", "H20", {"fvi": 80.0})
    assert not what_if.cached and p.predict("mine", "M3", "H10", {"fvi": 80.0}).cached


def test_uncalibrated_survival_equals_the_training_code(home) -> None:
    from fvi.ml.hazard import survival_at
    from fvi.serving.predictor import ServingModel

    m = ServingModel.load(home / "models", "fvi_mine_hazard", CHAMPION)
    m.calibrate = ScalarCalibration(Calibration())  # the real hazard model's calibration is "none"
    row = _row(home, "us_mine", "MSHA42", "H10")
    x = np.array([[row.get(f, np.nan) for f in m.feature_order]], dtype=np.float32)[0]
    got = m.survival(x, (5, 10, 20))
    expected = survival_at(m.bundle.predict_raw, pd.DataFrame([row]), [5, 10, 20], m.k_max)
    for (cal, raw), h in zip(got, (5, 10, 20), strict=True):
        assert cal == raw == pytest.approx(float(expected[h][0]), abs=1e-12)


def _world_manifest(home: Path, *, synthetic: bool, release: str) -> None:
    manifest = pd.DataFrame({
        "run_id": ["r9"], "source_id": ["gem_mines"], "dataset": ["mines"], "release": [release], "sha256": ["x"],
        "licence_name": ["CC BY 4.0"], "licence_url": [None], "is_synthetic": [synthetic],
    })
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb") as wh:
        wh.write_table("bronze", "ingest_manifest", manifest)


def test_a_model_from_another_data_world_never_serves_this_build(home: Path) -> None:
    """The synthetic demo's champion must not answer for the real warehouse (nor be promoted for it)."""
    from fvi.ml.model_registry import ModelRegistryError
    from fvi.provenance import DataWorld

    reg = ModelRegistry(home / "models")
    synthetic = DataWorld("synthetic", {"gem_mines/mines": "demo"}).to_json()
    real = DataWorld("real", {"gem_mines/mines": "2025-04"}).to_json()
    for row in reg.list_versions():
        reg.record(row["name"], row["version"], {**reg.version(row["name"], row["version"]), "data_world": real})
    info = reg.version("fvi_country_h10", 1)
    reg.record("fvi_country_h10", 1, {**info, "data_world": synthetic})
    _world_manifest(home, synthetic=False, release="2025-04")
    p = predictor(home)
    with pytest.raises(ModelUnavailable, match="trained on synthetic data.*holds real data"):
        p.predict("country", "ZAF", "H10", variant=CHAMPION)
    assert "fvi_country_h10" not in p.snapshot.models
    assert p.snapshot.load_errors["fvi_country_h10@champion"].startswith("not served: fvi_country_h10 v1")
    with pytest.raises(ModelRegistryError, match="not promoted"):
        p.promote("fvi_country_h10", "1")
    assert p.predict("mine", "M1", "H5", variant=CHAMPION).model_version == "1"  # the others still serve
    # the same model, recorded with this build's world, serves again
    reg.record("fvi_country_h10", 1, {**info, "data_world": real})
    assert predictor(home).predict("country", "ZAF", "H10", variant=CHAMPION).model_version == "1"


def test_a_rebuild_under_a_running_server_is_answered_by_its_own_champions_at_once(home) -> None:
    """A run swaps the warehouse and promotes a new champion: the very next prediction uses both (no timer wait)."""
    settings = Settings(home=home)
    live = LiveWarehouse(settings)
    p = Predictor(
        home / "models",
        MemoryCache(1000, namespace="t"),
        ABRouter(home / "serving" / "ab.json", default_share=0.1),
        reader=live.reader,
        where=str(settings.duckdb_path),
        refresh_seconds=3600,  # the timer alone would keep the old champion for an hour
        live_version=live.current_version,
    )
    p.load()
    assert p.predict("mine", "M1", "H5", variant=CHAMPION).model_version == "1"
    old_build = p.snapshot.rows.build
    wh_path = home / "warehouse" / "fvi.duckdb"
    staging = wh_path.with_name("fvi.next.duckdb")
    shutil.copyfile(wh_path, staging)
    with DuckDBWarehouse(staging) as wh:
        wh.write_table("gold", "fvi_marker", pd.DataFrame({"x": [1]}))
    ModelRegistry(home / "models").promote("fvi_mine_h5", 2)  # the run's new champion ...
    os.replace(staging, wh_path)  # ... and its warehouse, swapped in
    got = p.predict("mine", "M1", "H5", variant=CHAMPION)
    assert got.model_version == "2" and p.snapshot.rows.build != old_build
    assert p.snapshot.rows.build == live.current_version()
    again = p.predict("mine", "M1", "H5", variant=CHAMPION)  # nothing changed since: no reload
    assert again.model_version == "2" and again.cached is True


def test_a_build_that_cannot_be_read_is_followed_once_not_on_every_call(home, monkeypatch) -> None:
    """A new build the reload cannot open leaves the old snapshot serving; requests do not each reload."""
    p = predictor(home)
    p._live_version = lambda: "duckdb:unreadable"  # the live file changed, and stays unreadable
    calls = []
    monkeypatch.setattr(p, "refresh", lambda: calls.append(1) or False)
    for _ in range(3):
        assert p.predict("mine", "M1", "H5", variant=CHAMPION).model_version == "1"
    assert calls == [1]
