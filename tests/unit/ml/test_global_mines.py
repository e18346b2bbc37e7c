"""The worldwide mine model: out-of-fold encodings, strictly time-correct back-test, coherent survival."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fvi.ml import global_mines as G
from fvi.ml import project_stages as S
from fvi.ml.model_registry import fit_calibration
from fvi.outcomes.hazard_frame import gem_hazard_frame
from fvi.outcomes.labels import load_config

KW = {
    "observed_from": 2015,
    "opened_statuses": ["operating", "closed"],
    "event_statuses": ["closed"],
}


def _world(n: int = 360, seed: int = 3) -> pd.DataFrame:
    """Mines in three countries whose yearly closure rates differ (2 %, 8 %, 20 %); small mines close more."""
    rng = np.random.default_rng(seed)
    country = rng.choice(["AAA", "BBB", "CCC"], size=n)
    base = pd.Series(country).map({"AAA": 0.02, "BBB": 0.08, "CCC": 0.20}).to_numpy()
    cap = np.exp(rng.normal(0.0, 1.0, size=n))
    rate = np.clip(base * np.where(cap < 1.0, 1.5, 0.6), 0, 0.9)
    closing = []
    for r in rate:
        years = np.arange(2015, 2024)
        hit = years[rng.random(len(years)) < r]
        closing.append(int(hit[0]) if len(hit) else None)
    closed = np.array([c is not None for c in closing])
    return pd.DataFrame(
        {
            "gem_mine_id": [f"M{i:04d}" for i in range(n)],
            "country_iso3": country,
            "region": "R",
            "subregion": np.where(country == "AAA", "S1", "S2"),
            "state_province": rng.choice(["p", "q"], size=n),
            "mine_type": rng.choice(["Underground", "Surface"], size=n),
            "coal_type": rng.choice(["Bituminous", "Subbituminous", "Lignite"], size=n),
            "capacity_mtpa": np.where(closed & (rng.random(n) < 0.8), np.nan, cap),  # closed mines lack it
            "latitude": rng.uniform(-40, 60, size=n),
            "longitude": rng.uniform(-120, 150, size=n),
            "status": np.where(closed, "closed", "operating"),
            "status_detail": None,
            "opening_year": 1990,
            "closing_year": closing,
            "latest_release": "2024-04",
            "is_synthetic": True,
        }
    )


def test_coal_types_match_whole_words() -> None:
    a = G.mine_attributes(
        _world(6).assign(coal_type=["Subbituminous", "Bituminous", "Lignite", None, "x", "Anthracite"])
    )
    assert a["coal_subbituminous"].tolist() == [1, 0, 0, 0, 0, 0]
    assert a["coal_bituminous"].tolist() == [0, 1, 0, 0, 0, 0]


def test_out_of_fold_encoding_never_sees_the_mines_own_closure() -> None:
    dim = _world()
    frame = gem_hazard_frame(dim, **KW).merge(G.mine_attributes(dim), on="gem_mine_id")
    oof = G.training_features(frame)
    fold = G._fold_of(frame["gem_mine_id"], G.TE_FOLDS)
    for f in range(G.TE_FOLDS):
        inside = fold == f
        expected = G.Encoder.fit(frame[~inside]).transform(frame[inside])
        pd.testing.assert_series_equal(oof.loc[inside, "te_state"], expected["te_state"], check_names=False)
    # a mine alone in its state: its state encoding holds nothing of its own event
    lone = frame["gem_mine_id"] == frame.loc[frame["event"] == 1, "gem_mine_id"].iloc[0]
    alone = frame.assign(g_state=np.where(lone, "ONLY/one", frame["g_state"]))
    enc = G.training_features(alone)
    row = enc[lone].iloc[0]
    assert row["te_state"] == pytest.approx(row["te_country"])  # no state rows left: pulled to the country


def test_missing_capacity_carries_no_signal() -> None:
    dim = _world()
    rows = gem_hazard_frame(dim, **KW).merge(G.mine_attributes(dim), on="gem_mine_id")
    enc = G.Encoder.fit(rows)
    one = G.mine_attributes(dim.iloc[[0, 0]].assign(capacity_mtpa=[np.nan, np.nan]))
    x = enc.transform(one)
    country = one["g_country"].iloc[0]
    assert x["log_capacity"].iloc[0] == pytest.approx(enc.cap_country[country])
    assert not any("missing" in c or "imputed" in c for c in G.FEATURES)


def test_strict_backtest_trains_only_on_years_up_to_t(monkeypatch: pytest.MonkeyPatch) -> None:
    dim = _world()
    frame = gem_hazard_frame(dim, **KW)
    seen: list[int] = []
    fit = G._fit

    def spy(x: pd.DataFrame, y: np.ndarray, seed: int):
        seen.append(int(x["year"].max()))
        return fit(x, y, seed)

    encoded: list[int] = []
    enc_fit = G.Encoder.fit.__func__

    def enc_spy(cls, rows: pd.DataFrame):
        encoded.append(int(rows["year"].max()))
        return enc_fit(cls, rows)

    monkeypatch.setattr(G, "_fit", spy)
    monkeypatch.setattr(G.Encoder, "fit", classmethod(enc_spy))
    oof, yearly, folds = G.strict_backtest(
        frame, G.mine_attributes(dim), as_of_years=[2018, 2020], horizons=[1, 3], seed=1
    )
    assert seen == [2018, 2020]
    assert max(encoded[: G.TE_FOLDS + 1]) <= 2018 and max(encoded[G.TE_FOLDS + 1 :]) <= 2020
    assert set(oof["as_of_year"]) == {2018, 2020}
    assert (oof["as_of_year"] + oof["horizon"] <= frame["year"].max()).all()
    assert {f["as_of_year"] for f in folds} == {2018, 2020}
    assert set(oof["model_name"]) == {G.MODEL_NAME, G.BASELINE}


def test_model_learns_the_country_risk_and_survival_never_rises() -> None:
    dim = _world(600)
    frame = gem_hazard_frame(dim, **KW)
    cfg = load_config().gem_hazard
    model = G.fit_global(
        frame, dim, as_of_years=[2018, 2019], horizons=[1, 3, 5], seed=1, n_bootstrap=3, say=lambda _m: None
    )
    assert model is not None and len(model.replicates) == 3
    assert model.version == G.fingerprint(frame, dim)  # the same inputs name the same version
    assert model.version != G.fingerprint(frame.iloc[:-1], dim)
    assert np.nanmean([f["auc"] for f in model.folds]) > 0.65
    preds = G.predictions(model, dim, at_risk_statuses=["operating"], version=model.version)
    wide = preds.pivot(index="entity_id", columns="horizon", values="p")
    assert (wide["H5"] >= wide["H10"]).all() and (wide["H10"] >= wide["H20"]).all()
    assert (preds["p_lo"] <= preds["p"]).all() and (preds["p"] <= preds["p_hi"]).all()  # its own band holds it
    country = dim.set_index("gem_mine_id")["country_iso3"]
    by_country = wide["H5"].groupby(country).mean()
    assert by_country["AAA"] > by_country["BBB"] > by_country["CCC"]
    assert cfg.backtest_as_of  # the real settings name as-of years


def test_calibration_map_is_monotone() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, 4000)
    y = (rng.random(4000) < p * 0.5).astype(int)
    cal = fit_calibration(p, y, np.arange(4000) >= 3000)
    grid = np.linspace(0, 0.3, 200)
    out = cal.apply(grid)
    assert np.all(np.diff(out) >= -1e-12)


def test_stage_rates_and_predictions() -> None:
    units = pd.DataFrame(
        {
            "gem_unit_id": ["a", "b", "c", "d", "a", "b", "c", "d", "e"],
            "release": ["2017-01"] * 4 + ["2023-07"] * 5,
            "release_year": [2017] * 4 + [2023] * 5,
            "status": ["construction", "construction", "cancelled", "announced", "operating", "construction",
                       "cancelled", "operating", "operating"],
        }
    )  # fmt: skip
    rates = S.stage_rates(units)
    assert rates is not None and rates.rate("construction") == 0.5 and rates.rate("cancelled") == 0.0
    assert rates.years_between == 6
    cfg = load_config().project_stages
    dim = pd.DataFrame(
        {
            "gem_mine_id": ["P1", "P2", "X", "O"],
            "status": ["proposed", "cancelled", "shelved", "operating"],
            "status_detail": ["Construction", "Construction", None, None],
            "latest_release": "2024-04",
        }
    )
    stages = S.stage_of(dim["status"], dim["status_detail"], cfg)
    assert stages.tolist()[:3] == ["construction", "cancelled", "shelved"] and pd.isna(stages.iloc[3])
    curve = {"H5": np.full(4, 0.9), "H10": np.full(4, 0.8), "H20": np.full(4, 0.6)}
    rows = S.predictions(dim, rates, curve, cfg, version="v")
    p1 = rows[rows["entity_id"] == "P1"].set_index("horizon")["p"]
    assert p1.to_dict() == pytest.approx({"H5": 0.45, "H10": 0.40, "H20": 0.30})
    assert set(rows["entity_id"]) == {"P1", "P2"}  # no shelved unit in the plant sample, operating mines excluded
    assert rows["note"].str.contains("construction").any()


def test_feature_list_is_the_registry_declaration() -> None:
    from fvi.registry.vocabulary import GLOBAL_MINE_FEATURES

    assert G.FEATURES == [f["id"] for f in GLOBAL_MINE_FEATURES]
    assert all({"source", "polarity", "reason"} <= set(f) for f in GLOBAL_MINE_FEATURES)
    attrs = G.Encoder.fit(
        gem_hazard_frame(_world(), **KW).merge(G.mine_attributes(_world()), on="gem_mine_id")
    ).transform(G.dated(G.mine_attributes(_world()), 2020, None))
    assert set(G.FEATURES) <= set(attrs.columns)  # every declared feature is computed


def test_eia_features_use_nothing_after_the_cutoff() -> None:
    panel = pd.DataFrame(
        {
            "msha_id": [7, 7, 7, 7, 9],
            "year": [2012, 2013, 2014, 2016, 2016],
            "production_mt": [1.0, 2.0, 0.0, 4.0, 3.0],
            "is_producing": [True, True, False, True, True],
        }
    )
    history = G.EiaHistory.from_panel(panel)
    rows = pd.DataFrame({"msha": [7.0, 7.0, 7.0, 7.0, np.nan, 9.0]})
    out = G.dated(rows, pd.Series([2011, 2013, 2015, 2020, 2020, 2015]), history)
    assert np.isnan(out["eia_log_production"].iloc[0])  # nothing produced by 2011
    assert out["eia_log_production"].iloc[1] == pytest.approx(np.log1p(2.0))  # 2013, not 2016
    assert out["eia_years_idle"].iloc[2] == 2  # last produced 2013 (2014 idle), seen at 2015
    assert out["eia_log_production"].iloc[3] == pytest.approx(np.log1p(4.0))  # beyond EIA: the last file, 2016
    assert out["eia_years_idle"].iloc[3] == 0
    assert out[["eia_log_production", "eia_years_idle"]].iloc[4].isna().all()  # no MSHA id
    assert np.isnan(out["eia_log_production"].iloc[5])  # mine 9 first produced in 2016 > 2015
