"""GEM Global Coal Plant Tracker: one workbook of plant units, as GEM publishes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from fvi.demo.formats import SYNTHETIC_MARKER, gem_name, xlsx_bytes
from fvi.demo.world import CANDIDATES, World, invented_names

GEM_PLANTS_HEADER = [
    "GEM unit/phase ID",
    "GEM location ID",
    "Country",
    "Wiki URL",
    "Plant name",
    "Unit name",
    "Plant name (local)",
    "Plant name (other)",
    "Owner",
    "Parent",
    "Capacity (MW)",
    "Status",
    "Start year",
    "Retired year",
    "Planned retirement",
    "Combustion technology",
    "Coal type",
    "Coal source",
    "Alternate Fuel",
    "Location",
    "Local area (taluk, county)",
    "Major area (prefecture, district)",
    "Subnational unit (province, state)",
    "Subregion",
    "Region",
    "Previous Region",
    "Latitude",
    "Longitude",
    "Location accuracy",
    "Permits",
    "Captive",
    "Captive industry use",
    "Captive residential use",
    "Heat rate (Btu per kWh)",
    "Emission factor (kg of CO2 per TJ)",
    "Capacity factor",
    "Annual CO2 (million tonnes / annum)",
    "Lifetime CO2",
    "Remaining plant lifetime (years)",
]


def workbook(w: World, rng: np.random.Generator, last_year: int) -> tuple[bytes, int]:
    """The plant tracker workbook and its number of units."""
    nc = len(w.iso3)
    per = np.clip(np.round(w.share0 / 8 + rng.integers(1, 6, size=nc)), 1, 25).astype(int)
    rows: list[list[Any]] = [GEM_PLANTS_HEADER]
    uid, loc = 100000, 100000
    for ci, c in enumerate(w.iso3):
        sub, reg = CANDIDATES[c][:2]
        for _ in range(per[ci]):
            loc += 1
            pname = f"{invented_names(rng, 1)[0]} power station"
            units = int(rng.integers(1, 5))
            for u in range(units):
                uid += 1
                r = rng.random()
                retire_bias = w.policy[ci]
                if r < 0.2 + 0.3 * retire_bias:
                    status, start, retired = (
                        "retired",
                        int(rng.integers(1965, 1995)),
                        int(rng.integers(2010, last_year + 1)),
                    )
                elif r < 0.75:
                    status, start, retired = "operating", int(rng.integers(1975, last_year)), None
                else:
                    status = str(
                        rng.choice(
                            [
                                "announced",
                                "pre-permit",
                                "permitted",
                                "construction",
                                "shelved",
                                "cancelled",
                                "mothballed",
                            ]
                        )
                    )
                    start, retired = None, None
                mw = int(rng.choice([50, 150, 300, 350, 600, 660, 1000]))
                planned = (
                    int(rng.integers(2025, 2050))
                    if status == "operating" and rng.random() < w.policy[ci]
                    else None
                )
                annual = round(mw * 0.53 * 8760 * 0.00095 / 1000, 1)
                remaining = (
                    max(0, 40 - (last_year - start)) if start and status == "operating" else 0
                )
                rows.append(
                    [
                        f"G{uid}",
                        f"L{loc}",
                        gem_name(c),
                        f"https://www.gem.wiki/{pname.replace(' ', '_')}",
                        pname,
                        f"Unit {u + 1}",
                        None,
                        None,
                        f"Synthetic Power Co {ci:03d}",
                        f"Synthetic Power Co {ci:03d} [100%]",
                        mw,
                        status,
                        start,
                        retired,
                        planned,
                        str(
                            rng.choice(
                                ["subcritical", "supercritical", "ultra-supercritical", "unknown"]
                            )
                        ),
                        str(rng.choice(["bituminous", "subbituminous", "lignite", "unknown"])),
                        None,
                        None,
                        None,
                        None,
                        None,
                        f"{pname.split()[0]} Province",
                        sub,
                        reg,
                        reg,
                        round(CANDIDATES[c][2] + float(rng.normal(0, 2)), 6),
                        round(CANDIDATES[c][3] + float(rng.normal(0, 3)), 6),
                        "approximate",
                        None,
                        None,
                        None,
                        None,
                        int(rng.integers(8200, 12600)),
                        int(rng.choice([94600, 96100, 101000])),
                        0.53,
                        annual,
                        round(annual * remaining, 1),
                        remaining,
                    ]
                )
    about = [
        ["Global Coal Plant Tracker - July 2023"],
        [f"{SYNTHETIC_MARKER}. Generated by fvi.demo for offline runs; every value is invented."],
        ["Contact: none (synthetic data)"],
        ["Notes"],
        ["1. Plants, owners and units are random draws from a seeded generator."],
    ]
    data = xlsx_bytes(
        [("About", about), ("Coal Projects", rows)],
        title=f"Global Coal Plant Tracker July 2023 ({SYNTHETIC_MARKER})",
    )
    return data, len(rows) - 1
