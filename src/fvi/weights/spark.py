"""The Spark engine: the same joint counts as the local engine, from a groupBy on a cluster.

Only the counting runs in Spark (join labels to codes, unpivot to one row per (row, metric),
``groupBy(horizon, metric, code, label).count()``); the few thousand count rows come back to the
driver and go through the shared :func:`fvi.weights.mi.mi_from_counts`. pyspark is imported only
when this engine is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from fvi.weights.bins import KEYS
from fvi.weights.mi import Correction, mi_from_counts, prepare, sort_counts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The development and CI machines have two cores; production passes a cluster URL (FVI_SPARK_MASTER).
DEFAULT_MASTER = "local[2]"
DEFAULT_SHUFFLE_PARTITIONS = 4


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "fvi-weights",
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS,
    config: dict[str, Any] | None = None,
) -> SparkSession:
    """A SparkSession for batch engines: Arrow transfers, no UI, few shuffle partitions.

    ``getOrCreate`` semantics: if this process already has a session, that one is returned (its
    master cannot change without stopping it first).
    """
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master or DEFAULT_MASTER)
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for k, v in (config or {}).items():
        builder = builder.config(k, str(v))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def joint_counts_spark(
    spark: SparkSession,
    codes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
) -> pd.DataFrame:
    """Occupied cells of the (code, label) table per horizon and metric, counted by Spark."""
    from pyspark.sql import functions as F  # noqa: N812 - the conventional alias

    codes, lab, feats = prepare(codes, labels, keys=keys, label_col=label_col)
    # positional column names: metric ids and key names never need quoting inside Spark
    key_alias = {k: f"k{i}" for i, k in enumerate(keys)}
    feat_alias = {f: f"f{i}" for i, f in enumerate(feats)}
    c = codes.rename(columns={**key_alias, **feat_alias}).astype({a: "int32" for a in feat_alias.values()})
    lab = lab.rename(columns=key_alias)
    codes_sdf = spark.createDataFrame(c)
    labels_sdf = spark.createDataFrame(lab)
    joined = labels_sdf.join(codes_sdf, on=list(key_alias.values()), how="inner")
    long = joined.unpivot(["horizon", "label"], list(feat_alias.values()), "metric", "code")
    counted = long.groupBy("horizon", "metric", "code", "label").agg(F.count(F.lit(1)).alias("n"))
    out = counted.toPandas()
    if out.empty:
        return pd.DataFrame({col: pd.Series(dtype="int64") for col in ("horizon", "metric", "code", "label", "n")})
    back = {a: f for f, a in feat_alias.items()}
    out["metric"] = out["metric"].map(back)
    out["horizon"] = out["horizon"].astype(lab["horizon"].dtype)
    return sort_counts(out)


def mutual_information_spark(
    spark: SparkSession,
    codes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    keys: Sequence[str] = KEYS,
    label_col: str = "label",
    correction: Correction = "none",
) -> pd.DataFrame:
    """Same result as :func:`fvi.weights.mi.mutual_information_local`, counted by Spark."""
    counts = joint_counts_spark(spark, codes, labels, keys=keys, label_col=label_col)
    return mi_from_counts(counts, correction)
