"""Metric values -> 0..100 scores (100 = most viable), by fixed goalposts (default), min-max or rank.

Goalposts come from the registry so scores compare across years and releases; values outside them
are clipped (the goalposts are the winsorisation). Min-max and rank are the alternatives the
uncertainty analysis tries; min-max first applies the JRC outlier rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

from fvi.registry.metrics import Metric, Winsorisation

Method = Literal["goalposts", "minmax", "rank"]


def transformed(values: np.ndarray, metric: Metric) -> np.ndarray:
    """Apply the metric's transform; log values are floored at the low goalpost (log needs > 0)."""
    x = np.asarray(values, dtype=float)
    if metric.transform == "log":
        return np.log10(np.clip(x, metric.goalposts.low, None))
    if metric.transform == "log1p":
        return np.log1p(np.clip(x, 0, None))
    if metric.transform == "boolean":
        return np.where(np.isnan(x), np.nan, (x != 0).astype(float))
    return x


def _bounds(metric: Metric) -> tuple[float, float]:
    lo, hi = metric.goalposts.low, metric.goalposts.high
    if metric.transform == "log":
        return float(np.log10(lo)), float(np.log10(hi))
    if metric.transform == "log1p":
        return float(np.log1p(lo)), float(np.log1p(hi))
    return float(lo), float(hi)


def _orient(score01: np.ndarray, metric: Metric) -> np.ndarray:
    s = np.clip(score01, 0.0, 1.0) * 100.0
    return s if metric.polarity == "higher_is_better" else 100.0 - s


def goalposts(values: np.ndarray, metric: Metric) -> np.ndarray:
    """Fixed goalposts: low..high -> 0..100, clipped, flipped for lower_is_better; NaN stays NaN."""
    lo, hi = _bounds(metric)
    return _orient((transformed(values, metric) - lo) / (hi - lo), metric)


def jrc_winsorise(values: np.ndarray, rule: Winsorisation) -> tuple[np.ndarray, int]:
    """JRC/COINr outlier rule, applied before min-max.

    While |skew| > max_skew and (excess) kurtosis > max_kurtosis, pull the most extreme point on
    the skewed side to the next value, up to ``max_points`` times.

    Returns the winsorised copy and the number of points changed.
    """
    x = np.array(values, dtype=float)
    ok = ~np.isnan(x)
    if ok.sum() < 4:
        return x, 0
    changed = 0
    while changed < rule.max_points:
        v = x[ok]
        if np.ptp(v) == 0:
            break
        skew = float(stats.skew(v))
        kurt = float(stats.kurtosis(v))
        if not (abs(skew) > rule.max_skew and kurt > rule.max_kurtosis):
            break
        if skew > 0:
            top = v.max()
            below = v[v < top]
            if below.size == 0:
                break
            x[ok & (x == top)] = below.max()
        else:
            bottom = v.min()
            above = v[v > bottom]
            if above.size == 0:
                break
            x[ok & (x == bottom)] = above.min()
        changed += 1
    return x, changed


def minmax(values: np.ndarray, metric: Metric, rule: Winsorisation) -> np.ndarray:
    """Min-max over this cross-section (after the transform and JRC winsorisation)."""
    x, _ = jrc_winsorise(transformed(values, metric), rule)
    if np.isnan(x).all():
        return x
    lo, hi = np.nanmin(x), np.nanmax(x)
    if hi == lo:
        return np.where(np.isnan(x), np.nan, 50.0)
    return _orient((x - lo) / (hi - lo), metric)


def rank(values: np.ndarray, metric: Metric) -> np.ndarray:
    """Percentile rank in this cross-section (ties share the average rank); 0 = worst, 100 = best."""
    x = transformed(values, metric)
    ok = ~np.isnan(x)
    out = np.full(x.shape, np.nan)
    n = int(ok.sum())
    if n == 0:
        return out
    if n == 1:
        out[ok] = 50.0
        return out
    r = stats.rankdata(x[ok], method="average")
    out[ok] = (r - 1) / (n - 1)
    return _orient(out, metric)


def normalise(values: np.ndarray, metric: Metric, method: Method, rule: Winsorisation) -> np.ndarray:
    """Metric values -> 0..100 scores by ``method``: fixed goalposts, min-max (after winsorising) or rank."""
    if method == "goalposts":
        return goalposts(values, metric)
    if method == "minmax":
        return minmax(values, metric, rule)
    if method == "rank":
        return rank(values, metric)
    raise ValueError(f"unknown normalisation {method!r}")
