"""Tiny models and feature rows on top of the tiny API warehouse, for the prediction-service tests.

Every model the service routes (``fvi_mine_h5``, ``fvi_mine_hazard``, ``fvi_country_h5/h10/h20``) is
a LightGBM of a few rounds on generated rows with the real feature lists, exported the way training
exports (float32-exact thresholds, :func:`fvi.ml.onnx_export.export_model`, the JSON registry and
its alias rule); ``fvi_mine_h5`` also gets a challenger (v2). Registry entries leave out
``onnx_path`` so a copied models folder points at its own files.

The warehouse extra writes ``gold.fvi_model_features`` (the latest-rows table the service reads
first), ``gold.fvi_explanations`` (stored SHAP of the champions) and ``gold.fvi_predictions_bayes``
for the tiny warehouse's entities: mines M1-M4, US mine MSHA42, countries ZAF, AUS, USA.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from tests.gold import write_gold
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

from fvi.ml.explain import explanations_frame
from fvi.ml.features import country_feature_names, mine_feature_names
from fvi.ml.hazard import K_FEATURE
from fvi.ml.model_registry import CHALLENGER, CHAMPION, ModelRegistry, load_bundle, version_dir
from fvi.ml.onnx_export import export_model, float32_exact
from fvi.provenance import data_world
from fvi.warehouse import DuckDBWarehouse, Warehouse

MINE_IDS = [("mine", "M1"), ("mine", "M2"), ("mine", "M3"), ("mine", "M4"), ("us_mine", "MSHA42")]
COUNTRY_IDS = [("country", "ZAF"), ("country", "AUS"), ("country", "USA")]
LATEST = {"mine": 2024, "us_mine": 2016, "country": 2024}
K_MAX = 8
SIGMOID = {"method": "sigmoid", "params": {"a": 0.8, "b": 0.1}, "brier": {}}

MODELS: dict[str, dict[str, Any]] = {
    "fvi_mine_h5": {"kind": "classifier", "entity": "mine", "target": "operating", "horizon_years": 5,
                    "feature_horizon": "H5", "output": "log_odds_operating"},
    "fvi_mine_hazard": {"kind": "hazard", "entity": "mine", "target": "operating", "horizon_years": None,
                        "feature_horizon": "H10", "output": "log_odds_yearly_stop_hazard"},
    **{f"fvi_country_h{h}": {"kind": "classifier", "entity": "country", "target": "decline", "horizon_years": h,
                             "feature_horizon": f"H{h}", "output": "log_odds_decline"} for h in (5, 10, 20)},
}  # fmt: skip


def feature_order(name: str) -> list[str]:
    spec = MODELS[name]
    if spec["entity"] == "country":
        return country_feature_names()
    return [*mine_feature_names(), K_FEATURE] if spec["kind"] == "hazard" else mine_feature_names()


def _training_rows(order: list[str], seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Scores around 50 whose FVI and first pillar drive the label (so SHAP has something to say)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 20, size=(n, len(order))).astype(np.float32)
    if K_FEATURE in order:
        x[:, order.index(K_FEATURE)] = rng.integers(1, K_MAX + 1, n)
    z = (x[:, order.index("fvi")] - 50) / 10 + (x[:, order.index("pillar_01")] - 50) / 20 + rng.normal(0, 1, n)
    return x, (z > 0).astype(int)


def export_version(models_dir: Path, name: str, version: int, *, seed: int, auc: float, alias: str) -> Path:
    """Train, export and register one version (what ``fvi.ml.train`` does, minus CV and MLflow)."""
    order = feature_order(name)
    x, y = _training_rows(order, seed)
    params = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 10, "verbose": -1, "num_threads": 1}
    booster = float32_exact(lgb.train(params, lgb.Dataset(x.astype("float64"), y), num_boost_round=8))
    spec = MODELS[name]
    meta = {
        "name": name,
        "version": str(version),
        **spec,
        "feature_order": order,
        "k_feature": K_FEATURE if spec["kind"] == "hazard" else None,
        "k_max": K_MAX if spec["kind"] == "hazard" else None,
        "calibration": SIGMOID,
        "cv_auc": auc,
        "cv": {"auc_mean": auc},
        "cv_scheme": "strict",
    }
    out = version_dir(models_dir, name, version)
    onnx = export_model(booster, out, meta, check_rows=x[:50])
    reg = ModelRegistry(models_dir)
    info = {
        "cv_auc": auc,
        "cv": {"auc_mean": auc},
        "cv_scheme": "strict",
        "kind": spec["kind"],
        "target": spec["target"],
        "horizon_years": spec["horizon_years"],
        "onnx_sha256": json.loads((out / "meta.json").read_text())["onnx_sha256"],
        "feature_order": order,
        "calibration": "sigmoid",
        "created_at": "2026-02-01T00:00:00+00:00",
    }
    reg.record(name, version, info)
    reg.set_alias(name, alias, version, reason="test world")
    return onnx


def write_models(models_dir: Path) -> Path:
    """Every routed model as v1 champion; ``fvi_mine_h5`` v2 as challenger."""
    for i, name in enumerate(MODELS):
        export_version(models_dir, name, 1, seed=10 + i, auc=0.7, alias=CHAMPION)
    export_version(models_dir, "fvi_mine_h5", 2, seed=99, auc=0.65, alias=CHALLENGER)
    return models_dir


def feature_rows(seed: int = 7) -> pd.DataFrame:
    """Two as-of years per entity and every feature horizon a model reads (NaN where a group has no feature)."""
    rng = np.random.default_rng(seed)
    mine_cols, country_cols = mine_feature_names(), country_feature_names()
    rows = []
    groups = ((MINE_IDS, mine_cols, ("H5", "H10")), (COUNTRY_IDS, country_cols, ("H5", "H10", "H20")))
    for ids, cols, horizons in groups:
        for entity_type, entity_id in ids:
            latest = LATEST[entity_type]
            for year in (latest - 1, latest):
                base = rng.normal(50, 20, len(cols))
                for h in horizons:
                    values = dict(zip(cols, base + (1.0 if h != "H5" else 0.0), strict=True))
                    if entity_id == "M4":
                        values["pillar_01"] = np.nan  # a missing value the trees must route
                    rows.append({"entity_type": entity_type, "entity_id": entity_id, "as_of_year": year,
                                 "horizon": h, **values})  # fmt: skip
    return pd.DataFrame(rows)


def explanations(models_dir: Path, features: pd.DataFrame) -> pd.DataFrame:
    """Stored SHAP of the champions for each entity's latest year (as training writes them)."""
    frames = []
    latest = features[features["as_of_year"] == features["entity_type"].map(LATEST)]
    for name, spec in MODELS.items():
        b = load_bundle(models_dir, name, CHAMPION)
        types = ("country",) if spec["entity"] == "country" else ("mine", "us_mine")
        rows = latest[(latest["horizon"] == spec["feature_horizon"]) & latest["entity_type"].isin(types)]
        rows = rows.reset_index(drop=True)
        if spec["kind"] == "hazard":
            rows = rows.assign(**{K_FEATURE: float(K_MAX)})
        horizons = ["H10", "H20"] if spec["kind"] == "hazard" else [f"H{spec['horizon_years']}"]
        for h in horizons:
            frames.append(
                explanations_frame(
                    b.booster,
                    rows,
                    b.feature_order,
                    rows,
                    horizon=h,
                    model_name=name,
                    model_version=b.version,
                    output=spec["output"],
                )  # fmt: skip
            )
    return pd.concat(frames, ignore_index=True)


def bayes_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_type": ["mine", "country", "country"],
            "entity_id": ["M1", "ZAF", "ZAF"],
            "as_of_year": [2024, 2024, 2020],
            "horizon": ["H5", "H10", "H10"],
            "p_mean": [0.6, 0.7, 0.1],
            "p_lo": [0.4, 0.5, 0.05],
            "p_hi": [0.8, 0.9, 0.2],
            "is_new_group": [False, False, False],
            "model": ["bayes_logit_mine_v1", "bayes_logit_country_v1", "bayes_logit_country_v1"],
            "run_id": ["r", "r", "r"],
        }
    )


def serving_tables(models_dir: Path) -> Any:
    """A ``write_warehouse`` extra writing the serving tables (needs the models written first)."""

    def extra(wh: Warehouse) -> None:
        features = feature_rows()
        write_gold(wh, "fvi_model_features", features)
        write_gold(wh, "fvi_explanations", explanations(models_dir, features))
        write_gold(wh, "fvi_predictions_bayes", bayes_rows())

    return extra


@functools.lru_cache(maxsize=1)
def template() -> Path:
    """Models and warehouse built once per process (each test copies them into its own FVI_HOME)."""
    root = Path(tempfile.mkdtemp(prefix="fvi-serving-world-"))
    atexit.register(shutil.rmtree, root, True)
    models = write_models(root / "models")
    write_warehouse(root / "fvi.duckdb", serving_tables(models))
    # the versions were trained on this warehouse's data world (training records it; see fvi.provenance)
    with DuckDBWarehouse(root / "fvi.duckdb", read_only=True) as wh:
        world = data_world(wh).to_json()
    reg = ModelRegistry(models)
    for row in reg.list_versions():
        reg.record(row["name"], row["version"], {**reg.version(row["name"], row["version"]), "data_world": world})
    return root


def make_home(home: Path) -> Path:
    """A fresh FVI_HOME holding a copy of the template's models and warehouse (tests may change them)."""
    root = template()
    shutil.copytree(root / "models", home / "models")
    (home / "warehouse").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "fvi.duckdb", home / "warehouse" / "fvi.duckdb")
    write_runs(home)
    return home
