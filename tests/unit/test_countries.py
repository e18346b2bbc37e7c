"""Country reference and alias resolution (the Python twin of int_country_names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.countries import COLUMNS, countries_frame, load_aliases, resolve


def test_countries_frame_shape() -> None:
    frame = countries_frame()
    assert list(frame.columns) == COLUMNS
    assert frame["iso3"].is_unique and frame["iso2"].is_unique
    assert len(frame) >= 249
    assert "XKX" in set(frame["iso3"])


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("Russia", "RUS"), ("Türkiye", "TUR"), ("Turkey", "TUR"), ("Iran", "IRN"), ("Vietnam", "VNM"),
        ("Viet Nam", "VNM"), ("Laos", "LAO"), ("Kosovo", "XKX"), ("Czechia", "CZE"), ("Bolivia", "BOL"),
        ("Venezuela, RB", "VEN"), ("Korea, Rep.", "KOR"), ("South Korea", "KOR"), ("North Korea", "PRK"),
        ("Democratic Republic of Congo", "COD"), ("Cote d'Ivoire", "CIV"), ("Taiwan", "TWN"),
        ("Bosnia & Herzegovina", "BIH"), ("United States", "USA"), ("USA", "USA"), ("  germany ", "DEU"),
    ],
)
def test_known_names_resolve(name: str, iso3: str) -> None:
    assert resolve(name) == (iso3, "country")


@pytest.mark.parametrize("name", ["World", "Africa", "High income", "Asia Pacific", "European Union (27)"])
def test_aggregates_map_to_nothing(name: str) -> None:
    assert resolve(name) == (None, "aggregate")


def test_unknown_name() -> None:
    assert resolve("Atlantis") == (None, None)


def test_alias_seed_rules(tmp_path: Path) -> None:
    aliases = load_aliases()
    keys = [a.alias.strip().lower() for a in aliases]
    assert len(keys) == len(set(keys)), "duplicate alias in country_aliases.csv"
    known = set(countries_frame()["iso3"])
    assert all(a.iso3 in known for a in aliases if a.iso3)
    bad = tmp_path / "aliases.csv"
    bad.write_text("alias,iso3,kind,note\nWorld,WLD,aggregate,wrong\n", encoding="utf-8")
    with pytest.raises(ValueError, match="iso3 must be set exactly for countries"):
        load_aliases(bad)
