import json

import numpy as np
import pytest

from fvi.ml.model_registry import Calibration, brier, fit_calibration


def _logit(p):
    return np.log(p / (1 - p))


def test_sigmoid_recovers_a_logit_linear_distortion():
    rng = np.random.default_rng(0)
    true_p = rng.uniform(0.02, 0.98, 6000)
    y = (rng.random(6000) < true_p).astype(int)
    raw = 1 / (1 + np.exp(-(_logit(true_p) / 2.0 + 0.5)))  # overconfident towards 0.5, shifted
    holdout = np.arange(6000) >= 4500
    cal = fit_calibration(raw, y, holdout)
    assert cal.method in ("sigmoid", "isotonic")
    assert brier(cal.apply(raw), y) < brier(raw, y)
    if cal.method == "sigmoid":
        assert cal.params["a"] == pytest.approx(2.0, rel=0.15)


def test_isotonic_wins_on_a_step():
    rng = np.random.default_rng(1)
    raw = rng.uniform(0, 1, 5000)
    true_p = np.where(raw < 0.5, 0.05, 0.95)  # a step no sigmoid can follow
    y = (rng.random(5000) < true_p).astype(int)
    cal = fit_calibration(raw, y, np.arange(5000) >= 3500)
    assert cal.method == "isotonic"
    assert cal.brier["isotonic"] < cal.brier["sigmoid"]


def test_identity_kept_when_calibrating_makes_the_holdout_worse():
    rng = np.random.default_rng(2)
    raw = rng.uniform(0.05, 0.95, 4000)
    y = (rng.random(4000) < raw).astype(int)
    holdout = np.arange(4000) >= 3000
    y[~holdout] = (rng.random(3000) < 0.9).astype(int)  # earlier folds say "almost always 1"
    cal = fit_calibration(raw, y, holdout)
    assert cal.method == "none"
    assert cal.brier["none"] <= min(cal.brier["isotonic"], cal.brier["sigmoid"])


def test_one_class_means_nothing_to_calibrate():
    cal = fit_calibration(np.array([0.2, 0.4]), np.array([1, 1]), np.array([False, True]))
    assert cal.method == "none"


def test_json_round_trip_applies_identically():
    rng = np.random.default_rng(3)
    raw = rng.uniform(0, 1, 2000)
    y = (rng.random(2000) < raw**2).astype(int)
    fitted = fit_calibration(raw, y, np.arange(2000) >= 1500)
    for cal in (fitted, Calibration("sigmoid", {"a": 1.3, "b": -0.2}), Calibration("none")):
        again = Calibration.from_json(json.loads(json.dumps(cal.to_json())))
        assert np.array_equal(again.apply(raw), cal.apply(raw))
    assert np.array_equal(Calibration.from_json(None).apply(raw), raw)
