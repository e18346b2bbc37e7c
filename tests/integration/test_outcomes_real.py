"""Outcome labels on the real-sample warehouse (shared build, read-only; writes go to a copy)."""

from __future__ import annotations

import shutil

import pytest

from fvi.outcomes import (
    OUTCOME_TABLES,
    assert_no_leakage,
    gem_transition_dropouts,
    load_config,
    load_outcomes,
    outcome_summary,
    write_outcomes,
)
from fvi.outcomes.labels import load_gem_releases
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration]


@pytest.fixture()
def outcomes(shared_settings):
    with DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh:
        frames = load_outcomes(wh)
        producing = wh.query(
            f"select year, count(*) as n from {wh.schema('gold')}.fct_us_mine__yearly where is_producing group by 1"
        )
        releases = load_gem_releases(wh)
    return frames, dict(zip(producing["year"], producing["n"], strict=True)), releases


def test_us_mine_labels_real(outcomes) -> None:
    frames, producing, _ = outcomes
    us = frames["fvi_outcome_us_mine"]
    summary = outcome_summary(frames)["us_mine_viable"]
    last = max(producing)
    for h in range(1, 9):  # every mine-year producing at t with t + h covered gets exactly one label
        assert summary[h]["n"] == sum(n for y, n in producing.items() if y + h <= last)
    assert summary[5]["n"] > 1000
    rates = [summary[h]["rate"] for h in range(1, 9)]
    assert 0.7 < rates[0] < 0.95  # most producing mines still produce a year later
    assert 0.15 < rates[-1] < 0.6
    assert rates == sorted(rates, reverse=True)  # survival only falls with the horizon
    assert us["msha_id"].notna().all() and not us["is_synthetic"].any()
    assert not us.duplicated(["msha_id", "as_of_year", "horizon"]).any()
    assert_no_leakage(labels=us)


def test_gem_outcomes_real(outcomes) -> None:
    frames, _, releases = outcomes
    assert releases["release"].nunique() == 1  # the real samples hold one tracker release
    transitions = frames["fvi_outcome_gem_transition"]
    assert transitions.empty and list(transitions.columns) == list(OUTCOME_TABLES["fvi_outcome_gem_transition"])
    assert gem_transition_dropouts(releases).empty
    survival = frames["fvi_outcome_gem_survival"]
    assert len(survival) > 2000 and survival["event"].sum() > 100
    assert (survival["duration_years"] >= 0).all() and survival["gem_mine_id"].is_unique
    assert set(survival["status"]) <= {"operating", "mothballed", "closed", "retired"}


def test_country_labels_real(outcomes) -> None:
    frames, _, _ = outcomes
    country = frames["fvi_outcome_country"]
    summary = outcome_summary(frames)["country_decline"]
    assert set(summary) == {5, 10, 20}
    for h in (5, 10, 20):
        assert summary[h]["countries"] >= 30
        assert 0.05 < summary[h]["rate"] < 0.6
    assert (country["production_twh"] > 0).all()
    threshold = load_config().country.decline_threshold_pct
    # two real rows fall by exactly 25 % up to float rounding (IRN 1974-79, PHL 1907-12): declines
    assert country["decline"].eq((country["production_change_pct"] <= -threshold + 1e-9).astype(int)).all()
    assert not country.duplicated(["iso3", "as_of_year", "horizon"]).any()
    assert_no_leakage(labels=country)


def test_write_outcomes_on_a_copy(shared_settings, tmp_path) -> None:
    copy = tmp_path / "fvi.duckdb"
    shutil.copy2(shared_settings.duckdb_path, copy)
    with DuckDBWarehouse(copy) as wh:
        written = write_outcomes(wh)
        for table, schema in OUTCOME_TABLES.items():
            back = wh.query(f"select * from gold.{table}")
            assert list(back.columns) == list(schema) and len(back) == written[table]
    assert written["fvi_outcome_us_mine"] > 10_000 and written["fvi_outcome_gem_transition"] == 0
