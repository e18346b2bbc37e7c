"""Back-test and flat export on the real-sample build (shared, read-only: nothing is written to it)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fvi.ml.backtest import BacktestConfig, run_backtest
from fvi.ml.export_mines import COUNTRY_COLUMNS, MINE_COLUMNS, export_country_scores, export_mine_scores
from fvi.warehouse import DuckDBWarehouse

pytestmark = [pytest.mark.integration]


@pytest.fixture()
def backtest(shared_settings, tmp_path: Path) -> tuple[dict, bool, int]:
    with DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh:
        has_oof = wh.has_table("gold", "fvi_backtest_oof")
        last_eia = int(wh.query(f"select max(year) as y from {wh.schema('gold')}.fct_us_mine__yearly")["y"].iloc[0])
        report = run_backtest(wh, tmp_path / "bt", config=BacktestConfig(n_boot=300), write_gold=False)
    return report, has_oof, last_eia


def test_backtest_us_mines_h5_real(backtest, tmp_path: Path) -> None:
    report, has_oof, last_eia = backtest
    assert {p.name for p in (tmp_path / "bt").iterdir()} == {"backtest.json", "backtest.md", "calibration.png"}
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["levels"].keys() == report["levels"].keys()
    us = report["levels"]["us_mine"]
    h5 = us["horizons"]["5"]
    assert h5["fvi_horizon"] == "H5" and h5["n"] > 1000
    first, last = (int(y) for y in h5["outcome_years"].split("-"))
    assert last <= last_eia and int(h5["as_of_years"].split("-")[-1]) + 5 <= last_eia  # no leakage
    scorers = {s["scorer"] for s in h5["scorers"].values()}
    assert {"fvi", "size", "equal_weight"} <= scorers
    assert ("model" in scorers) == has_oof  # the model's out-of-fold rows, when training wrote them
    for key, sc in h5["scorers"].items():
        print(f"us_mine H5 {key}: n={sc['n']} AUC={sc['auc']:.3f} Brier={sc['brier']:.3f}")
        assert sc["n"] > 1000 and 0.5 < sc["auc"] < 1.0 and 0 < sc["brier"] < 0.5
        assert sum(b["n"] for b in sc["calibration"]) == sc["n"]
    diff = h5["scorers"]["fvi"]["auc_minus_size"]
    assert diff["lo"] <= diff["diff"] <= diff["hi"]
    assert sorted(int(h) for h in us["horizons"]) == list(range(1, 9))
    # countries: decline is the bad outcome, the scores face "viable"
    country = report["levels"]["country"]["horizons"]
    assert set(country) == {"5", "10", "20"}
    for h, hd in country.items():
        for key, sc in hd["scorers"].items():
            print(f"country H{h} {key}: n={sc['n']} AUC={sc['auc']:.3f} Brier={sc['brier']:.3f}")
    assert country["5"]["scorers"]["fvi"]["auc"] > 0.5
    assert report["levels"]["gem_stopped"].get("skipped")  # one GEM release in the samples: no transitions
    assert "## us_mine" in (tmp_path / "bt" / "backtest.md").read_text()


def test_export_real(shared_settings, tmp_path: Path) -> None:
    out = tmp_path / "mines.parquet"
    n = export_mine_scores(shared_settings, out, "parquet")
    mines = pd.read_parquet(out)
    assert n == len(mines) > 6000
    assert set(MINE_COLUMNS) <= set(mines.columns) and any(c.startswith("pillar_") for c in mines.columns)
    assert not mines.duplicated(["mine_id", "horizon"]).any()
    assert (mines.groupby("mine_id")["horizon"].nunique() == 3).all()
    with DuckDBWarehouse(shared_settings.duckdb_path, read_only=True) as wh:
        g = wh.schema("gold")
        gem_ids = set(wh.query(f"select gem_mine_id from {g}.dim_mine")["gem_mine_id"])
        linked = wh.query(f"select msha_id, gem_mine_id from {g}.fct_us_mine__yearly where gem_mine_id is not null")
    assert gem_ids <= set(mines["mine_id"])  # every GEM mine, keyed by its GEM id
    us = mines[mines["entity_type"] == "us_mine"]
    assert us["mine_id"].str.startswith("MSHA").all()
    assert (us["mine_id"] == "MSHA" + us["msha_id"].astype(str)).all()  # EIA records keyed by MSHA ID
    linked_us = us[us["msha_id"].isin(set(linked["msha_id"]))]
    assert len(linked_us) and linked_us["linked_gem_mine_id"].isin(gem_ids).all()  # ... linked to their GEM id
    gem = mines[mines["entity_type"] == "mine"]
    assert (gem["mine_id"] == gem["gem_mine_id"]).all() and gem["msha_id"].isna().all()
    for key in ("gem_mine_id", "msha_id"):  # each key names one row per horizon
        assert not mines.dropna(subset=[key]).duplicated([key, "horizon"]).any()
    # every operating GEM mine has P(operating) with its band at H5, H10 and H20, never rising with H
    operating = gem[gem["status"].str.lower() == "operating"]
    assert len(operating) > 3000 and operating[["p_operating", "p_operating_lo", "p_operating_hi"]].notna().all().all()
    assert set(operating["method"]) == {"global_hazard"}
    wide = operating.pivot(index="mine_id", columns="horizon", values="p_operating")
    assert (wide["H5"] >= wide["H10"]).all() and (wide["H10"] >= wide["H20"]).all()
    print(f"mine export: {mines['mine_id'].nunique()} mines, {mines['p_operating'].notna().sum()} rows with p")
    n2016 = export_mine_scores(shared_settings, tmp_path / "m2016.csv", "csv", as_of=2016)
    assert n2016 > 0 and set(pd.read_csv(tmp_path / "m2016.csv")["as_of_year"]) == {2016}
    nc = export_country_scores(shared_settings, tmp_path / "countries.csv", "csv")
    countries = pd.read_csv(tmp_path / "countries.csv", keep_default_na=False, na_values=[""])
    assert nc == len(countries) > 100 and set(COUNTRY_COLUMNS) <= set(countries.columns)
    assert not countries.duplicated(["iso3", "horizon"]).any()
