"""Our World in Data: coal production, consumption, CO2, electricity mix, fossil production, codebooks."""

from __future__ import annotations

from typing import Any

import numpy as np

from fvi.demo.formats import SYNTHETIC_MARKER, csv_bytes, decimals, owid_name
from fvi.demo.world import World

OWID_ELEC_HEADER = [
    "Country",
    "Year",
    "Electricity from bioenergy (TWh)",
    "Electricity from coal (TWh)",
    "Electricity demand (TWh)",
    "Electricity generation (TWh)",
    "Emissions (MtCO2)",
    "Electricity from fossil fuels (TWh)",
    "Electricity from gas (TWh)",
    "Electricity from hydro (TWh)",
    "Low-carbon electricity (TWh)",
    "Net imports (TWh)",
    "Electricity from nuclear (TWh)",
    "Electricity from oil (TWh)",
    "Electricity from other renewables excluding bioenergy (TWh)",
    "Electricity from other renewables including bioenergy (TWh)",
    "Electricity from renewables (TWh)",
    "Electricity from solar (TWh)",
    "Electricity from wind (TWh)",
    "Carbon intensity of electricity (gCO2/kWh)",
    "Per capita electricity (kWh)",
    "Coal electricity per capita (kWh)",
    "Oil electricity per capita (kWh)",
    "Gas electricity per capita (kWh)",
    "Fossil fuel electricity per capita (kWh)",
    "Renewable electricity per capita (kWh)",
    "Low-carbon electricity per capita (kWh)",
    "Nuclear electricity per capita (kWh)",
    "Solar electricity per capita (kWh)",
    "Wind electricity per capita (kWh)",
    "Hydro electricity per capita (kWh)",
    "Bioenergy electricity per capita (kWh)",
    "Other renewable electricity excluding bioenergy per capita (kWh)",
    "Other renewable electricity including bioenergy per capita (kWh)",
    "Electricity as share of primary energy",
    "Net electricity imports as a share of demand",
    "Coal (% electricity)",
    "Oil (% electricity)",
    "Gas (% electricity)",
    "Fossil fuels (% electricity)",
    "Renewables (% electricity)",
    "Low-carbon electricity (% electricity)",
    "Nuclear (% electricity)",
    "Solar (% electricity)",
    "Wind (% electricity)",
    "Hydro (% electricity)",
    "Bioenergy (% electricity)",
    "Other renewables excluding bioenergy (% electricity)",
    "Other renewables including bioenergy (% electricity)",
]

OWID_FOSSIL_HEADER = [
    "Country",
    "Year",
    "Coal production (TWh)",
    "Gas production (TWh)",
    "Oil production (TWh)",
    "Annual change in coal production (%)",
    "Annual change in coal production (TWh)",
    "Annual change in oil production (%)",
    "Annual change in oil production (TWh)",
    "Annual change in gas production (%)",
    "Annual change in gas production (TWh)",
    "Coal production per capita (kWh)",
    "Oil production per capita (kWh)",
    "Gas production per capita (kWh)",
]

OWID_PRODUCTION_HEADER = ["Entity", "Code", "Year", "Coal production (TWh)"]

OWID_CONSUMPTION_HEADER = ["Entity", "Year", "Coal consumption - TWh"]

OWID_CO2_HEADER = ["Entity", "Code", "Year", "Annual CO₂ emissions from coal"]

OWID_CODEBOOK_HEADER = ["column", "description", "unit", "source"]


def files(w: World, s: dict[str, np.ndarray]) -> dict[str, bytes]:
    """Every OWID file the connector reads, keyed by file name."""
    order = sorted(range(len(w.iso3)), key=lambda i: owid_name(w.iso3[i]))
    yrs = w.years.tolist()
    prod, cons, co2, elec, fossil = [], [], [], [], []
    for ci in order:
        c, name = w.iso3[ci], owid_name(w.iso3[ci])
        for j, y in enumerate(yrs):
            p = float(s["prod_twh"][ci, j])
            prod.append([name, c, y, decimals(p)])
            cons.append([name, y, decimals(float(s["cons_twh"][ci, j]))])
            co2.append([name, c, y, decimals(float(s["co2_t"][ci, j]), 0)])
            gen = float(s["elec"][ci, j])
            coal_e = gen * float(s["share"][ci, j]) / 100
            row: list[Any] = [""] * len(OWID_ELEC_HEADER)
            row[0], row[1] = name, y
            row[OWID_ELEC_HEADER.index("Electricity from coal (TWh)")] = decimals(coal_e, 2)
            row[OWID_ELEC_HEADER.index("Electricity generation (TWh)")] = decimals(gen, 2)
            row[OWID_ELEC_HEADER.index("Coal electricity per capita (kWh)")] = decimals(
                coal_e * 1e9 / (w.pop_m[ci] * 1e6), 3
            )
            row[OWID_ELEC_HEADER.index("Coal (% electricity)")] = decimals(100 * coal_e / gen, 3)
            elec.append(row)
            prev = float(s["prod_twh"][ci, j - 1]) if j else None
            frow: list[Any] = [""] * len(OWID_FOSSIL_HEADER)
            frow[0], frow[1], frow[2] = name, y, decimals(p)
            if prev is not None:
                frow[5] = decimals(100 * (p - prev) / prev, 3) if prev else ""
                frow[6] = decimals(p - prev)
            frow[11] = decimals(p * 1e9 / (w.pop_m[ci] * 1e6), 3)
            fossil.append(frow)
    world = s["prod_twh"].sum(axis=0)
    for j, y in enumerate(yrs):
        prod.append(["World", "OWID_WRL", y, decimals(float(world[j]))])
        co2.append(["World", "OWID_WRL", y, decimals(float(s["co2_t"][:, j].sum()), 0)])
    note = f"({SYNTHETIC_MARKER})"
    energy_cb = [
        ["country", f"Country - Geographic location. {note}", "", "Our World in Data - Regions"],
        ["year", f"Year - Year of observation. {note}", "", "Our World in Data - Regions"],
        [
            "iso_code",
            f"ISO code - ISO 3166-1 alpha-3 three-letter country codes. {note}",
            "",
            "International Organization for Standardization - Regions",
        ],
        [
            "coal_production",
            f"Coal production - Measured in terawatt-hours. {note}",
            "terawatt-hours",
            "Synthetic demo generator",
        ],
        [
            "coal_share_elec",
            f"Share of electricity generated by coal. {note}",
            "%",
            "Synthetic demo generator",
        ],
    ]
    co2_cb = [
        ["country", f"Country - Geographic location. {note}", "", "Our World in Data - Regions"],
        ["year", f"Year - Year of observation. {note}", "", "Our World in Data - Regions"],
        [
            "iso_code",
            f"ISO code - ISO 3166-1 alpha-3 three-letter country codes. {note}",
            "",
            "International Organization for Standardization - Regions",
        ],
        [
            "coal_co2",
            f"Annual CO₂ emissions from coal. {note}",
            "million tonnes",
            "Synthetic demo generator",
        ],
    ]
    return {
        "owid_coal_production_by_country_twh.csv": csv_bytes(
            OWID_PRODUCTION_HEADER, prod, trailing_newline=False
        ),
        "owid_coal_consumption_by_country_twh.csv": csv_bytes(OWID_CONSUMPTION_HEADER, cons),
        "owid_annual_co2_emissions_from_coal.csv": csv_bytes(
            OWID_CO2_HEADER, co2, trailing_newline=False
        ),
        "owid_electricity_mix_bp_ember_2022.csv": csv_bytes(OWID_ELEC_HEADER, elec),
        "owid_fossil_fuel_production_bp_shift_2022.csv": csv_bytes(OWID_FOSSIL_HEADER, fossil),
        "owid-energy-codebook.csv": csv_bytes(OWID_CODEBOOK_HEADER, energy_cb),
        "owid-co2-codebook.csv": csv_bytes(OWID_CODEBOOK_HEADER, co2_cb),
    }
