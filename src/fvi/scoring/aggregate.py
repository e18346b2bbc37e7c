"""Weighted aggregation that skips missing inputs and renormalises over what is there.

Arithmetic aggregation is fully compensatory; geometric is partly so (a low score costs more).
By the AM-GM inequality the geometric result never exceeds the arithmetic one.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Aggregation = Literal["arithmetic", "geometric"]
ROUND = 10
"""Decimals kept after division and exp/log, so a mean of equal scores equals them exactly (stays in 0..100)."""


def weighted(
    scores: np.ndarray, weights: np.ndarray, method: Aggregation, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate ``scores`` [n, M] with ``weights`` [M, K] -> (result [n, K], weight present [n, K]).

    Missing scores (NaN) drop out and the remaining weights are renormalised; a column with no
    weight present is NaN. Geometric aggregation floors scores at ``floor`` first.
    """
    present = ~np.isnan(scores)
    den = present.astype(float) @ weights
    if method == "arithmetic":
        num = np.where(present, scores, 0.0) @ weights
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.round(num / den, ROUND)  # (100 w) / w is not always exactly 100
    elif method == "geometric":
        logs = np.where(present, np.log(np.maximum(np.where(present, scores, floor), floor)), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.round(np.exp((logs @ weights) / den), ROUND)  # exp(log(100)) is 100.00000000000001
    else:
        raise ValueError(f"unknown aggregation {method!r}")
    out[den <= 0] = np.nan
    return out, den


def blend(own: np.ndarray, context: np.ndarray, share: np.ndarray, method: Aggregation, floor: float) -> np.ndarray:
    """Blend a mine's own pillar scores with its country's: ``share`` [P] is the country's weight.

    Where only one of the two exists, it is the pillar score.
    """
    has_own, has_ctx = ~np.isnan(own), ~np.isnan(context)
    if method == "geometric":
        both = np.round(
            np.exp(
                (1 - share) * np.log(np.maximum(np.where(has_own, own, floor), floor))
                + share * np.log(np.maximum(np.where(has_ctx, context, floor), floor))
            ),
            ROUND,
        )
    else:
        both = (1 - share) * own + share * context
    return np.where(has_own & has_ctx, both, np.where(has_own, own, context))
