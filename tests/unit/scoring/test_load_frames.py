"""Scores never use a fact from their future: static snapshots count only from the year they were observed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fvi.registry.metrics import load_metrics
from fvi.scoring.config import ScoringSpec
from fvi.scoring.engine import load_frames
from fvi.warehouse import DuckDBWarehouse


def _gold(wh: DuckDBWarehouse) -> None:
    metrics = load_metrics().values()
    years = [2015, 2022]
    country = pd.DataFrame({"iso3": ["AAA", "AAA"], "year": years})
    for m in metrics:
        if m.gold.table == "fct_country__yearly":
            country[m.gold.column] = 1.0
        if m.known_from_column:
            country[m.known_from_column] = 2021
    wh.write_table("gold", "fct_country__yearly", country)
    wh.write_table("gold", "dim_country", pd.DataFrame({"iso3": ["AAA"], "country_name": ["A"]}))
    mine = pd.DataFrame({"gem_mine_id": ["M1", "M1"], "year": years})
    us = pd.DataFrame({"msha_id": [7, 7], "year": years, "mine_name": "x", "status": "Active", "gem_mine_id": "M1"})
    dim = pd.DataFrame(
        {
            "gem_mine_id": ["M1"],
            "mine_name": ["m"],
            "country_iso3": ["AAA"],
            "status": ["operating"],
            "first_seen_release": ["2014-06"],  # first listed early, but the record held is 2020's
            "latest_release": ["2020-06"],
        }
    )
    for m in metrics:
        if m.gold.table == "fct_mine__yearly":
            mine[m.gold.column] = 1.0
        if m.gold.table == "dim_mine":
            dim[m.gold.column] = 1990
        if m.us_mine_column:
            us[m.us_mine_column] = 1.0
    wh.write_table("gold", "fct_mine__yearly", mine)
    wh.write_table("gold", "dim_mine", dim)
    wh.write_table("gold", "fct_us_mine__yearly", us)


def test_snapshots_are_unknown_before_they_were_observed(tmp_path) -> None:
    spec = ScoringSpec.from_registry()
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        _gold(wh)
        countries, mines, us_mines = load_frames(wh, spec)
    by_year = countries.set_index("year")
    for m in spec.metrics.values():
        if m.known_from_column:
            assert np.isnan(by_year.loc[2015, m.id]) and by_year.loc[2022, m.id] == 1.0, m.id
        elif m.entity == "country":
            assert by_year.loc[2015, m.id] == 1.0, m.id
    for frame in (mines, us_mines):
        opening = frame.set_index("year")["mine_opening_year"]
        assert pd.isna(opening.loc[2015]) and opening.loc[2022] == 1990  # the record held is GEM's 2020 release


def test_a_mine_reads_its_record_in_the_other_spine_for_the_same_year_only(tmp_path) -> None:
    """GEM M1 = EIA 7 + 8 (production added up); EIA 9 = GEM M2 alone (GEM capacity lent), never across years."""
    from fvi.scoring.impute import LINKED_PREFIX

    spec = ScoringSpec.from_registry()
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        _gold(wh)
        mine = wh.query("select * from gold.fct_mine__yearly")
        m2 = mine.assign(gem_mine_id="M2", gem_capacity_mtpa=[5.0, 6.0])
        wh.write_table("gold", "fct_mine__yearly", pd.concat([mine, m2], ignore_index=True))
        dim = wh.query("select * from gold.dim_mine")
        wh.write_table("gold", "dim_mine", pd.concat([dim, dim.assign(gem_mine_id="M2")], ignore_index=True))
        us = wh.query("select * from gold.fct_us_mine__yearly")
        extra = [us.assign(msha_id=8, production_mt=[2.0, 3.0]), us.assign(msha_id=9, gem_mine_id="M2")]
        us = pd.concat([us, *extra], ignore_index=True)
        us = us.assign(year=np.where(us["msha_id"] == 9, us["year"] + 1, us["year"]))  # 2016 and 2023: no GEM year
        wh.write_table("gold", "fct_us_mine__yearly", pd.concat([us, extra[1]], ignore_index=True))
        _, mines, us_mines = load_frames(wh, spec)
    m1 = mines[mines["entity_id"] == "M1"].set_index("year")
    assert m1.loc[2015, LINKED_PREFIX + "mine_production_mt"] == 1.0 + 2.0  # EIA 7 and 8 added up
    assert m1.loc[2022, LINKED_PREFIX + "mine_production_mt"] == 1.0 + 3.0
    u9 = us_mines[us_mines["entity_id"] == "MSHA9"].set_index("year")
    assert u9.loc[2015, LINKED_PREFIX + "mine_capacity_mtpa"] == 5.0  # same year, M2 is EIA 9 alone
    assert pd.isna(u9.loc[2016, LINKED_PREFIX + "mine_capacity_mtpa"])  # GEM has no 2016 row: nothing lent
    u7 = us_mines[us_mines["entity_id"] == "MSHA7"].set_index("year")
    assert u7[LINKED_PREFIX + "mine_capacity_mtpa"].isna().all()  # M1 is EIA 7 + 8: its capacity is not lent
