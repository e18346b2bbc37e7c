"""The synthetic demo world: deterministic, marked synthetic, laid out as the publishers do.

The expected headers below are copied (header text only, no data) from the real published files
in ``shared/data``; the demo must reproduce them exactly so the real connectors read it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from fvi.demo import MARKER_FILE, SYNTHETIC_MARKER, write_demo_data
from fvi.pipeline import CONNECTORS

PUBLISHED_HEADERS: dict[str, list[str]] = {
    "carbon_pricing/ecp_CO2_jurisdiction_year.csv": [
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
    ],
    "carbon_pricing/tot_coverage_jurisdiction_CO2.csv": [
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
    ],
    "climate_trace/climatetrace_coal-mining_country_emissions_v4_4_0.csv": [
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
    ],
    "climate_trace/climatetrace_coal-mining_emissions_sources_confidence_v4_4_0.zip": [
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
    ],
    "climate_trace/climatetrace_coal-mining_emissions_sources_v4_4_0.zip": [
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
    ],
    "coal_policy/klimadashboard_COP26_agreements.csv": [
        "state_iso",
        "state_name",
        "status_deforestation",
        "status_methane",
        "status_coal",
        "status_cars",
    ],
    "coal_policy/owid_coal_phase_out_timeline_beyond_coal.csv": [
        "Entity",
        "Code",
        "Year",
        "Coal Exit Timeline (Beyond Coal)",
    ],
    "eia_us_coal_mines/coalpublic2010.csv": [
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
    ],
    "eia_us_coal_mines/coalpublic2012.csv": [
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
        "Production (short tons)",
        "Average Employees",
        "Labor Hours",
    ],
    "eia_us_coal_mines/coalpublic2013.csv": [
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
    ],
    "gcp_co2_by_fuel/GCB2022v27_MtCO2_flat.csv": [
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
    ],
    "gem_coal_mines/Global-Coal-Mine-Tracker-April-2024.xlsx::Global Coal Mine Tracker (Close": [
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
    ],
    "gem_coal_mines/Global-Coal-Mine-Tracker-April-2024.xlsx::Global Coal Mine Tracker (Non-C": [
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
    ],
    "gem_coal_plants/Global-Coal-Plant-Tracker-July-2023.xlsx::Coal Projects": [
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
    ],
    "mining_land/global_mining_area_per_country_v1.csv": [
        "COUNTRY_NAME",
        "ISO3_CODE",
        "AREA",
        "N_FEATURES",
    ],
    "owid/owid-co2-codebook.csv": [
        "column",
        "description",
        "unit",
        "source",
    ],
    "owid/owid-energy-codebook.csv": [
        "column",
        "description",
        "unit",
        "source",
    ],
    "owid/owid_annual_co2_emissions_from_coal.csv": [
        "Entity",
        "Code",
        "Year",
        "Annual CO₂ emissions from coal",
    ],
    "owid/owid_coal_consumption_by_country_twh.csv": [
        "Entity",
        "Year",
        "Coal consumption - TWh",
    ],
    "owid/owid_coal_production_by_country_twh.csv": [
        "Entity",
        "Code",
        "Year",
        "Coal production (TWh)",
    ],
    "owid/owid_electricity_mix_bp_ember_2022.csv": [
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
    ],
    "owid/owid_fossil_fuel_production_bp_shift_2022.csv": [
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
    ],
    "subsidies/imf_post_tax_energy_subsidies_2015_pct_gdp_by_fuel.csv": [
        "Country",
        "Nominal GDP US$, billions",
        "Population, millions",
        "Petroleum",
        "Coal",
        "Natural Gas",
        "Electricity",
        "Total",
    ],
    "subsidies/one_fossil_fuel_subsidies_2010_2022.csv": [
        "country_name",
        "year",
        "value",
        "iso3_code",
        "income_level",
    ],
    "worldbank_wdi/API_EG.ELC.COAL.ZS_DS2_en_csv_v2_demo.csv": [
        "Country Name",
        "Country Code",
        "Indicator Name",
        "Indicator Code",
    ],
}


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo_data(out)


def _header(root: Path, key: str) -> list[str]:
    rel, _, sheet = key.partition("::")
    path = root / rel
    if sheet:
        wb = openpyxl.load_workbook(path, read_only=True)
        row = next(wb[sheet].iter_rows(values_only=True))
        return [c for c in row if c is not None]
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf, zf.open(zf.namelist()[0]) as fh:
            return next(csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig")))
    delimiter = ";" if "COP26" in rel else ","
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh, delimiter=delimiter)
        if rel.startswith("worldbank_wdi/"):
            for _ in range(4):
                next(rows)
            return next(rows)[:4]
        return next(rows)


def test_same_seed_same_bytes_and_other_seed_differs(demo, tmp_path: Path) -> None:
    root, _ = demo
    again = tmp_path / "again"
    write_demo_data(again)
    first = _hashes(root)
    assert first == _hashes(again)
    other = tmp_path / "other"
    write_demo_data(other, seed=7)
    changed = _hashes(other)
    assert set(changed) == set(first)
    differing = [k for k in first if first[k] != changed[k] and k != MARKER_FILE]
    assert len(differing) >= len(first) - 3  # codebooks may coincide; data files must not


def test_counts_and_summary(demo) -> None:
    root, summary = demo
    counts = summary["counts"]
    assert summary["synthetic"] is True
    assert 200 <= counts["mines"] <= 1000
    assert 20 <= counts["countries"] <= 60
    assert counts["years"] >= 15
    assert counts["us_mines_in_gem"] > 10
    assert counts["mines_closed_by_last_year"] > 20
    assert counts["status_changes_between_releases"] > 5
    for rel in summary["files"]:
        assert (root / rel).is_file(), rel
    assert len(list((root / "eia_us_coal_mines").glob("coalpublic*.csv"))) == counts["years"]


def test_marked_synthetic(demo) -> None:
    root, _ = demo
    assert SYNTHETIC_MARKER in (root / MARKER_FILE).read_text("utf-8")
    for rel in (
        "gem_coal_mines/Global-Coal-Mine-Tracker-April-2024.xlsx",
        "gem_coal_mines/Global-Coal-Mine-Tracker-April-2023.xlsx",
        "gem_coal_plants/Global-Coal-Plant-Tracker-July-2023.xlsx",
    ):
        about = list(
            openpyxl.load_workbook(root / rel, read_only=True)["About"].iter_rows(values_only=True)
        )
        assert str(about[0][0]).startswith("Global Coal ")  # the release line stays first
        assert SYNTHETIC_MARKER in str(about[1][0])
    assert all("demo" in p.name for p in (root / "worldbank_wdi").iterdir())


@pytest.mark.parametrize("key", sorted(PUBLISHED_HEADERS))
def test_headers_equal_published(demo, key: str) -> None:
    root, _ = demo
    assert _header(root, key) == PUBLISHED_HEADERS[key]


def test_formats_as_published(demo) -> None:
    root, _ = demo
    eia = (root / "eia_us_coal_mines/coalpublic2010.csv").read_bytes()
    assert eia.startswith(b"\xef\xbb\xbf") and b"\r\n" in eia
    pre = _header(root, "eia_us_coal_mines/coalpublic2010.csv")
    assert "Mine Basin" in pre and "Coal Supply Region" not in pre
    rows = list(csv.reader(io.StringIO(eia.decode("utf-8-sig"))))
    assert any("," in r[13] for r in rows[1:])  # thousands separators in quoted numbers
    wdi = (root / "worldbank_wdi/API_NY.GDP.MKTP.CD_DS2_en_csv_v2_demo.csv").read_bytes()
    assert wdi.startswith(
        b'\xef\xbb\xbf"Data Source","World Development Indicators",\r\n\r\n"Last Updated'
    )
    with zipfile.ZipFile(
        root / "climate_trace/climatetrace_coal-mining_emissions_sources_v4_4_0.zip"
    ) as zf:
        assert zf.namelist() == ["coal-mining_emissions_sources_v4_4_0.csv"]


def test_world_is_coherent(demo) -> None:
    """GEM mine IDs, MSHA crosswalk to EIA, Climate TRACE native ids, statuses between releases."""
    root, _ = demo
    wb = openpyxl.load_workbook(
        root / "gem_coal_mines/Global-Coal-Mine-Tracker-April-2024.xlsx", read_only=True
    )
    rows = list(wb["Global Coal Mine Tracker (Non-C"].iter_rows(values_only=True))
    head = list(rows[0])
    ids = {r[0] for r in rows[1:]}
    status_col = head.index("Status")
    msha = {r[1] for r in rows[1:] if r[1] is not None and r[status_col] == "Operating"}
    statuses = {r[head.index("Status")] for r in rows[1:]}
    assert statuses >= {"Operating", "Proposed"}
    assert all(str(i).startswith("M") for i in ids)
    eia_ids: set[int] = set()
    for f in (root / "eia_us_coal_mines").glob("coalpublic*.csv"):
        with open(f, encoding="utf-8-sig", newline="") as fh:
            eia_ids |= {int(r["MSHA ID"]) for r in csv.DictReader(fh)}
    assert msha and msha <= eia_ids
    with zipfile.ZipFile(
        root / "climate_trace/climatetrace_coal-mining_emissions_sources_v4_4_0.zip"
    ) as zf:
        text = zf.read(zf.namelist()[0]).decode("utf-8")
    native = {r["native_source_id"] for r in csv.DictReader(io.StringIO(text))}
    closed = {
        r[0] for r in wb["Global Coal Mine Tracker (Close"].iter_rows(min_row=2, values_only=True)
    }
    assert native <= ids | closed


@pytest.mark.parametrize("source_id", CONNECTORS)
def test_connectors_read_demo_without_errors(demo, source_id: str) -> None:
    try:
        module = importlib.import_module(f"fvi.ingest.{source_id}")
    except ModuleNotFoundError:
        pytest.skip(f"connector fvi.ingest.{source_id} not written yet")
    root, _ = demo
    result = module.load(module.locate(root))  # LayoutError would raise here
    assert len(result.quarantine) == 0, result.quarantine.frame().head().to_string()
    assert result.rows_loaded > 0
    assert all(len(t) > 0 for t in result.tables.values())
