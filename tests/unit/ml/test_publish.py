"""The published probabilities: coherent across horizons, gated by skill, observed status first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fvi.ml.publish import auc_lower_bound, coherent, recentre, skill_table


def _pred(eid: str, horizon: str, p: float, method: str, model: str, target: str = "operating",
          etype: str = "mine", year: int = 2024) -> dict:
    return {"entity_type": etype, "entity_id": eid, "as_of_year": year, "horizon": horizon, "target": target,
            "p": p, "model_name": model, "model_version": "1", "method": method}


NO_CLOSED = pd.DataFrame(columns=["entity_type", "entity_id", "as_of_year", "note"])


def _mine_preds() -> pd.DataFrame:
    # the classifier says 0.54 at H5; the hazard curve alone says 0.30, 0.012, 0.001 (a closed-mine pattern)
    return pd.DataFrame([
        _pred("M1", "H5", 0.54, "classifier", "clf"),
        _pred("M1", "H5", 0.30, "hazard", "haz"),
        _pred("M1", "H10", 0.012, "hazard", "haz"),
        _pred("M1", "H20", 0.001, "hazard", "haz"),
        _pred("M2", "H5", 0.50, "classifier", "clf"),
        _pred("M2", "H5", 0.80, "hazard", "haz"),
        _pred("M2", "H10", 0.60, "hazard", "haz"),
        _pred("M2", "H20", 0.40, "hazard", "haz"),
    ])


def test_longer_horizons_chain_onto_the_first_and_never_rise() -> None:
    out = coherent(_mine_preds(), pd.DataFrame(), {}, NO_CLOSED).set_index(["entity_id", "horizon"])
    assert out.loc[("M1", "H5"), "p_viable"] == pytest.approx(0.54)
    assert out.loc[("M1", "H10"), "p_viable"] == pytest.approx(0.54 * 0.012 / 0.30)
    assert out.loc[("M2", "H10"), "p_viable"] == pytest.approx(0.50 * 0.60 / 0.80)
    assert out.loc[("M2", "H20"), "method"] == "classifier_x_hazard"
    for eid in ("M1", "M2"):
        seq = [out.loc[(eid, h), "p_viable"] for h in ("H5", "H10", "H20")]
        assert seq == sorted(seq, reverse=True)


def test_independent_country_models_are_made_monotone() -> None:
    preds = pd.DataFrame([
        _pred("DEU", "H5", 0.40, "classifier", "c5", "decline", "country"),
        _pred("DEU", "H10", 0.20, "classifier", "c10", "decline", "country"),  # P(decline) falls: incoherent
        _pred("DEU", "H20", 0.70, "classifier", "c20", "decline", "country"),
    ])
    out = coherent(preds, pd.DataFrame(), {}, NO_CLOSED).set_index("horizon")
    assert out["p_viable"].tolist() == pytest.approx([0.60, 0.60, 0.30])
    assert out["p_target"].tolist() == pytest.approx([0.40, 0.40, 0.70])  # P(decline) never falls with H


def test_a_model_without_skill_is_not_published() -> None:
    backtest = pd.DataFrame([
        {"scorer": "model", "as_of_year": None, "model_name": "c20", "fvi_horizon": "H20", "n": 136,
         "n_positive": 69, "auc": 0.521},
        {"scorer": "model", "as_of_year": None, "model_name": "c5", "fvi_horizon": "H5", "n": 718,
         "n_positive": 544, "auc": 0.75},
    ])
    skills = skill_table(backtest)
    assert skills[("c20", "H20")][0] is False and "no skill" in skills[("c20", "H20")][1]
    assert skills[("c5", "H5")][0] is True
    preds = pd.DataFrame([
        _pred("DEU", "H5", 0.40, "classifier", "c5", "decline", "country"),
        _pred("DEU", "H20", 0.48, "classifier", "c20", "decline", "country"),
    ])
    out = coherent(preds, pd.DataFrame(), skills, NO_CLOSED).set_index("horizon")
    assert out.loc["H5", "is_published"] and out.loc["H5", "p_target"] == pytest.approx(0.40)
    assert not out.loc["H20", "is_published"] and np.isnan(out.loc["H20", "p_viable"])
    assert "AUC 0.521" in out.loc["H20", "note"]


def test_auc_lower_bound() -> None:
    assert auc_lower_bound(0.521, 136, 69) < 0.5 < auc_lower_bound(0.75, 718, 544)
    assert np.isnan(auc_lower_bound(0.7, 10, 0))


def test_closed_mines_are_not_viable_whatever_a_model_says() -> None:
    closed = pd.DataFrame([{"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024,
                            "note": "closed (GEM Coal Mine Tracker, closed in 2015)"}])
    out = coherent(_mine_preds(), pd.DataFrame(), {}, closed).set_index(["entity_id", "horizon"])
    assert (out.loc["M1", "p_viable"] == 0).all() and (out.loc["M1", "method"] == "observed_status").all()
    assert "2015" in out.loc[("M1", "H5"), "note"]
    assert out.loc[("M2", "H5"), "p_viable"] == pytest.approx(0.50)


def test_the_interval_always_contains_its_point() -> None:
    bayes = pd.DataFrame([
        # the Bayesian model's own mean sits far from the classifier's point (the case an analyst saw)
        {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": 5, "p_mean": 0.05,
         "p_lo": 0.02, "p_hi": 0.10},
        {"entity_type": "mine", "entity_id": "M2", "as_of_year": 2024, "horizon": "H5", "p_mean": 0.7,
         "p_lo": 0.6, "p_hi": 0.8},
    ])
    out = coherent(_mine_preds(), bayes, {}, NO_CLOSED)
    band = out.dropna(subset=["p_lo"])
    assert len(band) == 6  # H5 from the Bayesian model, H10/H20 chained like their points
    assert ((band["p_lo"] <= band["p_viable"]) & (band["p_viable"] <= band["p_hi"])).all()
    lo, hi = recentre(np.array([0.5]), np.array([0.7]), np.array([0.6]), np.array([0.8]))
    assert lo[0] < 0.5 < hi[0]


def test_a_us_mine_closed_later_in_its_gem_record_is_not_viable_from_that_year() -> None:
    preds = pd.DataFrame(
        [_pred("MSHA1", h, p, "hazard", "haz", etype="us_mine", year=y)
         for y in (2012, 2016) for h, p in (("H5", 0.8), ("H10", 0.6), ("H20", 0.4))]
    )  # fmt: skip
    closed = pd.DataFrame(
        [{"entity_type": "us_mine", "entity_id": "MSHA1", "as_of_year": np.nan, "closed_year": 2019.0,
          "note": "closed in 2019 (GEM Coal Mine Tracker M9, the same mine): not operating by then"}]
    )  # fmt: skip
    out = coherent(preds, pd.DataFrame(), {}, closed).set_index(["as_of_year", "horizon"])
    assert out.loc[(2012, "H5"), "p_viable"] == pytest.approx(0.8)  # 2017 < 2019: the model's answer stands
    assert out.loc[(2012, "H5"), "method"] == "hazard"
    for key in ((2012, "H10"), (2012, "H20"), (2016, "H5"), (2016, "H10"), (2016, "H20")):
        assert out.loc[key, "p_viable"] == 0 and out.loc[key, "method"] == "observed_status"
        assert "2019" in out.loc[key, "note"]
