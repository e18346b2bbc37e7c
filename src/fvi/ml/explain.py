"""SHAP explanations of the champion models, per entity and on demand.

Values are TreeSHAP contributions in the model's raw (log-odds) output: ``base_value`` plus the
sum of a row's ``shap`` values is the log-odds of what the model predicts (P(operating at t+H) for
the mine classifier, the yearly stop hazard for the hazard model, P(decline) for countries); the
``output`` column names which. Hazard explanations are taken at k = k_max, the yearly hazard that
the H10 and H20 survival compounds beyond the label window; a feature that raises the hazard
lowers survival. Plain-words drivers can be generated from this table later.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

EXPLANATION_COLUMNS = [
    "entity_type",
    "entity_id",
    "as_of_year",
    "horizon",
    "feature",
    "value",
    "shap",
    "base_value",
    "model_name",
    "model_version",
    "output",
]

_EXPLAINERS: dict[int, Any] = {}


def tree_explainer(booster: Any) -> Any:
    """A cached ``shap.TreeExplainer`` per booster object (building one parses every tree)."""
    import shap

    key = id(booster)
    cached = _EXPLAINERS.get(key)
    if cached is None or cached[0] is not booster:
        _EXPLAINERS[key] = (booster, shap.TreeExplainer(booster))
    return _EXPLAINERS[key][1]


def shap_values(booster: Any, features: np.ndarray) -> tuple[np.ndarray, float]:
    """([n, F] SHAP values in log-odds, base value) for a binary LightGBM booster."""
    explainer = tree_explainer(booster)
    x = np.asarray(features, dtype="float64")
    with warnings.catch_warnings():  # shap notes its LightGBM output format changed; handled below
        warnings.simplefilter("ignore", UserWarning)
        values = explainer.shap_values(x)
    if isinstance(values, list):  # older shap: one array per class
        values = values[-1]
    values = np.asarray(values, dtype="float64")
    if values.ndim == 3:
        values = values[:, :, -1]
    base = explainer.expected_value
    base_f = float(np.ravel(base)[-1])
    return values, base_f


def used_features(booster: Any, names: list[str]) -> list[str]:
    """Features with at least one split (the rest have SHAP 0 everywhere)."""
    counts = booster.feature_importance(importance_type="split")
    return [n for n, c in zip(names, counts, strict=True) if c > 0]


def explanations_frame(
    booster: Any,
    features: pd.DataFrame,
    feature_order: list[str],
    keys: pd.DataFrame,
    *,
    horizon: str,
    model_name: str,
    model_version: str,
    output: str,
) -> pd.DataFrame:
    """Long table (EXPLANATION_COLUMNS) for every row; features the model never splits on are left out."""
    x = features.reindex(columns=feature_order).to_numpy(dtype="float64")
    values, base = shap_values(booster, x)
    keep = [feature_order.index(f) for f in used_features(booster, feature_order)]
    n, m = len(x), len(keep)
    if n == 0 or m == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EXPLANATION_COLUMNS})
    return pd.DataFrame(
        {
            "entity_type": np.repeat(keys["entity_type"].to_numpy(), m),
            "entity_id": np.repeat(keys["entity_id"].to_numpy(), m),
            "as_of_year": np.repeat(keys["as_of_year"].to_numpy(dtype="int64"), m),
            "horizon": horizon,
            "feature": np.tile(np.array([feature_order[j] for j in keep], dtype=object), n),
            "value": x[:, keep].ravel(),
            "shap": values[:, keep].ravel(),
            "base_value": base,
            "model_name": model_name,
            "model_version": str(model_version),
            "output": output,
        }
    )


def explain_row(model: Any, features: dict[str, Any] | pd.Series | pd.DataFrame, *, top: int | None = None) -> dict:
    """SHAP explanation of one (possibly overridden) feature row, for the API's what-if answers.

    ``model`` is a :class:`fvi.ml.model_registry.ModelBundle` (or anything with ``booster``,
    ``feature_order`` and ``meta``); ``features`` maps feature names to values, absent ones are
    missing (NaN), as the model saw missing values in training. A hazard model is explained at
    k = k_max unless ``features`` sets ``k_year``.
    """
    from fvi.ml.hazard import K_FEATURE

    if isinstance(features, pd.DataFrame):
        if len(features) != 1:
            raise ValueError("explain_row takes one row")
        row: dict[str, Any] = {str(k): v for k, v in features.iloc[0].items()}
    else:
        row = {str(k): v for k, v in features.items()}
    order = list(model.feature_order)
    meta = dict(getattr(model, "meta", {}) or {})
    if K_FEATURE in order and row.get(K_FEATURE) is None:
        row[K_FEATURE] = float(meta.get("k_max", 1))
    unknown = sorted(set(row) - set(order))
    x = np.array([[_num(row.get(f)) for f in order]], dtype="float64")
    values, base = shap_values(model.booster, x)
    contrib = {f: float(v) for f, v in zip(order, values[0], strict=True) if v != 0.0}
    ranked = sorted(contrib.items(), key=lambda kv: -abs(kv[1]))
    logit = base + float(values[0].sum())
    return {
        "model_name": getattr(model, "name", meta.get("name")),
        "model_version": str(getattr(model, "version", meta.get("version"))),
        "output": meta.get("output", "log_odds"),
        "base_value": base,
        "logit": logit,
        "p_raw": float(1.0 / (1.0 + np.exp(-logit))),
        "contributions": dict(ranked[:top] if top else ranked),
        "values": {f: (None if np.isnan(v) else float(v)) for f, v in zip(order, x[0], strict=True)},
        "ignored_features": unknown,
    }


def _num(value: Any) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def shap_summary_png(
    booster: Any, features: pd.DataFrame, feature_order: list[str], path: Path, *, max_rows: int = 1500, seed: int = 0
) -> Path:
    """SHAP summary (beeswarm) plot of up to ``max_rows`` rows, written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    x = features.reindex(columns=feature_order)
    if len(x) > max_rows:
        x = x.sample(max_rows, random_state=seed)
    values, _ = shap_values(booster, x.to_numpy(dtype="float64"))
    plt.figure()
    shap.summary_plot(values, x, feature_names=feature_order, show=False, max_display=15, plot_size=(8, 6))
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.tight_layout()
    plt.savefig(path, dpi=80)
    plt.close("all")
    return path
