"""Global Carbon Budget: CO2 by fuel, one flat CSV, coal emissions from the world's coal use."""

from __future__ import annotations

import io

import numpy as np

from fvi.demo.formats import owid_name
from fvi.demo.world import World

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


def flat_csv(w: World, s: dict[str, np.ndarray], rng: np.random.Generator) -> bytes:
    """The Global Carbon Budget flat file (quoted header, CRLF), with a global total per year."""
    buf = io.StringIO()
    buf.write(",".join(f'"{h}"' for h in GCB_HEADER) + "\r\n")
    order = sorted(range(len(w.iso3)), key=lambda i: owid_name(w.iso3[i]))
    other = rng.uniform(0.3, 2.5, size=(len(w.iso3), 5))
    tot_rows = np.zeros((len(w.years), 7))
    for ci in order:
        name = "USA" if w.iso3[ci] == "USA" else owid_name(w.iso3[ci])
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
