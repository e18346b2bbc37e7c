"""Bayesian viability intervals on the real-sample warehouse (shared build read-only; output to tmp_path)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from fvi.ml.bayes import COUNTRY_MODEL, DIAGNOSTICS_TABLE, MINE_MODEL, PREDICTIONS_TABLE, run_bayes
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bayes_intervals_real(shared_settings, tmp_path) -> None:
    with (
        DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh,
        DuckDBWarehouse(tmp_path / "bayes.duckdb") as sink,
    ):
        gold = wh.schema("gold")
        started = time.perf_counter()
        summary = run_bayes(wh, tmp_path / "out", seed=0, draws=500, tune=500, chains=2, sink=sink)
        seconds = time.perf_counter() - started
        operating = set(wh.query(f"select gem_mine_id from {gold}.dim_mine where status = 'operating'")["gem_mine_id"])
        producers = set(wh.query(f"select iso3 from {gold}.dim_country where is_coal_producer")["iso3"])
        us_mines = set(
            wh.query(f"select distinct entity_id from {gold}.fvi_scores where entity_type = 'us_mine'")["entity_id"]
        )
        pred = sink.query(f"select * from {sink.schema('gold')}.{PREDICTIONS_TABLE}")
        diag = sink.query(f"select * from {sink.schema('gold')}.{DIAGNOSTICS_TABLE}").set_index("model")

    assert seconds < 90, f"run_bayes took {seconds:.0f} s"
    assert len(operating) > 3000 and len(producers) > 50
    bands = pred[["p_lo", "p_mean", "p_hi"]].to_numpy()
    assert np.isfinite(bands).all() and ((bands >= 0) & (bands <= 1)).all()
    assert ((pred["p_lo"] < pred["p_mean"]) & (pred["p_mean"] < pred["p_hi"])).all()  # a real band, not a point
    assert not pred.duplicated(["entity_type", "entity_id", "horizon"]).any()

    mines = pred[pred["entity_type"] == "mine"]
    assert operating <= set(mines["entity_id"]) and set(mines["horizon"]) == {"H5"}
    assert us_mines <= set(pred.loc[pred["entity_type"] == "us_mine", "entity_id"])
    countries = pred[pred["entity_type"] == "country"]
    for h in ("H5", "H10", "H20"):
        assert producers <= set(countries.loc[countries["horizon"] == h, "entity_id"]), h

    # US-only labels: non-US GEM mines get the population draw for their country, so wider bands
    width = mines["p_hi"] - mines["p_lo"]
    assert width[mines["is_new_group"]].median() > width[~mines["is_new_group"]].median()

    assert set(diag.index) == {MINE_MODEL, COUNTRY_MODEL}
    for model in (MINE_MODEL, COUNTRY_MODEL):
        row = diag.loc[model]
        assert row["rhat_max"] < 1.05, (model, row["rhat_max"])
        assert row["ess_bulk_min"] > 100 and row["ess_tail_min"] > 100
        assert row["divergences"] >= 0 and row["sampling_seconds"] > 0
    assert diag.loc[MINE_MODEL, "absorbed_levels"] == "outer"  # every label is a US mine: one country
    assert "pillar_08" not in diag.loc[COUNTRY_MODEL, "features"]  # no country coverage

    saved = json.loads((tmp_path / "out" / "bayes_diagnostics.json").read_text())
    assert saved["run_id"] == summary["run_id"] == pred["run_id"].iloc[0]
    assert set(saved["models"]) == {MINE_MODEL, COUNTRY_MODEL}
