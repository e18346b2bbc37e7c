"""A calibrated P(viable) beside the FVI: what an index value has meant, in outcomes, so far.

The FVI stays an index (0-100: a weighted mean of normalised metric scores); it is not a
probability, and reading ``fvi / 100`` as one is badly calibrated (the back-test's ECE for the FVI
says how badly). This module gives each FVI value the share of entities with that value that were
still viable H years later: an increasing (isotonic) map from FVI to outcome, one per back-test
level (US mines, countries, ...) and outcome horizon, fitted on the labels the back-test uses.

* **Strictly time-correct in the back-test** (:func:`strict_column`): the map used for a row at
  as-of year A is fitted only on labels whose outcome year is <= A, so the score
  ``fvi_calibrated`` judged beside the model, size and the FVI never saw its own outcome. As-of
  years whose earlier labels are too few (:data:`MIN_ROWS` rows or :data:`MIN_EVENTS` of each
  outcome) get no value and are counted out.
* **Published** (:func:`viability_table`, ``gold.fvi_viability``): the map fitted on every label
  known at the run (all outcome years are in the past, so this is time-correct too), applied to
  each entity's FVI at its latest as-of year. The band is the 5th-95th percentile of the map over
  :data:`N_BOOT` refits on entities resampled with replacement (so repeated years of one mine stay
  together): the uncertainty of the map, not of the FVI's weights.

Being isotonic, the map never reverses the FVI's order: a higher FVI never gets a lower P(viable).
Ties at the plateaus make its AUC at most the FVI's; its gain is calibration (ECE, Brier).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

SCORER = "fvi_calibrated"
"""The back-test scorer name of the strict calibrated FVI."""
MIN_ROWS = 100
MIN_EVENTS = 10
N_BOOT = 200
SEED = 20240501
PUBLISHED_HORIZONS = {5: "H5", 10: "H10", 20: "H20"}
"""Outcome horizon (years) -> the FVI horizon whose P(viable) it publishes."""
VIABILITY_COLUMNS = [
    "entity_type", "entity_id", "as_of_year", "horizon", "persona", "level", "fvi", "p_viable", "p_viable_lo",
    "p_viable_hi", "n_labels", "n_not_viable", "label_years",
]  # fmt: skip


def _enough(viable: np.ndarray) -> bool:
    n_bad = int((viable == 0).sum())
    return len(viable) >= MIN_ROWS and n_bad >= MIN_EVENTS and len(viable) - n_bad >= MIN_EVENTS


def fit_map(fvi: Iterable[float], viable: Iterable[int]) -> IsotonicRegression:
    """The increasing map FVI -> P(viable), clipped to the range of FVI values it saw."""
    x = np.asarray(list(fvi), dtype="float64")
    y = np.asarray(list(viable), dtype="float64")
    iso = IsotonicRegression(increasing=True, y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return iso.fit(x, y)


def strict_column(frame: pd.DataFrame, fvi_col: str = "fvi") -> pd.Series:
    """P(viable) of each row from a map fitted on labels with outcome year <= the row's as-of year.

    ``frame`` is one back-test level (columns ``horizon``, ``as_of_year``, ``outcome_year``,
    ``viable`` and ``fvi_col``); NaN where the FVI is missing or the earlier labels are too few.
    """
    out = pd.Series(np.nan, index=frame.index, dtype="float64")
    have = frame[fvi_col].notna()
    for (_, as_of), rows in frame[have].groupby(["horizon", "as_of_year"], sort=True):
        h = rows["horizon"].iloc[0]
        past = frame[have & (frame["horizon"] == h) & (frame["outcome_year"] <= as_of)]
        y = past["viable"].to_numpy(dtype="int64")
        if not _enough(y):
            continue
        out.loc[rows.index] = fit_map(past[fvi_col], y).predict(rows[fvi_col].to_numpy(dtype="float64"))
    return out


def _band(labels: pd.DataFrame, x: np.ndarray, *, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = labels["entity_id"].astype(str).to_numpy()
    uniq, inverse = np.unique(ids, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(uniq))]
    fvi = labels["fvi"].to_numpy(dtype="float64")
    y = labels["viable"].to_numpy(dtype="int64")
    draws = []
    for _ in range(n_boot):
        pick = np.concatenate([members[i] for i in rng.integers(0, len(uniq), len(uniq))])
        if not _enough(y[pick]):
            continue
        draws.append(fit_map(fvi[pick], y[pick]).predict(x))
    if not draws:
        return np.full(len(x), np.nan), np.full(len(x), np.nan)
    stack = np.vstack(draws)
    return np.quantile(stack, 0.05, axis=0), np.quantile(stack, 0.95, axis=0)


def viability_table(
    level: str,
    entity_type: str,
    labels: pd.DataFrame,
    latest: pd.DataFrame,
    *,
    persona: str,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> pd.DataFrame:
    """Rows of ``gold.fvi_viability`` for one level: each entity's latest FVI read as P(viable).

    ``labels``: the level's back-test frame (``entity_id``, ``horizon``, ``outcome_year``,
    ``viable``, ``fvi``); ``latest``: the FVI to read (``entity_id``, ``as_of_year``,
    ``fvi_horizon``, ``fvi``), one row per entity and FVI horizon. Only outcome horizons in
    :data:`PUBLISHED_HORIZONS` with enough labels publish.
    """
    frames = []
    for years, label in PUBLISHED_HORIZONS.items():
        rows = labels[(labels["horizon"] == years) & labels["fvi"].notna()]
        y = rows["viable"].to_numpy(dtype="int64")
        target = latest[(latest["fvi_horizon"] == label) & latest["fvi"].notna()]
        if not _enough(y) or target.empty:
            continue
        x = target["fvi"].to_numpy(dtype="float64")
        lo, hi = _band(rows, x, n_boot=n_boot, seed=seed)
        p = fit_map(rows["fvi"], y).predict(x)
        outcome = rows["outcome_year"].astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "entity_type": entity_type,
                    "entity_id": target["entity_id"].astype(str).to_numpy(),
                    "as_of_year": target["as_of_year"].astype("int64").to_numpy(),
                    "horizon": label,
                    "persona": persona,
                    "level": level,
                    "fvi": x,
                    "p_viable": p,
                    # the band holds the point (a resampled map can sit on either side of it)
                    "p_viable_lo": np.fmin(lo, p),
                    "p_viable_hi": np.fmax(hi, p),
                    "n_labels": len(rows),
                    "n_not_viable": int((y == 0).sum()),
                    "label_years": f"{int(outcome.min())}-{int(outcome.max())}",
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=VIABILITY_COLUMNS)
    return pd.concat(frames, ignore_index=True)[VIABILITY_COLUMNS]
