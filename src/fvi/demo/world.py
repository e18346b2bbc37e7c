"""The synthetic world itself: countries, mines and their histories, drawn from one seed.

Every source module writes its files from this one world, so the files agree with each other the
way the real publishers' files do (a country's production is the sum of its mines plus a small
remainder; closures follow size, cost, policy and demand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TWH_PER_MT = 6.67  # ~24 GJ per tonne of coal

ST_PER_T = 1.10231

# Candidate coal countries: ISO3 -> (UN subregion, region, approx. centroid lat, lon).
# Geography only; every quantity attached to a country is drawn at random.
CANDIDATES: dict[str, tuple[str, str, float, float]] = {
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

STATES_US = [
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



@dataclass
class World:
    """Countries (index ``ci``) and mines (index ``i``, ``m_`` arrays); years along the last axis."""

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


def invented_names(rng: np.random.Generator, n: int) -> list[str]:
    """Names built from syllables: plausible, and never borrowed from a real mine or plant."""
    k = rng.integers(2, 4, size=n)
    picks = rng.integers(0, len(_SYL), size=(n, 3))
    return ["".join(_SYL[j] for j in picks[i, : k[i]]).capitalize() for i in range(n)]


def build_world(seed: int, n_mines: int, n_countries: int, years: range) -> World:
    """Draw the whole world from ``seed``; the draw order is fixed, so the files are too."""
    rng = np.random.default_rng(seed)
    yrs = np.arange(years.start, years.stop)
    ny = len(yrs)
    pool = [c for c in CANDIDATES if c != "USA"]
    n_countries = max(2, min(n_countries, len(CANDIDATES)))
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
    lat0 = np.array([CANDIDATES[c][2] for c in chosen])
    lon0 = np.array([CANDIDATES[c][3] for c in chosen])
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

    base = invented_names(rng, nm)
    m_names = [f"{b} Coal Mine" for b in base]
    return World(
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


def country_series(w: World) -> dict[str, np.ndarray]:
    """Country-year series derived from the mines (coal) and country traits (the rest)."""
    t = (w.years - w.years[0])[None, :]
    prod_twh = w.country_prod * TWH_PER_MT
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
