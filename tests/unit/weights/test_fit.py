"""Pillar weights fitted on strict folds: on the simplex, blended by earlier folds only, and useful."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fvi.weights.fit import BLEND_GRID, composite, fit_simplex, fit_weights

PILLARS = ["01", "02", "03"]


def _rows(n_years: int = 12, per_year: int = 80, seed: int = 0) -> pd.DataFrame:
    """Pillar 02 drives the outcome, 01 and 03 are noise."""
    rng = np.random.default_rng(seed)
    out = []
    for year in range(2000, 2000 + n_years):
        x = rng.uniform(0, 100, size=(per_year, 3))
        p = 1 / (1 + np.exp(-(x[:, 1] - 50) / 8))
        out.append(
            pd.DataFrame(
                {
                    "entity_id": [f"E{i}" for i in range(per_year)],
                    "as_of_year": year,
                    "outcome_year": year + 5,
                    "viable": (rng.random(per_year) < p).astype(int),
                    **{f"pillar_{pid}": x[:, j] for j, pid in enumerate(PILLARS)},
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def test_weights_are_non_negative_and_sum_to_one() -> None:
    rows = _rows()
    w = fit_simplex(rows[[f"pillar_{p}" for p in PILLARS]].to_numpy(), rows["viable"].to_numpy())
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    assert w.argmax() == 1 and w[1] > 0.6  # the informative pillar dominates
    # no signal and one class: equal weights
    assert fit_simplex(np.ones((5, 3)), np.ones(5)) == pytest.approx(np.full(3, 1 / 3))


def test_composite_renormalises_over_the_pillars_present() -> None:
    x = np.array([[80.0, np.nan, 20.0], [np.nan, np.nan, np.nan]])
    w = np.array([0.5, 0.3, 0.2])
    c = composite(x, w)
    assert c[0] == pytest.approx((0.5 * 80 + 0.2 * 20) / 0.7)
    assert np.isnan(c[1])


def test_strict_folds_and_blend_chosen_on_earlier_folds_only() -> None:
    rows = _rows()
    fit = fit_weights(rows, PILLARS, {"01": 1, "02": 1, "03": 1}, default_blend=0.5)
    assert fit is not None
    for f in fit.folds:
        assert f["n_train"] == int((rows["outcome_year"] <= f["as_of_year"]).sum())  # known at the test year
    assert fit.folds[0]["blend"] == 0.5  # nothing earlier to choose on
    assert all(f["blend"] in BLEND_GRID for f in fit.folds)
    w = fit.weights
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    assert np.mean([f["auc_learnt"] for f in fit.folds]) > np.mean([f["auc_expert"] for f in fit.folds])
    assert set(fit.oof["as_of_year"]) == {f["as_of_year"] for f in fit.folds}
    assert fit.oof["p_model"].between(0, 1).all()


def test_blend_for_a_fold_ignores_that_fold_and_later() -> None:
    rows = _rows()
    base = fit_weights(rows, PILLARS, {"01": 1, "02": 1, "03": 1}, default_blend=0.5)
    # scramble the labels of the last test year: the blends chosen for earlier folds must not move
    last = rows["as_of_year"].max()
    scrambled = rows.copy()
    hit = scrambled["as_of_year"] == last
    scrambled.loc[hit, "viable"] = 1 - scrambled.loc[hit, "viable"]
    other = fit_weights(scrambled, PILLARS, {"01": 1, "02": 1, "03": 1}, default_blend=0.5)
    assert [f["blend"] for f in base.folds[:-1]] == [f["blend"] for f in other.folds[:-1]]
