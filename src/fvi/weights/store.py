"""Weights history in the gold layer, and the current weights in the cache for serving.

``gold.fvi_weights_history`` keeps every run (one row per run x horizon x pillar); the warehouse
only replaces whole tables, so storing reads the history, appends and writes it back (a re-run
with the same ``run_id`` replaces that run's rows). The staging build starts from an empty
gold layer: the pipeline must carry this table forward (``Staging.carry_forward``) before
storing, or history restarts with every run. ``horizon`` is stored as text so history keeps one
type whichever horizon labels (5 or "H5") a run used.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from fvi.cache import Cache
from fvi.warehouse import Warehouse
from fvi.weights.dynamic import RESULT_COLUMNS

HISTORY_TABLE = "fvi_weights_history"
HISTORY_COLUMNS = ["run_id", "level", *RESULT_COLUMNS]
DEFAULT_LEVEL = "all"
"""``level`` says which outcomes the weights were learnt from (``country``, ``mine``); frames without one get this."""
WEIGHTS_CACHE_KEY = "weights:current"
_DTYPES = {
    "run_id": "object",
    "level": "object",
    "horizon": "object",
    "pillar": "object",
    "mi": "float64",
    "n_metrics": "int64",
    "top_metric": "object",
    "data_weight": "float64",
    "expert_weight": "float64",
    "weight": "float64",
    "blend": "float64",
    "estimator": "object",
    "engine": "object",
    "n_rows": "int64",
    "computed_at": "datetime64[us]",
}


def _conform(frame: pd.DataFrame) -> pd.DataFrame:
    if "level" not in frame.columns:
        frame = frame.assign(level=DEFAULT_LEVEL)
    absent = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if absent:
        raise ValueError(f"weights frame lacks columns {absent}")
    out = frame[HISTORY_COLUMNS].copy()
    out["horizon"] = out["horizon"].astype(str)
    out["pillar"] = out["pillar"].astype(str)
    out["top_metric"] = out["top_metric"].astype(object).where(out["top_metric"].notna(), None)
    ts = pd.to_datetime(out["computed_at"])
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    out["computed_at"] = ts
    return out.astype(_DTYPES).reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _DTYPES.items()})


def read_history(wh: Warehouse) -> pd.DataFrame:
    """Every stored run (empty, typed frame if none yet)."""
    if not wh.has_table("gold", HISTORY_TABLE):
        return _empty()
    frame = wh.query(f"select * from {wh.schema('gold')}.{HISTORY_TABLE}")
    return _conform(frame) if not frame.empty else _empty()


def store_weights(wh: Warehouse, frame: pd.DataFrame, run_id: str) -> int:
    """Append this run's weights to ``gold.fvi_weights_history``; returns the history's row count."""
    if not run_id:
        raise ValueError("run_id is required (provenance)")
    new = _conform(frame.assign(run_id=run_id))
    history = read_history(wh)
    kept = history[history["run_id"] != run_id]
    parts = [p for p in (kept, new) if not p.empty]
    combined = pd.concat(parts, ignore_index=True) if parts else _empty()
    combined = combined.sort_values(["computed_at", "run_id", "horizon", "pillar"], kind="mergesort")
    wh.write_table("gold", HISTORY_TABLE, combined.reset_index(drop=True))
    return len(combined)


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the most recent run per level and horizon (by computed_at, then run_id)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    order = ["computed_at", "run_id"] if "run_id" in frame.columns else ["computed_at"]
    group = ["level", "horizon"] if "level" in frame.columns else ["horizon"]
    last = frame.sort_values(order, kind="mergesort").groupby(group, sort=False)[order].last()
    picked = frame.merge(last.reset_index(), on=[*group, *order], how="inner")
    return picked.sort_values([*group, "pillar"], kind="mergesort").reset_index(drop=True)


def current_weights(wh: Warehouse) -> pd.DataFrame:
    """The latest stored weights for every horizon."""
    return latest(read_history(wh))


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def publish_weights(cache: Cache, frame: pd.DataFrame, *, ttl: float | None = None) -> dict[str, Any]:
    """Put the latest weights per horizon under ``WEIGHTS_CACHE_KEY``; returns what was stored."""
    cols = [c for c in HISTORY_COLUMNS if c in frame.columns]
    rows = latest(frame[cols])
    payload = {
        "columns": cols,
        "rows": [[_jsonable(v) for v in rec] for rec in rows.itertuples(index=False, name=None)],
    }
    cache.set(WEIGHTS_CACHE_KEY, payload, ttl=ttl)
    return payload


def cached_weights(cache: Cache) -> pd.DataFrame | None:
    """The weights ``publish_weights`` last stored, or None (never published, expired, cache down)."""
    payload = cache.get(WEIGHTS_CACHE_KEY)
    if not payload:
        return None
    frame = pd.DataFrame(payload["rows"], columns=payload["columns"])
    if "computed_at" in frame.columns:
        frame["computed_at"] = pd.to_datetime(frame["computed_at"])
    if "mi" in frame.columns:
        frame["mi"] = pd.to_numeric(frame["mi"]).astype("float64")
    return frame


def weights_by_horizon(frame: pd.DataFrame, level: str | None = None) -> dict[str, dict[str, float]]:
    """{horizon: {pillar: weight}} of the latest run per horizon (of one ``level`` if given), for scoring."""
    out: dict[str, dict[str, float]] = {}
    rows = latest(frame)
    if level is not None and "level" in rows.columns:
        rows = rows[rows["level"] == level]
    for rec in rows.itertuples(index=False):
        out.setdefault(str(rec.horizon), {})[str(rec.pillar)] = float(rec.weight)  # type: ignore[arg-type]
    return out
