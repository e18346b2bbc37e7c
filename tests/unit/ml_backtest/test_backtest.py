"""Back-test metrics on hand-checked frames, a tiny warehouse end to end, and the flat mine/country export."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from tests.gold import write_gold

from fvi.ml.backtest import BacktestConfig, run_backtest
from fvi.ml.backtest_data import BACKTEST_COLUMNS, fvi_horizon, orient_oof
from fvi.ml.export_mines import (
    COUNTRY_COLUMNS,
    MINE_COLUMNS,
    country_score_frame,
    export_country_scores,
    export_mine_scores,
    horizon_label,
)
from fvi.ml.metrics import auc, bootstrap_auc_difference, brier, calibration_table, weighted_auc
from fvi.settings import get_settings
from fvi.warehouse import DuckDBWarehouse

FAST = BacktestConfig(n_boot=200)

# ---------------------------------------------------------------------------------------------
# Pure metrics


def test_auc_perfect_reversed_and_undefined() -> None:
    y = [0, 0, 1, 1, 1]
    assert auc(y, [0.1, 0.2, 0.7, 0.8, 0.9]) == 1.0
    assert auc(y, [0.9, 0.8, 0.3, 0.2, 0.1]) == 0.0
    assert auc(y, [0.5] * 5) == 0.5  # ties count one half
    assert math.isnan(auc([1, 1, 1], [0.1, 0.2, 0.3]))  # one class: nothing to rank


def test_brier_by_hand() -> None:
    # (0.1^2 + 0.2^2 + 0.4^2 + 0.5^2) / 4 = (0.01 + 0.04 + 0.16 + 0.25) / 4
    assert brier([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.115)
    assert brier([1, 0], [1.0, 0.0]) == 0.0
    assert brier([1, 0], [0.0, 1.0]) == 1.0


def test_calibration_bins_sum_to_n() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(size=103)
    y = (rng.uniform(size=103) < p).astype(int)
    table = calibration_table(y, p, 10)
    assert len(table) == 10 and table["n"].sum() == 103
    assert table["n"].max() - table["n"].min() <= 1  # quantile bins: near-equal counts
    assert table["p_mean"].is_monotonic_increasing
    assert (table["observed"] * table["n"]).sum() == pytest.approx(y.sum())
    const = calibration_table([0, 1, 1], [0.5, 0.5, 0.5], 10)  # fewer rows than bins, constant score
    assert const["n"].sum() == 3 and len(const) == 3


def test_weighted_auc_matches_sklearn_with_weights() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 60)
    s = rng.integers(0, 6, 60).astype(float)  # many ties
    w = rng.integers(0, 4, 60).astype(float)
    got = weighted_auc(y, s, w[None, :])[0]
    assert got == pytest.approx(roc_auc_score(y, s, sample_weight=w))
    assert weighted_auc(y, s, np.ones((1, 60)))[0] == pytest.approx(auc(y, s))


def test_bootstrap_difference_is_seeded_and_sensible() -> None:
    rng = np.random.default_rng(3)
    y = np.repeat(rng.integers(0, 2, 80), 2)  # each entity twice
    good = y + rng.normal(0, 0.3, len(y))
    noise = rng.normal(0, 1, len(y))
    groups = np.repeat(np.arange(80), 2)
    a = bootstrap_auc_difference(y, good, noise, groups, n_boot=300, seed=5)
    b = bootstrap_auc_difference(y, good, noise, groups, n_boot=300, seed=5)
    assert a == b
    assert a["diff"] > 0 and 0 < a["lo"] < a["diff"] < a["hi"]
    assert a["n_boot"] == 300 and a["share_le_zero"] == 0.0


@pytest.mark.parametrize(("years", "label"), [(1, "H5"), (5, "H5"), (6, "H10"), (10, "H10"), (11, "H20"), (20, "H20")])
def test_fvi_horizon_mapping(years: int, label: str) -> None:
    assert fvi_horizon(years) == label


def test_country_oof_is_flipped_to_viable() -> None:
    oof = pd.DataFrame({
        "entity_type": ["country", "country", "us_mine"], "entity_id": ["AAA", "BBB", "17"],
        "as_of_year": [2000, 2000, 2010], "horizon": [5, 5, "H5"], "label": [1, 0, 1],
        "p_model": [0.8, 0.1, 0.9], "fold": [0, 1, 0], "model_name": ["m"] * 3, "model_version": ["1"] * 3,
    })
    out = orient_oof(oof)
    assert out["viable_oof"].tolist() == [0.0, 1.0, 1.0]
    assert out["p_viable"].tolist() == pytest.approx([0.2, 0.9, 0.9])
    assert out["entity_id"].tolist() == ["AAA", "BBB", "MSHA17"] and out["horizon"].tolist() == [5, 5, 5]
    # an explicit target wins over the entity type
    flipped = orient_oof(oof.assign(target=["operating", "operating", "decline"]))
    assert flipped["p_viable"].tolist() == pytest.approx([0.8, 0.1, 0.1])


# ---------------------------------------------------------------------------------------------
# A tiny warehouse: US mines and countries, end to end


def _scores(entity_type: str, ids: list[str], years: list[int], fvi: dict[str, float], **extra: object) -> pd.DataFrame:
    rows = []
    for eid in ids:
        for year in years:
            for h in ("H5", "H10", "H20"):
                for persona, shift in (("analyst", 0.0), ("investor", -50.0)):
                    rows.append({
                        "entity_type": entity_type, "entity_id": eid, "entity_name": f"name {eid}",
                        "country_iso3": extra.get("iso3", eid if entity_type == "country" else "USA"),
                        "status": "operating", "as_of_year": year, "horizon": h, "persona": persona,
                        "fvi": fvi[eid] + shift, "pillar_01": 10.0, "pillar_02": 20.0, "fvi_p05": None,
                        "fvi_p50": None, "fvi_p95": None, "run_id": "run_test", "registry_hash": "abc",
                    })
    return pd.DataFrame(rows)


@pytest.fixture()
def tiny_wh(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    mines = [f"MSHA{i}" for i in range(1, 13)]
    viable = {m: int(i % 2 == 0) for i, m in enumerate(mines)}
    labels = [
        {"msha_id": int(m[4:]), "gem_mine_id": None, "as_of_year": t, "horizon": h, "outcome_year": t + h,
         "viable": viable[m]}
        for m in mines for t in (2008, 2009, 2010) for h in (1, 2)
    ]
    panel = [
        {"msha_id": int(m[4:]), "year": y, "production_mt": 5.0 - 4 * viable[m] + int(m[4:]) / 100,
         "gem_mine_id": None}
        for m in mines for y in range(2008, 2012)
    ]
    isos = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    decline = {"AAA": 1, "BBB": 1, "CCC": 1, "DDD": 0, "EEE": 0, "FFF": 0}
    country_labels = [
        {"iso3": c, "as_of_year": t, "horizon": 5, "outcome_year": t + 5, "production_twh": 1.0, "decline": decline[c]}
        for c in isos for t in (2000, 2001)
    ] + [{"iso3": "AAA", "as_of_year": 1990, "horizon": 5, "outcome_year": 1995, "production_twh": 1.0, "decline": 1}]
    metric = [
        {"entity_type": "us_mine", "entity_id": m, "as_of_year": t, "metric_id": "x", "pillar": "02",
         "raw_value": 1.0, "value_used": 1.0, "score": 30.0 + 40 * viable[m], "imputation": "observed"}
        for m in mines for t in (2008, 2009, 2010)
    ]
    oof = [
        {"entity_type": "us_mine", "entity_id": m, "as_of_year": t, "horizon": h, "label": viable[m],
         "p_model": 0.3 + 0.4 * viable[m], "fold": i % 3, "model_name": "gbm", "model_version": "v1"}
        for i, m in enumerate(mines) for t in (2008, 2009) for h in (1, 2)
    ] + [
        {"entity_type": "country", "entity_id": c, "as_of_year": t, "horizon": 5, "label": decline[c],
         "p_model": 0.2 + 0.6 * decline[c], "fold": 0, "model_name": "gbm", "model_version": "v1"}
        for c in isos for t in (2000, 2001)
    ]
    with DuckDBWarehouse(path) as wh:
        write_gold(wh, "fvi_scores", pd.concat([
            _scores("us_mine", mines, [2008, 2009, 2010], {m: 30.0 + 40 * viable[m] for m in mines}),
            _scores("country", isos, [2000, 2001], {c: 70.0 - 40 * decline[c] for c in isos}),
        ]))
        write_gold(wh, "fvi_outcome_us_mine", pd.DataFrame(labels))
        wh.write_table("gold", "fct_us_mine__yearly", pd.DataFrame(panel))
        write_gold(wh, "fvi_outcome_country", pd.DataFrame(country_labels))
        wh.write_table("gold", "fct_country__yearly", pd.DataFrame(
            [{"iso3": c, "year": y, "coal_production_twh": 10.0 + 10 * decline[c] + i} for i, c in enumerate(isos)
             for y in range(1990, 2011)]))
        write_gold(wh, "fvi_metric_scores", pd.DataFrame(metric))
        write_gold(wh, "fvi_backtest_oof", pd.DataFrame(oof))
    return path


def test_run_backtest_tiny_world(tiny_wh: Path, tmp_path: Path) -> None:
    out = tmp_path / "bt"
    with DuckDBWarehouse(tiny_wh) as wh:
        report = run_backtest(wh, out, config=FAST)
        table = wh.query("select * from gold.fvi_backtest")
    assert {p.name for p in out.iterdir()} == {"backtest.json", "backtest.md", "calibration.png"}
    assert json.loads((out / "backtest.json").read_text())["levels"]["us_mine"]["last_observed_year"] == 2011
    assert list(table.columns) == BACKTEST_COLUMNS and report["gold_rows"] == len(table)
    pooled = table[table["as_of_year"].isna()].set_index(["level", "horizon", "scorer"]).sort_index()
    us1 = pooled.loc[("us_mine", 1)]
    assert us1.loc["fvi", "auc"] == 1.0 and us1.loc["size", "auc"] == 0.0  # big mines die in this world
    assert us1.loc["equal_weight", "auc"] == 1.0 and us1.loc["model", "auc"] == 1.0
    assert us1.loc["model", "n"] == 24  # OOF covers 2008-2009 only
    assert us1.loc["fvi", "as_of_years"] == "2008-2010" and us1.loc["fvi", "n"] == 36
    # H = 2: the 2010 labels look at 2012, after the last EIA year (2011): dropped, no leakage
    assert pooled.loc[("us_mine", 2, "fvi"), "as_of_years"] == "2008-2009"
    assert pooled.loc[("us_mine", 2, "fvi"), "outcome_years"] == "2010-2011"
    # FVI / 100 as a probability: 0.7 for viable, 0.3 for the rest -> Brier 0.09
    assert us1.loc["fvi", "brier"] == pytest.approx(0.09)
    assert us1.loc["fvi", "auc_minus_size"] == pytest.approx(1.0)
    assert us1.loc["fvi", "auc_minus_size_lo"] <= 1.0 <= us1.loc["fvi", "auc_minus_size_hi"] + 1e-12
    assert math.isnan(us1.loc["size", "auc_minus_size"])
    # countries: decline is the bad outcome; FVI high for the survivors and P(decline) flipped -> AUC 1
    c5 = pooled.loc[("country", 5)]
    assert c5.loc["fvi", "auc"] == 1.0 and c5.loc["model", "auc"] == 1.0
    assert c5.loc["fvi", "n"] == 12 and c5.loc["fvi", "n_positive"] == 6  # 1990 not scored: out
    assert c5.loc["size", "auc"] == 0.0
    levels = report["levels"]
    assert levels["gem_stopped"]["skipped"] and levels["gem_abandoned"]["skipped"]
    cal = levels["us_mine"]["horizons"]["1"]["scorers"]["fvi"]["calibration"]
    assert sum(b["n"] for b in cal) == 36
    years = table[(table["level"] == "us_mine") & (table["horizon"] == 1) & (table["scorer"] == "fvi")]
    assert sorted(years["as_of_year"].dropna().astype(int)) == [2008, 2009, 2010]
    assert (table["run_id"] == "run_test").all()
    assert "| fvi (thin: 18 events) | 36 | 18 | 1.000 | 0.090 |" in (out / "backtest.md").read_text()


def test_run_backtest_without_model_or_labels(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with DuckDBWarehouse(path) as wh:
        write_gold(wh, "fvi_scores", _scores("country", ["AAA"], [2000], {"AAA": 50.0}))
        report = run_backtest(wh, tmp_path / "out", config=FAST, run_id="bt1")
        assert wh.query("select count(*) as n from gold.fvi_backtest")["n"].iloc[0] == 0
    assert report["run_id"] == "bt1" and not report["has_model"]
    assert all(level.get("skipped") for level in report["levels"].values())
    assert (tmp_path / "out" / "calibration.png").stat().st_size > 0


# ---------------------------------------------------------------------------------------------
# Export


@pytest.fixture()
def export_home(fvi_home: Path) -> Path:
    """GEM mines M1 (linked to EIA 10), M2; EIA mines 10 (-> M1), 20, 30 (unlinked); two countries."""
    gem = _scores("mine", ["M1", "M2"], [2023, 2024], {"M1": 60.0, "M2": 40.0})
    gem = gem[~((gem["entity_id"] == "M2") & (gem["as_of_year"] == 2024))]  # M2 last seen in 2023
    eia = pd.concat([
        _scores("us_mine", ["MSHA10", "MSHA20"], [2015, 2016], {"MSHA10": 55.0, "MSHA20": 45.0}),
        _scores("us_mine", ["MSHA30"], [2015], {"MSHA30": 35.0}),
    ])
    countries = _scores("country", ["AAA", "BBB"], [2023, 2024], {"AAA": 50.0, "BBB": 70.0})
    preds = pd.DataFrame([
        {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H5", "target": "operating",
         "p": 0.8, "model_name": "gbm", "model_version": "9", "method": "classifier"},
        {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H5", "target": "operating",
         "p": 0.7, "model_name": "gbm", "model_version": "10", "method": "classifier"},  # newer version wins
        {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H5", "target": "operating",
         "p": 0.1, "model_name": "a_hazard", "model_version": "11", "method": "hazard"},  # classifier first
        {"entity_type": "us_mine", "entity_id": "MSHA20", "as_of_year": 2016, "horizon": "H10",
         "target": "operating", "p": 0.4, "model_name": "gbm", "model_version": "v2", "method": "hazard"},
        {"entity_type": "us_mine", "entity_id": "MSHA20", "as_of_year": 2015, "horizon": "H10",
         "target": "operating", "p": 0.9, "model_name": "gbm", "model_version": "v2", "method": "hazard"},
        {"entity_type": "country", "entity_id": "BBB", "as_of_year": 2024, "horizon": "H20", "target": "decline",
         "p": 0.3, "model_name": "gbm", "model_version": "v2", "method": "direct"},
    ])
    bayes = pd.DataFrame([
        {"entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H5", "p_mean": 0.7, "p_lo": 0.6,
         "p_hi": 0.85},
        # Bayesian bands are P(viable) for countries too: turned into (1 - hi, 1 - lo) for p_decline
        {"entity_type": "country", "entity_id": "AAA", "as_of_year": 2024, "horizon": "H5", "p_mean": 0.75,
         "p_lo": 0.6, "p_hi": 0.9},
    ])
    home = fvi_home
    with DuckDBWarehouse(get_settings().duckdb_path) as wh:
        write_gold(wh, "fvi_scores", pd.concat([gem, eia, countries], ignore_index=True))
        wh.write_table("gold", "dim_mine", pd.DataFrame({"gem_mine_id": ["M1", "M2"], "msha_id": [10, None]}))
        wh.write_table("gold", "fct_us_mine__yearly", pd.DataFrame({
            "msha_id": [10, 10, 20, 20, 30], "year": [2015, 2016, 2015, 2016, 2015],
            "gem_mine_id": ["M1", "M1", None, None, None], "production_mt": [1.0, 1.0, 2.0, 2.0, 0.5],
        }))
        write_gold(wh, "fvi_predictions", preds)
        write_gold(wh, "fvi_predictions_bayes", bayes)
    return home


def test_export_carries_the_data_world_and_restrictive_licences(export_home: Path, tmp_path: Path) -> None:
    manifest = pd.DataFrame({
        "run_id": ["r1", "r2", "r2"], "source_id": ["gem_mines", "gem_mines", "owid"], "dataset": ["m", "m", "e"],
        "release": ["2023-01", "2024-06", "2024"], "sha256": ["a", "b", "c"],
        "licence_name": ["CC BY 4.0", "CC BY-NC-ND 4.0", "CC BY 4.0"],
        "licence_url": [None, "https://creativecommons.org/licenses/by-nc-nd/4.0/", None],
        "is_synthetic": [False, False, False],
    })
    with DuckDBWarehouse(get_settings().duckdb_path) as wh:
        wh.write_table("bronze", "ingest_manifest", manifest)
    out = tmp_path / "m.csv"
    export_mine_scores(get_settings(), out, "csv")
    frame = pd.read_csv(out)
    assert set(frame["licence_notice"]) == {
        "Derived from sources licensed gem_mines: CC BY-NC-ND 4.0 <https://creativecommons.org/licenses/by-nc-nd/4.0/>"
    }
    (world,) = set(frame["data_world"])
    assert world.startswith("real data (gem_mines/m 2024-06, owid/e 2024)")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_mines_one_row_per_mine_and_horizon(export_home: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "exp" / f"mines.{fmt}"
    n = export_mine_scores(get_settings(), out, fmt)
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert n == len(frame) == 15 and not list(out.parent.glob(".*.part"))
    assert list(frame.columns[: len(MINE_COLUMNS)]) == MINE_COLUMNS
    assert {"pillar_01", "pillar_02", "model_version", "run_id"} <= set(frame.columns)
    assert not frame.duplicated(["mine_id", "horizon"]).any()
    assert frame.groupby("mine_id")["horizon"].apply(list).to_dict() == {
        "M1": ["H5", "H10", "H20"], "M2": ["H5", "H10", "H20"], "MSHA10": ["H5", "H10", "H20"],
        "MSHA20": ["H5", "H10", "H20"], "MSHA30": ["H5", "H10", "H20"]}
    rows = frame.set_index(["mine_id", "horizon"])
    m10 = rows.loc[("MSHA10", "H5")]  # the EIA record of GEM mine M1 stays, linked to its GEM id
    assert (m10["entity_type"], m10["linked_gem_mine_id"], int(m10["msha_id"])) == ("us_mine", "M1", 10)
    assert pd.isna(m10["gem_mine_id"])  # keys unique per source
    m1 = rows.loc[("M1", "H5")]  # the GEM record, linked to its MSHA id from dim_mine
    assert (m1["entity_type"], m1["as_of_year"], int(m1["linked_msha_id"]), m1["fvi"]) == ("mine", 2024, 10, 60.0)
    assert pd.isna(m1["msha_id"]) and m1["gem_mine_id"] == "M1"
    assert not frame.dropna(subset=["msha_id"]).duplicated(["msha_id", "horizon"]).any()
    assert not frame.dropna(subset=["gem_mine_id"]).duplicated(["gem_mine_id", "horizon"]).any()
    assert (m1["p_operating"], m1["p_operating_lo"], m1["p_operating_hi"]) == (0.7, 0.6, 0.85)
    assert str(m1["model_version"]) == "10" and m1["method"] == "classifier"
    assert rows.loc[("M2", "H5"), "as_of_year"] == 2023 and pd.isna(rows.loc[("M2", "H5"), "linked_msha_id"])
    m20 = rows.loc[("MSHA20", "H10")]
    assert (m20["entity_type"], m20["as_of_year"], int(m20["msha_id"]), m20["p_operating"]) == (
        "us_mine", 2016, 20, 0.4)
    assert pd.isna(m20["linked_gem_mine_id"]) and pd.isna(rows.loc[("MSHA20", "H5"), "p_operating"])
    assert rows.loc[("MSHA30", "H5"), "as_of_year"] == 2015  # each mine at its own latest year


def test_export_mines_as_of_and_countries(export_home: Path, tmp_path: Path) -> None:
    settings = get_settings()
    n = export_mine_scores(settings, tmp_path / "m2015.csv", "csv", as_of=2015)
    frame = pd.read_csv(tmp_path / "m2015.csv")
    assert n == 9 and set(frame["as_of_year"]) == {2015}
    # 2015: no GEM rows; EIA mine 10 carries its GEM id
    assert sorted(frame["mine_id"].unique()) == ["MSHA10", "MSHA20", "MSHA30"]
    m1 = frame[frame["mine_id"] == "MSHA10"].iloc[0]
    assert m1["entity_id"] == "MSHA10" and m1["linked_gem_mine_id"] == "M1" and m1["msha_id"] == 10
    assert frame.loc[(frame["mine_id"] == "MSHA20") & (frame["horizon"] == "H10"), "p_operating"].item() == 0.9
    with pytest.raises(LookupError, match=r"no mine scores at or before as-of 1999.*scored as-of years are 2015-2024"):
        export_mine_scores(settings, tmp_path / "none.csv", "csv", as_of=1999)
    assert not (tmp_path / "none.csv").exists()
    export_mine_scores(settings, tmp_path / "hz.csv", "csv", methods=("hazard", "classifier"))
    hz = pd.read_csv(tmp_path / "hz.csv").set_index(["mine_id", "horizon"])
    assert hz.loc[("M1", "H5"), "p_operating"] == 0.1 and hz.loc[("M1", "H5"), "method"] == "hazard"
    nc = export_country_scores(settings, tmp_path / "c.parquet", "parquet")
    countries = pd.read_parquet(tmp_path / "c.parquet")
    assert nc == 6 and list(countries.columns[: len(COUNTRY_COLUMNS)]) == COUNTRY_COLUMNS
    assert set(countries["as_of_year"]) == {2024} and not countries.duplicated(["iso3", "horizon"]).any()
    bbb = countries.set_index(["iso3", "horizon"]).loc[("BBB", "H20")]
    assert bbb["p_decline"] == 0.3 and bbb["fvi"] == 70.0 and pd.isna(bbb["p_decline_lo"])
    aaa = countries.set_index(["iso3", "horizon"]).loc[("AAA", "H5")]
    assert (aaa["p_decline_lo"], aaa["p_decline_hi"]) == pytest.approx((0.1, 0.4)) and pd.isna(aaa["p_decline"])
    with pytest.raises(ValueError, match="format"):
        export_country_scores(settings, tmp_path / "c.xlsx", "xlsx")


def test_export_needs_scores(fvi_home: Path, tmp_path: Path) -> None:
    with DuckDBWarehouse(get_settings().duckdb_path) as wh:
        wh.write_table("gold", "dim_mine", pd.DataFrame({"gem_mine_id": ["M1"]}))
        with pytest.raises(LookupError):
            country_score_frame(wh)


def test_horizon_label() -> None:
    assert [horizon_label(v) for v in (5, "5", "H10", "h20", 20.0)] == ["H5", "H5", "H10", "H20", "H20"]


def test_read_only_warehouse_with_sink(tiny_wh: Path, tmp_path: Path) -> None:
    with DuckDBWarehouse(tiny_wh, read_only=True) as wh, DuckDBWarehouse(tmp_path / "sink.duckdb") as sink:
        report = run_backtest(wh, tmp_path / "bt", config=BacktestConfig(n_boot=50), sink=sink)
        assert sink.has_table("gold", "fvi_backtest") and not wh.has_table("gold", "fvi_backtest")
        assert len(sink.query("select * from gold.fvi_backtest")) == report["gold_rows"] > 0


def test_gem_transitions_by_kind(tmp_path: Path) -> None:
    ids = [f"M{i}" for i in range(8)]
    stopped = {m: int(i < 3) for i, m in enumerate(ids)}  # label 1 = the bad outcome
    kinds = {m: "stopped" if i < 6 else "abandoned" for i, m in enumerate(ids)}
    stopped["M7"] = 1
    trans = pd.DataFrame([
        {"gem_mine_id": m, "from_release": "2022-01", "to_release": "2023-01", "as_of_year": 2022,
         "outcome_year": 2023, "years_between": 1.0, "label_kind": kinds[m], "label": stopped[m]} for m in ids
    ])
    releases = pd.DataFrame([
        {"gem_mine_id": m, "release": r, "release_year": int(r[:4]), "capacity_mtpa": (None if i >= 6 else 1.0 + i),
         "proposed_capacity_mtpa": (3.0 + i if i >= 6 else None)}
        for i, m in enumerate(ids) for r in ("2022-01", "2023-01")
    ])
    with DuckDBWarehouse(tmp_path / "gem.duckdb") as wh:
        write_gold(wh, "fvi_scores", _scores("mine", ids, [2022], {m: 80.0 - 50 * stopped[m] for m in ids}))
        write_gold(wh, "fvi_outcome_gem_transition", trans)
        wh.write_table("gold", "int_gem_mines__release", releases)
        report = run_backtest(wh, tmp_path / "bt", config=FAST)
        table = wh.query("select * from gold.fvi_backtest where as_of_year is null")
    stop = report["levels"]["gem_stopped"]["horizons"]["1"]
    assert stop["n"] == 6 and stop["n_positive"] == 3 and stop["fvi_horizon"] == "H5"
    assert stop["scorers"]["fvi"]["auc"] == 1.0 and stop["scorers"]["size"]["auc"] == 1.0  # M0-M2 smallest
    assert report["levels"]["gem_abandoned"]["horizons"]["1"]["n"] == 2
    assert set(table["level"]) == {"gem_stopped", "gem_abandoned"}
