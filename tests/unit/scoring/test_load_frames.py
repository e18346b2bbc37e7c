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
            "first_seen_release": ["2020-06"],
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
        assert pd.isna(opening.loc[2015]) and opening.loc[2022] == 1990  # GEM listed the mine in 2020
