"""subsidies on tiny files written here: tracker (USD per year) and IMF 2015 (% of GDP, BOM)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fvi.ingest import subsidies
from fvi.ingest.base import FileRecord, LayoutError

IMF_HEADER = (
    '\ufeffCountry,"Nominal GDP US$, billions","Population, millions",Petroleum,Coal,Natural Gas,Electricity,Total\n'
)
FFS_HEADER = "country_name,year,value,iso3_code,income_level\n"


def write(path: Path, text: str, dataset: str) -> FileRecord:
    path.write_text(text, encoding="utf-8")
    return FileRecord(path=path, dataset=dataset)


def test_both_tables_load_with_their_releases(tmp_path: Path) -> None:
    ffs = write(
        tmp_path / "one_fossil_fuel_subsidies_2010_2022.csv",
        FFS_HEADER + "Afghanistan,2010,34196075.0,AFG,Low income\n",
        "ffs_tracker",
    )
    imf = write(
        tmp_path / "imf_post_tax_energy_subsidies_2015_pct_gdp_by_fuel.csv",
        IMF_HEADER + "Australia,1534.60,23.87,1.02,0.68,0.26,,1.96\n,,,,,,,\n",
        "imf_2015",
    )
    res = subsidies.load([ffs, imf])
    assert res.tables["ffs_tracker"].iloc[0][["country_name", "value_usd", "iso3_code"]].tolist() == [
        "Afghanistan",
        "34196075.0",
        "AFG",
    ]
    row = res.tables["imf_2015"].iloc[0]
    assert row[["country", "nominal_gdp_usd_bn", "coal_pct_gdp", "electricity_pct_gdp"]].tolist() == [
        "Australia",
        "1534.60",
        "0.68",
        pd.NA,
    ]
    assert len(res.tables["imf_2015"]) == 1 and len(res.quarantine) == 0  # padding row is blank
    assert (ffs.release, imf.release) == ("2010_2022", "2015")


def test_bad_rows_quarantined(tmp_path: Path) -> None:
    text = FFS_HEADER + "Chad,2O10,1,TCD,Low income\nChad,2011,1,TCD\n"
    res = subsidies.load([write(tmp_path / "ffs.csv", text, "ffs_tracker")])
    assert list(res.quarantine.frame()["row_number"]) == [2, 3]
    assert res.tables["ffs_tracker"].empty


def test_imf_without_coal_column_fails(tmp_path: Path) -> None:
    rec = write(
        tmp_path / "imf.csv",
        IMF_HEADER.replace(",Coal,", ",Hard coal,") + "X,1,1,1,1,1,1,1\n",
        "imf_2015",
    )
    with pytest.raises(LayoutError, match="coal_pct_gdp"):
        subsidies.load([rec])
