"""Pillar weights that earn their place: fitted on strictly time-correct folds, blended with the expert prior.

The information-gain weights (:mod:`fvi.weights.dynamic`) say which pillar *carries* information;
they do not make the composite rank outcomes better, and the back-test showed it: the analyst FVI
tied mine size for US mines and the plain mean of the metrics beat it for countries. This module
fits the weights to the outcome itself:

* **The composite** is the FVI's own arithmetic form: sum_j w_j x_j over the pillars the entity
  has, divided by the weight of those pillars (x on 0-100).
* **The fit**: w on the simplex (non-negative, sum 1, through a softmax), with a logistic link
  P(viable) = expit(a + b (composite - 50) / 10), b > 0, by maximum likelihood with a small ridge
  on the softmax logits (so a flat likelihood returns equal weights, not an arbitrary corner).
* **Strict folds**: for every test as-of year A the weights are fitted on labels whose outcome
  year is <= A (known at A) and judged on the rows as of A.
* **Blend with the prior**: w = lambda w_fit + (1 - lambda) w_expert, lambda from a grid, chosen
  for fold k by the mean AUC over the folds *before* k (the first fold takes the registry's default
  blend); the published weights use the lambda best over all folds and a fit on every label.

The fold predictions (composite / 100 as P(viable)) go to ``gold.fvi_weights_oof`` and the back-test
reports them as ``fvi_learnt`` beside the expert FVI, size and the equal-weight composite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import softmax

BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
RIDGE = 1e-2
MIN_TRAIN = 50


def composite(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mean of the pillars each row has (NaN pillars drop out and the weights renormalise)."""
    x = np.asarray(x, dtype=float)
    have = np.isfinite(x)
    num = np.where(have, x, 0.0) @ w
    den = have.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def fit_simplex(x: np.ndarray, y: np.ndarray, *, ridge: float = RIDGE) -> np.ndarray:
    """Non-negative weights summing to one that maximise the logistic likelihood of ``y`` on the composite."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x).any(axis=1) & np.isfinite(y)
    x, y = x[ok], y[ok]
    p = x.shape[1]
    if len(y) == 0 or np.unique(y).size < 2:
        return np.full(p, 1.0 / p)

    def loss(theta: np.ndarray) -> float:
        z, a, c = theta[:p], theta[p], theta[p + 1]
        w = softmax(z)
        s = composite(x, w)
        s = np.where(np.isfinite(s), s, 50.0)
        eta = a + np.exp(c) * (s - 50.0) / 10.0
        ll = y * -np.logaddexp(0.0, -eta) + (1 - y) * -np.logaddexp(0.0, eta)
        return float(-ll.mean() + ridge * np.sum((z - z.mean()) ** 2))

    theta0 = np.concatenate([np.zeros(p), [0.0, np.log(0.5)]])
    res = minimize(loss, theta0, method="L-BFGS-B")
    w = softmax(res.x[:p])
    return w / w.sum()


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """The back-test's AUC over the rows with a score (NaN with one class or none)."""
    from fvi.ml.metrics import auc

    ok = np.isfinite(s)
    return auc(y[ok], s[ok])


@dataclass
class WeightFit:
    """Fitted and published weights of one level and horizon, with the fold record."""

    pillars: list[str]
    fitted: np.ndarray
    expert: np.ndarray
    blend: float
    folds: list[dict[str, Any]] = field(default_factory=list)
    oof: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_rows: int = 0

    @property
    def weights(self) -> np.ndarray:
        """The published weights: ``blend`` x fitted + (1 - ``blend``) x expert, renormalised to sum 1."""
        w = self.blend * self.fitted + (1 - self.blend) * self.expert
        return w / w.sum()


def fit_weights(
    rows: pd.DataFrame,
    pillars: Sequence[str],
    expert: Mapping[str, float],
    *,
    default_blend: float,
    label_col: str = "viable",
    min_train: int = MIN_TRAIN,
) -> WeightFit | None:
    """Strict-fold fit of one level x horizon. ``rows``: entity_id, as_of_year, outcome_year, label, pillar columns."""
    if rows.empty or rows[label_col].nunique() < 2:
        return None
    cols = [f"pillar_{p}" for p in pillars]
    e = np.array([float(expert.get(p, 0.0)) for p in pillars])
    e = e / e.sum() if e.sum() > 0 else np.full(len(pillars), 1.0 / len(pillars))
    x_all = rows[cols].to_numpy(dtype=float)
    y_all = rows[label_col].to_numpy(dtype=float)
    folds: list[dict[str, Any]] = []
    oof = []
    history: list[dict[float, float]] = []  # per earlier fold: lambda -> AUC
    for year in sorted(rows["as_of_year"].unique()):
        train = (rows["outcome_year"] <= year).to_numpy()
        test = (rows["as_of_year"] == year).to_numpy()
        if train.sum() < min_train or np.unique(y_all[train]).size < 2 or np.unique(y_all[test]).size < 2:
            continue
        w_fit = fit_simplex(x_all[train], y_all[train])
        if history:
            lam = max(BLEND_GRID, key=lambda g: (np.nanmean([h[g] for h in history]), -abs(g - default_blend)))
        else:
            lam = float(default_blend)
        scores = {g: composite(x_all[test], _mix(g, w_fit, e)) for g in BLEND_GRID}
        history.append({g: _auc(y_all[test], s) for g, s in scores.items()})
        chosen = composite(x_all[test], _mix(lam, w_fit, e))
        folds.append(
            {
                "as_of_year": int(year),
                "n_train": int(train.sum()),
                "n_test": int(test.sum()),
                "blend": lam,
                "auc_learnt": _auc(y_all[test], chosen),
                "auc_expert": _auc(y_all[test], composite(x_all[test], e)),
                "auc_equal": _auc(y_all[test], composite(x_all[test], np.full(len(pillars), 1.0 / len(pillars)))),
            }
        )
        oof.append(
            pd.DataFrame(
                {
                    "entity_id": rows.loc[test, "entity_id"].to_numpy(),
                    "as_of_year": int(year),
                    "label": y_all[test].astype(int),
                    "p_model": np.clip(chosen / 100.0, 0.0, 1.0),
                    "fold": len(folds) - 1,
                }
            )
        )
    final_blend = (
        max(BLEND_GRID, key=lambda g: (np.nanmean([h[g] for h in history]), -abs(g - default_blend)))
        if history
        else float(default_blend)
    )
    return WeightFit(
        pillars=list(pillars),
        fitted=fit_simplex(x_all, y_all),
        expert=e,
        blend=float(final_blend),
        folds=folds,
        oof=pd.concat(oof, ignore_index=True) if oof else pd.DataFrame(),
        n_rows=len(rows),
    )


def _mix(lam: float, w_fit: np.ndarray, e: np.ndarray) -> np.ndarray:
    w = lam * w_fit + (1 - lam) * e
    return w / w.sum()
