"""Mining land area per country (Maus et al.), scaled by how many mines the country has."""

from __future__ import annotations

import numpy as np

from fvi.demo.formats import csv_bytes, gem_name
from fvi.demo.world import World

MINING_AREA_HEADER = ["COUNTRY_NAME", "ISO3_CODE", "AREA", "N_FEATURES"]


def files(w: World, rng: np.random.Generator) -> dict[str, bytes]:
    """One area file, sorted by area as published."""
    out: dict[str, bytes] = {}
    nc = len(w.iso3)
    # mining land
    counts = np.bincount(w.m_country, minlength=nc)
    area = counts * rng.uniform(5, 40, size=nc) + rng.uniform(1, 50, size=nc)
    land = [
        [gem_name(w.iso3[ci]), w.iso3[ci], repr(float(area[ci])), int(counts[ci] * 3 + 1)]
        for ci in np.argsort(-area, kind="stable")
    ]
    out["mining_land/global_mining_area_per_country_v1.csv"] = csv_bytes(MINING_AREA_HEADER, land)
    return out
