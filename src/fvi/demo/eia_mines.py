"""EIA mine-level production (coalpublic<year>.csv): GEM's US mines plus small EIA-only ones."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import csv_bytes, thousands
from fvi.demo.world import ST_PER_T, STATES_US, World, invented_names

_STATE_ABBR = {
    "Kentucky": "KY",
    "West Virginia": "WV",
    "Pennsylvania": "PA",
    "Virginia": "VA",
    "Alabama": "AL",
    "Illinois": "IL",
    "Indiana": "IN",
    "Wyoming": "WY",
    "Utah": "UT",
    "Texas": "TX",
    "North Dakota": "ND",
}

EIA_HEADER_PRE2013 = [
    "Year",
    "MSHA ID",
    "Mine Name",
    "Mine State",
    "Mine County",
    "Mine Basin",
    "Mine Status",
    "Mine Type",
    "Company Type",
    "Operation Type",
    "Operating Company",
    "Operating Company Address",
    "Union Code",
    "Production (short tons)",
    "Average Employees",
    "Labor Hours",
]

# 2012 alone published neither the basin nor the supply region.
EIA_HEADER_2012 = [h for h in EIA_HEADER_PRE2013 if h != "Mine Basin"]

EIA_HEADER_2013 = [
    "Year",
    "MSHA ID",
    "Mine Name",
    "Mine State",
    "Mine County",
    "Mine Status",
    "Mine Type",
    "Company Type",
    "Operation Type",
    "Operating Company",
    "Operating Company Address",
    "Union Code",
    "Coal Supply Region",
    "Production (short tons)",
    "Average Employees",
    "Labor Hours",
]


def files(w: World, rng: np.random.Generator) -> tuple[dict[str, bytes], int]:
    """One ``coalpublic<year>.csv`` per year, header as in that year's release; and the row count."""
    us = np.flatnonzero((w.m_country == 0) & (w.m_open < 9999))
    # small EIA-only mines (EIA lists every mine; GEM only the large ones)
    n_small = len(us) * 2
    small_msha = rng.choice(np.arange(4700000, 4799999), size=n_small, replace=False)
    small_open = rng.integers(1960, int(w.years[-1]), size=n_small)
    small_close = np.where(
        rng.random(n_small) < 0.6,
        rng.integers(int(w.years[0]), int(w.years[-1]) + 3, size=n_small),
        9999,
    )
    small_cap = rng.uniform(0.005, 0.4, size=n_small)
    small_names = invented_names(rng, n_small)
    msha = np.concatenate([w.m_msha[us], small_msha])
    opened = np.concatenate([w.m_open[us], small_open])
    closed = np.concatenate([w.m_close[us], small_close])
    names = [w.m_names[i].replace(" Coal Mine", " Mine") for i in us] + [
        f"{n} No 1" for n in small_names
    ]
    surface = np.concatenate([w.m_surface[us], rng.random(n_small) < 0.6])
    yidx = {int(y): i for i, y in enumerate(w.years)}
    small_util = rng.uniform(0.3, 1.0, size=(n_small, len(w.years)))
    prod_mt = np.concatenate([w.m_prod[us], small_cap[:, None] * small_util], axis=0)
    n = len(msha)
    state_idx = rng.integers(0, len(STATES_US), size=n)
    union = rng.random(n) < 0.12
    ctype = rng.choice(
        np.array(["Indepedent Producer Operator", "Operating Subsidiary", "Contractor"]),
        size=n,
        p=[0.6, 0.33, 0.07],
    )
    otype = rng.choice(
        np.array(["Mine only", "Preparation Plant", "Mine and Preparation Plant"]),
        size=n,
        p=[0.65, 0.25, 0.1],
    )
    employees_per_mt = rng.uniform(150, 700, size=n)
    files: dict[str, bytes] = {}
    total = 0
    for y in w.years.tolist():
        rows = []
        yi = yidx[y]
        for k in np.argsort(state_idx, kind="stable"):
            if not (opened[k] <= y and y <= closed[k]):
                continue  # not yet open, or gone the year after closing
            st_label, st_name, basin = STATES_US[state_idx[k]]
            if y == closed[k]:
                status, prod = "Permanently abandoned", 0.0
            else:
                prod = (
                    float(prod_mt[k, yi])
                    if k < len(us)
                    else float(prod_mt[k, yi]) * (y < closed[k])
                )
                status = "Active" if prod > 0 else "Active, men working, not producing"
                if k >= len(us) and prod > 0 and (k + y) % 17 == 0:
                    status, prod = "Temporarily closed", 0.0
            short_tons = prod * 1e6 * ST_PER_T
            emp = max(1, int(round(max(prod, 0.01) * employees_per_mt[k])))
            hours = emp * int(1800 + (k * 37 + y) % 600)
            union_code = (
                "United Mine Workers of America"
                if union[k]
                else ("" if y < 2012 else "-" if y == 2012 else " " if y < 2016 else "")
            )
            company = f"Synthetic Coal Co {k % 40:02d} Llc"
            zip_code = f"{_STATE_ABBR[st_name]} {40000 + k % 9999:05d}"
            address = f"P.O. Box {100 + k % 900}, Demo Town, {zip_code}"
            common = [y, int(msha[k]), names[k], st_label, f"{names[k].split()[0]} County"]
            mtype = "Surface" if surface[k] else "Underground"
            amounts = [thousands(short_tons), f"{emp:,}", thousands(hours)]
            if y < 2012:
                rows.append(
                    [
                        *common,
                        basin,
                        status,
                        mtype,
                        ctype[k],
                        otype[k],
                        company,
                        address,
                        union_code,
                        *amounts,
                    ]
                )
            elif y == 2012:
                rows.append(
                    [
                        *common,
                        status,
                        mtype,
                        ctype[k],
                        otype[k],
                        company,
                        address,
                        union_code,
                        *amounts,
                    ]
                )
            else:
                rows.append(
                    [
                        *common,
                        status,
                        mtype,
                        ctype[k],
                        otype[k],
                        company,
                        address,
                        union_code,
                        basin,
                        *amounts,
                    ]
                )
        header = (
            EIA_HEADER_PRE2013 if y < 2012 else EIA_HEADER_2012 if y == 2012 else EIA_HEADER_2013
        )
        files[f"coalpublic{y}.csv"] = csv_bytes(header, rows, bom=True, crlf=True)
        total += len(rows)
    return files, total
