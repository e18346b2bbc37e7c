import lightgbm as lgb
import numpy as np
import pytest

from fvi.ml.onnx_export import (
    PARITY_TOLERANCE,
    float32_exact,
    parity,
    predict_native,
    session,
    to_onnx,
)


def _adjacent_float32_booster():
    """Values 99.9999924 and 100.0 are adjacent float32s; LightGBM splits halfway between them."""
    below = float(np.nextafter(np.float32(100.0), np.float32(0.0)))
    rng = np.random.default_rng(0)
    x = np.column_stack([np.where(rng.random(400) < 0.5, below, 100.0), rng.normal(size=400)])
    y = (x[:, 0] == 100.0).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5}
    return lgb.train(params, lgb.Dataset(x, y), 20), x


def test_halfway_thresholds_break_naive_export_and_the_rewrite_fixes_it():
    booster, x = _adjacent_float32_booster()
    naive = parity(booster, session(to_onnx(booster, 2).SerializeToString()), x)
    assert naive > 0.1  # the float32 graph rounds the threshold up to 100.0 and sends 100.0 left

    exact = float32_exact(booster)
    assert np.array_equal(predict_native(exact, x), predict_native(booster, x))  # same model on float32 input
    assert parity(exact, session(to_onnx(exact, 2).SerializeToString()), x) <= PARITY_TOLERANCE


def test_missing_values_follow_the_same_branch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 3))
    x[rng.random(600) < 0.3, 1] = np.nan  # NaN seen in training on feature 1 only
    y = ((x[:, 0] + np.nan_to_num(x[:, 1])) > 0).astype(int)
    booster = float32_exact(lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 30))
    test = x.copy()
    test[:100, 0] = np.nan  # and NaN where training never had one
    test[100:200, 2] = np.nan
    assert parity(booster, session(to_onnx(booster, 3).SerializeToString()), test) <= PARITY_TOLERANCE


def test_export_refuses_a_feature_order_of_the_wrong_length(tmp_path):
    from fvi.ml.onnx_export import export_model

    booster, _ = _adjacent_float32_booster()
    with pytest.raises(ValueError, match="feature_order"):
        export_model(booster, tmp_path, {"feature_order": ["only_one"]})
