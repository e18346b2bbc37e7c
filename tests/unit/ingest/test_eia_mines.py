"""eia_mines: every year into one table, publisher's text kept, bad rows quarantined."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fvi.ingest import eia_mines
from fvi.ingest.base import FileRecord, LayoutError, load_column_maps

PRE_2013 = (
    "Year,MSHA ID,Mine Name,Mine State,Mine County,Mine Basin,Mine Status,Mine Type,"
    "Company Type,Operation Type,Operating Company,Operating Company Address,Union Code,"
    "Production (short tons),Average Employees,Labor Hours\r\n"
    '2008,103295,Seymour Mine,Alabama,Bibb,Appalachia Southern,Active,Surface,'
    'Indepedent Producer Operator,Mine only,Hope Coal Company Inc,"P.O. Box 249, Maylene, AL",'
    ',"105,082",18,"39,175"\r\n'
)
POST_2013 = (
    "Year,MSHA ID,Mine Name,Mine State,Mine County,Mine Status,Mine Type,Company Type,"
    "Operation Type,Operating Company,Operating Company Address,Union Code,Coal Supply Region,"
    "Production (short tons),Average Employees,Labor Hours\r\n"
    '2016,103381,"Jesse Creek H.W.M.",Alabama,Bibb,Active,Surface,Indepedent Producer Operator,'
    'Mine only,"Jesse Creek Mining, Llc","1615 Kent Dairy Rd,\nAlabaster, AL",,'
    'Appalachia Southern,"37,786",6,"14,235"\r\n'
)


def _write(path: Path, text: str, *, bom: bool = True) -> FileRecord:
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8", newline="")
    return FileRecord(path=path)


def test_years_with_different_headers_share_one_schema(tmp_path: Path) -> None:
    files = [
        _write(tmp_path / "coalpublic2008.csv", PRE_2013),
        _write(tmp_path / "coalpublic2016.csv", POST_2013),
    ]
    result = eia_mines.load(files)
    mines = result.tables["mines"].set_index("_release")

    assert set(load_column_maps("eia_mines")["mines"].columns) <= set(mines.columns)
    assert mines.loc["2008", "mine_basin"] == "Appalachia Southern"
    assert mines.isna().loc["2008", "coal_supply_region"]
    assert mines.loc["2016", "coal_supply_region"] == "Appalachia Southern"
    assert mines.isna().loc["2016", "mine_basin"]
    assert [f.release for f in files] == ["2008", "2016"]
    assert [f.rows_loaded for f in files] == [1, 1]
    assert result.release == "2016"


def test_values_stay_the_publishers_text(tmp_path: Path) -> None:
    mines = eia_mines.load([_write(tmp_path / "coalpublic2008.csv", PRE_2013)]).tables["mines"]
    row = mines.iloc[0]
    assert row["production_short_tons"] == "105,082"
    assert row["labor_hours"] == "39,175"
    assert row["msha_id"] == "103295"
    assert row["operating_company_address"] == "P.O. Box 249, Maylene, AL"
    assert row["_row_number"] == 2 and row["_source_file"] == "coalpublic2008.csv"


def test_bom_header_and_quoted_newline(tmp_path: Path) -> None:
    rec = _write(tmp_path / "coalpublic2016.csv", POST_2013, bom=True)
    assert rec.path.read_bytes().startswith(b"\xef\xbb\xbf")
    mines = eia_mines.load([rec]).tables["mines"]
    assert mines.iloc[0]["year"] == "2016"
    assert mines.iloc[0]["operating_company_address"] == "1615 Kent Dairy Rd,\nAlabaster, AL"
    assert not any(c.startswith("\ufeff") for c in mines.columns)


def test_wrong_field_count_is_quarantined_and_the_rest_loaded(tmp_path: Path) -> None:
    bad = "2008,100000,Short Row,Alabama\r\n"
    good = PRE_2013.splitlines(keepends=True)[1].replace("103295", "103296")
    rec = _write(tmp_path / "coalpublic2008.csv", PRE_2013 + bad + good)
    result = eia_mines.load([rec])

    assert result.tables["mines"]["msha_id"].tolist() == ["103295", "103296"]
    q = result.quarantine.frame()
    assert q["row_number"].tolist() == [3]
    assert q["reason"].iloc[0] == "expected 16 fields, got 4"
    assert (rec.rows_loaded, rec.rows_quarantined) == (2, 1)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("103295", "10329X", "msha_id: '10329X' is not a valid int"),
        ("2008,103295", "20O8,103295", "year: '20O8' is not a valid int"),
        ("2008,103295", "2008,", "missing key msha_id"),
    ],
)
def test_malformed_key_is_quarantined(tmp_path: Path, old: str, new: str, reason: str) -> None:
    rec = _write(tmp_path / "coalpublic2008.csv", PRE_2013.replace(old, new))
    result = eia_mines.load([rec])
    assert result.tables["mines"].empty
    assert result.quarantine.frame()[["row_number", "reason"]].values.tolist() == [[2, reason]]


def test_renamed_required_column_names_it(tmp_path: Path) -> None:
    rec = _write(tmp_path / "coalpublic2008.csv", PRE_2013.replace("MSHA ID", "Mine Identifier"))
    with pytest.raises(LayoutError, match=r"msha_id \(published as 'MSHA ID'"):
        eia_mines.load([rec])


def test_release_from_year_column_when_the_name_has_none(tmp_path: Path) -> None:
    rec = _write(tmp_path / "mines.csv", POST_2013)
    result = eia_mines.load([rec])
    assert rec.release == "2016"
    assert result.tables["mines"]["_release"].tolist() == ["2016"]


def test_workbook_with_title_rows(tmp_path: Path) -> None:
    """The publisher's Excel files put a few title rows above the header."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Hist_Coal_Prod"
    ws.append(["Mine-level data from the Annual Coal Report"])
    ws.append(["Source: U.S. Energy Information Administration"])
    ws.append([])
    header = POST_2013.splitlines()[0].split(",")
    ws.append(header)
    ws.append([
        2016, 103381, "Jesse Creek", "Alabama", "Bibb", "Active", "Surface", "x", "Mine only",
        "Jesse Creek Mining, Llc", "Alabaster, AL", None, "Appalachia Southern", 37786, 6, 14235,
    ])
    ws.append([2016, "n/a", "No Id Mine", "Alabama"])
    path = tmp_path / "coalpublic2016.xlsx"
    wb.save(path)

    result = eia_mines.load([FileRecord(path=path)])
    mines = result.tables["mines"]
    first = mines[["year", "msha_id", "production_short_tons"]].iloc[0].tolist()
    assert first == ["2016", "103381", "37786"]  # numeric cells rendered without loss
    assert mines["_sheet"].iloc[0] == "Hist_Coal_Prod"
    assert mines["_row_number"].iloc[0] == 5  # the spreadsheet's own row
    q = result.quarantine.frame()
    assert q[["row_number", "reason"]].values.tolist() == [[6, "missing key msha_id"]]


@pytest.fixture()
def eia_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on localhost holding two years of files (other years answer 404)."""
    root = tmp_path / "server" / "xls"
    root.mkdir(parents=True)
    for year in (2009, 2011):
        (root / f"coalpublic{year}.xls").write_bytes(f"year {year}".encode())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root.parent))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/xls/coalpublic{{year}}.xls"
    finally:
        server.shutdown()


def test_fetch_years_skips_years_the_server_does_not_have(
    eia_server: str, tmp_path: Path, fvi_home: Path
) -> None:
    records = eia_mines.fetch_years(eia_server, tmp_path / "dest", range(2008, 2013))
    assert [r.path.name for r in records] == ["coalpublic2009.xls", "coalpublic2011.xls"]
    assert records[0].url == eia_server.format(year=2009)
    assert records[0].path.read_bytes() == b"year 2009" and records[0].sha256
    meta = json.loads((records[0].path.parent / ".coalpublic2009.xls.http.json").read_text())
    assert meta["url"] == records[0].url


def test_other_files_are_noted_not_loaded(tmp_path: Path) -> None:
    readme = tmp_path / "coalpublic_readme.txt"
    readme.write_text("Year,MSHA ID\n", encoding="utf-8")
    result = eia_mines.load([FileRecord(path=readme)])
    assert result.tables["mines"].empty and readme.name in result.notes[0]
