"""A small generated gold layer (US mines, GEM mines, countries) for the ML unit tests.

Only the columns the ML code reads are written. Mines have a latent strength that drives both
their metric scores and their yearly chance of stopping, so models have something to learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tests.gold import write_gold

from fvi.outcomes import country_labels, us_mine_labels
from fvi.warehouse import DuckDBWarehouse

US_YEARS = range(2008, 2017)
COUNTRY_YEARS = range(1990, 2025)
HORIZONS = ("H5", "H10", "H20")


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def us_panel(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict[int, float]]:
    rows, strength = [], {}
    for i in range(n):
        msha = 100000 + i
        z = float(rng.normal())
        strength[msha] = z
        start = int(rng.choice(list(US_YEARS)[:4]))
        alive = True
        for year in US_YEARS:
            if year < start or not alive:
                continue
            if year > start and rng.random() < _sigmoid(-1.6 - 1.2 * z):
                alive = False
                continue
            prod = float(np.exp(z + rng.normal(0, 0.2)) * 0.5)
            emp = float(max(1.0, prod * 200 + rng.normal(0, 5)))
            producing = rng.random() > 0.05
            rows.append(
                {
                    "msha_id": msha,
                    "year": year,
                    "production_mt": prod if producing else 0.0,
                    "average_employees": emp,
                    "labor_hours": emp * 2000.0,
                    "productivity_t_per_worker": (prod * 1e6 / emp) if producing else 0.0,
                    "is_producing": producing,
                    "mine_type": "underground" if z < 0 else "surface",
                    "gem_mine_id": None,
                    "is_synthetic": False,
                }
            )
    return pd.DataFrame(rows), strength


def country_panel(rng: np.random.Generator, n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        iso = "USA" if i == 0 else f"C{i:02d}"
        base, trend = float(rng.uniform(20, 400)), float(rng.normal(0, 0.04))
        for year in COUNTRY_YEARS:
            prod = base * np.exp(trend * (year - 1990) + rng.normal(0, 0.08))
            rows.append(
                {
                    "iso3": iso,
                    "year": year,
                    "coal_production_twh": prod,
                    "coal_consumption_twh": prod * float(rng.uniform(0.8, 1.2)),
                    "coal_share_of_electricity_pct": float(np.clip(40 + 300 * trend + rng.normal(0, 3), 0, 100)),
                    "has_cop26_coal_pledge": bool(i % 3 == 0),
                    "cop26_asof_year": 2021,
                    "phase_out_asof_year": 2021,
                    "mining_land_asof_year": 2020,
                    "is_synthetic": False,
                }
            )
    return pd.DataFrame(rows)


def _cell(entity_type: str, entity_id: str, year: int, metric: str, raw: float, score: float, imp: str) -> dict:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "as_of_year": int(year),
        "metric_id": metric,
        "raw_value": raw,
        "score": float(np.clip(score, 0, 100)),
        "imputation": imp,
    }


def metric_cells(us: pd.DataFrame, countries: pd.DataFrame, gem: pd.DataFrame) -> pd.DataFrame:
    cells = []
    for r in us.itertuples():
        eid = f"MSHA{r.msha_id}"
        cells.append(
            _cell(
                "us_mine",
                eid,
                r.year,
                "mine_production_mt",
                r.production_mt,
                20 * np.log1p(r.production_mt * 10),
                "observed",
            )
        )
        cells.append(
            _cell(
                "us_mine",
                eid,
                r.year,
                "mine_workforce_size",
                r.average_employees,
                np.log1p(r.average_employees) * 15,
                "observed",
            )
        )
        cells.append(
            _cell(
                "us_mine",
                eid,
                r.year,
                "mine_productivity_t_per_worker",
                r.productivity_t_per_worker,
                np.log1p(r.productivity_t_per_worker) * 8,
                "observed",
            )
        )
        # read through the GEM crosswalk: dated to the tracker release, masked by the features
        cells.append(_cell("us_mine", eid, r.year, "mine_opening_year", np.nan, 50.0, "country_median"))
    for r in countries[countries["year"] >= 2000].itertuples():
        cells.append(
            _cell(
                "country",
                r.iso3,
                r.year,
                "country_coal_production_twh",
                r.coal_production_twh,
                np.log10(r.coal_production_twh) * 30,
                "observed",
            )
        )
        cells.append(
            _cell(
                "country",
                r.iso3,
                r.year,
                "country_coal_share_of_electricity_pct",
                r.coal_share_of_electricity_pct,
                r.coal_share_of_electricity_pct,
                "observed",
            )
        )
        cells.append(
            _cell(
                "country",
                r.iso3,
                r.year,
                "country_has_cop26_coal_pledge",
                float(r.has_cop26_coal_pledge),
                0.0 if r.has_cop26_coal_pledge else 100.0,
                "observed",
            )
        )
    for r in gem.itertuples():
        cells.append(
            _cell(
                "mine",
                r.gem_mine_id,
                2024,
                "mine_capacity_mtpa",
                r.capacity_mtpa,
                30 + 10 * r.capacity_mtpa,
                "observed",
            )
        )
        cells.append(
            _cell(
                "mine",
                r.gem_mine_id,
                2024,
                "mine_workforce_size",
                r.workforce_size,
                np.log1p(r.workforce_size) * 15,
                "observed",
            )
        )
        cells.append(_cell("mine", r.gem_mine_id, 2024, "mine_opening_year", float(r.opening_year), 60.0, "observed"))
    return pd.DataFrame(cells)


def gem_mines(rng: np.random.Generator, n: int, isos: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gem_mine_id": [f"M{i:04d}" for i in range(n)],
            "country_iso3": rng.choice(isos, n),
            "opening_year": rng.integers(1950, 2020, n),
            "mine_type": rng.choice(["Underground", "Surface"], n),
            "latest_release": "2024-04",
            "capacity_mtpa": rng.uniform(0.1, 5, n),
            "workforce_size": rng.integers(50, 3000, n).astype(float),
            "status": "operating",
            "closing_year": None,
            "is_synthetic": False,
        }
    )


def score_keys(cells: pd.DataFrame, countries: pd.DataFrame, gem: pd.DataFrame) -> pd.DataFrame:
    keys = cells[["entity_type", "entity_id", "as_of_year"]].drop_duplicates()
    iso = dict(zip(gem["gem_mine_id"], gem["country_iso3"], strict=True))
    country = np.where(
        keys["entity_type"].eq("country"),
        keys["entity_id"],
        np.where(keys["entity_type"].eq("us_mine"), "USA", keys["entity_id"].map(iso)),
    )
    keys = keys.assign(country_iso3=country, persona="analyst")
    return pd.concat([keys.assign(horizon=h) for h in HORIZONS], ignore_index=True)


def build_world(path: Path, *, seed: int = 0, n_us: int = 160, n_gem: int = 25, n_countries: int = 30) -> Path:
    """Write the generated gold tables into a DuckDB file at ``path``."""
    rng = np.random.default_rng(seed)
    us, _ = us_panel(rng, n_us)
    countries = country_panel(rng, n_countries)
    gem = gem_mines(rng, n_gem, sorted(countries["iso3"].unique().tolist()))
    cells = metric_cells(us, countries, gem)
    with DuckDBWarehouse(path) as wh:
        wh.write_table("gold", "fct_us_mine__yearly", us)
        wh.write_table("gold", "fct_country__yearly", countries)
        wh.write_table("gold", "dim_mine", gem)
        write_gold(wh, "fvi_metric_scores", cells)
        write_gold(wh, "fvi_scores", score_keys(cells, countries, gem))
        write_gold(wh, "fvi_outcome_us_mine", us_mine_labels(us))
        write_gold(wh, "fvi_outcome_country", country_labels(countries))
    return path
