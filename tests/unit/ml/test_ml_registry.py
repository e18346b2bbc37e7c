import json
import math

import lightgbm as lgb
import numpy as np
import pytest

from fvi.ml.model_registry import (
    CHALLENGER,
    CHAMPION,
    ModelRegistry,
    ModelRegistryError,
    choose_alias,
    load_bundle,
    promote,
    version_dir,
)
from fvi.ml.onnx_export import export_model, sha256_file


@pytest.mark.parametrize(
    ("new", "old", "has", "expected"),
    [
        (0.70, None, False, CHAMPION),  # first version
        (math.nan, None, False, CHAMPION),  # first version even without an AUC
        (0.71, 0.70, True, CHAMPION),
        (0.70, 0.70, True, CHAMPION),  # ties go to the newer model
        (0.69, 0.70, True, CHALLENGER),
        (math.nan, 0.70, True, CHALLENGER),  # a NaN never beats a champion
        (0.60, math.nan, True, CHAMPION),  # ... and anything beats a NaN champion
    ],
)
def test_alias_rule(new, old, has, expected):
    assert choose_alias(new, old, has_champion=has) == expected


def test_a_champion_from_another_data_world_is_not_compared():
    """A synthetic-world champion with a higher CV AUC does not keep the real model out."""
    assert choose_alias(0.70, 0.74, has_champion=True, same_world=False) == CHAMPION
    assert choose_alias(0.70, 0.74, has_champion=True, same_world=True) == CHALLENGER


def _booster(n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, n_features))
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(int)
    return lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 10), x


def _export(models_dir, name, version, auc, seed=0):
    booster, x = _booster(seed=seed)
    order = ["a", "b", "c", "d"]
    out = version_dir(models_dir, name, version)
    meta = {
        "name": name,
        "version": str(version),
        "kind": "classifier",
        "feature_order": order,
        "calibration": {"method": "none"},
    }
    path = export_model(booster, out, meta, check_rows=x.astype("float32"))
    reg = ModelRegistry(models_dir)
    reg.record(
        name, version, {"cv_auc": auc, "onnx_path": str(path), "onnx_sha256": sha256_file(path), "feature_order": order}
    )
    return reg, path, x


def test_registry_aliases_and_listing(tmp_path):
    reg, _, _ = _export(tmp_path, "m", 1, 0.70)
    reg.set_alias("m", CHAMPION, 1)
    _export(tmp_path, "m", 2, 0.65, seed=1)
    reg.set_alias("m", CHALLENGER, 2)
    rows = reg.list_versions("m")
    assert [(r["version"], r["aliases"]) for r in rows] == [("1", [CHAMPION]), ("2", [CHALLENGER])]
    assert rows[0]["feature_order"] == ["a", "b", "c", "d"]
    assert rows[0]["onnx_path"].endswith("m/1/model.onnx")
    # promoting the challenger moves champion onto it and clears its challenger alias
    out = promote(tmp_path, "m", 2)
    assert out["aliases"] == {CHAMPION: "2"}
    history = json.loads((tmp_path / "registry.json").read_text())["models"]["m"]["history"]
    assert history[-1]["reason"] == "promote"


def test_promote_refuses_missing_and_corrupt_onnx(tmp_path):
    reg, path, _ = _export(tmp_path, "m", 1, 0.70)
    reg.set_alias("m", CHAMPION, 1)
    _, path2, _ = _export(tmp_path, "m", 2, 0.72, seed=1)

    data = path2.read_bytes()
    path2.write_bytes(data[: len(data) // 2])  # truncated: checksum no longer matches
    with pytest.raises(ModelRegistryError, match="sha256"):
        promote(tmp_path, "m", 2)

    reg.record("m", 2, {**reg.version("m", 2), "onnx_sha256": sha256_file(path2)})  # checksum agrees, bytes bad
    with pytest.raises(ModelRegistryError, match="does not load"):
        promote(tmp_path, "m", 2)

    path2.unlink()
    with pytest.raises(ModelRegistryError, match="missing"):
        promote(tmp_path, "m", 2)
    with pytest.raises(ModelRegistryError, match="no version"):
        promote(tmp_path, "m", 9)
    assert reg.aliases("m") == {CHAMPION: "1"}  # nothing moved


def test_bundle_predicts_like_the_booster(tmp_path):
    reg, _, x = _export(tmp_path, "m", 1, 0.70)
    reg.set_alias("m", CHAMPION, 1)
    bundle = load_bundle(tmp_path, "m")
    frame = {"a": x[0, 0], "b": x[0, 1], "c": None, "d": x[0, 3]}
    p, raw = bundle.predict(frame)
    assert p == pytest.approx(raw)
    native = bundle.booster.predict(np.array([[x[0, 0], x[0, 1], np.nan, x[0, 3]]], dtype="float32").astype("float64"))
    assert raw[0] == pytest.approx(native[0], abs=1e-6)
