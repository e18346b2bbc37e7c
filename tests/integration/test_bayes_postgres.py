"""The Bayesian step's SQL runs on PostgreSQL too (the server profile once failed here: `qualify`)."""

from __future__ import annotations

import pandas as pd
from tests.gold import write_gold
from tests.integration.helpers import scratch_database

from fvi.ml.bayes import BayesConfig, country_prediction_frame, mine_prediction_frame
from fvi.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse


def _fill(wh: Warehouse) -> None:
    cfg = BayesConfig()
    rows = []
    for et, eid, iso3 in (("mine", "M1", "IDN"), ("us_mine", "MSHA7", "USA"), ("country", "IDN", "IDN")):
        for year in (2022, 2024):
            for h in ("H5", "H10", "H20"):
                rows.append({"entity_type": et, "entity_id": eid, "country_iso3": iso3, "as_of_year": year,
                             "horizon": h, "persona": cfg.persona, "fvi": 50.0 + year - 2022,
                             "pillar_01": 40.0 + year - 2022, "pillar_02": 60.0})
    write_gold(wh, "fvi_scores", pd.DataFrame(rows))
    wh.write_table("gold", "dim_mine", pd.DataFrame({"gem_mine_id": ["M1"], "state_province": ["Kalimantan"]}))
    wh.write_table("gold", "fct_us_mine__yearly", pd.DataFrame({"msha_id": [7, 7], "year": [2022, 2024],
                                                                "state": ["Wyoming", "Wyoming"]}))
    wh.write_table("gold", "dim_country", pd.DataFrame({"iso3": ["IDN"], "income_level": ["Upper middle income"]}))


def _frames(wh: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    return mine_prediction_frame(wh), country_prediction_frame(wh)


def test_prediction_frames_agree_on_duckdb_and_postgres(tmp_path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        _fill(wh)
        duck = _frames(wh)
    with scratch_database() as url:
        wh = PostgresWarehouse(url)
        try:
            _fill(wh)
            pg = _frames(wh)
        finally:
            wh.close()
    mines, countries = pg
    assert sorted(mines["entity_id"]) == ["M1", "MSHA7"] and set(mines["as_of_year"]) == {2024}  # latest only
    assert dict(zip(mines["entity_id"], mines["subgroup"], strict=True)) == {"M1": "Kalimantan", "MSHA7": "Wyoming"}
    assert len(countries) == len(BayesConfig().country_horizons) and set(countries["as_of_year"]) == {2024}
    for d, p in zip(duck, pg, strict=True):
        pd.testing.assert_frame_equal(
            d.reset_index(drop=True), p.reset_index(drop=True), check_dtype=False, check_like=True
        )
