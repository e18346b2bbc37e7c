"""LightGBM as the outcome models use it: time-correct folds, the float32-exact fit, CV, Optuna.

One home for what training, the worldwide mine model and the back-test share, so none of them
imports the others' orchestration (``fvi.ml.train`` and ``fvi.ml.global_mines`` both read it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fvi.ml.onnx_export import float32_exact

MIN_TRAIN_ROWS = 50
GROUPED_SPLITS = 5
DEFAULT_SEED = 42

BASE_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}
NUM_ROUNDS = 200
N_JOBS = 2
"""LightGBM threads at most (2-core machines)."""
SINGLE_THREAD_ROWS = 20_000

# ---------------------------------------------------------------------------------------------
# Folds and metrics


@dataclass
class Fold:
    """One cross-validation fold: boolean train and validation masks over the rows, and the validated as-of year."""

    fold: int
    val_year: int | None
    train: np.ndarray
    val: np.ndarray


def time_folds(
    as_of: np.ndarray, outcome_year: np.ndarray, y: np.ndarray, *, min_train: int = MIN_TRAIN_ROWS
) -> list[Fold]:
    """One fold per as-of year v: validate on v, train on as-of < v with outcome year <= v.

    A fold needs ``min_train`` training rows with both classes; earlier years that do not reach
    that are skipped.
    """
    as_of, outcome_year, y = np.asarray(as_of), np.asarray(outcome_year), np.asarray(y)
    folds: list[Fold] = []
    for v in sorted(np.unique(as_of).tolist()):
        train = (as_of < v) & (outcome_year <= v)
        val = as_of == v
        if train.sum() >= min_train and len(np.unique(y[train])) == 2 and val.any():
            folds.append(Fold(len(folds), int(v), train, val))
    return folds


def grouped_folds(groups: np.ndarray, *, n_splits: int = GROUPED_SPLITS, seed: int = DEFAULT_SEED) -> list[Fold]:
    """Folds with no entity on both sides (the fallback where strict time folds are impossible)."""
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    rng = np.random.default_rng(seed)
    assign = dict(zip(uniq.tolist(), rng.permutation(len(uniq)) % n_splits, strict=True))
    fold_of = np.array([assign[g] for g in groups.tolist()])
    return [Fold(k, None, fold_of != k, fold_of == k) for k in range(min(n_splits, len(uniq)))]


def choose_folds(
    as_of: np.ndarray, outcome_year: np.ndarray, groups: np.ndarray, y: np.ndarray, *, seed: int = DEFAULT_SEED
) -> tuple[list[Fold], str]:
    """Strict time folds when possible, else folds grouped by entity; returns (folds, scheme)."""
    folds = time_folds(as_of, outcome_year, y)
    if folds:
        return folds, "strict"
    return grouped_folds(groups, seed=seed), "grouped_entity"


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC (NaN with one class), Brier, log loss, rows and positive rate."""
    from sklearn.metrics import log_loss, roc_auc_score

    y = np.asarray(y, dtype="int64")
    p = np.clip(np.asarray(p, dtype="float64"), 1e-7, 1 - 1e-7)
    out = {"n": float(len(y)), "positive_rate": float(y.mean()) if len(y) else math.nan}
    if len(y) == 0:
        return {**out, "auc": math.nan, "brier": math.nan, "logloss": math.nan}
    out["auc"] = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan
    out["brier"] = float(np.mean((p - y) ** 2))
    out["logloss"] = float(log_loss(y, p, labels=[0, 1]))
    return out


def _mean(values: list[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


# ---------------------------------------------------------------------------------------------
# LightGBM


def threads_for(n_rows: int, n_jobs: int = N_JOBS) -> int:
    """LightGBM threads: one below ``SINGLE_THREAD_ROWS`` rows (a second thread only adds overhead)."""
    return 1 if n_rows < SINGLE_THREAD_ROWS else max(1, min(n_jobs, N_JOBS))


Augment = Callable[[pd.DataFrame], pd.DataFrame]


def fit_booster(
    x: pd.DataFrame, y: np.ndarray, params: dict[str, Any], rounds: int, seed: int, augment: Augment | None = None
) -> Any:
    """Fit on the float32 values the ONNX graph sees; thresholds made float32-exact (same decisions both ways).

    ``augment`` adds a transformed copy of every row with the same label (the mine models add
    GEM-like copies, :func:`fvi.ml.features.gem_like`).
    """
    _omp_passive()
    import lightgbm as lgb

    if augment is not None:
        x = pd.concat([x, augment(x)], ignore_index=True)
        y = np.concatenate([np.asarray(y), np.asarray(y)])

    p = {**params, "seed": seed, "num_threads": threads_for(len(x), int(params.get("num_threads", N_JOBS)))}
    data = lgb.Dataset(_matrix(x), label=np.asarray(y), free_raw_data=True)
    return float32_exact(lgb.train(p, data, num_boost_round=rounds))


def _omp_passive() -> None:
    """Idle OpenMP threads sleep instead of spinning (must be set before LightGBM loads libgomp).

    On a shared 2-core machine spinning threads starve each other: 200 rounds on 30k rows took
    41 s with two spinning threads and 3.6 s with passive waiting.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _matrix(x: pd.DataFrame) -> np.ndarray:
    """The float32 values the ONNX graph will see, as float64 for LightGBM (same splits both ways)."""
    return x.to_numpy(dtype="float32").astype("float64")


def predict_raw(booster: Any, x: pd.DataFrame) -> np.ndarray:
    """P(class 1) per row of ``x`` from a LightGBM ``booster``, on the float32-rounded inputs ONNX sees."""
    return np.asarray(booster.predict(_matrix(x)), dtype="float64")


def cv_classifier(
    x: pd.DataFrame,
    y: np.ndarray,
    folds: list[Fold],
    params: dict[str, Any],
    rounds: int,
    seed: int,
    augment: Augment | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """(out-of-fold P, fold id per row (-1 when never validated), per-fold metrics).

    With ``augment`` the training rows get their augmented copies, and each fold also reports the
    AUC on augmented validation rows (``auc_augmented``: how well the model ranks with GEM-like inputs).
    """
    oof = np.full(len(y), np.nan)
    fold_id = np.full(len(y), -1, dtype="int64")
    rows = []
    for f in folds:
        booster = fit_booster(x[f.train], y[f.train], params, rounds, seed, augment)
        p = predict_raw(booster, x[f.val])
        oof[f.val], fold_id[f.val] = p, f.fold
        metrics: dict[str, Any] = binary_metrics(y[f.val], p)
        if augment is not None:
            metrics["auc_augmented"] = binary_metrics(y[f.val], predict_raw(booster, augment(x[f.val])))["auc"]
        rows.append({"fold": f.fold, "val_year": f.val_year, "n_train": int(f.train.sum()), **metrics})
    return oof, fold_id, rows


# ---------------------------------------------------------------------------------------------
# Optuna


def tune_params(
    objective: Callable[[dict[str, Any], int], float], *, n_trials: int, seed: int, timeout: float | None
) -> tuple[dict[str, Any], int, float]:
    """TPE search (seeded) over a bounded space; ``objective(params, rounds)`` is a CV log loss to minimise."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def trial_fn(trial: Any) -> float:
        params = {
            **BASE_PARAMS,
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 63),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 100),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        }
        rounds = trial.suggest_int("num_rounds", 50, 400, step=25)
        value = objective(params, rounds)
        return value if math.isfinite(value) else 1e9

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(trial_fn, n_trials=n_trials, timeout=timeout, gc_after_trial=False)
    best = dict(study.best_params)
    rounds = int(best.pop("num_rounds"))
    return {**BASE_PARAMS, **best}, rounds, float(study.best_value)
