"""Climate TRACE coal mining: monthly per-mine sources, their confidence, and country totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from fvi.demo.formats import csv_bytes, decimals, fixed_zip
from fvi.demo.world import World

CT_SOURCES_HEADER = [
    "source_id",
    "source_name",
    "source_type",
    "iso3_country",
    "sector",
    "subsector",
    "start_time",
    "end_time",
    "lat",
    "lon",
    "geometry_ref",
    "gas",
    "emissions_quantity",
    "temporal_granularity",
    "activity",
    "activity_units",
    "emissions_factor",
    "emissions_factor_units",
    "capacity",
    "capacity_units",
    "capacity_factor",
    "other1",
    "other1_def",
    "other2",
    "other2_def",
    "other3",
    "other3_def",
    "other4",
    "other4_def",
    "other5",
    "other5_def",
    "other6",
    "other6_def",
    "other7",
    "other7_def",
    "other8",
    "other8_def",
    "other9",
    "other9_def",
    "other10",
    "other10_def",
    "created_date",
    "modified_date",
    "reporting_entity",
    "lat_lon",
    "sector_id",
    "native_source_id",
]

CT_CONFIDENCE_HEADER = [
    "source_id",
    "source_name",
    "iso3_country",
    "sector",
    "subsector",
    "start_time",
    "end_time",
    "source_type",
    "capacity",
    "capacity_factor",
    "activity",
    "gas",
    "emissions_factor",
    "emissions_quantity",
    "created_date",
    "modified_date",
]

CT_COUNTRY_HEADER = [
    "iso3_country",
    "sector",
    "subsector",
    "start_time",
    "end_time",
    "gas",
    "emissions_quantity",
    "emissions_quantity_units",
    "temporal_granularity",
    "created_date",
    "modified_date",
]


def _month_bounds(year: int) -> list[tuple[str, str]]:
    out = []
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        out.append((f"{start} 00:00:00", f"{end} 00:00:00"))
    return out


def files(w: World, rng: np.random.Generator) -> dict[str, Any]:
    """The two zipped source files and the country CSV, with counts for the summary."""
    ct_years = [y for y in (2021, 2022, 2023) if y in set(w.years.tolist())] or [int(w.years[-1])]
    yidx = {int(y): i for i, y in enumerate(w.years)}
    ids = [f"M{i + 1:04d}" for i in range(len(w.m_country))]
    producing = np.flatnonzero(w.m_prod[:, [yidx[y] for y in ct_years]].sum(axis=1) > 0)
    subset = np.sort(rng.choice(producing, size=int(len(producing) * 0.75), replace=False))
    ef = rng.uniform(0.05, 0.6, size=len(w.m_country))
    src_rows: list[list[Any]] = []
    conf_rows: list[list[Any]] = []
    levels = np.array(["very low", "low", "medium", "high", "very high"])
    created, modified = "2023-09-14 00:00:00", "2025-06-07 09:51:24.677077"
    for i in subset:
        sid = 3160000 + int(i)
        c = w.iso3[w.m_country[i]]
        typ = "Surface" if w.m_surface[i] else "Underground"
        conf = levels[rng.integers(0, 5, size=6)]
        for y in ct_years:
            annual_t = float(w.m_prod[i, yidx[y]]) * 1e6
            months = rng.uniform(0.9, 1.1, 12)
            months = months / months.sum() * annual_t
            for (start, end), act in zip(_month_bounds(y), months, strict=True):
                src_rows.append(
                    [
                        sid,
                        w.m_names[i],
                        typ,
                        c,
                        "fossil-fuel-operations",
                        "coal-mining",
                        start,
                        end,
                        float(w.m_lat[i]),
                        float(w.m_lon[i]),
                        "",
                        "co2e_100yr",
                        decimals(act * ef[i], 6),
                        "month",
                        decimals(act, 4),
                        "t of coal",
                        decimals(ef[i], 6),
                        "t of CO2e_100yr per t of coal",
                        decimals(w.m_capacity[i] * 1e6, 1),
                        "t of coal per year",
                        decimals(act * 12 / (w.m_capacity[i] * 1e6), 6),
                        str(w.m_coal_type[i]),
                        "Coal Type",
                        str(w.m_grade[i]),
                        "Coal Grade",
                        decimals(w.m_reserves[i], 1),
                        "Total Reserves (Proven and Probable)",
                        "",
                        "Total Resource (Inferred, Indicated, Measured)",
                        "",
                        "Primary Consumer, Destination",
                        "",
                        "Coal Plant, Steel Plant, Terminal",
                        decimals(w.m_depth[i], 1),
                        "Mine Depth ",
                        "",
                        "Mine Size ",
                        "",
                        "",
                        "",
                        "",
                        created,
                        modified,
                        "climate-trace",
                        "",
                        71,
                        ids[i],
                    ]
                )
                conf_rows.append(
                    [
                        sid,
                        "",
                        c,
                        "fossil-fuel-operations",
                        "coal-mining",
                        start,
                        end,
                        str(conf[0]),
                        str(conf[1]),
                        str(conf[2]),
                        str(conf[3]),
                        "co2e_100yr",
                        str(conf[4]),
                        str(conf[5]),
                        "",
                        "2025-06-12 22:48:13",
                    ]
                )
    # country totals: mines' emissions scaled up by an unmodelled remainder
    country_rows: list[list[Any]] = []
    order = np.argsort(w.iso3)
    mean_ef = float(ef.mean())
    for ci in order:
        for y in range(max(2015, int(w.years[0])), min(2023, int(w.years[-1])) + 1):
            q = float(w.country_prod[ci, yidx[y]]) * 1e6 * mean_ef
            country_rows.append(
                [
                    w.iso3[ci],
                    "fossil-fuel-operations",
                    "coal-mining",
                    f"{y}-01-01 00:00:00",
                    f"{y}-12-31 00:00:00",
                    "co2e_100yr",
                    repr(round(q, 4)),
                    "",
                    "annual",
                    "",
                    "",
                ]
            )
    return {
        "sources": fixed_zip(
            [("coal-mining_emissions_sources_v4_4_0.csv", csv_bytes(CT_SOURCES_HEADER, src_rows))]
        ),
        "confidence": fixed_zip(
            [
                (
                    "coal-mining_emissions_sources_confidence_v4_4_0.csv",
                    csv_bytes(CT_CONFIDENCE_HEADER, conf_rows),
                )
            ]
        ),
        "country": csv_bytes(CT_COUNTRY_HEADER, country_rows),
        "n_sources": len(subset),
        "n_rows": len(src_rows),
    }
