"""The Spark engine counts exactly what the local engine counts, so both give the same weights.

One SparkSession for the module (``local[2]``, 4 shuffle partitions: the CI machine has two
cores). Tolerance: counts must be *identical*; MI and weights are then computed by the same
function from the same sorted counts, so they agree to 1e-12 (in practice bit for bit).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from fvi.weights import (
    compute_dynamic_weights,
    discretise,
    joint_counts_local,
    joint_counts_spark,
    mutual_information_local,
    mutual_information_spark,
    spark_session,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOLERANCE = 1e-12
N_ROWS, N_FEATURES, HORIZONS = 20_000, 30, (5, 10, 20)
PILLARS = ["01", "02", "03", "04", "05", "08", "09", "11", "20", "24"]
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    t0 = time.perf_counter()
    session = spark_session("local[2]", app_name="fvi-test-weights", shuffle_partitions=4)
    TIMINGS["session_start_s"] = time.perf_counter() - t0
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """20k entity-years, 30 score features (3 per pillar, ~10% missing), 3 horizons of labels."""
    rng = np.random.default_rng(2024)
    n_entities = N_ROWS // 4
    features = pd.DataFrame(
        {
            "entity_id": np.repeat([f"G{i:05d}" for i in range(n_entities)], 4),
            "as_of_year": np.tile([2015, 2016, 2017, 2018], n_entities),
        }
    )
    names = [f"metric_{j:02d}" for j in range(N_FEATURES)]
    values = rng.uniform(0, 100, (N_ROWS, N_FEATURES)).round(1)  # rounded: ties, like real scores
    values[rng.random((N_ROWS, N_FEATURES)) < 0.1] = np.nan
    features = pd.concat([features, pd.DataFrame(values, columns=names)], axis=1)
    metric_to_pillar = {m: PILLARS[j % len(PILLARS)] for j, m in enumerate(names)}
    frames = []
    for k, h in enumerate(HORIZONS):
        driver = np.nan_to_num(values[:, k], nan=50.0)
        y = (driver + rng.normal(0, 15 * (k + 1), N_ROWS) > 55).astype(float)
        y[rng.random(N_ROWS) < 0.05 * k] = np.nan  # later horizons: some outcomes not yet known
        frames.append(features[["entity_id", "as_of_year"]].assign(horizon=h, label=y))
    return features, pd.concat(frames, ignore_index=True), metric_to_pillar


def test_counts_and_mi_agree(spark, data, record_property) -> None:
    features, labels, mapping = data
    codes = discretise(features, list(mapping), n_bins=10).codes

    t0 = time.perf_counter()
    local_counts = joint_counts_local(codes, labels)
    TIMINGS["local_count_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    spark_counts = joint_counts_spark(spark, codes, labels)
    TIMINGS["spark_count_s"] = time.perf_counter() - t0

    pd.testing.assert_frame_equal(local_counts, spark_counts)  # exact integers, same order and types
    assert (
        spark_counts.groupby("horizon")["n"].sum().to_dict()
        == labels.dropna().groupby("horizon").size().mul(N_FEATURES).to_dict()
    )

    for correction in ("none", "miller_madow"):
        local = mutual_information_local(codes, labels, correction=correction)
        t0 = time.perf_counter()
        remote = mutual_information_spark(spark, codes, labels, correction=correction)
        TIMINGS[f"spark_mi_{correction}_s"] = time.perf_counter() - t0
        assert len(local) == len(HORIZONS) * N_FEATURES
        assert local[["horizon", "metric", "n_rows", "n_bins"]].equals(
            remote[["horizon", "metric", "n_rows", "n_bins"]]
        )
        diff = np.abs(local["mi"].to_numpy() - remote["mi"].to_numpy()).max()
        assert diff <= TOLERANCE
        record_property(f"max_abs_mi_diff_{correction}", float(diff))
        print(f"\nmax |MI local - MI spark| ({correction}): {diff:.3g}")
    for k, v in TIMINGS.items():
        record_property(k, round(v, 3))
    print("\nweights engines on", N_ROWS, "rows x", N_FEATURES, "features x", len(HORIZONS), "horizons:", TIMINGS)


def test_dynamic_weights_agree(spark, data) -> None:
    features, labels, mapping = data
    expert = dict.fromkeys(PILLARS, 0.1)
    t0 = time.perf_counter()
    local = compute_dynamic_weights(features, labels, expert, 0.5, metric_to_pillar=mapping, engine="local")
    TIMINGS["local_total_s"] = time.perf_counter() - t0
    # master given while the module's session is active: getOrCreate reuses it (and does not stop it)
    remote = compute_dynamic_weights(
        features, labels, expert, 0.5, metric_to_pillar=mapping, engine="spark", master="local[2]"
    )
    TIMINGS["spark_total_s"] = remote.timings["total_s"]
    assert not spark.sparkContext._jsc.sc().isStopped()  # type: ignore[attr-defined]

    lw, rw = local.weights, remote.weights
    assert set(lw["engine"]) == {"local"} and set(rw["engine"]) == {"spark"}
    same = ["horizon", "pillar", "n_metrics", "top_metric", "n_rows"]
    assert lw[same].equals(rw[same])
    for col in ("mi", "data_weight", "expert_weight", "weight"):
        assert np.nanmax(np.abs(lw[col].to_numpy() - rw[col].to_numpy())) <= TOLERANCE, col
    # the label's drivers (metric_00/01/02 -> pillars 01/02/03) carry the most weight at H5/H10/H20
    top = lw.loc[lw.groupby("horizon")["data_weight"].idxmax()].set_index("horizon")["pillar"].to_dict()
    assert top == {5: "01", 10: "02", 20: "03"}
    assert remote.timings["total_s"] < 60
    print("\ncompute_dynamic_weights:", {k: round(v, 3) for k, v in TIMINGS.items()})
