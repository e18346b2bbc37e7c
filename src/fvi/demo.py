"""A deterministic synthetic coal world, written in the real publishers' file formats.

Used when no data directory is given and the live sources are unreachable: the files land in
the same folder layout as ``shared/data`` and flow through the same connectors, so the whole
pipeline (bronze → silver → gold → scores → model) runs offline. Nothing here reads real data;
every number comes from one seeded random generator, so the same seed gives byte-identical files.

Everything is marked synthetic where the format allows it without breaking the published layout
(the About sheets, codebook descriptions, owner names, ``_demo`` in World Bank file names) and
by ``SYNTHETIC.txt`` at the top of the output directory, which the pipeline checks.

The world is coherent on purpose so models have signal: mines close more often when they are
small, costly, and in countries with strict coal policy and falling demand; a country's
production is the sum of its mines plus a small unmodelled remainder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pycountry

SYNTHETIC_MARKER = "SYNTHETIC DEMO DATA — not real"
MARKER_FILE = "SYNTHETIC.txt"
_FIXED_TIME = (2024, 4, 1, 0, 0, 0)
_FIXED_DT = dt.datetime(*_FIXED_TIME)
_TWH_PER_MT = 6.67  # ~24 GJ per tonne of coal
_ST_PER_T = 1.10231

# Candidate coal countries: ISO3 -> (UN subregion, region, approx. centroid lat, lon).
# Geography only; every quantity attached to a country is drawn at random.
_CANDIDATES: dict[str, tuple[str, str, float, float]] = {
    "USA": ("Northern America", "Americas", 39.0, -98.0),
    "CHN": ("Eastern Asia", "Asia", 35.0, 105.0),
    "IND": ("Southern Asia", "Asia", 22.0, 79.0),
    "IDN": ("South-eastern Asia", "Asia", -2.0, 115.0),
    "AUS": ("Australia and New Zealand", "Oceania", -25.0, 135.0),
    "RUS": ("Eastern Europe", "Europe", 56.0, 90.0),
    "ZAF": ("Sub-Saharan Africa", "Africa", -28.0, 25.0),
    "DEU": ("Western Europe", "Europe", 51.0, 10.0),
    "POL": ("Eastern Europe", "Europe", 52.0, 19.0),
    "KAZ": ("Central Asia", "Asia", 48.0, 68.0),
    "TUR": ("Western Asia", "Asia", 39.0, 35.0),
    "COL": ("Latin America and the Caribbean", "Americas", 4.0, -73.0),
    "VNM": ("South-eastern Asia", "Asia", 16.0, 107.0),
    "MNG": ("Eastern Asia", "Asia", 46.0, 105.0),
    "CAN": ("Northern America", "Americas", 56.0, -106.0),
    "UKR": ("Eastern Europe", "Europe", 49.0, 32.0),
    "CZE": ("Eastern Europe", "Europe", 49.8, 15.5),
    "GRC": ("Southern Europe", "Europe", 39.0, 22.0),
    "SRB": ("Southern Europe", "Europe", 44.0, 21.0),
    "BGR": ("Eastern Europe", "Europe", 42.7, 25.5),
    "ROU": ("Eastern Europe", "Europe", 46.0, 25.0),
    "BIH": ("Southern Europe", "Europe", 44.0, 18.0),
    "MEX": ("Latin America and the Caribbean", "Americas", 23.0, -102.0),
    "BRA": ("Latin America and the Caribbean", "Americas", -10.0, -55.0),
    "CHL": ("Latin America and the Caribbean", "Americas", -30.0, -71.0),
    "VEN": ("Latin America and the Caribbean", "Americas", 7.0, -66.0),
    "PAK": ("Southern Asia", "Asia", 30.0, 70.0),
    "BGD": ("Southern Asia", "Asia", 24.0, 90.0),
    "THA": ("South-eastern Asia", "Asia", 15.0, 101.0),
    "PHL": ("South-eastern Asia", "Asia", 12.0, 122.0),
    "LAO": ("South-eastern Asia", "Asia", 18.0, 103.0),
    "MMR": ("South-eastern Asia", "Asia", 21.0, 96.0),
    "PRK": ("Eastern Asia", "Asia", 40.0, 127.0),
    "KOR": ("Eastern Asia", "Asia", 36.5, 128.0),
    "JPN": ("Eastern Asia", "Asia", 36.0, 138.0),
    "NZL": ("Australia and New Zealand", "Oceania", -41.0, 174.0),
    "GBR": ("Northern Europe", "Europe", 54.0, -2.0),
    "ESP": ("Southern Europe", "Europe", 40.0, -4.0),
    "HUN": ("Eastern Europe", "Europe", 47.0, 19.5),
    "SVK": ("Eastern Europe", "Europe", 48.7, 19.7),
    "MOZ": ("Sub-Saharan Africa", "Africa", -18.0, 35.0),
    "ZWE": ("Sub-Saharan Africa", "Africa", -19.0, 29.8),
    "BWA": ("Sub-Saharan Africa", "Africa", -22.0, 24.0),
    "TZA": ("Sub-Saharan Africa", "Africa", -6.0, 35.0),
    "ZMB": ("Sub-Saharan Africa", "Africa", -14.0, 28.0),
    "NGA": ("Sub-Saharan Africa", "Africa", 9.0, 8.0),
    "IRN": ("Southern Asia", "Asia", 32.0, 53.0),
    "UZB": ("Central Asia", "Asia", 41.0, 64.0),
    "KGZ": ("Central Asia", "Asia", 41.0, 75.0),
    "TJK": ("Central Asia", "Asia", 39.0, 71.0),
    "AFG": ("Southern Asia", "Asia", 33.0, 66.0),
    "MWI": ("Sub-Saharan Africa", "Africa", -13.5, 34.0),
    "MDG": ("Sub-Saharan Africa", "Africa", -19.0, 47.0),
    "ETH": ("Sub-Saharan Africa", "Africa", 9.0, 40.0),
}

# How each publisher spells the names pycountry gets "wrong" for it.
_GEM_NAMES = {
    "USA": "United States",
    "RUS": "Russia",
    "GBR": "United Kingdom",
    "CZE": "Czech Republic",
    "TUR": "Türkiye",
    "KOR": "South Korea",
    "PRK": "North Korea",
}
_OWID_NAMES = {
    "USA": "United States",
    "RUS": "Russia",
    "GBR": "United Kingdom",
    "CZE": "Czechia",
    "TUR": "Turkey",
    "KOR": "South Korea",
    "PRK": "North Korea",
}
_WB_NAMES = {
    "RUS": "Russian Federation",
    "KOR": "Korea, Rep.",
    "PRK": "Korea, Dem. People's Rep.",
    "VNM": "Viet Nam",
    "IRN": "Iran, Islamic Rep.",
    "TUR": "Turkiye",
    "LAO": "Lao PDR",
    "VEN": "Venezuela, RB",
    "KGZ": "Kyrgyz Republic",
    "SVK": "Slovak Republic",
    "TZA": "Tanzania",
    "CZE": "Czechia",
    "GBR": "United Kingdom",
    "USA": "United States",
}
_STATES_US = [
    ("Kentucky (East)", "Kentucky", "Appalachia Central"),
    ("West Virginia (Southern)", "West Virginia", "Appalachia Central"),
    ("West Virginia (Northern)", "West Virginia", "Appalachia Northern"),
    ("Pennsylvania (Bituminous)", "Pennsylvania", "Appalachia Northern"),
    ("Virginia", "Virginia", "Appalachia Central"),
    ("Alabama", "Alabama", "Appalachia Southern"),
    ("Illinois", "Illinois", "Illinois Basin"),
    ("Indiana", "Indiana", "Illinois Basin"),
    ("Wyoming", "Wyoming", "Powder River Basin"),
    ("Utah", "Utah", "Uinta Region"),
    ("Texas", "Texas", "Interior"),
    ("North Dakota", "North Dakota", "Western"),
]
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
_SYL = [
    "ka",
    "ro",
    "ven",
    "dal",
    "mor",
    "tsi",
    "lan",
    "bek",
    "sor",
    "nu",
    "gar",
    "pel",
    "hin",
    "tor",
    "ash",
    "wen",
    "zu",
    "lo",
    "mir",
    "dra",
    "kel",
    "bra",
    "vos",
    "el",
]

# ---------------------------------------------------------------------------------------------
# Published headers (header text only, copied from the real files)

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
GCB_HEADER = [
    "Country",
    "ISO 3166-1 alpha-3",
    "Year",
    "Total",
    "Coal",
    "Oil",
    "Gas",
    "Cement",
    "Flaring",
    "Other",
    "Per Capita",
]
WDI_HEADER_START = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]
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
ECP_HEADER = [
    "jurisdiction",
    "year",
    "ecp_ets_jurGHG_usd_k",
    "ecp_tax_jurGHG_usd_k",
    "ecp_all_jurGHG_usd_k",
    "ecp_ets_jurCO2_usd_k",
    "ecp_tax_jurCO2_usd_k",
    "ecp_all_jurCO2_usd_k",
    "ecp_ets_supraGHG_usd_k",
    "ecp_tax_supraGHG_usd_k",
    "ecp_all_supraGHG_usd_k",
    "ecp_ets_supraCO2_usd_k",
    "ecp_tax_supraCO2_usd_k",
    "ecp_all_supraCO2_usd_k",
]
COVERAGE_HEADER = [
    "jurisdiction",
    "year",
    "cov_tax_CO2_jurGHG",
    "cov_tax_CO2_jurCO2",
    "cov_tax_CO2_wldGHG",
    "cov_tax_CO2_wldCO2",
    "cov_tax_CO2_supraGHG",
    "cov_tax_CO2_supraCO2",
    "cov_ets_CO2_jurGHG",
    "cov_ets_CO2_jurCO2",
    "cov_ets_CO2_wldGHG",
    "cov_ets_CO2_wldCO2",
    "cov_ets_CO2_supraGHG",
    "cov_ets_CO2_supraCO2",
    "cov_all_CO2_jurGHG",
    "cov_all_CO2_jurCO2",
    "cov_all_CO2_wldGHG",
    "cov_all_CO2_wldCO2",
    "cov_all_CO2_supraGHG",
    "cov_all_CO2_supraCO2",
]
PHASE_OUT_HEADER = ["Entity", "Code", "Year", "Coal Exit Timeline (Beyond Coal)"]
COP26_HEADER = [
    "state_iso",
    "state_name",
    "status_deforestation",
    "status_methane",
    "status_coal",
    "status_cars",
]
MINING_AREA_HEADER = ["COUNTRY_NAME", "ISO3_CODE", "AREA", "N_FEATURES"]


# ---------------------------------------------------------------------------------------------
# The world


@dataclass
class _World:
    years: np.ndarray
    iso3: list[str]
    policy: np.ndarray  # 0..1 stringency of coal policy
    trend: np.ndarray  # yearly growth of coal demand
    pop_m: np.ndarray
    gdp0: np.ndarray  # GDP, current US$, first year
    gdp_growth: np.ndarray
    share0: np.ndarray  # coal share of electricity, first year (%)
    elec0: np.ndarray  # electricity generation, first year (TWh)
    phase_out: np.ndarray  # phase-out year or 0
    # mines
    m_country: np.ndarray
    m_capacity: np.ndarray
    m_cost: np.ndarray
    m_surface: np.ndarray
    m_open: np.ndarray  # opening year (9999 = never opened: proposal)
    m_close: np.ndarray  # closing year (9999 = still open at the end)
    m_prod: np.ndarray  # (mines, years) Mt
    m_reserves: np.ndarray
    m_depth: np.ndarray
    m_workforce: np.ndarray
    m_lat: np.ndarray
    m_lon: np.ndarray
    m_coal_type: np.ndarray
    m_grade: np.ndarray
    m_status_now: np.ndarray  # status in the latest release
    m_status_prev: np.ndarray  # status one release earlier
    m_msha: np.ndarray  # 0 for non-US
    m_names: list[str]
    country_prod: np.ndarray  # (countries, years) Mt


def _name(rng: np.random.Generator, n: int) -> list[str]:
    k = rng.integers(2, 4, size=n)
    picks = rng.integers(0, len(_SYL), size=(n, 3))
    return ["".join(_SYL[j] for j in picks[i, : k[i]]).capitalize() for i in range(n)]


def _build_world(seed: int, n_mines: int, n_countries: int, years: range) -> _World:
    rng = np.random.default_rng(seed)
    yrs = np.arange(years.start, years.stop)
    ny = len(yrs)
    pool = [c for c in _CANDIDATES if c != "USA"]
    n_countries = max(2, min(n_countries, len(_CANDIDATES)))
    chosen = ["USA", *sorted(rng.choice(pool, size=n_countries - 1, replace=False).tolist())]
    nc = len(chosen)

    policy = rng.beta(2.0, 2.5, size=nc)
    trend = 0.05 - 0.10 * policy + rng.normal(0, 0.015, size=nc)
    pop_m = np.round(rng.lognormal(3.0, 1.2, size=nc), 3)
    gdp_pc = rng.lognormal(8.8, 1.0, size=nc) * (0.6 + policy)
    gdp0 = pop_m * 1e6 * gdp_pc
    gdp_growth = rng.normal(0.045, 0.02, size=nc)
    share0 = np.clip(rng.normal(45, 22, size=nc) * (1.3 - 0.6 * policy), 2, 95)
    elec0 = pop_m * rng.lognormal(1.0, 0.8, size=nc)
    phase_year = np.where(policy > 0.55, rng.choice([2025, 2030, 2035, 2040, 2049], size=nc), 0)

    # mines: weights by country scale; the US gets a fixed large share for the EIA crosswalk
    scale = rng.lognormal(0.0, 1.2, size=nc)
    weights = scale / scale.sum() * 0.85
    weights[0] = 0.15
    weights = weights / weights.sum()
    m_country = np.concatenate(
        [np.arange(nc), rng.choice(nc, size=max(0, n_mines - nc), p=weights)]
    )
    m_country = np.sort(m_country[:n_mines], kind="stable")
    nm = len(m_country)
    m_capacity = np.round(np.clip(rng.lognormal(0.8, 1.0, size=nm), 0.1, 80.0), 2)
    m_cost = np.round(rng.normal(0, 1, size=nm), 3)  # standardised cash-cost index
    m_surface = rng.random(nm) < 0.55
    is_proposal = rng.random(nm) < 0.18
    m_open = np.where(
        rng.random(nm) < 0.8,
        rng.integers(1950, yrs[0], size=nm),
        rng.integers(yrs[0], yrs[-1] + 1, size=nm),
    )
    m_open = np.where(is_proposal, 9999, m_open)

    # closure hazard per year: small, costly, strict-policy, falling-demand mines close more
    logit = (
        -4.0
        - 0.45 * np.log(m_capacity)
        + 0.7 * m_cost
        + 2.2 * policy[m_country]
        - 12.0 * trend[m_country]
    )
    hazard = 1.0 / (1.0 + np.exp(-logit))
    draws = rng.random((nm, ny))
    closing = (draws < hazard[:, None]) & (yrs[None, :] > m_open[:, None])
    first = np.where(closing.any(axis=1), yrs[np.argmax(closing, axis=1)], 9999)
    m_close = np.where(is_proposal, 9999, first)

    active = (yrs[None, :] >= m_open[:, None]) & (yrs[None, :] < m_close[:, None])
    t = yrs - yrs[0]
    demand = (1.0 + trend[m_country])[:, None] ** t[None, :]
    util = np.clip(
        rng.normal(0.75, 0.12, size=(nm, 1)) + rng.normal(0, 0.05, size=(nm, ny)), 0.2, 1.0
    )
    m_prod = np.round(
        np.where(active, m_capacity[:, None] * util * np.minimum(demand, 1.6), 0.0), 3
    )

    covered = rng.uniform(0.8, 0.95, size=nc)
    country_prod = np.zeros((nc, ny))
    np.add.at(country_prod, m_country, m_prod)
    country_prod = country_prod / covered[:, None]

    m_reserves = np.round(m_capacity * rng.uniform(5, 60, size=nm), 0)
    m_depth = np.where(m_surface, rng.integers(30, 250, size=nm), rng.integers(150, 1200, size=nm))
    m_workforce = np.round(
        m_capacity * rng.uniform(80, 900, size=nm) * (1.0 + policy[m_country]), 0
    )
    lat0 = np.array([_CANDIDATES[c][2] for c in chosen])
    lon0 = np.array([_CANDIDATES[c][3] for c in chosen])
    m_lat = np.round(lat0[m_country] + rng.normal(0, 2.0, size=nm), 6)
    m_lon = np.round(lon0[m_country] + rng.normal(0, 3.0, size=nm), 6)
    m_coal_type = rng.choice(
        np.array(["Bituminous", "Subbituminous", "Lignite", "Anthracite"]),
        size=nm,
        p=[0.5, 0.25, 0.18, 0.07],
    )
    m_grade = rng.choice(
        np.array(["Thermal", "Met", "Thermal & Met"]), size=nm, p=[0.7, 0.15, 0.15]
    )

    last = yrs[-1]
    fate = rng.random(nm)
    now = np.full(nm, "Operating", dtype=object)
    now[m_close <= last] = "Closed"
    now[(m_open > last) & ~is_proposal] = "Proposed"
    now[is_proposal] = np.where(
        fate[is_proposal] < 0.55,
        "Proposed",
        np.where(fate[is_proposal] < 0.8, "Shelved", "Cancelled"),
    )
    mothballed = (now == "Operating") & (rng.random(nm) < 0.03)
    now[mothballed] = "Mothballed"
    before = now.copy()
    before[(m_close == last)] = "Operating"  # closed in the last year: still operating before
    before[(m_open == last)] = "Proposed"  # opened in the last year: a proposal before
    before[mothballed] = "Operating"
    # proposals that stalled between releases were still plain proposals
    stalled = is_proposal & (now != "Proposed") & (fate < 0.7)
    before[stalled] = "Proposed"
    before[(m_close < last)] = "Closed"

    us_idx = np.flatnonzero(m_country == 0)
    m_msha = np.zeros(nm, dtype=np.int64)
    m_msha[us_idx] = rng.choice(np.arange(100100, 4699999), size=len(us_idx), replace=False)

    base = _name(rng, nm)
    m_names = [f"{b} Coal Mine" for b in base]
    return _World(
        years=yrs,
        iso3=chosen,
        policy=policy,
        trend=trend,
        pop_m=pop_m,
        gdp0=gdp0,
        gdp_growth=gdp_growth,
        share0=share0,
        elec0=elec0,
        phase_out=phase_year,
        m_country=m_country,
        m_capacity=m_capacity,
        m_cost=m_cost,
        m_surface=m_surface,
        m_open=m_open,
        m_close=m_close,
        m_prod=m_prod,
        m_reserves=m_reserves,
        m_depth=m_depth,
        m_workforce=m_workforce,
        m_lat=m_lat,
        m_lon=m_lon,
        m_coal_type=m_coal_type,
        m_grade=m_grade,
        m_status_now=now,
        m_status_prev=before,
        m_msha=m_msha,
        m_names=m_names,
        country_prod=country_prod,
    )


# ---------------------------------------------------------------------------------------------
# Writers (deterministic bytes)


def _pyc(iso3: str) -> Any:
    return pycountry.countries.get(alpha_3=iso3)


def _gem_name(iso3: str) -> str:
    c = _pyc(iso3)
    return _GEM_NAMES.get(iso3) or getattr(c, "common_name", None) or c.name


def _owid_name(iso3: str) -> str:
    c = _pyc(iso3)
    return _OWID_NAMES.get(iso3) or getattr(c, "common_name", None) or c.name


def _wb_name(iso3: str) -> str:
    return _WB_NAMES.get(iso3) or _pyc(iso3).name


def _csv_bytes(
    header: list[str],
    rows: list[list[Any]],
    *,
    bom: bool = False,
    crlf: bool = False,
    delimiter: str = ",",
    trailing_newline: bool = True,
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    if not trailing_newline:
        text = text.rstrip("\r\n")
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _fixed_zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def _xlsx_bytes(sheets: list[tuple[str, list[list[Any]]]], title: str) -> bytes:
    """Write with openpyxl, then re-pack with fixed timestamps so the bytes are reproducible."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    props = wb.properties
    props.creator = "FVI synthetic demo generator"
    props.lastModifiedBy = "FVI synthetic demo generator"
    props.title = title
    props.description = SYNTHETIC_MARKER
    props.created = _FIXED_DT
    props.modified = _FIXED_DT
    raw = io.BytesIO()
    wb.save(raw)
    stamp = _FIXED_DT.strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = []
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zf:
        for info in zf.infolist():
            data = zf.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    lambda m: m.group(1) + stamp.encode() + m.group(2),
                    data,
                )
            entries.append((info.filename, data))
    return _fixed_zip(entries)


def _f(x: float, nd: int = 3) -> str:
    return f"{x:.{nd}f}"


def _thousands(x: float) -> str:
    return f"{int(round(x)):,}"


# ---------------------------------------------------------------------------------------------
# Sources


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _gem_about(title: str, release: str) -> list[list[Any]]:
    return [
        [f"{title} - {release}"],
        [f"{SYNTHETIC_MARKER}. Generated by fvi.demo for offline runs; every value is invented."],
        [f"Copyright © nobody. Synthetic stand-in for the {title}, {release} release layout."],
        ["Contact: none (synthetic data)"],
        ["Notes"],
        ["1. Mines, owners, capacities and statuses are random draws from a seeded generator."],
    ]


def _gem_mine_workbooks(w: _World, rng: np.random.Generator, last_year: int) -> dict[str, bytes]:
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
            sub, reg = _CANDIDATES[c][:2]
            status = statuses[i]
            is_us = c == "USA"
            state = (
                _STATES_US[i % len(_STATES_US)][1]
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
                        _gem_name(c),
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
                    _gem_name(c),
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
                    _gem_name(c) if i % 6 else "-",
                    cap,
                    p,
                    int(w.years[prod_y]) if p != "*" else None,
                    round(prod * _ST_PER_T, 2) if p != "*" else 0,
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
        out[name] = _xlsx_bytes(
            [
                ("About", _gem_about("Global Coal Mine Tracker", release)),
                ("Global Coal Mine Tracker (Non-C", open_rows),
                ("Global Coal Mine Tracker (Close", closed_rows),
            ],
            title=f"Global Coal Mine Tracker {release} ({SYNTHETIC_MARKER})",
        )
    return out


def _gem_plants(w: _World, rng: np.random.Generator, last_year: int) -> tuple[bytes, int]:
    nc = len(w.iso3)
    per = np.clip(np.round(w.share0 / 8 + rng.integers(1, 6, size=nc)), 1, 25).astype(int)
    rows: list[list[Any]] = [GEM_PLANTS_HEADER]
    uid, loc = 100000, 100000
    for ci, c in enumerate(w.iso3):
        sub, reg = _CANDIDATES[c][:2]
        for _ in range(per[ci]):
            loc += 1
            pname = f"{_name(rng, 1)[0]} power station"
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
                        _gem_name(c),
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
                        round(_CANDIDATES[c][2] + float(rng.normal(0, 2)), 6),
                        round(_CANDIDATES[c][3] + float(rng.normal(0, 3)), 6),
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
    data = _xlsx_bytes(
        [("About", about), ("Coal Projects", rows)],
        title=f"Global Coal Plant Tracker July 2023 ({SYNTHETIC_MARKER})",
    )
    return data, len(rows) - 1


def _month_bounds(year: int) -> list[tuple[str, str]]:
    out = []
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        out.append((f"{start} 00:00:00", f"{end} 00:00:00"))
    return out


def _climate_trace(w: _World, rng: np.random.Generator) -> dict[str, Any]:
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
                        _f(act * ef[i], 6),
                        "month",
                        _f(act, 4),
                        "t of coal",
                        _f(ef[i], 6),
                        "t of CO2e_100yr per t of coal",
                        _f(w.m_capacity[i] * 1e6, 1),
                        "t of coal per year",
                        _f(act * 12 / (w.m_capacity[i] * 1e6), 6),
                        str(w.m_coal_type[i]),
                        "Coal Type",
                        str(w.m_grade[i]),
                        "Coal Grade",
                        _f(w.m_reserves[i], 1),
                        "Total Reserves (Proven and Probable)",
                        "",
                        "Total Resource (Inferred, Indicated, Measured)",
                        "",
                        "Primary Consumer, Destination",
                        "",
                        "Coal Plant, Steel Plant, Terminal",
                        _f(w.m_depth[i], 1),
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
        "sources": _fixed_zip(
            [("coal-mining_emissions_sources_v4_4_0.csv", _csv_bytes(CT_SOURCES_HEADER, src_rows))]
        ),
        "confidence": _fixed_zip(
            [
                (
                    "coal-mining_emissions_sources_confidence_v4_4_0.csv",
                    _csv_bytes(CT_CONFIDENCE_HEADER, conf_rows),
                )
            ]
        ),
        "country": _csv_bytes(CT_COUNTRY_HEADER, country_rows),
        "n_sources": len(subset),
        "n_rows": len(src_rows),
    }


def _eia(w: _World, rng: np.random.Generator) -> tuple[dict[str, bytes], int]:
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
    small_names = _name(rng, n_small)
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
    state_idx = rng.integers(0, len(_STATES_US), size=n)
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
            st_label, st_name, basin = _STATES_US[state_idx[k]]
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
            short_tons = prod * 1e6 * _ST_PER_T
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
            amounts = [_thousands(short_tons), f"{emp:,}", _thousands(hours)]
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
        files[f"coalpublic{y}.csv"] = _csv_bytes(header, rows, bom=True, crlf=True)
        total += len(rows)
    return files, total


def _series(w: _World) -> dict[str, np.ndarray]:
    """Country-year series derived from the mines (coal) and country traits (the rest)."""
    t = (w.years - w.years[0])[None, :]
    prod_twh = w.country_prod * _TWH_PER_MT
    cons_twh = prod_twh * (0.7 + 0.6 * (1 - w.policy))[:, None] + 50 * w.share0[:, None] / 100
    elec = w.elec0[:, None] * 1.02**t
    share = np.clip(w.share0[:, None] * (1 + w.trend[:, None] * 1.3) ** t, 0.5, 98)
    gdp = w.gdp0[:, None] * (1 + w.gdp_growth[:, None]) ** t
    co2_t = cons_twh * 0.34e6  # ~0.34 Mt CO2 per TWh of coal
    return {
        "prod_twh": prod_twh,
        "cons_twh": cons_twh,
        "elec": elec,
        "share": share,
        "gdp": gdp,
        "co2_t": co2_t,
    }


def _owid(w: _World, s: dict[str, np.ndarray]) -> dict[str, bytes]:
    order = sorted(range(len(w.iso3)), key=lambda i: _owid_name(w.iso3[i]))
    yrs = w.years.tolist()
    prod, cons, co2, elec, fossil = [], [], [], [], []
    for ci in order:
        c, name = w.iso3[ci], _owid_name(w.iso3[ci])
        for j, y in enumerate(yrs):
            p = float(s["prod_twh"][ci, j])
            prod.append([name, c, y, _f(p)])
            cons.append([name, y, _f(float(s["cons_twh"][ci, j]))])
            co2.append([name, c, y, _f(float(s["co2_t"][ci, j]), 0)])
            gen = float(s["elec"][ci, j])
            coal_e = gen * float(s["share"][ci, j]) / 100
            row: list[Any] = [""] * len(OWID_ELEC_HEADER)
            row[0], row[1] = name, y
            row[OWID_ELEC_HEADER.index("Electricity from coal (TWh)")] = _f(coal_e, 2)
            row[OWID_ELEC_HEADER.index("Electricity generation (TWh)")] = _f(gen, 2)
            row[OWID_ELEC_HEADER.index("Coal electricity per capita (kWh)")] = _f(
                coal_e * 1e9 / (w.pop_m[ci] * 1e6), 3
            )
            row[OWID_ELEC_HEADER.index("Coal (% electricity)")] = _f(100 * coal_e / gen, 3)
            elec.append(row)
            prev = float(s["prod_twh"][ci, j - 1]) if j else None
            frow: list[Any] = [""] * len(OWID_FOSSIL_HEADER)
            frow[0], frow[1], frow[2] = name, y, _f(p)
            if prev is not None:
                frow[5] = _f(100 * (p - prev) / prev, 3) if prev else ""
                frow[6] = _f(p - prev)
            frow[11] = _f(p * 1e9 / (w.pop_m[ci] * 1e6), 3)
            fossil.append(frow)
    world = s["prod_twh"].sum(axis=0)
    for j, y in enumerate(yrs):
        prod.append(["World", "OWID_WRL", y, _f(float(world[j]))])
        co2.append(["World", "OWID_WRL", y, _f(float(s["co2_t"][:, j].sum()), 0)])
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
        "owid_coal_production_by_country_twh.csv": _csv_bytes(
            OWID_PRODUCTION_HEADER, prod, trailing_newline=False
        ),
        "owid_coal_consumption_by_country_twh.csv": _csv_bytes(OWID_CONSUMPTION_HEADER, cons),
        "owid_annual_co2_emissions_from_coal.csv": _csv_bytes(
            OWID_CO2_HEADER, co2, trailing_newline=False
        ),
        "owid_electricity_mix_bp_ember_2022.csv": _csv_bytes(OWID_ELEC_HEADER, elec),
        "owid_fossil_fuel_production_bp_shift_2022.csv": _csv_bytes(OWID_FOSSIL_HEADER, fossil),
        "owid-energy-codebook.csv": _csv_bytes(OWID_CODEBOOK_HEADER, energy_cb),
        "owid-co2-codebook.csv": _csv_bytes(OWID_CODEBOOK_HEADER, co2_cb),
    }


def _gcb(w: _World, s: dict[str, np.ndarray], rng: np.random.Generator) -> bytes:
    buf = io.StringIO()
    buf.write(",".join(f'"{h}"' for h in GCB_HEADER) + "\r\n")
    order = sorted(range(len(w.iso3)), key=lambda i: _owid_name(w.iso3[i]))
    other = rng.uniform(0.3, 2.5, size=(len(w.iso3), 5))
    tot_rows = np.zeros((len(w.years), 7))
    for ci in order:
        name = "USA" if w.iso3[ci] == "USA" else _owid_name(w.iso3[ci])
        for j, y in enumerate(w.years.tolist()):
            coal = float(s["co2_t"][ci, j]) / 1e6
            oil, gas, cement, flaring = (
                coal * other[ci, :4] * np.array([1, 0.8, 0.05, 0.01])
            ).tolist()
            other_v = coal * 0.01
            total = coal + oil + gas + cement + flaring + other_v
            per_cap = total / w.pop_m[ci]
            tot_rows[j] += [total, coal, oil, gas, cement, flaring, other_v]
            vals = [total, coal, oil, gas, cement, flaring, other_v, per_cap]
            buf.write(f'"{name}","{w.iso3[ci]}",{y},' + ",".join(f"{v:.6f}" for v in vals) + "\r\n")
    for j, y in enumerate(w.years.tolist()):
        vals = [*tot_rows[j].tolist(), tot_rows[j][0] / float(w.pop_m.sum())]
        buf.write(f'"Global","WLD",{y},' + ",".join(f"{v:.6f}" for v in vals) + "\r\n")
    return buf.getvalue().encode("utf-8")


def _wdi(w: _World, values: np.ndarray, name: str, code: str) -> bytes:
    last = int(w.years[-1])
    cols = [str(y) for y in range(1960, last + 1)]
    lines = [
        '"Data Source","World Development Indicators",',
        "",
        '"Last Updated Date","2024-03-28",',
        "",
        ",".join(f'"{h}"' for h in [*WDI_HEADER_START, *cols]) + ",",
    ]
    yidx = {int(y): i for i, y in enumerate(w.years)}
    for ci in sorted(range(len(w.iso3)), key=lambda i: _wb_name(w.iso3[i])):
        cells = [_wb_name(w.iso3[ci]), w.iso3[ci], name, code]
        for y in range(1960, last + 1):
            cells.append(repr(round(float(values[ci, yidx[y]]), 6)) if y in yidx else "")
        lines.append(",".join(f'"{c}"' for c in cells) + ",")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _policy_files(
    w: _World, s: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, bytes]:
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
    for ci in sorted(range(nc), key=lambda i: _owid_name(w.iso3[i])):
        for j, y in enumerate(yrs):
            if 2010 <= y <= 2022:
                v = subsidy0[ci] * (1 + w.trend[ci]) ** j * float(rng.uniform(0.8, 1.2))
                one.append(
                    [_owid_name(w.iso3[ci]), y, f"{round(v):.1f}", w.iso3[ci], str(income[ci])]
                )
    out["subsidies/one_fossil_fuel_subsidies_2010_2022.csv"] = _csv_bytes(ONE_SUBSIDIES_HEADER, one)
    # IMF post-tax subsidies 2015, % of GDP
    j15 = yrs.index(2015) if 2015 in yrs else len(yrs) - 1
    imf = []
    for ci in sorted(range(nc), key=lambda i: _gem_name(w.iso3[i])):
        coal = float((1 - w.policy[ci]) * w.share0[ci] / 10 * rng.uniform(0.5, 1.5))
        pet, gas = float(rng.uniform(0.2, 2.0)), float(rng.uniform(0.0, 1.0))
        imf.append(
            [
                _gem_name(w.iso3[ci]),
                f"{s['gdp'][ci, j15] / 1e9:.2f}",
                f"{w.pop_m[ci]:.2f}",
                f"{pet:.2f}",
                f"{coal:.2f}",
                f"{gas:.2f}",
                "",
                f"{pet + coal + gas:.2f}",
            ]
        )
    out["subsidies/imf_post_tax_energy_subsidies_2015_pct_gdp_by_fuel.csv"] = _csv_bytes(
        IMF_SUBSIDIES_HEADER, imf, bom=True, crlf=True
    )
    # carbon pricing: strict-policy countries start a price at some year
    start = np.where(w.policy > 0.5, rng.integers(int(yrs[0]), int(yrs[-1]) + 3, size=nc), 9999)
    ecp, cov = [], []
    for ci in sorted(range(nc), key=lambda i: _wb_name(w.iso3[i])):
        for y in yrs:
            on = y >= start[ci]
            price = float(w.policy[ci] * 60 * min(1.0, (y - start[ci] + 1) / 8)) if on else 0.0
            cover = float(min(0.9, w.policy[ci])) if on else 0.0
            ets, tax = (price * cover * 0.7, price * cover * 0.3)
            ecp.append(
                [
                    _wb_name(w.iso3[ci]),
                    y,
                    repr(round(ets * 0.8, 6)),
                    repr(round(tax * 0.8, 6)),
                    repr(round((ets + tax) * 0.8, 6)),
                    repr(round(ets, 6)),
                    repr(round(tax, 6)),
                    repr(round(ets + tax, 6)),
                    *["NA"] * 6,
                ]
            )
            c_t, c_e = cover * 0.3, cover * 0.7
            cov.append(
                [
                    _wb_name(w.iso3[ci]),
                    y,
                    repr(round(c_t * 0.8, 6)),
                    repr(round(c_t, 6)),
                    repr(round(c_t * 0.01, 6)),
                    repr(round(c_t * 0.012, 6)),
                    "NA",
                    "NA",
                    repr(round(c_e * 0.8, 6)),
                    repr(round(c_e, 6)),
                    repr(round(c_e * 0.01, 6)),
                    repr(round(c_e * 0.012, 6)),
                    "NA",
                    "NA",
                    repr(round(cover * 0.8, 6)),
                    repr(round(cover, 6)),
                    repr(round(cover * 0.01, 6)),
                    repr(round(cover * 0.012, 6)),
                    "NA",
                    "NA",
                ]
            )
    out["carbon_pricing/ecp_CO2_jurisdiction_year.csv"] = _csv_bytes(ECP_HEADER, ecp)
    out["carbon_pricing/tot_coverage_jurisdiction_CO2.csv"] = _csv_bytes(COVERAGE_HEADER, cov)
    # coal phase-out timeline (one row per country with a pledge; coal-free small ones too)
    phase = []
    label = {
        2025: "Phase out by 2030",
        2030: "Phase out by 2030",
        2035: "Phase out by 2040",
        2040: "Phase out by 2040",
        2049: "Phase out in 2040s",
    }
    for ci in sorted(range(nc), key=lambda i: _owid_name(w.iso3[i])):
        py = int(w.phase_out[ci])
        if py:
            phase.append([_owid_name(w.iso3[ci]), w.iso3[ci], py, label[py]])
    out["coal_policy/owid_coal_phase_out_timeline_beyond_coal.csv"] = _csv_bytes(
        PHASE_OUT_HEADER, phase, trailing_newline=False
    )
    cop = []
    for ci in sorted(range(nc), key=lambda i: _owid_name(w.iso3[i])):
        pledged = bool(w.policy[ci] > 0.5)
        coal_status = (
            "PledgedPlusPPCAUsesCoal"
            if w.policy[ci] > 0.7
            else "PledgedUsesCoal"
            if pledged
            else "NotPledgedUsesCoal"
        )
        cop.append(
            [
                _pyc(w.iso3[ci]).alpha_2,
                _owid_name(w.iso3[ci]),
                "PledgedCOP26" if rng.random() < 0.6 else "NotPledged",
                "Pledged" if pledged else "NotPledged",
                coal_status,
                "Pledged2040" if w.policy[ci] > 0.75 else "NotPledged",
            ]
        )
    out["coal_policy/klimadashboard_COP26_agreements.csv"] = _csv_bytes(
        COP26_HEADER, cop, delimiter=";"
    )
    # mining land
    counts = np.bincount(w.m_country, minlength=nc)
    area = counts * rng.uniform(5, 40, size=nc) + rng.uniform(1, 50, size=nc)
    land = [
        [_gem_name(w.iso3[ci]), w.iso3[ci], repr(float(area[ci])), int(counts[ci] * 3 + 1)]
        for ci in np.argsort(-area, kind="stable")
    ]
    out["mining_land/global_mining_area_per_country_v1.csv"] = _csv_bytes(MINING_AREA_HEADER, land)
    return out


# ---------------------------------------------------------------------------------------------
# Entry point


def write_demo_data(
    out_dir: Path,
    *,
    seed: int = 20240401,
    n_mines: int = 400,
    n_countries: int = 36,
    years: range = range(2005, 2024),
) -> dict:
    """Write the synthetic world under ``out_dir`` (laid out like shared/data); return a summary."""
    out_dir = Path(out_dir)
    if len(years) < 2:
        raise ValueError("years must span at least two years")
    w = _build_world(seed, n_mines, n_countries, years)
    rng = np.random.default_rng([seed, 1])
    last = int(w.years[-1])
    files: dict[str, bytes] = {}
    for name, data in _gem_mine_workbooks(w, rng, last).items():
        files[f"gem_coal_mines/{name}"] = data
    plants, n_units = _gem_plants(w, rng, last)
    files["gem_coal_plants/Global-Coal-Plant-Tracker-July-2023.xlsx"] = plants
    ct = _climate_trace(w, rng)
    files["climate_trace/climatetrace_coal-mining_emissions_sources_v4_4_0.zip"] = ct["sources"]
    files["climate_trace/climatetrace_coal-mining_emissions_sources_confidence_v4_4_0.zip"] = ct[
        "confidence"
    ]
    files["climate_trace/climatetrace_coal-mining_country_emissions_v4_4_0.csv"] = ct["country"]
    eia, n_eia = _eia(w, rng)
    files.update({f"eia_us_coal_mines/{k}": v for k, v in eia.items()})
    s = _series(w)
    files.update({f"owid/{k}": v for k, v in _owid(w, s).items()})
    files["gcp_co2_by_fuel/GCB2022v27_MtCO2_flat.csv"] = _gcb(w, s, rng)
    rents = np.clip(s["prod_twh"] / _TWH_PER_MT * 40e6 / s["gdp"] * 100, 0, 30)
    files["worldbank_wdi/API_EG.ELC.COAL.ZS_DS2_en_csv_v2_demo.csv"] = _wdi(
        w, s["share"], "Electricity production from coal sources (% of total)", "EG.ELC.COAL.ZS"
    )
    files["worldbank_wdi/API_NY.GDP.MKTP.CD_DS2_en_csv_v2_demo.csv"] = _wdi(
        w, s["gdp"], "GDP (current US$)", "NY.GDP.MKTP.CD"
    )
    files["worldbank_wdi/API_NY.GDP.COAL.RT.ZS_DS2_en_csv_v2_demo.csv"] = _wdi(
        w, rents, "Coal rents (% of GDP)", "NY.GDP.COAL.RT.ZS"
    )
    files.update(_policy_files(w, s, rng))

    summary_counts = {
        "countries": len(w.iso3),
        "mines": int(len(w.m_country)),
        "years": int(len(w.years)),
        "us_mines_in_gem": int((w.m_country == 0).sum()),
        "mines_closed_by_last_year": int((w.m_close <= last).sum()),
        "status_changes_between_releases": int((w.m_status_now != w.m_status_prev).sum()),
        "plant_units": n_units,
        "climate_trace_sources": int(ct["n_sources"]),
        "climate_trace_rows": int(ct["n_rows"]),
        "eia_rows": n_eia,
    }
    marker = (
        f"{SYNTHETIC_MARKER}\n\nEvery file in this folder was generated by fvi.demo.write_demo_data"
        f" (seed={seed}, n_mines={n_mines}, n_countries={n_countries},"
        f" years={years.start}-{years.stop - 1}).\nThe files mimic the publishers' layouts so the"
        " real connectors can read them; no value is real. Do not cite or publish them.\n"
    )
    files[MARKER_FILE] = marker.encode("utf-8")
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {
        "synthetic": True,
        "marker": MARKER_FILE,
        "seed": seed,
        "out_dir": str(out_dir),
        "files": sorted(files),
        "counts": summary_counts,
        "countries": list(w.iso3),
    }
