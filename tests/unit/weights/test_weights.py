"""Dynamic weights with the local engine: binning, MI by hand, blending, history and cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fvi.cache import MemoryCache
from fvi.warehouse import DuckDBWarehouse
from fvi.weights import (
    HISTORY_COLUMNS,
    MISSING_CODE,
    RESULT_COLUMNS,
    cached_weights,
    compute_dynamic_weights,
    current_weights,
    discretise,
    joint_counts_local,
    mi_from_counts,
    mutual_information_local,
    pillar_weights,
    publish_weights,
    read_history,
    store_weights,
    weights_by_horizon,
)


def counts_frame(table: list[list[int]], horizon: int = 5, metric: str = "m") -> pd.DataFrame:
    """Contingency table rows = code, columns = label (0, 1)."""
    return pd.DataFrame(
        [
            {"horizon": horizon, "metric": metric, "code": x, "label": y, "n": n}
            for x, row in enumerate(table)
            for y, n in enumerate(row)
        ]
    )


def frames_from_pairs(x: np.ndarray, y: np.ndarray, horizon: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"e{i}" for i in range(len(x))]
    codes = pd.DataFrame({"entity_id": ids, "as_of_year": 2020, "m": np.asarray(x, dtype="int32")})
    labels = pd.DataFrame({"entity_id": ids, "as_of_year": 2020, "horizon": horizon, "label": y})
    return codes, labels


def entropy(p: list[float]) -> float:
    return -sum(q * math.log(q) for q in p if q > 0)


# ---------------------------------------------------------------------------------------------
# Mutual information


def test_mi_two_by_two_by_hand() -> None:
    # joint p: (0,0)=.3 (0,1)=.1 (1,0)=.1 (1,1)=.5 ; px=(.4,.6) py=(.4,.6)
    expected = (
        0.3 * math.log(0.3 / (0.4 * 0.4))
        + 0.1 * math.log(0.1 / (0.4 * 0.6))
        + 0.1 * math.log(0.1 / (0.6 * 0.4))
        + 0.5 * math.log(0.5 / (0.6 * 0.6))
    )
    assert expected == pytest.approx(0.17774, abs=1e-5)  # nats
    row = mi_from_counts(counts_frame([[30, 10], [10, 50]])).iloc[0]
    assert row["mi"] == pytest.approx(expected, abs=1e-15)
    assert row["h_label"] == pytest.approx(entropy([0.4, 0.6]), abs=1e-15)
    assert (row["n_rows"], row["n_bins"], row["estimator"]) == (100, 2, "plugin")
    # the same table from row-level frames through the local engine
    x = np.repeat([0, 0, 1, 1], [30, 10, 10, 50]) + 1
    y = np.repeat([0, 1, 0, 1], [30, 10, 10, 50])
    local = mutual_information_local(*frames_from_pairs(x, y)).iloc[0]
    assert local["mi"] == row["mi"]


def test_miller_madow_correction() -> None:
    counts = counts_frame([[30, 10], [10, 50]])
    plug = mi_from_counts(counts).iloc[0]
    mm = mi_from_counts(counts, "miller_madow").iloc[0]
    # (K_xy - K_x - K_y + 1) / 2N = (4 - 2 - 2 + 1) / 200
    assert mm["mi"] == pytest.approx(plug["mi"] - 1 / 200, abs=1e-15)
    assert mm["mi_plugin"] == plug["mi"] and mm["estimator"] == "miller_madow"
    with pytest.raises(ValueError, match="correction"):
        mi_from_counts(counts, "jackknife")  # type: ignore[arg-type]


def test_independence_gives_zero() -> None:
    # counts exactly proportional to px * py: MI is 0 up to rounding
    exact = mi_from_counts(counts_frame([[6, 4], [12, 8], [30, 20]])).iloc[0]
    assert abs(exact["mi"]) < 1e-15
    # sampled independence: the plug-in bias is ~ (Kx-1)(Ky-1)/2N; Miller-Madow removes it on average
    rng = np.random.default_rng(7)
    n, reps = 5000, 40  # one "horizon" per independent replicate
    ids = np.arange(n * reps)
    codes = pd.DataFrame({"entity_id": ids, "as_of_year": 2020, "m": rng.integers(1, 11, n * reps).astype("int32")})
    labels = pd.DataFrame(
        {"entity_id": ids, "as_of_year": 2020, "horizon": ids // n, "label": rng.integers(0, 2, n * reps)}
    )
    plug = mutual_information_local(codes, labels)["mi"]
    mm = mutual_information_local(codes, labels, correction="miller_madow")["mi"]
    bias = 9 / (2 * n)
    assert (plug >= 0).all() and plug.max() < 4 * bias
    assert plug.mean() == pytest.approx(bias, rel=0.35)
    assert abs(mm.mean()) < bias / 3


@pytest.mark.parametrize("p1", [0.5, 0.3])
def test_perfect_dependence_gives_label_entropy(p1: float) -> None:
    n = 1000
    y = (np.arange(n) < p1 * n).astype(int)
    x = np.where(y == 1, 1 + np.arange(n) % 3, 4 + np.arange(n) % 5)  # 8 codes, each pure in y
    row = mutual_information_local(*frames_from_pairs(x, y)).iloc[0]
    assert row["mi"] == pytest.approx(entropy([p1, 1 - p1]), abs=1e-12)
    assert row["mi_share"] == pytest.approx(1.0, abs=1e-12)
    assert row["n_bins"] == 8


def test_constant_label_has_no_information() -> None:
    row = mutual_information_local(*frames_from_pairs(np.array([1, 2, 3, 1]), np.array([1, 1, 1, 1]))).iloc[0]
    assert row["mi"] == 0.0 and row["h_label"] == 0.0 and math.isnan(row["mi_share"])


def test_labels_checked_and_unknown_outcomes_left_out() -> None:
    codes, labels = frames_from_pairs(np.array([1, 1, 2, 2]), np.array([0, 0, 1, 1]))
    labels["label"] = labels["label"].astype("float64")
    labels.loc[3, "label"] = np.nan
    counts = joint_counts_local(codes, labels)
    assert counts["n"].sum() == 3
    bad = labels.assign(label=[0, 1, 2, 1])
    with pytest.raises(ValueError, match="0/1"):
        joint_counts_local(codes, bad)
    with pytest.raises(ValueError, match="duplicate"):
        joint_counts_local(codes, pd.concat([labels, labels.iloc[:1]]))
    with pytest.raises(ValueError, match="integer"):
        joint_counts_local(codes.assign(m=codes["m"].astype(float)), labels)


def test_custom_keys_and_label_column() -> None:
    codes = pd.DataFrame({"iso3": ["AAA", "BBB"], "year": [2010, 2010], "m": np.array([1, 2], dtype="int32")})
    labels = pd.DataFrame({"iso3": ["AAA", "BBB"], "year": [2010, 2010], "horizon": 10, "decline": [0, 1]})
    row = mutual_information_local(codes, labels, keys=["iso3", "year"], label_col="decline").iloc[0]
    assert row["mi"] == pytest.approx(math.log(2))


# ---------------------------------------------------------------------------------------------
# Binning


def test_quantile_bins_edges_and_nan_bin() -> None:
    values = np.r_[np.arange(100.0), [np.nan] * 5]
    frame = pd.DataFrame({"entity_id": range(105), "as_of_year": 2020, "m": values})
    bins = discretise(frame, ["m"], n_bins=10)
    codes = bins.codes["m"].to_numpy()
    assert bins.edges["m"] == pytest.approx(np.quantile(np.arange(100.0), np.linspace(0, 1, 11)).tolist())
    assert (codes[100:] == MISSING_CODE).all()
    assert np.bincount(codes[:100]).tolist() == [0] + [10] * 10  # ten equal bins, code 0 unused
    assert codes.dtype == np.int32
    # deterministic and reproducible on new data with the stored edges
    again = discretise(frame.sample(frac=1.0, random_state=1), ["m"], n_bins=10)
    assert again.edges == bins.edges
    assert (bins.apply(frame)["m"].to_numpy() == codes).all()
    outside = pd.DataFrame({"entity_id": [1, 2], "as_of_year": 2021, "m": [-5.0, 1e9]})
    assert bins.apply(outside)["m"].tolist() == [1, 10]
    ef = bins.edges_frame()
    assert len(ef) == 10 and ef["code"].tolist() == list(range(1, 11))


def test_ties_constant_and_all_missing_columns() -> None:
    frame = pd.DataFrame(
        {
            "entity_id": range(10),
            "as_of_year": 2020,
            "goalpost": [0.0] * 7 + [50.0, 100.0, 100.0],  # most scores clamped at a goalpost
            "constant": 42.0,
            "empty": np.nan,
        }
    )
    bins = discretise(frame, ["goalpost", "constant", "empty"], n_bins=10)
    assert bins.codes["goalpost"].nunique() < 10  # tied quantiles merged
    assert bins.codes.loc[:6, "goalpost"].nunique() == 1  # equal values share a bin
    assert set(bins.codes["constant"]) == {1}
    assert set(bins.codes["empty"]) == {MISSING_CODE}
    assert bins.edges["empty"] == []


def test_binning_rejects_bad_input() -> None:
    frame = pd.DataFrame({"entity_id": [1, 1], "as_of_year": [2020, 2020], "m": [1.0, 2.0]})
    with pytest.raises(ValueError, match="share a key"):
        discretise(frame, ["m"], n_bins=4)
    ok = frame.assign(entity_id=[1, 2])
    with pytest.raises(ValueError, match="infinite"):
        discretise(ok.assign(m=[1.0, np.inf]), ["m"], n_bins=4)
    with pytest.raises(ValueError, match="not numeric"):
        discretise(ok.assign(m=["a", "b"]), ["m"], n_bins=4)
    with pytest.raises(ValueError, match="n_bins"):
        discretise(ok, ["m"], n_bins=1)


def test_nan_bin_carries_information() -> None:
    # reporting nothing is itself predictive here: MI comes from the NaN bin alone
    x = np.r_[np.full(50, np.nan), np.linspace(0, 100, 50)]
    y = np.r_[np.ones(50, int), np.zeros(50, int)]
    frame = pd.DataFrame({"entity_id": range(100), "as_of_year": 2020, "m": x})
    labels = pd.DataFrame({"entity_id": range(100), "as_of_year": 2020, "horizon": 5, "label": y})
    row = mutual_information_local(discretise(frame, ["m"], n_bins=10).codes, labels).iloc[0]
    assert row["mi"] == pytest.approx(math.log(2), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Pillar weights

EXPERT = {"01": 0.2, "02": 0.2, "03": 0.2, "04": 0.4}
M2P = {"a1": "01", "a2": "01", "b1": "02", "c1": "03", "c2": "03", "c3": "03"}


def mi_frame(values: dict[str, float], horizons: tuple[int, ...] = (5,)) -> pd.DataFrame:
    return pd.DataFrame([{"horizon": h, "metric": m, "mi": v} for h in horizons for m, v in values.items()])


MI = {"a1": 0.30, "a2": 0.10, "b1": 0.10, "c1": 0.05, "c2": 0.05, "c3": 0.05}


def test_weights_sum_to_one_and_are_non_negative() -> None:
    w = pillar_weights(mi_frame(MI, (5, 10, 20)), M2P, EXPERT, blend=0.5)
    assert set(w["pillar"]) == set(EXPERT)  # pillar 04 has no features yet is present
    for _, g in w.groupby("horizon"):
        assert g["weight"].sum() == pytest.approx(1.0, abs=1e-12)
        assert g["data_weight"].sum() == pytest.approx(1.0, abs=1e-12)
        assert g["expert_weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (w["weight"] >= 0).all()


def test_max_not_sum_and_featureless_pillar_keeps_expert_share() -> None:
    w = pillar_weights(mi_frame(MI), M2P, EXPERT, blend=1.0).set_index("pillar")
    # 04 has no feature: its data weight is its expert share (0.4); the rest (0.6) split by max MI
    assert w.loc["04", "data_weight"] == pytest.approx(0.4)
    assert math.isnan(w.loc["04", "mi"]) and w.loc["04", "n_metrics"] == 0
    total = 0.30 + 0.10 + 0.05
    assert w.loc["01", "data_weight"] == pytest.approx(0.6 * 0.30 / total)
    assert w.loc["03", "data_weight"] == pytest.approx(0.6 * 0.05 / total)  # three weak metrics do not add up
    assert (w.loc["01", "top_metric"], w.loc["03", "n_metrics"]) == ("a1", 3)


@pytest.mark.parametrize("blend", [0.0, 1.0, 0.25])
def test_blend_edge_cases(blend: float) -> None:
    w = pillar_weights(mi_frame(MI), M2P, EXPERT, blend=blend)
    expected = blend * w["data_weight"] + (1 - blend) * w["expert_weight"]
    assert w["weight"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-12)
    if blend == 0.0:
        assert w["weight"].tolist() == pytest.approx([0.2, 0.2, 0.2, 0.4])
    if blend == 1.0:
        assert w["weight"].tolist() == pytest.approx(w["data_weight"].tolist())


def test_no_information_falls_back_to_expert() -> None:
    w = pillar_weights(mi_frame(dict.fromkeys(MI, 0.0)), M2P, {"01": 1, "02": 1, "03": 2, "04": 0}, blend=1.0)
    assert w["weight"].tolist() == pytest.approx([0.25, 0.25, 0.5, 0.0])


def test_negative_corrected_mi_counts_as_zero() -> None:
    w = pillar_weights(mi_frame({**MI, "b1": -0.001}), M2P, EXPERT, blend=1.0).set_index("pillar")
    assert w.loc["02", "mi"] == 0.0 and w.loc["02", "data_weight"] == 0.0


def test_expert_per_horizon() -> None:
    expert = {5: {"01": 1.0, "02": 0.0, "03": 0.0, "04": 0.0}, "10": {"01": 0, "02": 0, "03": 0, "04": 1}}
    w = pillar_weights(mi_frame(MI, (5, 10)), M2P, expert, blend=0.0)
    assert w.query("horizon == 5 and pillar == '01'")["weight"].item() == pytest.approx(1.0)
    assert w.query("horizon == 10 and pillar == '04'")["weight"].item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="horizon 20"):
        pillar_weights(mi_frame(MI, (20,)), M2P, expert, blend=0.0)


def test_pillar_weight_input_checks() -> None:
    with pytest.raises(ValueError, match="blend"):
        pillar_weights(mi_frame(MI), M2P, EXPERT, blend=1.5)
    with pytest.raises(ValueError, match="without a pillar"):
        pillar_weights(mi_frame({**MI, "zz": 0.1}), M2P, EXPERT, blend=0.5)
    with pytest.raises(ValueError, match=">= 0"):
        pillar_weights(mi_frame(MI), M2P, {**EXPERT, "04": -0.1}, blend=0.5)
    with pytest.raises(ValueError, match="no expert weight"):
        pillar_weights(mi_frame(MI), M2P, {"01": 1.0, "02": 1.0}, blend=0.5)


# ---------------------------------------------------------------------------------------------
# End to end (local engine), history and cache


def generated(n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pillar 01's metric drives the outcome at H5, pillar 03's at H20; the rest is noise."""
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"entity_id": [f"m{i}" for i in range(n)], "as_of_year": 2015 + rng.integers(0, 5, n)})
    for m in M2P:
        f[m] = rng.uniform(0, 100, n)
    f.loc[rng.random(n) < 0.15, "b1"] = np.nan
    f["pillar_03"] = f[["c1", "c2", "c3"]].mean(axis=1)
    f["is_synthetic"] = False
    f["capacity_mt"] = rng.uniform(0, 10, n)  # numeric, no pillar: left out
    y5 = (f["a1"] + rng.normal(0, 10, n) > 50).astype(int)
    y20 = (f["c2"] + rng.normal(0, 10, n) > 50).astype(float)
    y20[rng.random(n) < 0.3] = np.nan  # outcome not yet observed
    labels = pd.concat(
        [
            f[["entity_id", "as_of_year"]].assign(horizon=5, label=y5),
            f[["entity_id", "as_of_year"]].assign(horizon=20, label=y20),
        ],
        ignore_index=True,
    )
    return f, labels


def test_compute_dynamic_weights_local() -> None:
    features, labels = generated()
    res = compute_dynamic_weights(
        features, labels, EXPERT, 0.6, metric_to_pillar={**M2P, "pillar_03": "03"}, engine="local"
    )
    w = res.weights
    assert list(w.columns) == RESULT_COLUMNS
    assert len(w) == 2 * len(EXPERT) and set(w["engine"]) == {"local"}
    top = w.loc[w.groupby("horizon")["data_weight"].idxmax(), ["horizon", "pillar"]]
    assert dict(top.itertuples(index=False)) == {5: "01", 20: "03"}
    n_rows = w.groupby("horizon")["n_rows"].first()
    assert n_rows[5] == len(features) and n_rows[20] < len(features)  # unknown outcomes left out
    assert w.groupby("horizon")["weight"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert set(res.metric_mi["metric"]) == {*M2P, "pillar_03"}  # capacity_mt, is_synthetic left out
    assert {"discretise_s", "count_s", "total_s"} <= set(res.timings)
    with pytest.raises(ValueError, match="engine"):
        compute_dynamic_weights(features, labels, EXPERT, 0.5, metric_to_pillar=M2P, engine="dask")  # type: ignore[arg-type]


def test_history_store_and_current(tmp_path: Path) -> None:
    features, labels = generated(n=500)
    first = compute_dynamic_weights(features, labels, EXPERT, 0.5, metric_to_pillar=M2P).weights
    second = first.assign(weight=first["expert_weight"], computed_at=first["computed_at"] + pd.Timedelta(days=1))
    with DuckDBWarehouse(tmp_path / "wh.duckdb") as wh:
        assert current_weights(wh).empty and list(current_weights(wh).columns) == HISTORY_COLUMNS
        assert store_weights(wh, first, "run-1") == 8
        assert store_weights(wh, second, "run-2") == 16
        assert store_weights(wh, second, "run-2") == 16  # same run again replaces, not duplicates
        history = read_history(wh)
        assert list(history.columns) == HISTORY_COLUMNS
        assert history.groupby("run_id").size().to_dict() == {"run-1": 8, "run-2": 8}
        cur = current_weights(wh)
        assert set(cur["run_id"]) == {"run-2"} and len(cur) == 8
        assert cur["horizon"].tolist() == ["20"] * 4 + ["5"] * 4  # stored as text
        assert cur["weight"].to_numpy() == pytest.approx(cur["expert_weight"].to_numpy())
        by_h = weights_by_horizon(cur)
        assert set(by_h) == {"5", "20"} and sum(by_h["5"].values()) == pytest.approx(1.0)


def test_publish_and_read_from_cache() -> None:
    features, labels = generated(n=500)
    w = compute_dynamic_weights(features, labels, EXPERT, 0.5, metric_to_pillar=M2P).weights
    cache = MemoryCache()
    assert cached_weights(cache) is None
    publish_weights(cache, w.assign(run_id="run-9"))
    got = cached_weights(cache)
    assert got is not None and len(got) == len(w)
    assert got["weight"].tolist() == w.sort_values(["horizon", "pillar"])["weight"].tolist()  # exact floats
    assert set(got["run_id"]) == {"run-9"}
    assert got["computed_at"].iloc[0] == w["computed_at"].iloc[0]
    assert got.loc[got["pillar"] == "04", "mi"].isna().all()
