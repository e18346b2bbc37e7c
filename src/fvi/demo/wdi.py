"""World Bank WDI: one wide CSV per indicator (coal share of electricity, GDP, coal rents)."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import wb_name
from fvi.demo.world import TWH_PER_MT, World

WDI_HEADER_START = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]


def indicator_csv(w: World, values: np.ndarray, name: str, code: str) -> bytes:
    """One indicator in the WDI wide layout (four preamble lines, one column per year from 1960)."""
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
    for ci in sorted(range(len(w.iso3)), key=lambda i: wb_name(w.iso3[i])):
        cells = [wb_name(w.iso3[ci]), w.iso3[ci], name, code]
        for y in range(1960, last + 1):
            cells.append(repr(round(float(values[ci, yidx[y]]), 6)) if y in yidx else "")
        lines.append(",".join(f'"{c}"' for c in cells) + ",")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def files(w: World, s: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The three indicators the connector reads; coal rents follow production over GDP."""
    rents = np.clip(s["prod_twh"] / TWH_PER_MT * 40e6 / s["gdp"] * 100, 0, 30)
    return {
        "worldbank_wdi/API_EG.ELC.COAL.ZS_DS2_en_csv_v2_demo.csv": indicator_csv(
            w, s["share"], "Electricity production from coal sources (% of total)", "EG.ELC.COAL.ZS"
        ),
        "worldbank_wdi/API_NY.GDP.MKTP.CD_DS2_en_csv_v2_demo.csv": indicator_csv(
            w, s["gdp"], "GDP (current US$)", "NY.GDP.MKTP.CD"
        ),
        "worldbank_wdi/API_NY.GDP.COAL.RT.ZS_DS2_en_csv_v2_demo.csv": indicator_csv(
            w, rents, "Coal rents (% of GDP)", "NY.GDP.COAL.RT.ZS"
        ),
    }
