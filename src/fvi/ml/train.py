"""Train the outcome models, check them against time, track them in MLflow and export them to ONNX.

Five models (registered names in MLflow and in the JSON registry):

* ``fvi_mine_h5``: LightGBM P(a US mine producing in t still produces in t+5), features at t.
* ``fvi_mine_hazard``: discrete-time hazard of the first stop (:mod:`fvi.ml.hazard`), giving
  S(5), S(10) and S(20) for every mine (the US labels end eight years out).
* ``fvi_country_h5`` / ``_h10`` / ``_h20``: LightGBM P(coal production falls >= 25 % by t+H).

Cross-validation is by as-of year. A fold validates on as-of year v and trains on earlier as-of
years whose outcome year is <= v, so no label that lay in the future at v is used ("strict").
Where that leaves no usable fold (the mine H5 labels cover as-of 2008-2011 and all resolve after
2012; the country H20 labels cover as-of 2000-2003), the fallback is 5-fold cross-validation
grouped by entity ("grouped_entity"): no entity is in both training and validation, but training
labels resolve after some validation as-of years, so common shocks leak. The scheme is recorded
with every metric and in ``fvi_backtest_oof``; the hazard model's S(5) is the strictly time-correct
check of the H5 question.

Calibration (isotonic or sigmoid, chosen by Brier on the latest fold, see
:func:`fvi.ml.model_registry.fit_calibration`) is fit on out-of-fold predictions; the hazard model
calibrates its yearly hazards before compounding. The final model of each target is refit on all
labelled rows with the same parameters. Optuna (TPE, seeded, bounded) only runs with ``tune=True``.

The mine models learn from US mines only but also score GEM mines, which lack the EIA history
features. Every US training row is therefore also added as a GEM-like copy with that history
missing (:func:`fvi.ml.features.gem_like`), so the trees learn where a missing history goes;
each fold reports ``auc_augmented``, the AUC on GEM-like validation rows.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.contract import columns
from fvi.ml import features as F
from fvi.ml.booster import (  # noqa: F401 - re-exported: training's public names since before the split
    BASE_PARAMS,
    DEFAULT_SEED,
    GROUPED_SPLITS,
    MIN_TRAIN_ROWS,
    N_JOBS,
    NUM_ROUNDS,
    SINGLE_THREAD_ROWS,
    Augment,
    Fold,
    _mean,
    _omp_passive,
    binary_metrics,
    choose_folds,
    cv_classifier,
    fit_booster,
    grouped_folds,
    predict_raw,
    threads_for,
    time_folds,
    tune_params,
)
from fvi.ml.explain import explanations_frame, shap_summary_png
from fvi.ml.global_mines import MODEL_NAME as GLOBAL_MODEL
from fvi.ml.hazard import K_FEATURE, hazard_matrix, person_period, survival_from_hazards
from fvi.ml.model_registry import (
    CHAMPION,
    Calibration,
    ModelRegistry,
    choose_alias,
    fit_calibration,
    load_bundle,
    version_dir,
)
from fvi.ml.onnx_export import export_model
from fvi.ml.tracking import (  # noqa: F401 - re-exported: training's public names since before the split
    _champion_auc,
    _ClientPrewarm,
    _experiment_id,
    _mlflow_env,
    default_tracking_uri,
    mlflow_client,
)
from fvi.outcomes import assert_no_leakage
from fvi.provenance import DataWorld, data_world
from fvi.registry.vocabulary import MODELS, ModelSpec, us_mine_ids
from fvi.settings import Settings
from fvi.warehouse import Warehouse

TRAINED_HERE: tuple[ModelSpec, ...] = tuple(m for m in MODELS if m.estimator in ("classifier", "hazard"))
"""The declared models this module trains (``models.yml``), in order; the warehouse models train in theirs."""
MINE_H5 = next(m.name for m in TRAINED_HERE if m.entity == "mine" and m.estimator == "classifier")
MINE_HAZARD = next(m.name for m in TRAINED_HERE if m.estimator == "hazard")
COUNTRY_HORIZONS = tuple(m.horizons[0] for m in TRAINED_HERE if m.entity == "country")
MINE_HORIZONS = next(m.horizons for m in TRAINED_HERE if m.estimator == "hazard")
HAZARD_FEATURE_HORIZON = "H10"
"""Pillar/FVI horizon the hazard model reads (one model serves H5-H20; H10 sits in the middle)."""
COUNTRY_FIRST_AS_OF = 2000
"""Country features exist from the first scored year (registry ``as_of_from``)."""
PARITY_ROWS = 2000
SHAP_PLOT_ROWS = 400

PREDICTION_COLUMNS = columns("fvi_predictions")
"""Declared in the gold contract (warehouse/models/gold/python/_python__tables.yml)."""
OOF_COLUMNS = columns("fvi_backtest_oof")

Say = Callable[[str], Any]


def country_model_name(horizon: int) -> str:
    """The declared country classifier of this horizon."""
    return next(m.name for m in TRAINED_HERE if m.entity == "country" and m.horizons == (horizon,))


# ---------------------------------------------------------------------------------------------
# One trained target


@dataclass
class TrainedTarget:
    """Everything one target's training produced (the booster, its checks, its outputs)."""

    name: str
    kind: str  # classifier | hazard
    entity: str  # mine | country
    target: str  # operating | decline
    horizon: int | None
    feature_horizon: str
    feature_order: list[str]
    booster: Any
    calibration: Calibration
    params: dict[str, Any]
    rounds: int
    cv_scheme: str
    folds: list[dict[str, Any]]
    cv: dict[str, float]
    oof: pd.DataFrame
    n_train: int
    label_years: tuple[int, int]
    k_max: int | None = None
    tuned: dict[str, Any] | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    onnx_path: Path | None = None
    parity: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        """The name of the model's raw output: the log-odds of the yearly stop hazard, or of the target."""
        if self.kind == "hazard":
            return "log_odds_yearly_stop_hazard"
        return f"log_odds_{self.target}"

    def summary(self) -> dict[str, Any]:
        """The target's entry in the training report: version, alias, CV per fold, calibration, ONNX parity."""
        return {
            "version": self.version,
            "alias": self.alias,
            "kind": self.kind,
            "target": self.target,
            "horizon": self.horizon,
            "cv_scheme": self.cv_scheme,
            "cv": self.cv,
            "folds": self.folds,
            "calibration": self.calibration.method,
            "calibration_brier": self.calibration.brier,
            "n_train": self.n_train,
            "label_years": list(self.label_years),
            "k_max": self.k_max,
            "rounds": self.rounds,
            "tuned": self.tuned,
            "onnx_path": str(self.onnx_path) if self.onnx_path else None,
            "onnx_parity_max_abs": self.parity,
            "mlflow_run_id": self.run_id,
            **self.extra,
        }


def _label_frame(features: pd.DataFrame, labels: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Labels joined to the features of their as-of year (rows without features dropped)."""
    merged = labels.merge(features, on=on, how="inner", suffixes=("_label", ""))
    assert_no_leakage(features=merged[[c for c in features.columns if c in merged.columns]], labels=merged)
    return merged.reset_index(drop=True)


def _classifier(
    name: str,
    *,
    entity: str,
    target: str,
    horizon: int,
    feature_horizon: str,
    data: pd.DataFrame,
    label_col: str,
    feature_order: list[str],
    entity_col: str,
    seed: int,
    tune: bool,
    n_trials: int,
    timeout: float | None,
    num_rounds: int = NUM_ROUNDS,
    augment: Augment | None = None,
) -> TrainedTarget:
    x = data[feature_order]
    y = data[label_col].to_numpy(dtype="int64")
    folds, scheme = choose_folds(
        data["as_of_year"].to_numpy(), data["outcome_year"].to_numpy(), data[entity_col].to_numpy(), y, seed=seed
    )
    params, rounds, tuned = dict(BASE_PARAMS), num_rounds, None
    if tune:

        def objective(p: dict[str, Any], r: int) -> float:
            _, _, rows = cv_classifier(x, y, folds, p, r, seed, augment)
            return _mean([row["logloss"] for row in rows])

        params, rounds, best = tune_params(objective, n_trials=n_trials, seed=seed, timeout=timeout)
        tuned = {"best_cv_logloss": best, "n_trials": n_trials}
    oof, fold_id, rows = cv_classifier(x, y, folds, params, rounds, seed, augment)
    seen = fold_id >= 0
    last = max((f.fold for f in folds), default=-1)
    calibration = fit_calibration(oof[seen], y[seen], fold_id[seen] == last)
    pooled = binary_metrics(y[seen], oof[seen]) if seen.any() else {}
    cv = {
        "auc_mean": _mean([r["auc"] for r in rows]),
        "brier_mean": _mean([r["brier"] for r in rows]),
        "logloss_mean": _mean([r["logloss"] for r in rows]),
        "auc_oof": pooled.get("auc", math.nan),
        "brier_oof": pooled.get("brier", math.nan),
        "n_folds": float(len(folds)),
    }
    if augment is not None:
        cv["auc_augmented_mean"] = _mean([r["auc_augmented"] for r in rows])
    booster = fit_booster(x, y, params, rounds, seed, augment)
    oof_frame = pd.DataFrame(
        {
            "entity_type": data["entity_type"].to_numpy(),
            "entity_id": data["entity_id"].to_numpy(),
            "as_of_year": data["as_of_year"].to_numpy(dtype="int64"),
            "horizon": horizon,
            "label": y,
            "p_model": oof,
            "fold": fold_id,
        }
    )[seen]
    return TrainedTarget(
        name=name,
        kind="classifier",
        entity=entity,
        target=target,
        horizon=horizon,
        feature_horizon=feature_horizon,
        feature_order=feature_order,
        booster=booster,
        calibration=calibration,
        params=params,
        rounds=rounds,
        cv_scheme=scheme,
        folds=rows,
        cv=cv,
        oof=oof_frame.reset_index(drop=True),
        n_train=len(y),
        label_years=(int(data["as_of_year"].min()), int(data["as_of_year"].max())),
        tuned=tuned,
    )


# ---------------------------------------------------------------------------------------------
# Hazard


def _hazard_fold_years(pp: pd.DataFrame) -> list[int]:
    years = sorted(pp["as_of_year"].unique().tolist())
    out = []
    for v in years:
        train = pp["outcome_year"] <= v
        if train.sum() >= MIN_TRAIN_ROWS and pp.loc[train, "event"].nunique() == 2 and (pp["as_of_year"] == v).any():
            out.append(int(v))
    return out


def _hazard(
    *,
    pp: pd.DataFrame,
    label_rows: pd.DataFrame,
    feature_order: list[str],
    seed: int,
    tune: bool,
    n_trials: int,
    timeout: float | None,
    num_rounds: int = NUM_ROUNDS,
) -> TrainedTarget:
    """Yearly-hazard model on person-period rows; strict time CV on hazards and on S(H) vs the labels."""
    order = [*feature_order, K_FEATURE]
    x = pp[order]
    y = pp["event"].to_numpy(dtype="int64")
    years = _hazard_fold_years(pp)
    folds = [
        Fold(i, v, (pp["outcome_year"] <= v).to_numpy(), (pp["as_of_year"] == v).to_numpy())
        for i, v in enumerate(years)
    ]

    def run_cv(params: dict[str, Any], rounds: int, with_survival: bool) -> tuple[np.ndarray, list[dict], list]:
        oof = np.full(len(y), np.nan)
        rows, surv = [], []
        for f in folds:
            booster = fit_booster(x[f.train], y[f.train], params, rounds, seed, F.gem_like)
            oof[f.val] = predict_raw(booster, x[f.val])
            row = {
                "fold": f.fold,
                "val_year": f.val_year,
                "n_train": int(f.train.sum()),
                **binary_metrics(y[f.val], oof[f.val]),
                "auc_augmented": binary_metrics(y[f.val], predict_raw(booster, F.gem_like(x[f.val])))["auc"],
            }
            if with_survival:
                k_max = int(pp.loc[f.train, "k"].max())
                lab = label_rows[label_rows["as_of_year"] == f.val_year]
                hs = sorted(lab["horizon"].unique().tolist())

                def fold_hazard(fr: pd.DataFrame, b: Any = booster) -> np.ndarray:
                    return predict_raw(b, fr[order])

                # one survival curve per mine (label rows repeat the mine's features once per horizon)
                mines = lab.drop_duplicates("entity_id").reset_index(drop=True)
                curve = survival_from_hazards(hazard_matrix(fold_hazard, mines[feature_order], max(hs), k_max))
                row_of = pd.Series(np.arange(len(mines)), index=mines["entity_id"])
                p_s = curve[row_of.reindex(lab["entity_id"]).to_numpy(), lab["horizon"].to_numpy(dtype="int64") - 1]
                frame = lab[["entity_type", "entity_id", "as_of_year", "horizon", "viable"]].assign(
                    p_model=p_s, fold=f.fold, k_max_fold=k_max
                )
                surv.append(frame)
                at5 = frame[frame["horizon"] == 5]
                m5 = binary_metrics(at5["viable"].to_numpy(), at5["p_model"].to_numpy())
                row.update({"s5_auc": m5["auc"], "s5_brier": m5["brier"], "s5_n": m5["n"], "k_max_train": k_max})
            rows.append(row)
        return oof, rows, surv

    params, rounds, tuned = dict(BASE_PARAMS), num_rounds, None
    if tune:

        def objective(p: dict[str, Any], r: int) -> float:
            _, rows, _ = run_cv(p, r, with_survival=False)
            return _mean([row["logloss"] for row in rows])

        params, rounds, best = tune_params(objective, n_trials=n_trials, seed=seed, timeout=timeout)
        tuned = {"best_cv_logloss": best, "n_trials": n_trials}
    oof, rows, surv = run_cv(params, rounds, with_survival=True)
    seen = ~np.isnan(oof)
    fold_of = np.full(len(y), -1)
    for f in folds:
        fold_of[f.val] = f.fold
    calibration = fit_calibration(oof[seen], y[seen], fold_of[seen] == (folds[-1].fold if folds else -1))
    oof_s = pd.concat(surv, ignore_index=True) if surv else pd.DataFrame()
    at5 = oof_s[oof_s["horizon"] == 5] if len(oof_s) else oof_s
    s5 = binary_metrics(at5["viable"].to_numpy(), at5["p_model"].to_numpy()) if len(at5) else {}
    cv = {
        "auc_mean": _mean([r["auc"] for r in rows]),
        "brier_mean": _mean([r["brier"] for r in rows]),
        "logloss_mean": _mean([r["logloss"] for r in rows]),
        "s5_auc_oof": s5.get("auc", math.nan),
        "s5_brier_oof": s5.get("brier", math.nan),
        "s5_auc_mean": _mean([r.get("s5_auc", math.nan) for r in rows]),
        "auc_augmented_mean": _mean([r["auc_augmented"] for r in rows]),
        "n_folds": float(len(folds)),
    }
    booster = fit_booster(x, y, params, rounds, seed, F.gem_like)
    oof_frame = (
        oof_s.rename(columns={"viable": "label"})[
            ["entity_type", "entity_id", "as_of_year", "horizon", "label", "p_model", "fold"]
        ]
        if len(oof_s)
        else pd.DataFrame(columns=["entity_type", "entity_id", "as_of_year", "horizon", "label", "p_model", "fold"])
    )
    return TrainedTarget(
        name=MINE_HAZARD,
        kind="hazard",
        entity="mine",
        target="operating",
        horizon=None,
        feature_horizon=HAZARD_FEATURE_HORIZON,
        feature_order=order,
        booster=booster,
        calibration=calibration,
        params=params,
        rounds=rounds,
        cv_scheme="strict",
        folds=rows,
        cv=cv,
        oof=oof_frame,
        n_train=len(y),
        label_years=(int(pp["as_of_year"].min()), int(pp["as_of_year"].max())),
        k_max=int(pp["k"].max()),
        tuned=tuned,
        extra={"n_person_period": len(pp), "events": int(y.sum())},
    )


# ---------------------------------------------------------------------------------------------
# MLflow


def _flat_metrics(t: TrainedTarget) -> list[tuple[str, float, int]]:
    out: list[tuple[str, float, int]] = []
    for k, v in t.cv.items():
        if v is not None and math.isfinite(v):
            out.append((f"cv_{k}", float(v), 0))
    for row in t.folds:
        for k in ("auc", "brier", "logloss", "s5_auc", "s5_brier", "auc_augmented"):
            fv = row.get(k)
            if fv is not None and math.isfinite(fv):
                out.append((f"fold_{k}", float(fv), int(row["fold"])))
    for k, v in t.calibration.brier.items():
        out.append((f"calibration_brier_{k}", float(v), 0))
    return out


def headline_auc(t: TrainedTarget) -> float:
    """The CV AUC the alias rule compares: mean fold AUC (the hazard's is on yearly stop events)."""
    return float(t.cv.get("auc_mean", math.nan))


# ---------------------------------------------------------------------------------------------
# Orchestration


@dataclass
class _Paths:
    models_dir: Path
    tracking_uri: str | None
    artifact_root: Path | None
    world: DataWorld


def _register(
    t: TrainedTarget,
    paths: _Paths,
    registry: ModelRegistry,
    *,
    client: Any | None,
    parity_rows: pd.DataFrame,
    shap_rows: pd.DataFrame,
    seed: int,
    say: Say,
) -> None:
    """Log the run, register a version, export ONNX beside it, set the alias (MLflow and JSON)."""
    auc = headline_auc(t)
    run_id = None
    if client is not None:
        from mlflow.entities import Metric, Param

        exp = _experiment_id(client, t.name, paths.artifact_root)
        run = client.create_run(exp, run_name=f"{t.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        params = {
            **{f"lgb_{k}": v for k, v in t.params.items()},
            "num_rounds": t.rounds,
            "cv_scheme": t.cv_scheme,
            "n_train": t.n_train,
            "n_features": len(t.feature_order),
            "seed": seed,
            "feature_horizon": t.feature_horizon,
            "calibration": t.calibration.method,
            "label_as_of_years": f"{t.label_years[0]}-{t.label_years[1]}",
            "tuned": bool(t.tuned),
            "k_max": t.k_max,
        }
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, step) for k, v, step in _flat_metrics(t)],
            params=[Param(k, str(v)[:500]) for k, v in params.items()],
        )
        try:
            client.create_registered_model(t.name)
        except Exception:  # noqa: BLE001 - already registered
            pass
        mv = client.create_model_version(t.name, source=f"{run.info.artifact_uri}/model", run_id=run_id)
        version = str(mv.version)
        has_champion, champion_auc = _champion_auc(client, t.name)
    else:
        existing = [int(r["version"]) for r in registry.list_versions(t.name)] if t.name in registry.names() else []
        version = str(max(existing, default=0) + 1)
        champ = registry.aliases(t.name).get(CHAMPION)
        has_champion = champ is not None
        champion_auc = registry.version(t.name, champ).get("cv_auc") if champ else None
    # the JSON registry records every version's data world (MLflow's champion is the same version)
    champ_v = registry.aliases(t.name).get(CHAMPION) if t.name in registry.names() else None
    comparable = champ_v is None or registry.world_mismatch(t.name, champ_v, paths.world) is None
    alias = choose_alias(auc, champion_auc, has_champion=has_champion, same_world=comparable)

    out_dir = version_dir(paths.models_dir, t.name, version)
    meta = {
        "name": t.name,
        "version": version,
        "kind": t.kind,
        "entity": t.entity,
        "target": t.target,
        "horizon_years": t.horizon,
        "feature_horizon": t.feature_horizon,
        "feature_order": t.feature_order,
        "k_feature": K_FEATURE if t.kind == "hazard" else None,
        "k_max": t.k_max,
        "output": t.output,
        "calibration": t.calibration.to_json(),
        "cv_scheme": t.cv_scheme,
        "cv": t.cv,
        "cv_auc": auc,
        "params": t.params,
        "num_rounds": t.rounds,
        "mlflow_run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_world": paths.world.to_json(),
    }
    check = parity_rows.reindex(columns=t.feature_order)
    onnx_path = export_model(t.booster, out_dir, meta, check_rows=check.to_numpy(dtype="float32"))
    written = json.loads((out_dir / "meta.json").read_text(encoding="utf-8"))
    t.version, t.alias, t.run_id, t.onnx_path = version, alias, run_id, onnx_path
    t.parity = written["parity_max_abs"]

    registry.record(
        t.name,
        version,
        {
            "cv_auc": auc,
            "cv": t.cv,
            "cv_scheme": t.cv_scheme,
            "kind": t.kind,
            "target": t.target,
            "horizon_years": t.horizon,
            "onnx_path": str(onnx_path),
            "onnx_sha256": written["onnx_sha256"],
            "meta_path": str(out_dir / "meta.json"),
            "feature_order": t.feature_order,
            "calibration": t.calibration.method,
            "mlflow_run_id": run_id,
            "created_at": meta["created_at"],
            "data_world": paths.world.to_json(),
        },
    )
    why = (
        f"train: cv_auc={auc:.4f} vs champion={champion_auc}"
        if comparable
        else f"train: the champion v{champ_v} was trained on another data world; not compared"
    )
    registry.set_alias(t.name, alias, version, reason=why)

    if client is not None and run_id is not None:
        with tempfile.TemporaryDirectory(prefix="fvi-ml-") as tmp:
            tmp_p = Path(tmp)
            (tmp_p / "features.json").write_text(json.dumps(t.feature_order, indent=1))
            (tmp_p / "calibration.json").write_text(json.dumps(t.calibration.to_json(), indent=1))
            (tmp_p / "cv_folds.json").write_text(json.dumps(t.folds, indent=1, default=str))
            for p in ("features.json", "calibration.json", "cv_folds.json"):
                client.log_artifact(run_id, str(tmp_p / p))
            if len(shap_rows):
                png = shap_summary_png(
                    t.booster,
                    shap_rows,
                    t.feature_order,
                    tmp_p / "shap_summary.png",
                    seed=seed,
                    max_rows=SHAP_PLOT_ROWS,
                )
                client.log_artifact(run_id, str(png))
        client.log_artifacts(run_id, str(out_dir), "model")
        for k, v in {
            "cv_auc": repr(float(auc)),
            "cv_scheme": t.cv_scheme,
            "onnx_sha256": written["onnx_sha256"],
            "onnx_path": str(onnx_path),
            "data_world": paths.world.label[:250],
            "data_world_fingerprint": paths.world.fingerprint,
        }.items():
            client.set_model_version_tag(t.name, version, k, v)
        client.set_registered_model_alias(t.name, alias, version)
        client.set_terminated(run_id)
    say(f"{t.name}: v{version} ({alias}) cv_auc={auc:.3f} scheme={t.cv_scheme} parity={t.parity:.1e}")


@dataclass
class _Serving:
    """The version that serves (champion): its booster, order, calibration and identity."""

    name: str
    version: str
    booster: Any
    feature_order: list[str]
    calibration: Calibration
    k_max: int | None
    run_id: str | None


def _serving(t: TrainedTarget, models_dir: Path) -> _Serving:
    """The new version if it is champion, else the champion from disk (the new one if that fails to load)."""
    if t.alias != CHAMPION:
        try:
            b = load_bundle(models_dir, t.name, CHAMPION)
            return _Serving(
                t.name,
                b.version,
                b.booster,
                b.feature_order,
                b.calibration,
                b.meta.get("k_max"),
                b.meta.get("mlflow_run_id"),
            )
        except Exception:  # noqa: BLE001 - a broken older champion must not stop a training run
            pass
    return _Serving(t.name, str(t.version), t.booster, t.feature_order, t.calibration, t.k_max, t.run_id)


def _prediction_rows(
    keys: pd.DataFrame, p: np.ndarray, p_raw: np.ndarray, *, horizon: int, target: str, s: _Serving, method: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_type": keys["entity_type"].to_numpy(),
            "entity_id": keys["entity_id"].to_numpy(),
            "as_of_year": keys["as_of_year"].to_numpy(dtype="int64"),
            "horizon": f"H{horizon}",
            "target": target,
            "p": p,
            "p_raw": p_raw,
            "model_name": s.name,
            "model_version": s.version,
            "method": method,
            "mlflow_run_id": s.run_id,
        }
    )


def _latest_per_entity(frame: pd.DataFrame) -> pd.DataFrame:
    latest = frame.groupby(["entity_type", "entity_id"])["as_of_year"].transform("max")
    return frame[frame["as_of_year"] == latest].reset_index(drop=True)


def _train_global(
    wh: Warehouse, *, seed: int, as_of_max: int | None, say: Say
) -> dict[str, Any] | None:
    """The worldwide GEM closure hazard: summary, prediction rows and strict out-of-fold rows."""
    from fvi.ml import global_mines as G
    from fvi.ml import project_stages as S
    from fvi.outcomes.labels import gem_hazard, load_config
    from fvi.registry.vocabulary import HORIZON_LABELS

    if not wh.has_table("gold", "dim_mine"):
        return None
    gold = wh.schema("gold")
    dim = wh.query(f"select * from {gold}.dim_mine")
    frame = gem_hazard(dim)
    if as_of_max is not None:
        frame = frame[frame["year"] <= as_of_max]
    cfg = load_config().gem_hazard
    has_panel = wh.has_table("gold", "fct_us_mine__yearly")
    panel = wh.query(f"select * from {gold}.fct_us_mine__yearly") if has_panel else None
    history = G.EiaHistory.from_panel(panel)
    model = G.fit_global(
        frame, dim, as_of_years=cfg.backtest_as_of, horizons=cfg.backtest_horizons, seed=seed, history=history, say=say
    )
    if model is None:
        return None
    version = model.version
    preds = [G.predictions(model, dim, at_risk_statuses=["operating"], version=version)]
    rates = S.stage_rates(S.load_units(wh))
    if rates is not None:
        stages = load_config().project_stages
        waiting = dim[S.stage_of(dim["status"], dim["status_detail"], stages).notna()].reset_index(drop=True)
        if len(waiting):
            attrs = model.at_release(waiting)
            h = model.hazard(attrs)
            curve = {label: G.survival(h, int(label[1:])) for label in HORIZON_LABELS}
            bands = {label: model.band(attrs, int(label[1:])) for label in HORIZON_LABELS}
            preds.append(S.predictions(waiting, rates, curve, stages, version=version, bands=bands))
        say(
            "project stages: "
            + ", ".join(f"{r.stage} {r.rate:.1%}" for r in rates.rates.itertuples() if pd.notna(r.rate))
            + f" operating at {rates.to_release} (from {rates.from_release})"
        )
    oof = model.oof.assign(model_version=version, target="operating", cv_scheme="strict_time")
    return {
        "version": version,
        "kind": "hazard",
        "target": "operating",
        "method": G.METHOD,
        "cv_scheme": "strict_time",
        "folds": model.folds,
        "calibration": model.calibration.method,
        "calibration_brier": model.calibration.brier,
        "n_train": model.n_train,
        "n_events": model.n_events,
        "label_years": list(model.years),
        "features": list(G.FEATURES),
        "seconds": model.seconds,
        "predictions": pd.concat([p for p in preds if len(p)], ignore_index=True),
        "stage_rates": None if rates is None else rates.rates.to_dict(orient="records"),
        "oof": oof,
    }


def _train_declared(
    spec: ModelSpec,
    *,
    mine_feats: dict[str, pd.DataFrame],
    country_feats: dict[int, pd.DataFrame],
    us_labels: pd.DataFrame,
    c_labels: pd.DataFrame,
    mine_order: list[str],
    country_order: list[str],
    seed: int,
    tune: bool,
    n_trials: int,
    timeout: float | None,
    num_rounds: int,
) -> TrainedTarget | None:
    """Train one model of ``models.yml`` (a classifier or the US hazard model); None without two classes."""
    common: dict[str, Any] = {"seed": seed, "tune": tune, "n_trials": n_trials, "timeout": timeout}
    if spec.estimator == "hazard":
        fh = mine_feats[spec.feature_horizon]
        pp = person_period(us_labels, id_col="entity_id")
        pp = pp.assign(entity_type="us_mine").merge(fh, on=F.KEYS, how="inner")
        pp[K_FEATURE] = pp["k"].astype("float64")
        label_rows = _label_frame(fh, us_labels, on=F.KEYS)
        if not len(pp) or pp["event"].nunique() != 2:
            return None
        return _hazard(pp=pp, label_rows=label_rows, feature_order=mine_order, num_rounds=num_rounds, **common)
    (h,) = spec.horizons
    label_col = spec.label.split(".")[-1]
    if spec.entity == "mine":
        data = _label_frame(mine_feats[spec.feature_horizon], us_labels[us_labels["horizon"] == h], on=F.KEYS)
        order = mine_order
    else:
        data = _label_frame(country_feats[h], c_labels[c_labels["horizon"] == h], on=F.KEYS)
        order = country_order
    if not len(data) or (spec.entity == "country" and data[label_col].nunique() != 2):
        return None
    extra: dict[str, Any] = {"augment": F.gem_like} if spec.augment == "gem_like" else {}
    if spec.entity == "mine":
        extra["num_rounds"] = num_rounds
    return _classifier(
        spec.name,
        entity=spec.entity,
        target=spec.target,
        horizon=h,
        feature_horizon=spec.feature_horizon,
        data=data,
        label_col=label_col,
        feature_order=order,
        entity_col="entity_id",
        **common,
        **extra,
    )


def train_all(
    settings: Settings,
    wh: Warehouse,
    *,
    tune: bool = False,
    n_trials: int = 20,
    seed: int = DEFAULT_SEED,
    as_of_max: int | None = None,
    timeout: float | None = None,
    models_dir: Path | None = None,
    tracking_uri: str | None = None,
    track: bool = True,
    explain: bool = True,
    num_rounds: int = NUM_ROUNDS,
    say: Say = print,
) -> dict[str, Any]:
    """Train, check, track and export every model; return summaries and the gold frames to write.

    ``wh`` is only read. ``as_of_max`` trains as if in that year: only labels whose outcome year is
    <= ``as_of_max``. ``models_dir`` (default FVI_HOME/models) receives the ONNX exports and
    ``registry.json``; ``tracking_uri`` (default ``settings.mlflow_tracking_uri``, else SQLite under
    FVI_HOME/mlflow) the MLflow runs and registered versions; ``track=False`` skips MLflow (versions
    are numbered by the JSON registry). Returns ``{"models", "warehouse_models", "seconds", "tables",
    "trained"}`` (``warehouse_models``: the worldwide mine model, retrained from gold every run);
    pass it to :func:`write_ml_tables`.
    """
    t_all = time.perf_counter()
    _omp_passive()
    seconds: dict[str, float] = {}
    models_dir = Path(models_dir) if models_dir is not None else settings.home_abs / "models"
    uri = tracking_uri or (default_tracking_uri(settings) if track else None)
    artifact_root = None
    if uri and uri.startswith("sqlite:///") and not settings.mlflow_tracking_uri:
        artifact_root = Path(uri.removeprefix("sqlite:///")).parent / "artifacts"
    paths = _Paths(models_dir, uri, artifact_root, data_world(wh))
    prewarm = _ClientPrewarm(uri) if (track and uri) else None

    t0 = time.perf_counter()
    gold = wh.schema("gold")
    cells = F.load_cells(wh, (*F.MINE_TYPES, "country"))
    us_panel = wh.query(f"select * from {gold}.fct_us_mine__yearly")
    country_panel = wh.query(f"select * from {gold}.fct_country__yearly")
    mine_feats = F.mine_features_at(wh, ("H5", HAZARD_FEATURE_HORIZON), cells=cells, us_panel=us_panel)
    country_feats = {
        int(h[1:]): f
        for h, f in F.country_features_at(
            wh, [f"H{h}" for h in COUNTRY_HORIZONS], cells=cells, panel=country_panel
        ).items()
    }
    us_labels = wh.query(f"select msha_id, as_of_year, horizon, outcome_year, viable from {gold}.fvi_outcome_us_mine")
    c_labels = wh.query(f"select iso3, as_of_year, horizon, outcome_year, decline from {gold}.fvi_outcome_country")
    if as_of_max is not None:
        us_labels = us_labels[us_labels["outcome_year"] <= as_of_max]
        c_labels = c_labels[c_labels["outcome_year"] <= as_of_max]
    us_labels = us_labels.assign(entity_type="us_mine", entity_id=us_mine_ids(us_labels["msha_id"]).to_numpy())
    c_labels = c_labels[c_labels["as_of_year"] >= COUNTRY_FIRST_AS_OF].assign(
        entity_type="country", entity_id=c_labels["iso3"]
    )
    seconds["features"] = round(time.perf_counter() - t0, 2)

    mine_order = F.mine_feature_names()
    country_order = F.country_feature_names()
    trained: list[TrainedTarget] = []

    t0 = time.perf_counter()
    for spec in TRAINED_HERE:
        t_model = time.perf_counter()
        model = _train_declared(
            spec,
            mine_feats=mine_feats,
            country_feats=country_feats,
            us_labels=us_labels,
            c_labels=c_labels,
            mine_order=mine_order,
            country_order=country_order,
            seed=seed,
            tune=tune,
            n_trials=n_trials,
            timeout=timeout,
            num_rounds=num_rounds,
        )
        if model is not None:
            trained.append(model)
        seconds[spec.name] = round(time.perf_counter() - t_model, 2)
    seconds["declared_models"] = round(time.perf_counter() - t0, 2)

    # -- track, register, export
    t0 = time.perf_counter()
    client = prewarm.client() if prewarm is not None else None
    seconds["mlflow_wait"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    registry = ModelRegistry(models_dir)
    mine_latest = {h: _latest_per_entity(f) for h, f in mine_feats.items()}
    for t in trained:
        if t.entity == "mine":
            base = mine_latest[t.feature_horizon]
            rows = base.assign(**{K_FEATURE: float(t.k_max or 1)}) if t.kind == "hazard" else base
            parity_rows = rows.sample(min(PARITY_ROWS, len(rows)), random_state=seed)
        else:
            rows = country_feats[int(t.horizon or 5)]
            parity_rows = rows
        _register(
            t,
            paths,
            registry,
            client=client,
            parity_rows=parity_rows,
            shap_rows=parity_rows if explain else parity_rows.iloc[:0],
            seed=seed,
            say=say,
        )
    seconds["register_export"] = round(time.perf_counter() - t0, 2)

    # -- predictions, out-of-fold table, explanations (from the serving champion)
    t0 = time.perf_counter()
    preds, oofs, expl = [], [], []
    for t in trained:
        s = _serving(t, models_dir)
        oofs.append(
            t.oof.assign(model_name=t.name, model_version=str(t.version), target=t.target, cv_scheme=t.cv_scheme)
        )
        if t.kind == "classifier":
            feats = mine_feats["H5"] if t.entity == "mine" else country_feats[int(t.horizon or 5)]
            x = feats.reindex(columns=s.feature_order)
            raw = predict_raw(s.booster, x)
            preds.append(
                _prediction_rows(
                    feats,
                    s.calibration.apply(raw),
                    raw,
                    horizon=int(t.horizon or 5),
                    target=t.target,
                    s=s,
                    method="classifier",
                )
            )
            if explain:
                latest = _latest_per_entity(feats)
                expl.append(
                    explanations_frame(
                        s.booster,
                        latest,
                        s.feature_order,
                        latest,
                        horizon=f"H{t.horizon}",
                        model_name=s.name,
                        model_version=s.version,
                        output=t.output,
                    )
                )
        else:
            feats = mine_feats[HAZARD_FEATURE_HORIZON]
            order = s.feature_order
            k_max = int(s.k_max or t.k_max or 1)

            def hz(fr: pd.DataFrame, b: Any = s.booster, o: list[str] = order) -> np.ndarray:
                return predict_raw(b, fr.reindex(columns=o))

            hazards = hazard_matrix(hz, feats, max(MINE_HORIZONS), k_max)
            raw_curve = survival_from_hazards(hazards)
            cal_curve = survival_from_hazards(s.calibration.apply(hazards))
            raw_s = {h: raw_curve[:, h - 1] for h in MINE_HORIZONS}
            cal_s = {h: cal_curve[:, h - 1] for h in MINE_HORIZONS}
            for h in MINE_HORIZONS:
                preds.append(
                    _prediction_rows(feats, cal_s[h], raw_s[h], horizon=h, target="operating", s=s, method="hazard")
                )
            if explain:
                latest = _latest_per_entity(feats).assign(**{K_FEATURE: float(k_max)})
                once = explanations_frame(
                    s.booster,
                    latest,
                    order,
                    latest,
                    horizon="H10",
                    model_name=s.name,
                    model_version=s.version,
                    output=t.output,
                )
                expl += [once, once.assign(horizon="H20")]  # one yearly hazard at k_max explains both
    seconds["predict_explain"] = round(time.perf_counter() - t0, 2)

    # the worldwide GEM closure hazard (its own features and strict back-test)
    t0 = time.perf_counter()
    summary_global = _train_global(wh, seed=seed, as_of_max=as_of_max, say=say)
    if summary_global is not None:
        preds.append(summary_global.pop("predictions"))
        oofs.append(summary_global.pop("oof"))
    seconds["mine_global"] = round(time.perf_counter() - t0, 2)
    # the serving features, so the API reads them instead of recomputing them at every start-up
    served = [_latest_per_entity(f).assign(horizon=h) for h, f in mine_feats.items()]
    served += [_latest_per_entity(f).assign(horizon=f"H{h}") for h, f in country_feats.items()]
    tables = {
        "fvi_predictions": _conform(preds, PREDICTION_COLUMNS),
        "fvi_backtest_oof": _conform(oofs, OOF_COLUMNS),
        "fvi_explanations": _conform(expl, None),
        "fvi_model_features": pd.concat(served, ignore_index=True),
    }
    seconds["total"] = round(time.perf_counter() - t_all, 2)
    summary = {t.name: t.summary() for t in trained}
    # retrained from gold at every run (not in the ONNX registry): reported beside the registered ones
    in_warehouse = {GLOBAL_MODEL: summary_global} if summary_global is not None else {}
    say(f"trained {len(trained)} models in {seconds['total']} s")
    return {
        "models": summary,
        "warehouse_models": in_warehouse,
        "seconds": seconds,
        "tables": tables,
        "trained": {t.name: t for t in trained},
        "models_dir": str(models_dir),
        "tracking_uri": uri,
    }


def _conform(frames: list[pd.DataFrame], columns: list[str] | None) -> pd.DataFrame:
    from fvi.ml.explain import EXPLANATION_COLUMNS

    cols = columns or EXPLANATION_COLUMNS
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    # optional columns (a model's own band and note) may be absent from every frame
    out = pd.concat(frames, ignore_index=True).reindex(columns=cols)
    for c in ("p_lo", "p_hi"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    for c in ("note", "interval_method"):
        if c in out.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    for c in ("as_of_year", "label", "fold"):
        if c in out.columns:
            out[c] = out[c].astype("int64")
    if columns is OOF_COLUMNS:
        out["horizon"] = out["horizon"].astype("int64")
    out["model_version"] = out["model_version"].astype(str)
    return out


def write_ml_tables(wh: Warehouse, result: dict[str, Any]) -> dict[str, int]:
    """Write fvi_predictions, fvi_backtest_oof, fvi_explanations and fvi_model_features to gold; rows per table."""
    rows = {}
    for name, frame in result["tables"].items():
        wh.write_table("gold", name, frame)
        rows[name] = len(frame)
    return rows
