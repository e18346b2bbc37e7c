"""climate_trace: CSVs streamed out of their zips into three bronze tables, text kept."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from fvi.ingest import climate_trace
from fvi.ingest.base import FileRecord, LayoutError, load_column_maps

SOURCES_HEADER = (
    "source_id,source_name,source_type,iso3_country,sector,subsector,start_time,end_time,lat,lon,"
    "geometry_ref,gas,emissions_quantity,temporal_granularity,activity,activity_units,"
    "emissions_factor,emissions_factor_units,capacity,capacity_units,capacity_factor,"
    + ",".join(f"other{i},other{i}_def" for i in range(1, 11))
    + ",created_date,modified_date,reporting_entity,lat_lon,sector_id,native_source_id"
)


def _sources_row(source_id: str, month: int, gem_id: str) -> str:
    others = ",".join(["Subbituminous,Coal Type", "Thermal,Coal Grade"] + [","] * 8)
    return (
        f"{source_id},Dahna Toor Coal Mine,Underground,AFG,fossil-fuel-operations,coal-mining,"
        f"2021-{month:02d}-01 00:00:00,2021-{month:02d}-28 00:00:00,35.70499225,67.31219552,,"
        "co2e_100yr,11899.270131945856,month,70833.3333333333,t of coal,0.1679896959804121,"
        f"t of CO2e_100yr per t of coal,1186753.1629615575,t of coal per year,0.0596,{others},"
        f"2023-09-14 00:00:00,2025-06-07 09:51:24.677077,climate-trace,,71,{gem_id}"
    )


CONFIDENCE = (
    "source_id,source_name,iso3_country,sector,subsector,start_time,end_time,source_type,"
    "capacity,capacity_factor,activity,gas,emissions_factor,emissions_quantity,created_date,"
    "modified_date\n"
    "14855,,AFG,fossil-fuel-operations,coal-mining,2021-01-01 00:00:00,2021-01-31 00:00:00,"
    "very high,very low,very low,very low,co2e_100yr,very low,very low,,2025-06-12 22:48:13\n"
)
COUNTRY = (
    "iso3_country,sector,subsector,start_time,end_time,gas,emissions_quantity,"
    "emissions_quantity_units,temporal_granularity,created_date,modified_date\n"
    "ABW,fossil-fuel-operations,coal-mining,2015-01-01 00:00:00,2015-12-31 00:00:00,co2e_100yr,"
    "0.0,,annual,,\n"
    ",fossil-fuel-operations,coal-mining,2016-01-01 00:00:00,2016-12-31 00:00:00,co2e_100yr,"
    "0.0,,annual,,\n"
)
SOURCES_CSV = "coal-mining_emissions_sources_v4_4_0.csv"


def _zip(path: Path, members: dict[str, str]) -> FileRecord:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return FileRecord(path=path)


def _sources_text(*rows: str) -> str:
    return "\n".join([SOURCES_HEADER, *rows]) + "\n"


def test_sources_are_streamed_from_the_zip_as_published(tmp_path: Path) -> None:
    text = _sources_text(_sources_row("3162256", 1, "M1526"), _sources_row("3162256", 2, "M1526"))
    rec = _zip(tmp_path / "climatetrace_coal-mining_emissions_sources_v4_4_0.zip", {SOURCES_CSV: text})
    result = climate_trace.load([rec])
    sources = result.tables["sources"]

    assert len(sources) == 2 and rec.rows_loaded == 2 and rec.release == "v4.4.0"
    row = sources.iloc[0]
    assert row["native_source_id"] == "M1526" and row["source_id"] == "3162256"
    assert row["emissions_quantity"] == "11899.270131945856"
    assert row["start_time"] == "2021-01-01 00:00:00"
    assert row["other1"] == "Subbituminous" and row["other1_def"] == "Coal Type"
    assert row["_source_file"] == f"{rec.path.name}/{SOURCES_CSV}"
    assert sources["_row_number"].tolist() == [2, 3]
    assert sources["_release"].unique().tolist() == ["v4.4.0"]
    assert sources["capacity_factor_units"].isna().all()  # a v5 column, absent in v4
    assert list(tmp_path.iterdir()) == [rec.path]  # nothing extracted to disk


def test_empty_source_id_is_quarantined(tmp_path: Path) -> None:
    text = _sources_text(_sources_row("3162256", 1, "M1526"), _sources_row("", 2, "M1526"))
    rec = _zip(tmp_path / "climatetrace_coal-mining_emissions_sources_v4_4_0.zip", {SOURCES_CSV: text})
    result = climate_trace.load([rec])

    assert result.tables["sources"]["_row_number"].tolist() == [2]
    q = result.quarantine.frame()
    assert q[["table_name", "row_number", "reason"]].values.tolist() == [
        ["sources", 3, "missing key source_id"]
    ]
    assert q["source_file"].iloc[0].endswith(SOURCES_CSV)
    assert (rec.rows_loaded, rec.rows_quarantined) == (1, 1)


def test_confidence_and_country_tables(tmp_path: Path) -> None:
    conf = _zip(
        tmp_path / "climatetrace_coal-mining_emissions_sources_confidence_v4_4_0.zip",
        {"coal-mining_emissions_sources_confidence_v4_4_0.csv": CONFIDENCE},
    )
    country = tmp_path / "climatetrace_coal-mining_country_emissions_v4_4_0.csv"
    country.write_text(COUNTRY, encoding="utf-8")
    result = climate_trace.load([conf, FileRecord(path=country)])

    assert result.tables["sources"].empty  # declared even when its file is absent
    assert set(result.tables) == set(load_column_maps("climate_trace"))
    assert result.tables["confidence"][["source_id", "source_type", "capacity"]].values.tolist() == [
        ["14855", "very high", "very low"]
    ]
    assert result.tables["country"]["iso3_country"].tolist() == ["ABW"]
    assert result.quarantine.frame()["reason"].tolist() == ["missing key iso3_country"]


def test_sector_package_zip_routes_each_member(tmp_path: Path) -> None:
    """One zip holding several coal-mining CSVs (and other sectors') feeds every table."""
    rec = _zip(
        tmp_path / "fossil_fuel_operations_v5_0_0.zip",
        {
            f"DATA/{SOURCES_CSV.replace('v4_4_0', 'v5_0_0')}": _sources_text(
                _sources_row("1", 1, "M1")
            ),
            "DATA/coal-mining_country_emissions_v5_0_0.csv": COUNTRY,
            "DATA/oil-and-gas-refining_emissions_sources_v5_0_0.csv": "source_id\n9\n",
            "README.txt": "not data",
        },
    )
    result = climate_trace.load([rec])
    assert len(result.tables["sources"]) == 1 and len(result.tables["country"]) == 1
    assert result.release == "v5.0.0"
    assert rec.rows_loaded == 2 and rec.rows_quarantined == 1


def test_unrelated_file_is_noted_not_loaded(tmp_path: Path) -> None:
    doc = tmp_path / "climatetrace_detailed_data_schema_v5.0.0.csv"
    doc.write_text("sector,subsector\nfossil-fuel-operations,coal-mining\n", encoding="utf-8")
    result = climate_trace.load([FileRecord(path=doc)])
    assert result.rows_loaded == 0
    assert result.notes and doc.name in result.notes[0]


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    text = _sources_text(_sources_row("1", 1, "M1")).replace(",emissions_quantity,", ",emissions,", 1)
    rec = _zip(tmp_path / "climatetrace_coal-mining_emissions_sources_v4_4_0.zip", {SOURCES_CSV: text})
    with pytest.raises(LayoutError, match="emissions_quantity"):
        climate_trace.load([rec])


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("coal-mining_emissions_sources_v4_4_0.csv", "v4.4.0"),
        ("coal-mining_emissions_sources_v5.0.0.csv", "v5.0.0"),
        ("coal-mining_emissions_sources.csv", None),
    ],
)
def test_release_from_file_name(name: str, release: str | None) -> None:
    assert climate_trace.release_of(name) == release
