"""Discrete-time hazard of a mine stopping production, compounded into survival to 10 and 20 years.

The US labels reach eight years past an as-of year (EIA 2008-2016), so P(operating at t+10) and
P(operating at t+20) cannot be learned directly. Instead each (mine, as-of year t) becomes
person-period rows (mine, t, k) for k = 1, 2, ... while the mine is still at risk: the yearly
event is "produced in t+k-1, did not produce in t+k" (the first stop after t; a mine leaves the
risk set at its first stop, so survival here means producing in every year through t+H). A
classifier of that yearly event with k as a feature gives hazards h_k(x_t), and

    S(H | x_t) = prod_{k=1..H} (1 - h_k(x_t)).

Beyond the largest k seen in training (``k_max``, eight years with the real samples) the hazard is
held at its last estimated value h_{k_max}: S(H) = S(k_max) * (1 - h_{k_max})^(H - k_max). This
is the constant-hazard (geometric) tail; it is an assumption, not an estimate, and the H10/H20
probabilities inherit it. Restarts are ignored by construction: a mine that stops and later
produces again counts as stopped, so S(H) is a lower bound on P(producing in t+H) (in the real
samples the gap is about five points at H=5).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

K_FEATURE = "k_year"
"""Name of the duration feature (years since the as-of year) appended to the mine features."""


def person_period(
    labels: pd.DataFrame,
    *,
    id_col: str = "msha_id",
    as_of_col: str = "as_of_year",
    horizon_col: str = "horizon",
    label_col: str = "viable",
) -> pd.DataFrame:
    """Person-period rows (id, as_of_year, k, outcome_year, event) from per-horizon survival labels.

    ``labels`` has one row per (id, t, H) with ``label_col`` = 1 when producing in t+H. Only the
    run of horizons 1, 2, 3, ... without a gap is used (a missing year ends what is known); rows
    stop at the first H with label 0, which is the event row.
    """
    cols = [id_col, as_of_col, horizon_col, label_col]
    missing = [c for c in cols if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lack columns {missing}")
    lab = labels[cols].sort_values([id_col, as_of_col, horizon_col], kind="stable").reset_index(drop=True)
    grp = lab.groupby([id_col, as_of_col], sort=False)
    position = grp.cumcount() + 1
    contiguous = (lab[horizon_col].astype("int64") == position).astype(int).groupby([lab[id_col], lab[as_of_col]])
    keep = contiguous.cummin().astype(bool)
    stopped = (lab[label_col] == 0).astype(int)
    stopped_before = stopped.groupby([lab[id_col], lab[as_of_col]]).cumsum() - stopped
    keep &= stopped_before == 0
    out = lab[keep].rename(columns={horizon_col: "k"})
    out = out.assign(
        k=out["k"].astype("int64"),
        outcome_year=(out[as_of_col] + out["k"]).astype("int64"),
        event=(out[label_col] == 0).astype("int64"),
    )
    return out[[id_col, as_of_col, "k", "outcome_year", "event"]].reset_index(drop=True)


def survival_from_hazards(hazards: np.ndarray) -> np.ndarray:
    """[n, K] yearly hazards -> [n, K] survival S(1..K) = cumulative product of (1 - h_k)."""
    h = np.clip(np.asarray(hazards, dtype="float64"), 0.0, 1.0)
    return np.cumprod(1.0 - h, axis=1)


def extend_hazards(hazards: np.ndarray, horizon: int) -> np.ndarray:
    """[n, k_max] hazards -> [n, horizon], holding the last column for k beyond k_max."""
    h = np.asarray(hazards, dtype="float64")
    if h.ndim != 2 or h.shape[1] == 0:
        raise ValueError("hazards must be [n, k_max] with k_max >= 1")
    if horizon <= h.shape[1]:
        return h[:, :horizon]
    tail = np.repeat(h[:, -1:], horizon - h.shape[1], axis=1)
    return np.concatenate([h, tail], axis=1)


def with_k(features: pd.DataFrame, k: int) -> pd.DataFrame:
    """The features of each row with the duration feature set to ``k``."""
    out = features.copy()
    out[K_FEATURE] = float(k)
    return out


def hazard_matrix(
    predict: Callable[[pd.DataFrame], np.ndarray], features: pd.DataFrame, horizon: int, k_max: int
) -> np.ndarray:
    """[n, horizon] yearly hazards: ``predict`` at k = 1..min(horizon, k_max), then held at k_max."""
    if k_max < 1:
        raise ValueError("k_max must be >= 1")
    known = [np.asarray(predict(with_k(features, k)), dtype="float64") for k in range(1, min(horizon, k_max) + 1)]
    return extend_hazards(np.column_stack(known), horizon)


def survival_at(
    predict: Callable[[pd.DataFrame], np.ndarray], features: pd.DataFrame, horizons: list[int], k_max: int
) -> dict[int, np.ndarray]:
    """S(H) for each H in ``horizons`` from one pass over k (the hazard of k > k_max held)."""
    if not horizons:
        return {}
    curve = survival_from_hazards(hazard_matrix(predict, features, max(horizons), k_max))
    return {h: curve[:, h - 1] for h in horizons}
