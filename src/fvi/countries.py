"""The country reference: ISO 3166-1 from pycountry plus the maintained alias seed.

Sources name countries in many ways ("Korea, Rep.", "Türkiye", "DR Congo"). The warehouse
resolves every name through one lookup (``int_country_names``) built from
``bronze.ref_countries`` (this module's :func:`countries_frame`) and the alias seed
``warehouse/seeds/country_aliases.csv``. The same rules are available here for tests and for
Python code that must agree with the warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pycountry

COLUMNS = ["iso3", "iso2", "numeric", "name", "official_name", "common_name"]

# Codes outside ISO 3166-1 that sources use for real countries. XKX (Kosovo) is the
# user-assigned code used by the World Bank, Climate TRACE and the European Commission.
EXTRA_COUNTRIES = [
    {"iso3": "XKX", "iso2": "XK", "numeric": None, "name": "Kosovo",
     "official_name": "Republic of Kosovo", "common_name": None},
]

ALIAS_KINDS = ("country", "aggregate", "subnational", "historical", "ambiguous")
ALIASES_PATH = Path(__file__).resolve().parents[2] / "warehouse" / "seeds" / "country_aliases.csv"


def countries_frame() -> pd.DataFrame:
    """One row per country (ISO 3166-1 plus XKX); the pipeline writes it to ``bronze.ref_countries``."""
    rows = [
        {
            "iso3": c.alpha_3,
            "iso2": c.alpha_2,
            "numeric": c.numeric,
            "name": c.name,
            "official_name": getattr(c, "official_name", None),
            "common_name": getattr(c, "common_name", None),
        }
        for c in pycountry.countries
    ]
    rows += [r for r in EXTRA_COUNTRIES if r["iso3"] not in {x["iso3"] for x in rows}]
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values("iso3", ignore_index=True)
    return frame.astype("string")


def name_key(name: str) -> str:
    """How names are compared everywhere (the SQL twin is ``lower(trim(name))``)."""
    return name.strip().lower()


@dataclass(frozen=True)
class Alias:
    """A spelling a publisher uses for a place, its ISO3 (countries only) and what kind of place it is."""

    alias: str
    iso3: str | None
    kind: str
    note: str


def load_aliases(path: Path | None = None) -> list[Alias]:
    """The alias seed, checked: known kinds, an ISO3 exactly for real countries."""
    out: list[Alias] = []
    with open(path or ALIASES_PATH, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            iso3 = (row["iso3"] or "").strip() or None
            kind = row["kind"].strip()
            if kind not in ALIAS_KINDS:
                raise ValueError(f"country_aliases.csv line {i}: unknown kind {kind!r}")
            if (kind == "country") != (iso3 is not None):
                raise ValueError(f"country_aliases.csv line {i}: iso3 must be set exactly for countries")
            out.append(Alias(row["alias"], iso3, kind, row.get("note") or ""))
    return out


@lru_cache(maxsize=1)
def name_lookup() -> dict[str, tuple[str | None, str]]:
    """Name key -> (iso3 or None, kind); aliases win over pycountry names (as in SQL)."""
    lookup: dict[str, tuple[str | None, str]] = {}
    frame = countries_frame()
    for col in ("common_name", "official_name", "name"):  # later columns win, as in SQL
        for iso3, value in zip(frame["iso3"], frame[col], strict=True):
            if isinstance(value, str) and value.strip():
                lookup[name_key(value)] = (str(iso3), "country")
    for a in load_aliases():
        lookup[name_key(a.alias)] = (a.iso3, a.kind)
    return lookup


def resolve(name: str) -> tuple[str | None, str | None]:
    """(iso3, kind) for a published name; (None, None) when the name is unknown."""
    return name_lookup().get(name_key(name), (None, None))
