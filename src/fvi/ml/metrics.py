"""Back-test metrics, pure functions of labels and scores: AUC, Brier, calibration, lift, AUC differences.

The maths of :mod:`fvi.ml.backtest` (which loads the levels from gold, runs and reports them) kept
apart, so any scorer (the models, the FVI, the weight fit) is judged by the same code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def auc(viable: Any, score: Any) -> float:
    """ROC AUC of ``score`` for ``viable``; NaN when only one class is present (no ranking to judge)."""
    y = np.asarray(viable, dtype=float)
    s = np.asarray(score, dtype=float)
    if len(y) == 0 or np.unique(y).size < 2:
        return math.nan
    return float(roc_auc_score(y, s))


def brier(viable: Any, prob: Any) -> float:
    """Mean squared distance between the probability of being viable and what happened."""
    y = np.asarray(viable, dtype=float)
    p = np.asarray(prob, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(y) else math.nan


def calibration_table(viable: Any, prob: Any, n_bins: int = 10) -> pd.DataFrame:
    """Equal-count (quantile) bins of the predicted probability: mean predicted vs observed rate.

    Rows are sorted by probability (stable, so ties keep input order) and cut into ``n_bins``
    near-equal groups, so the bins always hold every row once and a constant score still gives
    a table.
    """
    y = np.asarray(viable, dtype=float)
    p = np.asarray(prob, dtype=float)
    cols = ["bin", "p_min", "p_max", "p_mean", "observed", "n"]
    if len(y) == 0:
        return pd.DataFrame(columns=cols)
    order = np.argsort(p, kind="stable")
    rows = []
    for i, idx in enumerate(np.array_split(order, min(n_bins, len(y)))):
        rows.append([i + 1, p[idx].min(), p[idx].max(), p[idx].mean(), y[idx].mean(), len(idx)])
    table = pd.DataFrame(rows, columns=cols)
    return table.astype({"bin": int, "n": int})


def expected_calibration_error(viable: Any, prob: Any, n_bins: int = 10) -> float:
    """Row-weighted mean |mean predicted - observed| over the equal-count bins of :func:`calibration_table`."""
    table = calibration_table(viable, prob, n_bins)
    if table.empty:
        return math.nan
    return float(np.average((table["p_mean"] - table["observed"]).abs(), weights=table["n"]))


def lift_riskiest_decile(viable: Any, score: Any) -> float:
    """Rate of non-viable outcomes among the 10 % lowest-scored rows over the overall rate (1 = no lift)."""
    y = np.asarray(viable, dtype=float)
    s = np.asarray(score, dtype=float)
    bad = 1.0 - y
    if len(y) < 10 or bad.sum() == 0:
        return math.nan
    k = max(1, len(y) // 10)
    riskiest = np.argsort(s, kind="stable")[:k]
    return float(bad[riskiest].mean() / bad.mean())


def weighted_auc(viable: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC for each row of ``weights`` (reps x n): one sort, then weighted Mann-Whitney by tie groups.

    Resampling with replacement is the same as weighting each row by how often it was drawn, so
    a bootstrap needs no re-sorting; ties count one half, as in ``roc_auc_score``.
    """
    order = np.argsort(score, kind="stable")
    s, y = score[order], viable[order].astype(float)
    w = np.atleast_2d(weights)[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(w * y, starts, axis=1)
    neg = np.add.reduceat(w, starts, axis=1) - pos
    below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((pos * (below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg))


def bootstrap_auc_difference(
    viable: Any,
    score_a: Any,
    score_b: Any,
    groups: Any,
    *,
    n_boot: int = 1000,
    interval: float = 0.90,
    seed: int = 0,
    chunk: int = 200,
) -> dict[str, Any]:
    """AUC(a) - AUC(b) on paired rows with a seeded cluster-bootstrap percentile interval.

    Whole groups (entities) are resampled, so the years of one mine, which are not independent,
    move together; both scorers see the same resample in every replicate.
    """
    y = np.asarray(viable, dtype=float)
    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    diff = auc(y, a) - auc(y, b)
    out: dict[str, Any] = {
        "diff": diff,
        "lo": math.nan,
        "hi": math.nan,
        "n": int(len(y)),
        "n_boot": 0,
        "share_le_zero": math.nan,
        "interval": interval,
        "seed": seed,
    }
    if math.isnan(diff) or n_boot <= 0:
        return out
    codes, uniques = pd.factorize(pd.Series(groups).astype(str))
    rng = np.random.default_rng(seed)
    k = len(uniques)
    draws: list[np.ndarray] = []
    for start in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - start)
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=reps).astype(float)
        w = counts[:, codes]
        draws.append(weighted_auc(y, a, w) - weighted_auc(y, b, w))
    d = np.concatenate(draws)
    d = d[np.isfinite(d)]
    if d.size:
        tail = (1.0 - interval) / 2 * 100
        out.update(
            lo=float(np.percentile(d, tail)),
            hi=float(np.percentile(d, 100 - tail)),
            n_boot=int(d.size),
            share_le_zero=float(np.mean(d <= 0)),
        )
    return out
