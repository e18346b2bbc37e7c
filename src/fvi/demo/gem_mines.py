"""GEM Global Coal Mine Tracker: two releases (open and closed mines sheets), as GEM publishes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from fvi.demo.formats import SYNTHETIC_MARKER, gem_about, gem_name, xlsx_bytes
from fvi.demo.world import CANDIDATES, ST_PER_T, STATES_US, World

GEM_MINES_OPEN_HEADER = [
    "GEM Mine ID",
    "MSHA ID",
    "Country",
    "Mine Name",
    "Mine Name AKAs",
    "Mine Name (Non-ENG)",
    "GEM Wiki URLs",
    "Status",
    "Status Detail",
    "Project Type",
    "Project Phase",
    "Owners",
    "Owners (Non-ENG)",
    "Parent Company",
    "Company HQs",
    "Capacity (Mtpa)",
    "Production (Mtpa)",
    "Year of Production",
    "Coal Output (Annual, Mst)",
    "Mine Type",
    "Mining Method",
    "Mine Size (Km2)",
    "Mine Depth (m)",
    "Depth Accuracy",
    "Workforce Size",
    "Workforce Accuracy",
    "Coal Type",
    "Coal Grade",
    "Total Reserves (Proven and Probable, Mt)",
    "Year of Total Reserves Recorded",
    "Total Resource (Inferred, Indicated, Measured)",
    "Reserve to Production Ratio (R/P)",
    "Opening Year",
    "Reported Life of Mine",
    "Coalfield",
    "Location",
    "Prefecture, District",
    "State, Province",
    "Subregion",
    "Region",
    "Latitude",
    "Longitude",
    "Location Accuracy",
    "Primary Consumer, Destination",
    "Coal Plant, Steel Plant, Terminal",
    "Coal Plant, Steel Plant, Terminal GEM Wiki",
    "Reported Coal Mine Methane Emissions (thousand tonnes  CO2e)",
    "Year of Reported Coal Mine Methane Emissions",
    "GEM Coal Mine Methane Emissions Estimate (MCM/yr)",
    "GEM Coal Mine Methane Emissions Estimate (M tonnes/yr)",
    "CMM Emissions (CO2e 20 years)",
    "CMM Emissions (CO2e 100 years)",
]

GEM_MINES_CLOSED_HEADER = [
    "GEM Mine ID",
    "MSHA ID",
    "Country",
    "Mine Name",
    "Mine Name AKAs",
    "Mine Name (Non-ENG)",
    "Owners",
    "Owners (Non-ENG)",
    "Parent Company",
    "Company HQs",
    "Capacity (Mtpa)",
    "Production (Mtpa)",
    "Year of Production",
    "Mine Type",
    "Mining Method",
    "Mine Size\n(Km2)",
    "Mine Depth\n(m)",
    "Depth Accuracy",
    "Workforce Size",
    "Workforce Accuracy",
    "Coal Type",
    "Coal Grade",
    "Opening Year",
    "Closing Year",
    "Reason for Closure",
    "Mine Site Status",
    "Coalfield",
    "Location",
    "Prefecture, District",
    "State, Province",
    "Subregion",
    "Region",
    "Latitude",
    "Longitude",
    "Location Accuracy",
    "Primary Consumer, Destination",
    "Coal Plant, Steel Plant, Terminal",
    "Coal Plant, Steel Plant, Terminal GEM Wiki",
]


def workbooks(w: World, rng: np.random.Generator, last_year: int) -> dict[str, bytes]:
    """Two GEM releases (the last year and the one before), keyed by file name."""
    nm = len(w.m_country)
    ids = [f"M{i + 1:04d}" for i in range(nm)]
    yi = len(w.years) - 1
    out: dict[str, bytes] = {}
    consumer = rng.choice(
        np.array(["Coal Plant", "Terminal (Export)", "Steel Plant", "Other Industrial", ""]),
        size=nm,
        p=[0.35, 0.15, 0.1, 0.1, 0.3],
    )
    mcm = np.round(w.m_capacity * np.where(w.m_surface, 0.6, 4.0) * rng.uniform(0.5, 1.5, nm), 1)
    subtype = rng.choice(
        np.array(["Announced", "Exploration", "Permitted", "Construction", "Pre-Permit"]), size=nm
    )
    akas = rng.random(nm) < 0.15
    workforce_known = rng.random(nm) < 0.8
    size_known = rng.random(nm) < 0.55
    reserves_known = rng.random(nm) < 0.6
    reasons = rng.choice(
        np.array(
            [
                "Economically unviable",
                "Reserve exhausted",
                "Government order",
                "End of mine life",
                "Closure of power plant",
            ]
        ),
        size=nm,
    )
    size_km2 = np.round(w.m_capacity * rng.uniform(0.5, 6.0, nm), 2)
    for offset, statuses in ((0, w.m_status_now), (1, w.m_status_prev)):
        ryear = last_year + 1 - offset
        release = f"April {ryear}"
        prod_y = yi - offset
        open_rows: list[list[Any]] = [GEM_MINES_OPEN_HEADER]
        closed_rows: list[list[Any]] = [GEM_MINES_CLOSED_HEADER]
        for i in range(nm):
            c = w.iso3[w.m_country[i]]
            sub, reg = CANDIDATES[c][:2]
            status = statuses[i]
            is_us = c == "USA"
            state = (
                STATES_US[i % len(STATES_US)][1]
                if is_us
                else f"{w.m_names[i].split()[0]} Province"
            )
            owner = f"Synthetic Mining Co {int(w.m_country[i]) * 7 + i % 5:03d}"
            prod = float(w.m_prod[i, prod_y])
            typ = "Surface" if w.m_surface[i] else "Underground"
            method = ("Open Pit" if w.m_surface[i] else "Longwall") if i % 3 else "-"
            msha: Any = int(w.m_msha[i]) if is_us else None
            if status == "Closed":
                if w.m_close[i] < w.years[0] + 10 and w.m_close[i] < ryear - 10:
                    continue
                closed_rows.append(
                    [
                        ids[i],
                        msha if is_us else "-",
                        gem_name(c),
                        w.m_names[i],
                        None,
                        None,
                        owner,
                        None,
                        "-",
                        "-",
                        float(w.m_capacity[i]),
                        "-",
                        "-",
                        typ,
                        method,
                        float(size_km2[i]) if size_known[i] else "-",
                        int(w.m_depth[i]),
                        "Estimate",
                        int(w.m_workforce[i]) if workforce_known[i] else "-",
                        "Estimate" if workforce_known[i] else "-",
                        str(w.m_coal_type[i]),
                        str(w.m_grade[i]),
                        int(w.m_open[i]),
                        int(w.m_close[i]),
                        str(reasons[i]),
                        "Rehabilitation" if i % 2 else "-",
                        "-",
                        f"{w.m_names[i].split()[0]} Town",
                        None,
                        state,
                        sub,
                        reg,
                        float(w.m_lat[i]),
                        float(w.m_lon[i]),
                        "Approximate",
                        None,
                        None,
                        None,
                    ]
                )
                continue
            operating = status in ("Operating", "Mothballed")
            cap: Any = float(w.m_capacity[i]) if (operating or i % 4) else "*"
            p: Any = round(prod, 2) if operating and prod > 0 else "*"
            rp: Any = (
                int(round(w.m_reserves[i] / prod))
                if operating and prod > 0 and reserves_known[i]
                else "-"
            )
            cons = str(consumer[i]) or None
            open_rows.append(
                [
                    ids[i],
                    msha,
                    gem_name(c),
                    w.m_names[i],
                    f"{w.m_names[i].split()[0]} Colliery" if akas[i] else None,
                    None,
                    f"https://www.gem.wiki/{w.m_names[i].replace(' ', '_')}",
                    status,
                    None if operating else str(subtype[i]),
                    None if operating else "New",
                    None,
                    owner,
                    "-",
                    f"{owner} [100%]",
                    gem_name(c) if i % 6 else "-",
                    cap,
                    p,
                    int(w.years[prod_y]) if p != "*" else None,
                    round(prod * ST_PER_T, 2) if p != "*" else 0,
                    typ,
                    method,
                    float(size_km2[i]) if size_known[i] else "-",
                    int(w.m_depth[i]),
                    "Estimate",
                    int(w.m_workforce[i]) if workforce_known[i] else "-",
                    ("Exact" if i % 2 else "Estimate") if workforce_known[i] else "-",
                    str(w.m_coal_type[i]),
                    str(w.m_grade[i]),
                    float(w.m_reserves[i]) if reserves_known[i] else "-",
                    int(ryear - 1 - i % 3) if reserves_known[i] else "-",
                    float(w.m_reserves[i] * 2) if reserves_known[i] else "-",
                    rp,
                    int(w.m_open[i])
                    if w.m_open[i] < 9999 and w.m_open[i] < ryear
                    else ("TBD" if i % 2 else "-"),
                    int(10 + i % 30) if reserves_known[i] else "-",
                    f"{w.m_names[i].split()[0]} Basin",
                    f"{w.m_names[i].split()[0]} Town",
                    None,
                    state,
                    sub,
                    reg,
                    float(w.m_lat[i]),
                    float(w.m_lon[i]),
                    "Exact" if i % 3 else "Approximate",
                    cons,
                    None,
                    None,
                    None,
                    None,
                    float(mcm[i]),
                    round(float(mcm[i]) * 0.00067, 4),
                    round(float(mcm[i]) * 0.055, 1),
                    round(float(mcm[i]) * 0.02, 1),
                ]
            )
        name = f"Global-Coal-Mine-Tracker-April-{ryear}.xlsx"
        out[name] = xlsx_bytes(
            [
                ("About", gem_about("Global Coal Mine Tracker", release)),
                ("Global Coal Mine Tracker (Non-C", open_rows),
                ("Global Coal Mine Tracker (Close", closed_rows),
            ],
            title=f"Global Coal Mine Tracker {release} ({SYNTHETIC_MARKER})",
        )
    return out
