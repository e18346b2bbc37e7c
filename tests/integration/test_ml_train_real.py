"""Outcome models on the real-sample warehouse: one small end-to-end training, read-only on the shared build.

MLflow runs, registered versions and ONNX exports go to this test's temp folder; the warehouse is
opened read-only. Reports the US-mine H5 out-of-fold AUC and the training time.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fvi.ml import features as F
from fvi.ml import train as T
from fvi.ml.hazard import K_FEATURE
from fvi.ml.model_registry import CHAMPION, ModelRegistry, load_bundle
from fvi.ml.onnx_export import PARITY_TOLERANCE, predict_native, predict_onnx
from fvi.outcomes import assert_no_leakage
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_train_real_end_to_end(shared_settings, tmp_path, record_property) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    (tmp_path / "mlflow").mkdir()
    models_dir = tmp_path / "models"
    t0 = time.perf_counter()
    with DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh:
        result = T.train_all(shared_settings, wh, models_dir=models_dir, tracking_uri=uri, say=print)
        mine_keys = wh.query(
            f"select distinct entity_type, entity_id, as_of_year from {wh.schema('gold')}.fvi_scores "
            "where entity_type in ('mine', 'us_mine')"
        )
        mine_feats = F.mine_features(wh, horizon="H5")
        hazard_feats = F.mine_features(wh, horizon=T.HAZARD_FEATURE_HORIZON)
        country_feats = F.country_features(wh, horizon="H5")
    seconds = time.perf_counter() - t0
    record_property("train_seconds", round(result["seconds"]["total"], 1))
    print("seconds", result["seconds"])

    models = result["models"]
    assert set(models) == {T.MINE_H5, T.MINE_HAZARD, *(T.country_model_name(h) for h in T.COUNTRY_HORIZONS)}
    # the worldwide mine model: strict time folds on the GEM closures, skill well above chance on every one
    worldwide = result["warehouse_models"][T.GLOBAL_MODEL]
    assert worldwide["cv_scheme"] == "strict_time" and len(worldwide["folds"]) >= 3
    assert min(f["auc"] for f in worldwide["folds"]) > 0.75
    assert worldwide["n_events"] > 500
    for name, m in models.items():
        print(name, m["cv_scheme"], {k: round(v, 3) for k, v in m["cv"].items()}, m["calibration"])
        assert m["alias"] == CHAMPION and m["onnx_parity_max_abs"] <= PARITY_TOLERANCE

    # -- MLflow: a run per target with metrics and artifacts; a registered version with its alias
    client = T.mlflow_client(uri)
    for name, m in models.items():
        run = client.get_run(m["mlflow_run_id"])
        assert "cv_auc_mean" in run.data.metrics and run.data.params["cv_scheme"] == m["cv_scheme"]
        top = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"features.json", "calibration.json", "shap_summary.png", "model"} <= top
        inside = {a.path.split("/")[-1] for a in client.list_artifacts(run.info.run_id, "model")}
        assert {"model.onnx", "model.txt", "meta.json"} <= inside
        mv = client.get_model_version_by_alias(name, CHAMPION)
        assert str(mv.version) == m["version"] and float(mv.tags["cv_auc"]) == pytest.approx(m["cv"]["auc_mean"])

    # -- ONNX parity on real rows (raw probabilities; calibration applied identically after)
    latest = mine_feats.sort_values("as_of_year").groupby(["entity_type", "entity_id"]).tail(1)
    checks = {
        T.MINE_H5: latest,
        T.MINE_HAZARD: pd.concat(
            [hazard_feats.sample(800, random_state=k).assign(**{K_FEATURE: float(k)}) for k in range(1, 9)]
        ),
        T.country_model_name(5): country_feats,
    }
    for name, rows in checks.items():
        bundle = load_bundle(models_dir, name)
        x = bundle.matrix(rows)
        gap = float(np.max(np.abs(predict_onnx(bundle.session, x) - predict_native(bundle.booster, x))))
        record_property(f"onnx_parity_{name}", gap)
        assert gap <= PARITY_TOLERANCE, name
    bundle = load_bundle(models_dir, T.MINE_H5)
    preds = result["tables"]["fvi_predictions"]
    mine_h5 = preds[(preds["model_name"] == T.MINE_H5)].set_index(F.KEYS)
    sample = latest.head(200)
    p, raw = bundle.predict(sample)
    expected = mine_h5.loc[pd.MultiIndex.from_frame(sample[F.KEYS])]
    assert np.max(np.abs(raw - expected["p_raw"].to_numpy())) <= PARITY_TOLERANCE
    assert np.max(np.abs(p - expected["p"].to_numpy())) <= PARITY_TOLERANCE

    # -- every scored mine (GEM and US, every as-of year) and country has its predictions
    got = preds[preds["entity_type"] != "country"][F.KEYS].drop_duplicates()
    assert len(got) == len(mine_keys)
    assert preds.groupby(["entity_type", "horizon", "method"]).size().to_dict().keys() >= {
        ("mine", "H5", "classifier"),
        ("mine", "H20", "hazard"),
        ("us_mine", "H10", "hazard"),
        ("country", "H20", "classifier"),
    }

    # -- out-of-fold back-test rows: US-mine H5 AUC reported, labels strictly after their as-of year
    oof = result["tables"]["fvi_backtest_oof"]
    assert_no_leakage(labels=oof.assign(outcome_year=oof["as_of_year"] + oof["horizon"]))
    h5 = oof[(oof["model_name"] == T.MINE_H5) & (oof["horizon"] == 5)]
    s5 = oof[(oof["model_name"] == T.MINE_HAZARD) & (oof["horizon"] == 5)]
    auc_h5 = roc_auc_score(h5["label"], h5["p_model"])
    auc_s5 = roc_auc_score(s5["label"], s5["p_model"])
    record_property("us_mine_h5_oof_auc", round(auc_h5, 4))
    record_property("us_mine_hazard_s5_oof_auc", round(auc_s5, 4))
    print(f"US mine H5 OOF AUC {auc_h5:.3f} ({models[T.MINE_H5]['cv_scheme']}); hazard S(5) {auc_s5:.3f} (strict)")
    assert auc_h5 > 0.6 and auc_s5 > 0.55
    assert len(h5) > 4000

    expl = result["tables"]["fvi_explanations"]
    assert set(expl["horizon"]) == {"H5", "H10", "H20"}
    assert expl.groupby(["entity_type", "entity_id"])["as_of_year"].nunique().max() == 1
    assert ModelRegistry(models_dir).list_versions(T.MINE_H5)[0]["aliases"] == [CHAMPION]
    record_property("test_seconds", round(seconds, 1))


def test_recomputed_composites_equal_the_scores_where_nothing_is_masked(shared_settings) -> None:
    """Pillars and FVI rebuilt from the (masked) metric cells reproduce fvi_scores wherever no cell was masked."""
    with DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh:
        gold = wh.schema("gold")
        official = wh.query(
            f"select entity_type, entity_id, as_of_year, fvi, pillar_03, pillar_09 from {gold}.fvi_scores "
            "where persona = 'analyst' and horizon = 'H10'"
        )
        cells = F.load_cells(wh, (*F.MINE_TYPES, "country"))
        frames = [F.mine_features(wh, horizon="H10", cells=cells), F.country_features(wh, horizon="H10", cells=cells)]
    ours = pd.concat(frames, ignore_index=True).merge(official, on=F.KEYS, suffixes=("", "_scores"))
    unmasked = (ours["entity_type"].eq("country") & (ours["as_of_year"] >= 2021)) | (
        ours["entity_type"].eq("mine") & (ours["as_of_year"] >= 2024)
    )
    assert unmasked.sum() > 5000
    for col in ("fvi", "pillar_03", "pillar_09"):
        a, b = ours.loc[unmasked, col], ours.loc[unmasked, f"{col}_scores"]
        assert ((a - b).abs().fillna(0) < 1e-9).all() and (a.isna() == b.isna()).all(), col
    # before the snapshots' dates the FVI differs (the COP26 pledge of 2021 is not known in 2010)
    early = ours["entity_type"].eq("country") & (ours["as_of_year"] == 2010)
    assert (ours.loc[early, "fvi"] - ours.loc[early, "fvi_scores"]).abs().max() > 1
