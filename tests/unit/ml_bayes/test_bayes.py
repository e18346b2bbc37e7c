"""Bayesian viability model: design rules, window thinning, recovery of known coefficients, predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.gold import write_gold

from fvi.ml.bayes import (
    COUNTRY_MODEL,
    DIAGNOSTICS_TABLE,
    MINE_MODEL,
    PREDICTION_COLUMNS,
    PREDICTIONS_TABLE,
    BayesConfig,
    fit_mines,
    make_design,
    predict,
    run_bayes,
    thin_windows,
)
from fvi.warehouse import DuckDBWarehouse

TRUE_ALPHA = -0.3
TRUE_BETA = {"pillar_01": 1.0, "pillar_02": -0.7, "pillar_03": 0.0}
SAMPLING = {"draws": 300, "tune": 300, "chains": 2}


def simulated_mines(n: int = 700, seed: int = 7) -> pd.DataFrame:
    """Mines in 3 countries x 3 states; y drawn from the model itself with known coefficients."""
    rng = np.random.default_rng(seed)
    raw = {p: 50 + 15 * rng.standard_normal(n) for p in TRUE_BETA}
    country = rng.choice(["AAA", "BBB", "CCC"], n)
    state = rng.choice(["north", "south", "west"], n)
    u_country = {"AAA": 0.3, "BBB": -0.2, "CCC": 0.0}
    v_state = {f"{c}/{s}": rng.normal(0, 0.3) for c in u_country for s in ("north", "south", "west")}
    eta = TRUE_ALPHA + np.array([u_country[c] + v_state[f"{c}/{s}"] for c, s in zip(country, state, strict=True)])
    for p, b in TRUE_BETA.items():
        eta += b * (raw[p] - raw[p].mean()) / raw[p].std()  # the design standardises exactly like this
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "entity_id": [f"M{i:04d}" for i in range(n)],
            "as_of_year": 2010,
            "y": y.astype(int),
            **raw,
            "country_iso3": country,
            "subgroup": state,
        }
    )


@pytest.fixture(scope="module")
def mine_fit():
    return fit_mines(simulated_mines(), seed=11, **SAMPLING)


# --- design and thinning (no sampling) ------------------------------------------------------


def test_design_drops_thin_and_year_only_pillars_and_flags_missing() -> None:
    frame = pd.DataFrame(
        {
            "as_of_year": [2010] * 4 + [2011] * 4,
            "pillar_01": [10.0, 20, 30, 40, 15, 25, 35, np.nan],  # varies within years, one missing
            "pillar_02": [50.0] * 4 + [60.0] * 4,  # one value per year: national context
            "pillar_03": [np.nan] * 7 + [1.0],  # too little coverage
        }
    )
    design = make_design(frame, BayesConfig())
    assert design.pillars == ("pillar_01",)
    assert set(design.dropped) == {"pillar_02", "pillar_03"}
    assert design.features == ["pillar_01", "pillar_01_missing"]
    x = design.matrix(pd.DataFrame({"pillar_01": [np.nan, 1e6, -1e6]}))
    assert x[0].tolist() == [0.0, 1.0]  # missing -> training mean and the indicator
    assert x[1, 0] == pytest.approx(design.z_hi[0]) and x[2, 0] == pytest.approx(design.z_lo[0])  # clipped


def test_thin_windows_keeps_non_overlapping_years() -> None:
    frame = pd.DataFrame(
        {
            "entity_id": ["a"] * 4 + ["b"] * 19,
            "stratum": "H5",
            "as_of_year": list(range(2008, 2012)) + list(range(2000, 2019)),
        }
    )
    kept = thin_windows(frame, seed=1)
    assert (kept["entity_id"] == "a").sum() == 1  # 2008-2011 all share part of a 5-year window
    years = kept.loc[kept["entity_id"] == "b", "as_of_year"].to_numpy()
    assert len(years) >= 3 and set(np.diff(years)) == {5}
    pd.testing.assert_frame_equal(kept, thin_windows(frame, seed=1))


# --- sampling on simulated data with known coefficients --------------------------------------


@pytest.mark.slow
def test_recovers_known_coefficients(mine_fit) -> None:
    d = mine_fit.draws
    features = mine_fit.design.features
    assert features == list(TRUE_BETA)
    for k, p in enumerate(features):
        lo, hi = np.quantile(d["beta"][:, 0, k], [0.05, 0.95])
        assert lo <= TRUE_BETA[p] <= hi, (p, lo, hi)
    diag = mine_fit.diagnostics
    assert diag["rhat_max"] < 1.05
    assert diag["ess_bulk_min"] > 100 and diag["divergences"] <= 5
    assert diag["absorbed_levels"] == []  # three countries: the country effect is sampled


@pytest.mark.slow
def test_same_seed_same_posterior(mine_fit) -> None:
    again = fit_mines(simulated_mines(), seed=11, **SAMPLING)
    for name, draws in mine_fit.draws.items():
        np.testing.assert_array_equal(draws, again.draws[name], err_msg=name)


@pytest.mark.slow
def test_unseen_country_draws_from_the_population(mine_fit) -> None:
    rows = pd.DataFrame(
        {
            "pillar_01": [50.0, 50.0, 50.0],
            "pillar_02": [50.0, 50.0, 50.0],
            "pillar_03": [50.0, 50.0, 50.0],
            "country_iso3": ["AAA", "ZZZ", "ZZZ"],
            "subgroup": ["north", "east", "east"],
        }
    )
    pred = predict(mine_fit, rows, seed=3)
    assert pred["is_new_group"].tolist() == [False, True, True]
    width = pred["p_hi"] - pred["p_lo"]
    assert width[1] > width[0]  # the unseen country carries between-country variation
    assert pred.loc[1, "p_mean"] == pytest.approx(pred.loc[2, "p_mean"])  # one draw per unseen group
    assert ((pred["p_lo"] <= pred["p_mean"]) & (pred["p_mean"] <= pred["p_hi"])).all()
    pd.testing.assert_frame_equal(pred, predict(mine_fit, rows, seed=3))


@pytest.mark.slow
def test_single_country_is_absorbed_into_the_intercept() -> None:
    one = simulated_mines().query("country_iso3 == 'AAA'")
    fit = fit_mines(one, seed=2, draws=200, tune=200, chains=2)
    assert fit.diagnostics["absorbed_levels"] == ["outer"]  # like the real US-only labels
    assert "z_outer" not in fit.idata.posterior  # no ridge between alpha and a lone country effect
    rows = pd.DataFrame({p: [50.0, 50.0] for p in TRUE_BETA} | {"country_iso3": ["AAA", "ZZZ"], "subgroup": "north"})
    pred = predict(fit, rows, seed=0)
    assert pred["is_new_group"].tolist() == [False, True]
    assert (pred["p_hi"] - pred["p_lo"])[1] > (pred["p_hi"] - pred["p_lo"])[0]


# --- the whole run on a tiny warehouse --------------------------------------------------------


def tiny_warehouse(path) -> DuckDBWarehouse:
    """US-only mine labels plus GEM transitions and a few countries: every table run_bayes reads."""
    rng = np.random.default_rng(0)
    wh = DuckDBWarehouse(path)
    pillars = [f"pillar_{p:02d}" for p in (1, 2, 8)]
    scores, us, yearly = [], [], []
    for i in range(120):
        quality = rng.standard_normal()
        for year in range(2008, 2012):
            row = {"entity_type": "us_mine", "entity_id": f"MSHA{i}", "country_iso3": "USA", "as_of_year": year}
            row |= {"pillar_01": 70.0 + year - 2008, "pillar_02": 50 + 10 * quality, "pillar_08": rng.uniform(0, 99)}
            scores.append(row)
            us.append(
                {
                    "msha_id": i,
                    "as_of_year": year,
                    "horizon": 5,
                    "outcome_year": year + 5,
                    "viable": int(quality + rng.normal(0, 0.5) > 0),
                }
            )
            yearly.append({"msha_id": i, "year": year, "state": ["Kentucky", "Wyoming", "Ohio"][i % 3]})
    gem, transitions = [], []
    for i in range(60):
        iso3 = ["USA", "IDN", "AUS"][i % 3]
        for year in (2022, 2024):
            gem.append(
                {
                    "entity_type": "mine",
                    "entity_id": f"M{i}",
                    "country_iso3": iso3,
                    "as_of_year": year,
                    "pillar_01": rng.uniform(40, 90),
                    "pillar_02": rng.uniform(20, 80),
                    "pillar_08": np.nan,
                }
            )
        transitions.append(
            {
                "gem_mine_id": f"M{i}",
                "as_of_year": 2022,
                "outcome_year": 2024,
                "label_kind": "stopped",
                "label": int(rng.random() < 0.2),
            }
        )
    countries, outcomes = [], []
    for c, iso3 in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]):
        for year in range(2000, 2025):
            for h in (5, 10, 20):
                countries.append(
                    {
                        "entity_type": "country",
                        "entity_id": iso3,
                        "country_iso3": iso3,
                        "as_of_year": year,
                        "horizon": f"H{h}",
                        "pillar_01": 30 + 8 * c + rng.normal(0, 3),
                        "pillar_02": rng.uniform(0, 100),
                        "pillar_08": np.nan,
                    }
                )
                if year + h <= 2023:
                    outcomes.append(
                        {
                            "iso3": iso3,
                            "as_of_year": year,
                            "horizon": h,
                            "outcome_year": year + h,
                            "decline": int(rng.random() < 0.15 + 0.1 * (c % 3)),
                        }
                    )
    mines = pd.DataFrame(scores + gem)
    mines = pd.concat([mines.assign(horizon=h) for h in ("H5", "H10", "H20")])
    fvi_scores = pd.concat([mines, pd.DataFrame(countries)], ignore_index=True).assign(persona="analyst")
    write_gold(
        wh,
        "fvi_scores",
        fvi_scores[["entity_type", "entity_id", "country_iso3", "as_of_year", "horizon", "persona", *pillars]],
    )
    write_gold(wh, "fvi_outcome_us_mine", pd.DataFrame(us))
    wh.write_table("gold", "fct_us_mine__yearly", pd.DataFrame(yearly))
    write_gold(wh, "fvi_outcome_gem_transition", pd.DataFrame(transitions))
    write_gold(wh, "fvi_outcome_country", pd.DataFrame(outcomes))
    wh.write_table(
        "gold",
        "dim_mine",
        pd.DataFrame({"gem_mine_id": [f"M{i}" for i in range(60)], "state_province": ["Kentucky", None, "NSW"] * 20}),
    )
    wh.write_table(
        "gold",
        "dim_country",
        pd.DataFrame(
            {
                "iso3": ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"],
                "income_level": ["High income", "Low income", None] * 2,
            }
        ),
    )
    return wh


@pytest.mark.slow
def test_run_bayes_writes_tables_and_json(tmp_path) -> None:
    with tiny_warehouse(tmp_path / "tiny.duckdb") as wh:
        summary = run_bayes(wh, tmp_path / "out", seed=5, draws=200, tune=200, chains=2)
        pred = wh.query(f"select * from {wh.schema('gold')}.{PREDICTIONS_TABLE}")
        diag = wh.query(f"select * from {wh.schema('gold')}.{DIAGNOSTICS_TABLE}")
    assert list(pred.columns) == PREDICTION_COLUMNS
    assert pred["run_id"].nunique() == 1 and pred["run_id"].iloc[0] == summary["run_id"]
    counts = pred.groupby(["entity_type", "horizon"]).size().to_dict()
    assert counts == {
        ("us_mine", "H5"): 120,
        ("mine", "H5"): 60,
        ("country", "H5"): 6,
        ("country", "H10"): 6,
        ("country", "H20"): 6,
    }
    assert pred.loc[pred["entity_type"] != "country", "as_of_year"].max() == 2024  # latest as-of year per entity
    assert ((pred["p_lo"] <= pred["p_mean"]) & (pred["p_mean"] <= pred["p_hi"])).all()
    assert set(diag["model"]) == {MINE_MODEL, COUNTRY_MODEL}
    mine = diag.set_index("model").loc[MINE_MODEL]
    assert mine["n_labelled"] == 120 * 4 + 60  # US labels + inverted GEM transitions
    assert mine["n_train"] == 120 + 60  # one non-overlapping 5-year window per US mine
    for col in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences", "sampling_seconds"):
        assert diag[col].notna().all()
    saved = json.loads((tmp_path / "out" / "bayes_diagnostics.json").read_text())
    assert set(saved["models"]) == {MINE_MODEL, COUNTRY_MODEL}
