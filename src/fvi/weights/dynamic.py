"""Dynamic pillar weights end to end: discretise, count (local or Spark), MI, blend."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import pandas as pd

from fvi.weights.bins import KEYS, Bins, discretise
from fvi.weights.blend import WEIGHT_COLUMNS, ExpertWeights, pillar_weights
from fvi.weights.mi import Correction, joint_counts_local, mi_from_counts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

Engine = Literal["local", "spark"]
# Ten quantile bins per feature: a modelling choice, kept a parameter (with the blend) so the
# registry can own it; with ~N rows the plug-in bias is about 9 / 2N nats per feature.
DEFAULT_BINS = 10
RESULT_COLUMNS = [*WEIGHT_COLUMNS, "estimator", "engine", "n_rows", "computed_at"]


@dataclass
class DynamicWeights:
    """The weights (tidy, one row per horizon x pillar) and the per-metric MI behind them."""

    weights: pd.DataFrame
    metric_mi: pd.DataFrame
    bins: Bins = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)


def registry_metric_pillars() -> dict[str, str]:
    """The registry's metric id -> pillar id map (the default feature set)."""
    from fvi.registry.metrics import load_metrics

    return {m.id: str(m.pillar) for m in load_metrics().values()}


def compute_dynamic_weights(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    expert: ExpertWeights,
    blend: float,
    *,
    metric_to_pillar: Mapping[str, str] | None = None,
    engine: Engine = "local",
    master: str | None = None,
    spark: SparkSession | None = None,
    n_bins: int = DEFAULT_BINS,
    correction: Correction = "none",
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
) -> DynamicWeights:
    """Pillar weights per horizon from the information each feature carries about the outcome.

    ``features``: one row per ``keys`` (entity, as-of year); the feature columns are those named
    in ``metric_to_pillar`` (default: the metric registry, metric id -> pillar); other numeric
    columns are left out and logged. ``labels``: ``keys`` + horizon + ``label_col`` (0/1, NaN =
    not yet known). ``engine="spark"`` counts with Spark on ``spark`` or on a session for
    ``master`` (default ``local[2]``); a session started here is stopped at the end.
    """
    if engine not in ("local", "spark"):
        raise ValueError(f"engine must be 'local' or 'spark', not {engine!r}")
    mapping = dict(metric_to_pillar) if metric_to_pillar is not None else registry_metric_pillars()
    keys = tuple(keys)
    cols = [c for c in features.columns if c in mapping and c not in keys]
    if not cols:
        raise ValueError("no feature column of the frame maps to a pillar")
    ignored = [
        c
        for c in features.columns
        if c not in mapping and c not in keys and pd.api.types.is_numeric_dtype(features[c])
        if not pd.api.types.is_bool_dtype(features[c])
    ]
    if ignored:
        log.info("weights: numeric columns without a pillar left out: %s", ignored)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bins = discretise(features, cols, n_bins=n_bins, keys=keys)
    timings["discretise_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    if engine == "local":
        counts = joint_counts_local(bins.codes, labels, keys=keys, label_col=label_col)
    else:
        from pyspark.sql import SparkSession as _Session

        from fvi.weights.spark import joint_counts_spark, spark_session

        owned = spark is None and _Session.getActiveSession() is None
        session = spark or spark_session(master)
        timings["spark_session_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        try:
            counts = joint_counts_spark(session, bins.codes, labels, keys=keys, label_col=label_col)
        finally:
            if owned:
                session.stop()
    timings["count_s"] = time.perf_counter() - t1

    metric_mi = mi_from_counts(counts, correction)
    if metric_mi.empty:
        raise ValueError("no labelled row matches a feature row: nothing to learn weights from")
    metric_mi.insert(2, "pillar", metric_mi["metric"].map(mapping))
    metric_mi["engine"] = engine
    weights = pillar_weights(metric_mi, mapping, expert, blend)
    n_rows = metric_mi.groupby("horizon")["n_rows"].max()
    weights["estimator"] = metric_mi["estimator"].iloc[0]
    weights["engine"] = engine
    weights["n_rows"] = weights["horizon"].map(n_rows).astype("int64")
    # naive UTC: the same type in DuckDB and PostgreSQL history tables
    weights["computed_at"] = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    timings["total_s"] = time.perf_counter() - t0
    return DynamicWeights(weights=weights[RESULT_COLUMNS], metric_mi=metric_mi, bins=bins, timings=timings)
