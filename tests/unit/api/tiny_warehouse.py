"""A tiny warehouse for the API tests (DuckDB in unit tests, PostgreSQL in the server-profile test).

Four GEM mines (two in ZAF, two in AUS), one US mine (MSHA42, linked to M3) and three countries; FVI
values chosen so every rank is known by hand: in 2024 at H10/analyst M3 (80) > M1 (60) > M4 (50) > M2 (40).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from tests.gold import write_gold

from fvi.warehouse import DuckDBWarehouse, Warehouse

RUN_OLD = "20260101T000000Z_aaaaaa"
RUN = "20260201T000000Z_bbbbbb"
HORIZONS = ("H5", "H10", "H20")
PERSONAS = ("analyst", "investor")
SHIFT = {"H5": 1.0, "H10": 0.0, "H20": -1.0, "analyst": 0.0, "investor": 0.5}

MINES = pd.DataFrame(
    {
        "gem_mine_id": ["M1", "M2", "M3", "M4"],
        "mine_name": ["Alpha Coal Mine", "Beta Colliery", "Gamma Mine", "Delta Project"],
        "mine_name_akas": [None, None, "Kaltim Prima Coal, Sangatta", None],
        "mine_name_local": [None, "Bełchatów", None, None],
        "country_name": ["South Africa", "South Africa", "Australia", "Australia"],
        "country_iso3": ["ZAF", "ZAF", "AUS", "AUS"],
        "status": ["operating", "closed", "operating", "proposed"],
        "capacity_mtpa": [10.0, 2.0, 30.0, None],
        "latitude": [-26.1, -26.5, -23.0, -22.0],
        "longitude": [29.1, 29.5, 148.0, 147.0],
        "owners": ["A Ltd", "B Ltd", "C Pty", "D Pty"],
        "opening_year": [1990, 1970, 2005, None],
        "msha_id": pd.array([None, None, 42, None], dtype="Int64"),
        "is_synthetic": [False] * 4,
    }
)
MINE_FVI = {"M1": 60.0, "M2": 40.0, "M3": 80.0, "M4": 50.0}
COUNTRIES = pd.DataFrame(
    {
        "iso3": ["ZAF", "AUS", "USA"],
        "country_name": ["South Africa", "Australia", "United States"],
        "is_coal_producer": [True, True, True],
        "phase_out_status": [None, None, "none"],
        "phase_out_year": pd.array([None, None, None], dtype="Int64"),
        "is_synthetic": [False] * 3,
    }
)
COUNTRY_FVI = {"ZAF": 45.0, "AUS": 65.0, "USA": 55.0}


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["entity_type", "as_of_year", "horizon", "persona"]
    g = frame.groupby(keys)["fvi"]
    frame["rank"] = g.rank(ascending=False, method="min").astype("Int64")
    frame["percentile"] = g.rank(pct=True) * 100
    for scope, col in (("country", "country_iso3"), ("status", "status")):
        gs = frame.groupby([*keys, col], dropna=False)["fvi"]
        frame[f"rank_in_{scope}"] = gs.rank(ascending=False, method="min").astype("Int64")
        frame[f"percentile_in_{scope}"] = gs.rank(pct=True) * 100
    return frame


def scores_frame() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def add(et: str, eid: str, name: str, iso3: str, status: str | None, year: int, base: float) -> None:
        for h in HORIZONS:
            for p in PERSONAS:
                fvi = base + SHIFT[h] + SHIFT[p] - (2024 - year)
                rows.append(
                    {
                        "entity_type": et,
                        "entity_id": eid,
                        "entity_name": name,
                        "country_iso3": iso3,
                        "status": status,
                        "as_of_year": year,
                        "horizon": h,
                        "persona": p,
                        "aggregation": "arithmetic",
                        "fvi": fvi,
                        "pillar_01": fvi + 5,
                        "pillar_02": None if eid == "M4" else fvi - 5,
                        "pillar_coverage": 0.5 if eid == "M4" else 1.0,
                        "imputed_share": 0.25,
                        "fvi_p05": fvi - 10,
                        "fvi_p50": fvi,
                        "fvi_p95": fvi + 10,
                        "rank_p05": 1.0,
                        "rank_p50": 2.0,
                        "rank_p95": 3.0,
                        "run_id": RUN,
                        "registry_hash": "r" * 64,
                        "is_synthetic": False,
                    }
                )

    for m in MINES.itertuples():
        for year in (2023, 2024):
            add("mine", m.gem_mine_id, m.mine_name, m.country_iso3, m.status, year, MINE_FVI[m.gem_mine_id])
    for year in (2015, 2016):
        add("us_mine", "MSHA42", "Eagle Mine", "USA", "active", year, 58.0 + year - 2016)
    for c in COUNTRIES.itertuples():
        add("country", c.iso3, c.country_name, c.iso3, None, 2024, COUNTRY_FVI[c.iso3])
    return _ranked(pd.DataFrame(rows))


def metric_scores_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_type": ["mine", "mine", "mine", "country"],
            "entity_id": ["M1", "M1", "M1", "ZAF"],
            "as_of_year": [2024, 2024, 2024, 2024],
            "metric_id": ["mine_capacity_mtpa", "mine_production_mt", "mine_workforce_size", "country_gdp_usd"],
            "pillar": ["02", "02", "08", "20"],
            "raw_value": [10.0, None, None, 4e11],
            "value_used": [10.0, 8.0, None, 4e11],
            "score": [55.0, 50.0, None, 60.0],
            "imputation": ["observed", "carry_forward", "excluded", "observed"],
            "run_id": [RUN] * 4,
        }
    )


def manifest_frame() -> pd.DataFrame:
    rows = []
    for run, release in ((RUN_OLD, "2023-04"), (RUN, "2024-04")):
        for source, dataset in (("gem_mines", "workbook"), ("owid", "coal_production"), ("eia_mines", "mines")):
            rows.append(
                {
                    "run_id": run,
                    "source_id": source,
                    "dataset": dataset,
                    "url": f"https://example.org/{source}",
                    "path": f"/secret/data/{source}.xlsx",
                    "release": release,
                    "retrieved_at": "2026-02-01T00:00:00+00:00",
                    "sha256": "ab" * 32,
                    "bytes": 1000,
                    "rows_loaded": 10,
                    "rows_quarantined": 0,
                    "licence_name": "CC BY 4.0",
                    "licence_url": "https://creativecommons.org/licenses/by/4.0/",
                    "status": "loaded",
                    "message": "",
                    "is_synthetic": False,
                }
            )
    return pd.DataFrame(rows)


def dq_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric_id": ["country_gdp_usd", "mine_capacity_mtpa", "mine_workforce_size"],
            "entity": ["country", "mine", "mine"],
            "pillar": ["20", "02", "08"],
            "null_rate": [0.1, 0.3, 0.9],
            "latest_year": [2024, 2024, 2020],
            "share_imputed": [0.0, 0.2, 0.5],
        }
    )


def us_mine_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "msha_id": [42, 42],
            "year": [2015, 2016],
            "mine_name": ["Eagle Mine", "Eagle Mine"],
            "state": ["Wyoming", "Wyoming"],
            "mine_county": ["Campbell", "Campbell"],
            "status": ["Active", "Active"],
            "gem_mine_id": ["M3", "M3"],
            "is_synthetic": [False, False],
        }
    )


def contributions_frame() -> pd.DataFrame:
    """M1 at 2024 H10 (analyst): its capacity lowers the score, its country's coal share raises it."""
    return pd.DataFrame(
        {
            "entity_type": ["mine", "mine"], "entity_id": ["M1", "M1"], "as_of_year": [2024, 2024],
            "horizon": ["H10", "H10"], "persona": ["analyst", "analyst"],
            "metric_id": ["mine_capacity_mtpa", "country_coal_share_of_electricity_pct"], "pillar": ["02", "01"],
            "metric_of": ["own", "country"], "raw_value": [10.0, 0.0], "typical_value": [12.5, 35.0],
            "score": [40.0, 0.0], "typical_score": [50.0, 35.0], "points": [-1.5, -6.1],
            "imputation": ["observed", "country_median"], "run_id": [RUN, RUN],
        }
    )  # fmt: skip


def fill(wh: Warehouse) -> None:
    """Write every tiny table into ``wh`` (either engine)."""
    wh.write_table("gold", "dim_mine", MINES)
    wh.write_table("gold", "dim_country", COUNTRIES)
    write_gold(wh, "fvi_scores", scores_frame())
    write_gold(wh, "fvi_metric_scores", metric_scores_frame())
    write_gold(wh, "fvi_score_contributions", contributions_frame())
    wh.write_table("gold", "fct_us_mine__yearly", us_mine_frame())
    wh.write_table("bronze", "ingest_manifest", manifest_frame())
    wh.write_table("marts", "vw_metric_dq", dq_frame())


def write_warehouse(path: Path, extra: Callable[[DuckDBWarehouse], None] | None = None) -> None:
    wh = DuckDBWarehouse(path)
    try:
        fill(wh)
        if extra is not None:
            extra(wh)
    finally:
        wh.close()


def write_runs(home: Path) -> None:
    runs = home / "runs"
    (runs / RUN).mkdir(parents=True)
    (runs / RUN / "audit.json").write_text("{}")
    report = {
        "run_id": RUN,
        "input": {"kind": "local", "data_dir": "/secret/data", "synthetic": False},
        "built": True,
        "error": None,
        "seconds": {"total": 1.5},
        "registry_hash": "r" * 64,
    }
    (runs / f"{RUN}.json").write_text(json.dumps(report))
    (runs / "broken.json").write_text("{not json")


def replace_warehouse(path: Path, extra: Callable[[DuckDBWarehouse], None]) -> None:
    """Build a new file aside and swap it in like the pipeline does (os.replace)."""
    staging = path.with_name("fvi.next.building.duckdb")
    write_warehouse(staging, extra)
    os.replace(staging, path)
