"""gcp on a tiny flat CSV written here: release from the name, text kept, bad rows quarantined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fvi.ingest import gcp
from fvi.ingest.base import FileRecord, LayoutError

HEADER = '"Country","ISO 3166-1 alpha-3","Year","Total","Coal","Oil","Gas","Cement","Flaring","Other","Per Capita"\n'


def write(tmp_path: Path, body: str, header: str = HEADER) -> FileRecord:
    path = tmp_path / "GCB2022v27_MtCO2_flat.csv"
    path.write_text(header + body, encoding="utf-8")
    return FileRecord(path=path, dataset="co2_by_fuel")


def test_flat_csv_copied_as_text(tmp_path: Path) -> None:
    rec = write(
        tmp_path,
        '"Poland","POL",2021,328.21,221.6,,50.1,,,,8.68\n"Global","",2021,37123.85,1e4,,,,,,\n',
    )
    res = gcp.load([rec])
    t = res.tables["co2_by_fuel"]
    assert t.iloc[0][["country", "iso3_code", "year", "total", "coal", "oil", "per_capita"]].tolist() == [
        "Poland",
        "POL",
        "2021",
        "328.21",
        "221.6",
        pd.NA,
        "8.68",
    ]
    assert t.iloc[1]["coal"] == "1e4" and t.iloc[1]["iso3_code"] is pd.NA  # kept, not typed
    assert res.release == rec.release == "2022v27"
    assert list(t["_row_number"]) == [2, 3]


def test_bad_year_and_short_row_quarantined(tmp_path: Path) -> None:
    rec = write(tmp_path, '"Chad","TCD",20.5,1,,,,,,,\n"Chad","TCD",2020\n"Chad","TCD",2021,1,,,,,,,\n')
    res = gcp.load([rec])
    q = res.quarantine.frame()
    assert list(q["row_number"]) == [2, 3]
    assert "not a valid int" in q["reason"][0] and q["reason"][1] == "expected 11 fields, got 3"
    assert list(res.tables["co2_by_fuel"]["year"]) == ["2021"]


def test_missing_total_column_fails(tmp_path: Path) -> None:
    rec = write(tmp_path, '"Chad","TCD",2021,1\n', header='"Country","ISO 3166-1 alpha-3","Year","Sum"\n')
    with pytest.raises(LayoutError, match="total"):
        gcp.load([rec])
