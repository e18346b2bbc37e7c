"""Dynamic pillar weights: how much each pillar tells about the observed outcome at each horizon.

Features are binned once (``bins``), counted against the binary outcome per horizon by one of
two engines (``mi``: numpy; ``spark``: a Spark groupBy) into the same exact joint counts, turned
into mutual information by one shared function, and blended with expert pillar weights
(``blend``). ``store`` keeps the history in the gold layer and the current weights in the cache.
"""

from fvi.weights.bins import KEYS, MISSING_CODE, Bins, discretise
from fvi.weights.blend import WEIGHT_COLUMNS, expert_for, pillar_weights
from fvi.weights.dynamic import DEFAULT_BINS, RESULT_COLUMNS, DynamicWeights, compute_dynamic_weights
from fvi.weights.mi import joint_counts_local, mi_from_counts, mutual_information_local
from fvi.weights.spark import joint_counts_spark, mutual_information_spark, spark_session
from fvi.weights.store import (
    HISTORY_COLUMNS,
    HISTORY_TABLE,
    WEIGHTS_CACHE_KEY,
    cached_weights,
    current_weights,
    publish_weights,
    read_history,
    store_weights,
    weights_by_horizon,
)

__all__ = [
    "DEFAULT_BINS",
    "HISTORY_COLUMNS",
    "HISTORY_TABLE",
    "KEYS",
    "MISSING_CODE",
    "RESULT_COLUMNS",
    "WEIGHTS_CACHE_KEY",
    "WEIGHT_COLUMNS",
    "Bins",
    "DynamicWeights",
    "cached_weights",
    "compute_dynamic_weights",
    "current_weights",
    "discretise",
    "expert_for",
    "joint_counts_local",
    "joint_counts_spark",
    "mi_from_counts",
    "mutual_information_local",
    "mutual_information_spark",
    "pillar_weights",
    "publish_weights",
    "read_history",
    "spark_session",
    "store_weights",
    "weights_by_horizon",
]
