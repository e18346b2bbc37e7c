"""wdi: bulk CSV, bulk XLSX, DataBank XLSX and API JSON written here land in one long shape."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from fvi.ingest import wdi
from fvi.ingest.base import FileRecord, LayoutError

CODE, NAME = "NY.GDP.COAL.RT.ZS", "Coal rents (% of GDP)"
# (country name, iso3, 2015, 2016) as the World Bank publishes them; None = empty cell
CELLS = [
    ("Albania", "ALB", 0.00598268561789345, 0.000391513069921201),
    ("Aruba", "ABW", None, 12.5),
]
LONG = ["country_name", "country_code", "indicator_name", "indicator_code", "year", "value"]


def bulk_csv(path: Path, rows: list[str] | None = None) -> FileRecord:
    lines = [
        '\ufeff"Data Source","World Development Indicators",',
        "",
        '"Last Updated Date","2025-07-01",',
        "",
        '"Country Name","Country Code","Indicator Name","Indicator Code","2015","2016",',
    ]
    for name, iso, a, b in CELLS:
        vals = ",".join(f'"{"" if v is None else repr(v)}"' for v in (a, b))
        lines.append(f'"{name}","{iso}","{NAME}","{CODE}",{vals},')
    path.write_text("\n".join(lines + (rows or [])) + "\n", encoding="utf-8")
    return FileRecord(path=path, dataset="indicators")


def bulk_xlsx(path: Path) -> FileRecord:
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Data Source", "World Development Indicators"])
    ws.append([])
    ws.append(["Last Updated Date", "2025-07-01"])
    ws.append([])
    ws.append(["Country Name", "Country Code", "Indicator Name", "Indicator Code", "2015", "2016"])
    for name, iso, a, b in CELLS:
        ws.append([name, iso, NAME, CODE, a, b])
    wb.save(path)
    return FileRecord(path=path, dataset="indicators")


def databank_xlsx(path: Path) -> FileRecord:
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(
        [
            "Series Name",
            "Series Code",
            "Country Name",
            "Country Code",
            "2015 [YR2015]",
            "2016 [YR2016]",
        ]
    )
    for name, iso, a, b in CELLS:
        ws.append([NAME, CODE, name, iso, ".." if a is None else a, ".." if b is None else b])
    for _ in range(3):
        ws.append([])
    ws.append(["Data from database: World Development Indicators"])
    ws.append(["Last Updated: 07/01/2025"])
    wb.save(path)
    return FileRecord(path=path, dataset="indicators")


def api_page(path: Path) -> FileRecord:
    records: list[dict[str, Any]] = []
    for name, iso, a, b in CELLS:
        for year, v in (("2016", b), ("2015", a)):
            records.append(
                {
                    "indicator": {"id": CODE, "value": NAME},
                    "country": {"id": iso[:2], "value": name},
                    "countryiso3code": iso,
                    "date": year,
                    "value": v,
                    "unit": "",
                    "obs_status": "",
                    "decimal": 1,
                }
            )
    meta = {"page": 1, "pages": 1, "per_page": 20000, "total": 4, "lastupdated": "2025-07-01"}
    path.write_text(json.dumps([meta, records]), encoding="utf-8")
    return FileRecord(path=path, dataset="indicators")


def cells(frame: Any) -> dict[tuple[str, str], str | None]:
    out = frame.set_index(["country_code", "year"])["value"].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in out.items()}


def test_all_forms_give_the_same_long_cells(tmp_path: Path) -> None:
    forms = {
        "csv": bulk_csv(tmp_path / f"API_{CODE}_DS2_en_csv_v2_1.csv"),
        "xlsx": bulk_xlsx(tmp_path / f"API_{CODE}_DS2_en_excel_v2_1.xlsx"),
        "databank": databank_xlsx(tmp_path / f"WDI_extract_{CODE}.xlsx"),
        "json": api_page(tmp_path / f"wdi_api_{CODE}_page1.json"),
    }
    res = wdi.load(list(forms.values()))
    t = res.tables["indicators"]
    assert len(res.quarantine) == 0
    assert list(t.columns[:6]) == LONG
    by_file = {name: t[t["_source_file"] == rec.path.name] for name, rec in forms.items()}
    expected = {
        ("ALB", "2015"): "0.00598268561789345",
        ("ALB", "2016"): "0.000391513069921201",
        ("ABW", "2015"): None,
        ("ABW", "2016"): "12.5",
    }
    for name in ("csv", "xlsx", "json"):
        assert cells(by_file[name]) == expected, name
    assert cells(by_file["databank"]) == {
        **expected,
        ("ABW", "2015"): "..",
    }  # publisher's missing mark
    for frame in by_file.values():
        assert set(frame["indicator_code"]) == {CODE} and set(frame["indicator_name"]) == {NAME}
    assert {r.release for r in forms.values()} == {"2025-07-01"}
    csv_rows = by_file["csv"].set_index(["country_code", "year"])["_row_number"]
    assert csv_rows[("ALB", "2016")] == 6 and csv_rows[("ABW", "2015")] == 7
    assert set(by_file["json"]["decimal"]) == {"1"}


def test_databank_footer_is_neither_data_nor_quarantine(tmp_path: Path) -> None:
    res = wdi.load([databank_xlsx(tmp_path / "WDI_extract_x.xlsx")])
    t = res.tables["indicators"]
    assert len(t) == 4 and len(res.quarantine) == 0
    assert not t["country_name"].str.contains("Data from database|Last Updated").any()


def test_release_falls_back_to_file_name(tmp_path: Path) -> None:
    path = tmp_path / "API_X_DS2_en_csv_v2_9.csv"
    path.write_text(
        '"Country Name","Country Code","Indicator Name","Indicator Code","2015",\n"Peru","PER","n","X","1",\n',
        encoding="utf-8",
    )
    rec = FileRecord(path=path, dataset="indicators")
    wdi.load([rec])
    assert rec.release == "API_X_DS2_en_csv_v2_9"


def test_malformed_csv_row_is_quarantined_once(tmp_path: Path) -> None:
    rec = bulk_csv(
        tmp_path / "API_c.csv",
        rows=['"Chad","TCD","n"', f'"Nowhere","","{NAME}","{CODE}","1","2",'],
    )
    res = wdi.load([rec])
    q = res.quarantine.frame()
    assert list(q["row_number"]) == [8, 9]
    assert q["reason"].tolist() == ["expected 7 fields, got 3", "missing key country_code"]
    assert (rec.rows_loaded, rec.rows_quarantined) == (4, 2)


def test_header_without_country_code_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "API_bad.csv"
    path.write_text('"Country Name","ISO","Indicator Name","Indicator Code","2015",\n"Peru","PER","n","X","1",\n')
    with pytest.raises(LayoutError, match="country_code"):
        wdi.load([FileRecord(path=path, dataset="indicators")])


def test_api_error_page_is_a_layout_error(tmp_path: Path) -> None:
    path = tmp_path / "wdi_api_bad.json"
    path.write_text(json.dumps([{"message": [{"id": "120", "value": "Invalid value"}]}]))
    with pytest.raises(LayoutError, match="API v2"):
        wdi.load([FileRecord(path=path, dataset="indicators")])


def test_locate_skips_download_sidecars(tmp_path: Path) -> None:
    d = tmp_path / "worldbank_wdi"
    d.mkdir()
    api_page(d / f"wdi_api_{CODE}_page1.json")
    (d / f".wdi_api_{CODE}_page1.json.http.json").write_text("{}")
    assert [f.path.name for f in wdi.locate(tmp_path)] == [f"wdi_api_{CODE}_page1.json"]


class _WorldBankShaped(BaseHTTPRequestHandler):
    """Serves API v2 pages on 127.0.0.1: two pages per indicator, one record each."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        code = self.path.split("/indicator/")[1].split("?")[0]
        page = int(self.path.rsplit("page=", 1)[1])
        record = {
            "indicator": {"id": code, "value": code},
            "country": {"id": "PL", "value": "Poland"},
            "countryiso3code": "POL",
            "date": str(2014 + page),
            "value": 1.5 * page,
        }
        meta = {"page": page, "pages": 2, "lastupdated": "2025-07-01"}
        body = json.dumps([meta, [record]]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_fetch_saves_every_page_of_every_indicator(tmp_path: Path, fvi_home: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WorldBankShaped)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v2/country/all/indicator/{{code}}?page={{page}}"
        recs = wdi.fetch(tmp_path, api_url=url)
    finally:
        server.shutdown()
        server.server_close()
    assert len(recs) == 2 * len(wdi.INDICATOR_CODES)
    assert all(r.path.parent == tmp_path / "worldbank_wdi" and r.retrieved_at for r in recs)
    saved = {p.name for p in (tmp_path / "worldbank_wdi").glob("wdi_api_*.json")}
    assert saved == {r.path.name for r in recs}
    t = wdi.load(recs).tables["indicators"]
    assert sorted(set(t["year"])) == ["2015", "2016"]
    assert set(t["indicator_code"]) == set(wdi.INDICATOR_CODES)
    assert set(t["value"]) == {"1.5", "3.0"}
