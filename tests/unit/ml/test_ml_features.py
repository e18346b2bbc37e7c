import numpy as np
import pandas as pd
import pytest
from tests.gold import write_gold
from tests.unit.ml.ml_world import build_world

from fvi.ml import features as F
from fvi.outcomes import LeakageError, assert_no_leakage
from fvi.scoring.config import ScoringSpec
from fvi.warehouse import DuckDBWarehouse

T = 2011


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("ml_world") / "world.duckdb")


def _perturb_after(path, t):
    """Rewrite every dated row after ``t`` (values, presence) in place."""
    rng = np.random.default_rng(7)
    with DuckDBWarehouse(path) as wh:
        us = wh.query("select * from gold.fct_us_mine__yearly")
        late = us["year"] > t
        us.loc[late, "production_mt"] *= rng.uniform(0.1, 5, late.sum())
        us.loc[late, "is_producing"] = rng.random(late.sum()) < 0.5
        us = us[~(late & (rng.random(len(us)) < 0.3))]  # some mines vanish later
        wh.write_table("gold", "fct_us_mine__yearly", us)
        c = wh.query("select * from gold.fct_country__yearly")
        c.loc[c["year"] > t, "coal_production_twh"] *= 3.0
        wh.write_table("gold", "fct_country__yearly", c)
        cells = wh.query("select * from gold.fvi_metric_scores")
        cl = cells["as_of_year"] > t
        cells.loc[cl, "score"] = rng.uniform(0, 100, cl.sum())
        cells.loc[cl, "raw_value"] = rng.uniform(0, 100, cl.sum())
        write_gold(wh, "fvi_metric_scores", cells)


def test_features_at_t_do_not_move_when_the_future_changes(world, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(world.read_bytes())
    with DuckDBWarehouse(world, read_only=True) as wh:
        mine_before = F.mine_features(wh, horizon="H5")
        country_before = F.country_features(wh, horizon="H10")
    _perturb_after(copy, T)
    with DuckDBWarehouse(copy, read_only=True) as wh:
        mine_after = F.mine_features(wh, horizon="H5")
        country_after = F.country_features(wh, horizon="H10")
    for before, after in ((mine_before, mine_after), (country_before, country_after)):
        b = before[before["as_of_year"] <= T].reset_index(drop=True)
        a = after[after["as_of_year"] <= T].reset_index(drop=True)
        assert len(b) > 100
        pd.testing.assert_frame_equal(a, b)
        # ... while later rows did change (the perturbation reached them)
        assert not before[before["as_of_year"] > T].equals(after[after["as_of_year"] > T])


def test_one_fixed_feature_list_for_us_and_gem_mines(world):
    with DuckDBWarehouse(world, read_only=True) as wh:
        mf = F.mine_features(wh, horizon="H5")
    assert list(mf.columns) == [*F.KEYS, "country_iso3", "data_year", *F.mine_feature_names()]
    assert set(mf["entity_type"]) == {"us_mine", "mine"}
    us, gem = mf[mf["entity_type"] == "us_mine"], mf[mf["entity_type"] == "mine"]
    assert us["prod_log_change_1y"].notna().any() and gem["prod_log_change_1y"].isna().all()
    assert gem["mine_age_years"].notna().all() and us["mine_age_years"].isna().all()
    # the GEM-crosswalk opening year (tracker of 2024) never reaches a 2008-2016 US row
    assert us["score_mine_opening_year"].isna().all()
    assert_no_leakage(features=mf)


def test_snapshot_cells_are_dated_and_masked():
    spec = ScoringSpec.from_registry()
    cells = pd.DataFrame(
        {
            "entity_type": ["country", "country", "country", "us_mine", "mine", "mine"],
            "entity_id": ["AAA", "AAA", "AAA", "MSHA1", "M1", "M1"],
            "as_of_year": [2010, 2021, 2010, 2012, 2020, 2024],
            "metric_id": [
                "country_has_cop26_coal_pledge",
                "country_has_cop26_coal_pledge",
                "country_coal_production_twh",
                "mine_opening_year",
                "mine_opening_year",
                "mine_opening_year",
            ],
            "raw_value": [1.0, 1.0, 10.0, 1990.0, 1990.0, 1990.0],
            "score": [0.0, 0.0, 50.0, 40.0, 40.0, 40.0],
            "imputation": ["observed"] * 6,
        }
    )
    snaps = pd.DataFrame(
        {
            "iso3": ["AAA", "AAA"],
            "year": [2010, 2021],
            "cop26_asof_year": [2021, 2021],
            "phase_out_asof_year": [2021, 2021],
            "mining_land_asof_year": [2020, 2020],
        }
    )
    dated = F.date_cells(
        cells, spec, country_snapshots=snaps, mine_release_year=pd.Series({"M1": 2024}), gem_release_year=2024
    )
    assert dated["data_year"].tolist() == [2021, 2021, 2010, 2024, 2024, 2024]
    with pytest.raises(LeakageError):
        assert_no_leakage(features=dated)
    kept = F.mask_future(dated)
    assert kept[["entity_id", "as_of_year", "metric_id"]].values.tolist() == [
        ["AAA", 2021, "country_has_cop26_coal_pledge"],
        ["AAA", 2010, "country_coal_production_twh"],
        ["M1", 2024, "mine_opening_year"],
    ]
    assert_no_leakage(features=kept)


def test_history_uses_only_earlier_years():
    panel = pd.DataFrame(
        {
            "msha_id": [1, 1, 1, 1, 2, 3],
            "year": [2008, 2009, 2010, 2012, 2012, 2011],
            "production_mt": [1.0, 2.0, 0.0, 4.0, 1.0, 1.0],
            "average_employees": [10.0, 10.0, 5.0, 20.0, 3.0, 1.0],
            "labor_hours": [1e4, 1e4, 5e3, 2e4, 3e3, 1e3],
            "is_producing": [True, True, False, True, True, True],
            "mine_type": ["underground"] * 4 + ["surface"] * 2,
        }
    )
    h = F.us_mine_history(panel).set_index(["msha_id", "year"])
    assert h.loc[(1, 2009), "prod_log_change_1y"] == pytest.approx(np.log1p(2e6) - np.log1p(1e6))
    assert np.isnan(h.loc[(1, 2008), "prod_log_change_1y"])  # 2007 is before the panel: unknown
    # 2011 is covered (mine 3 is listed) but mine 1 is not: it produced nothing that year
    assert h.loc[(1, 2012), "prod_log_change_1y"] == pytest.approx(np.log1p(4e6))
    assert h.loc[(1, 2012), "years_producing"] == 3
    assert h.loc[(1, 2012), "producing_share_3y"] == pytest.approx(1 / 3)
    assert h.loc[(2, 2012), "years_since_first_seen"] == 0
    later = panel.copy()
    later.loc[later["year"] > 2009, "production_mt"] = 99.0
    h2 = F.us_mine_history(later).set_index(["msha_id", "year"])
    pd.testing.assert_frame_equal(
        h.loc[h.index.get_level_values(1) <= 2009], h2.loc[h2.index.get_level_values(1) <= 2009]
    )


def test_country_peak_and_trend():
    panel = pd.DataFrame(
        {
            "iso3": ["A"] * 6,
            "year": range(2000, 2006),
            "coal_production_twh": [10.0, 20.0, 15.0, np.nan, 5.0, 25.0],
            "coal_consumption_twh": [1.0] * 6,
            "coal_share_of_electricity_pct": [50.0] * 6,
        }
    )
    h = F.country_history(panel).set_index("year")
    assert h.loc[2002, "prod_share_of_peak"] == pytest.approx(0.75)
    assert h.loc[2004, "years_since_peak"] == 3
    assert h.loc[2005, "years_since_peak"] == 0
    assert np.isnan(h.loc[2003, "prod_share_of_peak"])


def test_gem_like_rows_lose_only_the_eia_history(world):
    with DuckDBWarehouse(world, read_only=True) as wh:
        us = F.mine_features(wh, horizon="H5").query("entity_type == 'us_mine'")
    masked = F.gem_like(us)
    assert masked[list(F.US_ONLY_FEATURES)].isna().all().all()
    rest = [c for c in us.columns if c not in F.US_ONLY_FEATURES]
    pd.testing.assert_frame_equal(masked[rest], us[rest])
    assert us["productivity_t_per_hour"].notna().any()  # the original is untouched
