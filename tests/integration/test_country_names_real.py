"""Every country name in the real samples resolves to an ISO3 or is a declared non-country.

Names are read through the connectors (so the test sees what bronze sees). A failure lists the
names to add to warehouse/seeds/country_aliases.csv (with an ISO3, or a non-country kind).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from pathlib import Path

import pytest

from fvi.countries import countries_frame, resolve

pytestmark = pytest.mark.integration

# source id -> {bronze table: name column}
NAME_COLUMNS: dict[str, dict[str, str]] = {
    "gem_mines": {"open": "country", "closed": "country"},
    "gem_plants": {"units": "country"},
    "owid": {t: "entity" for t in ("coal_production", "coal_consumption", "co2_from_coal",
                                   "electricity_mix", "fossil_production")},
    "gcp": {"co2_by_fuel": "country"},
    "wdi": {"indicators": "country_name"},
    "subsidies": {"ffs_tracker": "country_name", "imf_2015": "country"},
    "carbon_pricing": {"ecp": "jurisdiction", "coverage": "jurisdiction"},
    "coal_policy": {"phase_out": "entity", "cop26": "state_name"},
    "mining_land": {"area": "country_name"},
}


def _tables(source_id: str, data_dir: Path) -> dict:
    mod = importlib.import_module(f"fvi.ingest.{source_id}")
    return mod.load(mod.locate(data_dir)).tables


@pytest.mark.parametrize("source_id", sorted(NAME_COLUMNS))
def test_every_sample_name_resolves_or_is_declared(source_id: str, shared_data: Path) -> None:
    tables = _tables(source_id, shared_data)
    unknown: dict[str, set[str]] = defaultdict(set)
    countries = 0
    for table, column in NAME_COLUMNS[source_id].items():
        for name in tables[table][column].dropna().unique():
            iso3, kind = resolve(str(name))
            if kind is None:
                unknown[table].add(str(name))
            countries += kind == "country"
    assert not unknown, f"{source_id}: names to declare in country_aliases.csv: {dict(unknown)}"
    assert countries > 0


def test_sample_codes_are_known(shared_data: Path) -> None:
    """Sources that give codes (Climate TRACE ISO3, Klimadashboard ISO2) use known ones."""
    ref = countries_frame()
    ct = _tables("climate_trace", shared_data)["country"]
    assert set(ct["iso3_country"].dropna().str.strip()) <= set(ref["iso3"])
    cop = _tables("coal_policy", shared_data)["cop26"]
    assert set(cop["state_iso"].dropna().str.strip()) <= set(ref["iso2"])


def test_resolved_names_do_not_collide_within_a_table(shared_data: Path) -> None:
    """Two spellings of one country in the same table would break the iso3 x year grain."""
    for source_id, table, column, key in [
        ("owid", "coal_production", "entity", "year"),
        ("owid", "fossil_production", "entity", "year"),
        ("gcp", "co2_by_fuel", "country", "year"),
        ("carbon_pricing", "ecp", "jurisdiction", "year"),
        ("subsidies", "ffs_tracker", "country_name", "year"),
    ]:
        frame = _tables(source_id, shared_data)[table]
        names = frame[column].dropna().unique()
        by_iso3: dict[str, set[str]] = defaultdict(set)
        for name in names:
            iso3, _ = resolve(str(name))
            if iso3:
                by_iso3[iso3].add(str(name))
        multi = {k: v for k, v in by_iso3.items() if len(v) > 1}
        if multi:
            sub = frame[frame[column].isin({n for v in multi.values() for n in v})]
            sub = sub.assign(iso3=sub[column].map(lambda n: resolve(str(n))[0]))
            dup = sub.duplicated(["iso3", key], keep=False)
            assert not dup.any(), f"{source_id}.{table}: names collide on one ISO3 and year: {multi}"
