"""Discretise feature columns once, in pandas, so every MI engine counts the same integer codes.

Code 0 is "missing" (NaN is information: a mine that reports nothing is not a mine that reports
the median); codes 1..k are quantile bins of the observed values. Edges are kept so the same
cut can be applied to new data and stored next to the weights it produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KEYS: tuple[str, ...] = ("entity_id", "as_of_year")
MISSING_CODE = 0
CODE_DTYPE = "int32"


@dataclass(frozen=True)
class Bins:
    """Quantile edges per feature and the codes they gave the frame they were fitted on."""

    n_bins: int
    keys: tuple[str, ...]
    edges: dict[str, list[float]]
    codes: pd.DataFrame = field(repr=False)

    @property
    def features(self) -> list[str]:
        """The binned feature (metric) names, in the order their edges were fitted."""
        return list(self.edges)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Codes for ``frame`` with the stored edges (values outside them go to the end bins)."""
        missing = [c for c in (*self.keys, *self.edges) if c not in frame.columns]
        if missing:
            raise ValueError(f"frame lacks columns {missing}")
        out = {k: frame[k].to_numpy() for k in self.keys}
        for col, edges in self.edges.items():
            out[col] = _codes(_values(frame[col], col), np.asarray(edges, dtype="float64"))
        return pd.DataFrame(out, index=frame.index).reset_index(drop=True)

    def edges_frame(self) -> pd.DataFrame:
        """One row per (metric, bin): the half-open interval [lower, upper) that bin holds."""
        rows = [
            {"metric": m, "code": i + 1, "lower": e[i], "upper": e[i + 1] if len(e) > 1 else e[i]}
            for m, e in self.edges.items()
            for i in range(max(len(e) - 1, 1 if e else 0))
        ]
        return pd.DataFrame(rows, columns=["metric", "code", "lower", "upper"])


def _values(series: pd.Series, name: str) -> np.ndarray:
    try:
        x = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feature {name!r} is not numeric") from exc
    if np.isinf(x).any():
        raise ValueError(f"feature {name!r} holds infinite values; scores must be finite or NaN")
    return x


def _edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        return np.empty(0, dtype="float64")
    # ties (many scores sit on a goalpost at 0 or 100) merge quantiles: keep distinct edges only
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_bins + 1)))


def _codes(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    inner = edges[1:-1]
    codes = np.searchsorted(inner, x, side="right").astype(CODE_DTYPE) + 1
    codes[np.isnan(x)] = MISSING_CODE
    return codes


def discretise(
    features: pd.DataFrame,
    columns: Iterable[str],
    *,
    n_bins: int,
    keys: Sequence[str] = KEYS,
) -> Bins:
    """Quantile-bin ``columns`` of ``features`` into ``n_bins`` (fewer where values tie).

    Deterministic: edges are ``numpy.quantile`` (linear) of the non-missing values, duplicates
    merged; a value equal to an inner edge goes to the upper bin.
    """
    if n_bins < 2:
        raise ValueError("n_bins must be >= 2")
    keys = tuple(keys)
    cols = list(columns)
    missing = [c for c in (*keys, *cols) if c not in features.columns]
    if missing:
        raise ValueError(f"features lack columns {missing}")
    dup = features.duplicated(list(keys), keep=False)
    if dup.any():
        raise ValueError(f"features: {int(dup.sum())} rows share a key {list(keys)}")
    edges: dict[str, list[float]] = {}
    out: dict[str, np.ndarray] = {k: features[k].to_numpy() for k in keys}
    for col in cols:
        x = _values(features[col], col)
        e = _edges(x, n_bins)
        edges[col] = e.tolist()
        out[col] = _codes(x, e)
    return Bins(n_bins=n_bins, keys=keys, edges=edges, codes=pd.DataFrame(out))
