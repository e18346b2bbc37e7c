"""Outcome labels on hand-checked tiny panels: exact labels, edge years, and the time rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fvi.outcomes import (
    OUTCOME_TABLES,
    LeakageError,
    assert_no_leakage,
    country_labels,
    feature_panel_asof,
    features_asof,
    gem_survival,
    gem_transition_dropouts,
    gem_transition_labels,
    load_config,
    load_outcomes,
    us_mine_labels,
    write_outcomes,
)
from fvi.outcomes.labels import COUNTRY_COLUMNS, GEM_TRANSITION_COLUMNS, US_MINE_COLUMNS, gem_hazard
from fvi.warehouse import DuckDBWarehouse

YEARS = range(2008, 2017)


def mine_panel() -> pd.DataFrame:
    """Mine 1 produces 2008-2010 then disappears; mine 2 produces every year (keeps years covered);
    mine 3 is listed but idle in 2009 and back in 2010."""
    rows = [(1, y, "M1", True) for y in (2008, 2009, 2010)]
    rows += [(2, y, None, True) for y in YEARS]
    rows += [(3, 2008, "M3", True), (3, 2009, "M3", False), (3, 2010, "M3", True)]
    frame = pd.DataFrame(rows, columns=["msha_id", "year", "gem_mine_id", "is_producing"])
    frame["production_mt"] = np.where(frame["is_producing"], 1.0 + frame["msha_id"] / 10, 0.0)
    return frame


def labels_of(labels: pd.DataFrame, msha_id: int) -> dict[tuple[int, int], int]:
    sub = labels[labels["msha_id"] == msha_id]
    return {(int(t), int(h)): int(v) for t, h, v in sub[["as_of_year", "horizon", "viable"]].itertuples(index=False)}


# ---------------------------------------------------------------------------------------------
# US mines


def test_mine_that_stops_after_2010_gets_exact_labels_per_horizon() -> None:
    got = labels_of(us_mine_labels(mine_panel()), 1)
    expected = {}
    for t in (2008, 2009, 2010):
        for h in range(1, 9):
            if t + h <= 2016:  # 2016 is the last covered year: later outcomes are unknown, not zero
                expected[(t, h)] = int(t + h <= 2010)
    assert got == expected
    assert len(got) == 8 + 7 + 6
    assert got[(2008, 2)] == 1 and got[(2008, 3)] == 0 and got[(2010, 1)] == 0


def test_edge_years_idle_rows_and_columns() -> None:
    labels = us_mine_labels(mine_panel())
    assert list(labels.columns) == list(US_MINE_COLUMNS)
    assert labels["outcome_year"].max() == 2016
    assert set(labels.loc[labels["horizon"] == 8, "as_of_year"]) == {2008}
    assert 2016 not in set(labels["as_of_year"])  # nothing observed after the last year
    assert (labels["outcome_year"] == labels["as_of_year"] + labels["horizon"]).all()
    # mine 3: idle in 2009 -> no labels as of 2009, and 2008 -> 2009 is not viable
    m3 = labels_of(labels, 3)
    assert 2009 not in {t for t, _ in m3}
    assert m3[(2008, 1)] == 0 and m3[(2008, 2)] == 1 and m3[(2010, 1)] == 0
    # gem id travels from the as-of row; mine 2 is viable everywhere
    assert set(labels.loc[labels["msha_id"] == 1, "gem_mine_id"]) == {"M1"}
    assert set(labels_of(labels, 2).values()) == {1}
    assert len(labels_of(labels, 2)) == sum(2016 - t for t in range(2008, 2016))


def test_year_gap_gives_no_label_and_horizons_come_from_yaml() -> None:
    panel = mine_panel()
    panel = panel[panel["year"] != 2012]
    labels = us_mine_labels(panel)
    assert 2012 not in set(labels["outcome_year"])
    assert load_config().us_mine.horizons == list(range(1, 9))
    only = us_mine_labels(mine_panel(), horizons=[2])
    assert set(only["horizon"]) == {2}
    assert labels_of(only, 1) == {(2008, 2): 1, (2009, 2): 0, (2010, 2): 0}


def test_mine_panel_must_be_unique_and_empty_is_typed() -> None:
    panel = mine_panel()
    with pytest.raises(ValueError, match="share a key"):
        us_mine_labels(pd.concat([panel, panel.head(1)]))
    empty = us_mine_labels(panel.head(0))
    assert empty.empty and list(empty.columns) == list(US_MINE_COLUMNS)
    with pytest.raises(ValueError, match="positive"):
        us_mine_labels(panel, horizons=[0])


# ---------------------------------------------------------------------------------------------
# GEM transitions


def releases() -> pd.DataFrame:
    r0 = {
        "M1": "operating",
        "M2": "Operating",  # publisher casing
        "M3": "operating",
        "M4": "proposed",
        "M5": "proposed",
        "M6": "operating",  # missing from the next release
        "M7": "mothballed",  # neither at-risk set
    }
    r1 = {"M1": "closed", "M2": "operating", "M3": "mothballed", "M4": "cancelled", "M5": "operating", "M7": "closed"}
    r1["M8"] = "proposed"  # new in r1
    rows = [(m, "2023-04", 2023, s) for m, s in r0.items()] + [(m, "2024-04", 2024, s) for m, s in r1.items()]
    return pd.DataFrame(rows, columns=["gem_mine_id", "release", "release_year", "status"])


def test_transitions_between_two_releases() -> None:
    labels = gem_transition_labels(releases())
    assert list(labels.columns) == list(GEM_TRANSITION_COLUMNS)
    got = {(m, k): (s, lab) for m, k, s, lab in labels[["gem_mine_id", "label_kind", "to_status", "label"]].values}
    assert got == {
        ("M1", "stopped"): ("closed", 1),
        ("M2", "stopped"): ("operating", 0),
        ("M3", "stopped"): ("mothballed", 1),
        ("M4", "abandoned"): ("cancelled", 1),
        ("M5", "abandoned"): ("operating", 0),
    }
    assert set(labels["from_release"]) == {"2023-04"} and set(labels["to_release"]) == {"2024-04"}
    assert (labels["years_between"] == 1.0).all()
    assert (labels["as_of_year"] == 2023).all() and (labels["outcome_year"] == 2024).all()
    drops = gem_transition_dropouts(releases()).set_index("label_kind")
    assert drops.loc["stopped", ["n_at_risk", "n_labelled", "n_missing_from_later"]].tolist() == [4, 3, 1]
    assert drops.loc["abandoned", ["n_at_risk", "n_labelled", "n_missing_from_later"]].tolist() == [2, 2, 0]


def test_transitions_use_consecutive_pairs_only_and_need_two_releases() -> None:
    third = pd.DataFrame(
        [("M1", "2024-10", 2024, "closed"), ("M2", "2024-10", 2024, "retired")],
        columns=["gem_mine_id", "release", "release_year", "status"],
    )
    labels = gem_transition_labels(pd.concat([releases(), third]))
    pairs = set(map(tuple, labels[["from_release", "to_release"]].drop_duplicates().values))
    assert pairs == {("2023-04", "2024-04"), ("2024-04", "2024-10")}
    late = labels[labels["from_release"] == "2024-04"]
    assert late[["gem_mine_id", "label"]].values.tolist() == [["M2", 1]]  # M1 was closed already
    assert late["years_between"].iloc[0] == 0.5
    one = gem_transition_labels(releases().query("release == '2024-04'"))
    assert one.empty and list(one.columns) == list(GEM_TRANSITION_COLUMNS)
    assert gem_transition_dropouts(releases().query("release == '2024-04'")).empty


# ---------------------------------------------------------------------------------------------
# GEM survival


def dim_mine() -> pd.DataFrame:
    rows = [
        ("A", "operating", 2000, None),  # censored at 2024: 24 years
        ("B", "closed", 1990, 2010),  # event: 20 years
        ("C", "closed", 1990, None),  # closed, no year: unusable
        ("D", "proposed", 2030, None),  # never opened
        ("E", "operating", 2025, None),  # opens after the release: unusable
        ("F", "mothballed", 2000, 2020),  # may restart: censored
        ("G", "operating", 1980, 2016),  # status wins over a stray closing year
        ("H", "operating", None, None),  # no opening year
    ]
    frame = pd.DataFrame(rows, columns=["gem_mine_id", "status", "opening_year", "closing_year"])
    return frame.assign(country_iso3="AUS", latest_release="2024-04")


def test_survival_durations_and_censoring() -> None:
    got = gem_survival(dim_mine()).set_index("gem_mine_id")
    assert list(got.index) == ["A", "B", "F", "G"]
    assert got.loc["A", ["end_year", "duration_years", "event"]].tolist() == [2024, 24, 0]
    assert got.loc["B", ["end_year", "duration_years", "event"]].tolist() == [2010, 20, 1]
    assert got.loc["F", ["end_year", "event"]].tolist() == [2024, 0]
    assert got.loc["G", ["end_year", "event"]].tolist() == [2024, 0]
    assert (got["country_iso3"] == "AUS").all()


def test_survival_needs_a_censoring_year() -> None:
    bare = dim_mine().drop(columns="latest_release")
    with pytest.raises(ValueError, match="release_year"):
        gem_survival(bare)
    assert gem_survival(bare, release_year=2020).set_index("gem_mine_id").loc["A", "duration_years"] == 20


# ---------------------------------------------------------------------------------------------
# Countries


def country_panel() -> pd.DataFrame:
    rows = [
        ("AAA", 2000, 100.0, 50.0),
        ("AAA", 2005, 75.0, 40.0),  # exactly -25 %: a decline
        ("BBB", 2000, 100.0, 0.0),
        ("BBB", 2005, 75.0001, 10.0),  # just short of -25 %
        ("CCC", 2000, 0.0, 5.0),  # not producing at t: no label
        ("CCC", 2005, 3.0, 5.0),
        ("DDD", 2000, 10.0, None),
        ("DDD", 2005, None, None),  # t + H unobserved: no label
        ("EEE", 2000, 8.0, None),
        ("EEE", 2005, 0.0, None),  # stopped: -100 %
        ("FFF", 2000, 0.3, None),
        ("FFF", 2005, 0.225, None),  # -25 % up to float rounding
    ]
    return pd.DataFrame(rows, columns=["iso3", "year", "coal_production_twh", "coal_consumption_twh"])


def test_country_decline_at_exactly_the_threshold() -> None:
    labels = country_labels(country_panel())
    assert list(labels.columns) == list(COUNTRY_COLUMNS)
    assert set(labels["horizon"]) == {5}  # 10 and 20 have no observed t + H
    got = labels.set_index("iso3")
    assert list(got.index) == ["AAA", "BBB", "EEE", "FFF"]
    assert got.loc["AAA", "production_change_pct"] == pytest.approx(-25.0)
    assert got["decline"].to_dict() == {"AAA": 1, "BBB": 0, "EEE": 1, "FFF": 1}
    assert got.loc["EEE", "production_change_pct"] == pytest.approx(-100.0)
    assert got.loc["AAA", "consumption_change_pct"] == pytest.approx(-20.0)
    assert np.isnan(got.loc["BBB", "consumption_change_pct"])  # zero consumption at t: no rate
    assert load_config().country.decline_threshold_pct == 25.0
    assert load_config().country.horizons == [5, 10, 20]


def test_country_threshold_and_horizons_can_be_overridden() -> None:
    labels = country_labels(country_panel(), horizons=[5], decline_threshold_pct=50).set_index("iso3")
    assert labels["decline"].to_dict() == {"AAA": 0, "BBB": 0, "EEE": 1, "FFF": 0}
    assert country_labels(country_panel(), horizons=[10]).empty


# ---------------------------------------------------------------------------------------------
# Time-correctness


def make_features(rows: pd.DataFrame, t: int) -> pd.DataFrame:
    """Typical mine features: latest output, mean output, years producing, all from rows <= t."""
    g = rows.groupby("msha_id")
    return pd.DataFrame(
        {
            "last_production_mt": g["production_mt"].last(),
            "mean_production_mt": g["production_mt"].mean(),
            "years_producing": g["is_producing"].sum(),
        }
    ).reset_index()


def test_changing_the_future_moves_labels_but_never_features() -> None:
    rng = np.random.default_rng(7)
    panel = mine_panel().sort_values(["msha_id", "year"]).reset_index(drop=True)
    for t in range(2008, 2016):
        future = panel["year"] > t
        changed = panel.copy()
        changed.loc[future, "production_mt"] = rng.uniform(0, 50, int(future.sum()))
        changed.loc[future, "is_producing"] = ~changed.loc[future, "is_producing"]
        before = features_asof(panel, [t], make_features)
        after = features_asof(changed, [t], make_features)
        pd.testing.assert_frame_equal(before, after)
        assert (before["data_year"] <= t).all()
        lab0, lab1 = us_mine_labels(panel), us_mine_labels(changed)
        at_t0 = lab0[lab0["as_of_year"] == t].reset_index(drop=True)
        at_t1 = lab1[lab1["as_of_year"] == t].reset_index(drop=True)
        assert not at_t0.equals(at_t1), f"labels as of {t} should react to the future"
        assert_no_leakage(before, lab0)


def test_feature_panel_asof_drops_later_and_undated_rows() -> None:
    panel = pd.DataFrame({"year": [2009, 2010, 2011, None], "x": [1, 2, 3, 4]})
    assert feature_panel_asof(panel, 2010)["x"].tolist() == [1, 2]


def test_assert_no_leakage_catches_each_kind() -> None:
    ok = pd.DataFrame({"msha_id": [1], "as_of_year": [2010], "data_year": [2010]})
    assert_no_leakage(ok)
    with pytest.raises(LeakageError, match="after their as-of year"):
        assert_no_leakage(ok.assign(data_year=2011))
    with pytest.raises(LeakageError, match="outcome columns"):
        assert_no_leakage(ok.assign(viable=1))
    with pytest.raises(LeakageError, match="not after"):
        assert_no_leakage(labels=pd.DataFrame({"as_of_year": [2010], "outcome_year": [2010]}))
    with pytest.raises(LeakageError, match="after their as-of year"):
        features_asof(mine_panel(), [2009], lambda rows, t: make_features(rows, t).assign(data_year=t + 1))


# ---------------------------------------------------------------------------------------------
# Warehouse round trip (a real DuckDB file, tiny gold tables)


def test_write_outcomes_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    with DuckDBWarehouse(path) as wh:
        written = write_outcomes(wh)  # nothing built yet: empty tables with the right columns
        assert written == dict.fromkeys(OUTCOME_TABLES, 0)
        panel = mine_panel().assign(is_synthetic=False)
        wh.write_table("gold", "fct_us_mine__yearly", panel)
        wh.write_table("gold", "int_gem_mines__release", releases())
        dim = dim_mine().assign(gem_mine_id=[f"M{i}" for i in range(1, 9)], is_synthetic=True)
        wh.write_table("gold", "dim_mine", dim)
        wh.write_table("gold", "fct_country__yearly", country_panel().assign(is_synthetic=False))
        written = write_outcomes(wh)
        assert written == {
            "fvi_outcome_us_mine": len(us_mine_labels(panel)),
            "fvi_outcome_gem_transition": 5,
            "fvi_outcome_gem_survival": 4,
            "fvi_outcome_gem_hazard": len(gem_hazard(dim)),
            "fvi_outcome_country": 4,
        }
        assert written["fvi_outcome_gem_hazard"] > 0
    with DuckDBWarehouse(path, read_only=True) as wh:
        for table, schema in OUTCOME_TABLES.items():
            assert list(wh.query(f"select * from gold.{table} limit 0").columns) == list(schema)
        transitions = wh.query("select * from gold.fvi_outcome_gem_transition")
        assert transitions["is_synthetic"].all()  # carried from dim_mine
        frames = load_outcomes(wh)
        assert len(frames["fvi_outcome_us_mine"]) == written["fvi_outcome_us_mine"]
