"""owid on tiny grapher-shaped files written here: aliases, CSV over xlsx, codebooks, quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from fvi.ingest import owid
from fvi.ingest.base import FileRecord, LayoutError, load_column_maps


def write(path: Path, text: str, dataset: str) -> FileRecord:
    path.write_text(text, encoding="utf-8")
    return FileRecord(path=path, dataset=dataset)


def test_production_alias_keeps_publisher_text(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "coal_production_2023.csv",
        "Entity,Code,Year,Coal production - TWh\nPoland,POL,2020, 12.50\nWorld,OWID_WRL,2021,0.0\n",
        "coal_production",
    )
    res = owid.load([rec])
    t = res.tables["coal_production"]
    assert list(t["coal_production_twh"]) == [" 12.50", "0.0"]
    assert list(t["iso3_code"]) == ["POL", "OWID_WRL"]
    assert list(t["_row_number"]) == [2, 3]
    assert set(t["_release"]) == {"2023"}
    assert (rec.release, rec.rows_loaded, rec.rows_quarantined) == ("2023", 2, 0)
    assert set(res.tables) == set(load_column_maps("owid"))  # every declared table, even empty
    assert res.tables["electricity_mix"].empty


def test_unversioned_file_gets_content_release(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "prod.csv",
        "Entity,Year,Coal production (TWh)\nChina,2020,1\n",
        "coal_production",
    )
    owid.load([rec])
    assert rec.release == f"sha256:{rec.sha256[:12]}"


def test_csv_wins_over_its_xlsx_copy(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "cons.csv",
        "Entity,Year,Coal consumption - TWh\nAfrica,1965,323.49615\n",
        "coal_consumption",
    )
    wb = Workbook()
    wb.active.append(["Entity", "Year", "Coal consumption - TWh"])
    wb.active.append(["Africa", 1965.0, 999.0])
    wb.save(tmp_path / "cons.xlsx")
    xlsx = FileRecord(path=tmp_path / "cons.xlsx", dataset="coal_consumption")

    both = owid.load([csv, xlsx])
    assert list(both.tables["coal_consumption"]["coal_consumption_twh"]) == ["323.49615"]
    assert [f.path.name for f in both.files] == ["cons.csv"]
    assert "cons.xlsx" in both.notes[0]

    alone = owid.load([xlsx]).tables["coal_consumption"]
    assert alone.iloc[0][["entity", "year", "coal_consumption_twh", "_sheet"]].tolist() == [
        "Africa",
        "1965",
        "999",
        "Sheet",
    ]
    assert alone.iloc[0]["_row_number"] == 2


def test_codebooks_share_one_table(tmp_path: Path) -> None:
    head = "column,description,unit,source\n"
    a = write(
        tmp_path / "owid-energy-codebook.csv",
        head + "coal_production,Coal production,terawatt-hours,EI\n",
        "codebook",
    )
    b = write(
        tmp_path / "owid-co2-codebook.csv",
        head + 'coal_co2,"Annual CO2, coal",million tonnes,GCP\n',
        "codebook",
    )
    t = owid.load([a, b]).tables["codebook"]
    assert dict(zip(t["column"], t["_source_file"], strict=True)) == {
        "coal_production": "owid-energy-codebook.csv",
        "coal_co2": "owid-co2-codebook.csv",
    }
    assert t.loc[t["column"] == "coal_co2", "description"].item() == "Annual CO2, coal"


def test_renamed_value_column_fails_naming_it(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "p.csv",
        "Entity,Code,Year,Coal output (TWh)\nPoland,POL,2020,1\n",
        "coal_production",
    )
    with pytest.raises(LayoutError, match="coal_production_twh"):
        owid.load([rec])


def test_bad_rows_go_to_quarantine_with_reason(tmp_path: Path) -> None:
    text = (
        "Entity,Code,Year,Annual CO₂ emissions from coal\nChina,CHN,20x1,5\nIndia,IND,2021\n,,2021,3\nPeru,PER,2021,7\n"
    )
    rec = write(tmp_path / "co2.csv", text, "co2_from_coal")
    res = owid.load([rec])
    assert list(res.tables["co2_from_coal"]["entity"]) == ["Peru"]
    q = res.quarantine.frame()
    assert list(q["row_number"]) == [2, 3, 4]
    assert "year" in q["reason"][0] and "not a valid int" in q["reason"][0]
    assert q["reason"][1] == "expected 4 fields, got 3"
    assert q["reason"][2] == "missing key entity"
    assert (rec.rows_loaded, rec.rows_quarantined) == (1, 3)


def test_unknown_dataset_is_refused(tmp_path: Path) -> None:
    rec = write(tmp_path / "x.csv", "Entity,Year\n", "coal_prices")
    with pytest.raises(ValueError, match="coal_prices"):
        owid.load([rec])
