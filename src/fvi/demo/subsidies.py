"""Fossil-fuel subsidies: ONE / OECD-IISD yearly amounts and the IMF 2015 post-tax shares of GDP."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import csv_bytes, gem_name, owid_name
from fvi.demo.world import World

ONE_SUBSIDIES_HEADER = ["country_name", "year", "value", "iso3_code", "income_level"]
IMF_SUBSIDIES_HEADER = [
    "Country",
    "Nominal GDP US$, billions",
    "Population, millions",
    "Petroleum",
    "Coal",
    "Natural Gas",
    "Electricity",
    "Total",
]


def files(w: World, s: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, bytes]:
    """Both subsidy files; the amounts shrink with policy stringency."""
    yrs = w.years.tolist()
    out: dict[str, bytes] = {}
    nc = len(w.iso3)
    income = np.where(
        w.gdp0 / (w.pop_m * 1e6) > 13000,
        "High income",
        np.where(
            w.gdp0 / (w.pop_m * 1e6) > 4000,
            "Upper middle income",
            np.where(w.gdp0 / (w.pop_m * 1e6) > 1100, "Lower middle income", "Low income"),
        ),
    )
    # ONE / OECD-IISD fossil fuel subsidies (US$), 2010-2022
    subsidy0 = (1 - w.policy) * s["gdp"][:, 0] * rng.uniform(0.001, 0.02, size=nc)
    one = []
    for ci in sorted(range(nc), key=lambda i: owid_name(w.iso3[i])):
        for j, y in enumerate(yrs):
            if 2010 <= y <= 2022:
                v = subsidy0[ci] * (1 + w.trend[ci]) ** j * float(rng.uniform(0.8, 1.2))
                one.append(
                    [owid_name(w.iso3[ci]), y, f"{round(v):.1f}", w.iso3[ci], str(income[ci])]
                )
    out["subsidies/one_fossil_fuel_subsidies_2010_2022.csv"] = csv_bytes(ONE_SUBSIDIES_HEADER, one)
    # IMF post-tax subsidies 2015, % of GDP
    j15 = yrs.index(2015) if 2015 in yrs else len(yrs) - 1
    imf = []
    for ci in sorted(range(nc), key=lambda i: gem_name(w.iso3[i])):
        coal = float((1 - w.policy[ci]) * w.share0[ci] / 10 * rng.uniform(0.5, 1.5))
        pet, gas = float(rng.uniform(0.2, 2.0)), float(rng.uniform(0.0, 1.0))
        imf.append(
            [
                gem_name(w.iso3[ci]),
                f"{s['gdp'][ci, j15] / 1e9:.2f}",
                f"{w.pop_m[ci]:.2f}",
                f"{pet:.2f}",
                f"{coal:.2f}",
                f"{gas:.2f}",
                "",
                f"{pet + coal + gas:.2f}",
            ]
        )
    out["subsidies/imf_post_tax_energy_subsidies_2015_pct_gdp_by_fuel.csv"] = csv_bytes(
        IMF_SUBSIDIES_HEADER, imf, bom=True, crlf=True
    )
    return out
