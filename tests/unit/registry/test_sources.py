"""The source registry: schema, cross-entry rules, licences, hash and generated docs."""

from __future__ import annotations

import copy
import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

import fvi.registry as registry
from fvi.registry import RegistryError, load_sources, registry_hash, sources_markdown, validate

REPO = Path(__file__).resolve().parents[3]
SCHEMA = "sources.schema.yml"

# Fixed by connectors and table names: changing one breaks raw_<source>__<dataset>.
EXPECTED_DATASETS = {
    "gem_mines": {"workbook"},
    "gem_plants": {"workbook"},
    "climate_trace": {"sources", "confidence", "country"},
    "eia_mines": {"mines"},
    "owid": {
        "coal_production",
        "coal_consumption",
        "co2_from_coal",
        "electricity_mix",
        "fossil_production",
        "codebook",
    },
    "gcp": {"co2_by_fuel"},
    "wdi": {"indicators"},
    "subsidies": {"ffs_tracker", "imf_2015"},
    "carbon_pricing": {"ecp", "coverage"},
    "coal_policy": {"phase_out", "cop26"},
    "mining_land": {"area"},
}


@pytest.fixture()
def doc() -> dict[str, Any]:
    """A fresh deep copy of the real sources.yml document, safe to mutate."""
    text = resources.files("fvi.registry").joinpath("sources.yml").read_text("utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def _index(doc: dict[str, Any], source_id: str) -> int:
    return next(i for i, s in enumerate(doc["sources"]) if s["id"] == source_id)


def _fails(doc: dict[str, Any]) -> str:
    with pytest.raises(RegistryError) as exc:
        validate(doc, SCHEMA, "sources.yml")
    return str(exc.value)


# --- the real registry ------------------------------------------------------------------------


def test_real_registry_validates(doc: dict[str, Any]) -> None:
    validate(doc, SCHEMA, "sources.yml")
    registry.validate_sources(doc)
    assert set(load_sources()) == set(EXPECTED_DATASETS)


def test_ids_unique_and_snake_case(doc: dict[str, Any]) -> None:
    ids = [s["id"] for s in doc["sources"]]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) for i in ids)


@pytest.mark.parametrize("source_id", sorted(EXPECTED_DATASETS))
def test_dataset_names_are_the_fixed_ones(source_id: str) -> None:
    src = load_sources()[source_id]
    assert {f.dataset for f in src.files} == EXPECTED_DATASETS[source_id]


def test_every_source_and_file_has_a_licence() -> None:
    for src in load_sources().values():
        assert src.licence.name.strip() and src.licence.url.startswith("https://")
        for f in src.files:
            lic = src.licence_for(f.dataset)
            assert lic.name.strip() and lic.url.startswith(("http://", "https://"))


def test_file_level_licence_overrides_source_licence() -> None:
    subsidies = load_sources()["subsidies"]
    assert "IMF" in subsidies.licence_for("imf_2015").name
    assert subsidies.licence_for("imf_2015") != subsidies.licence_for("ffs_tracker")
    policy = load_sources()["coal_policy"]
    assert policy.licence_for("phase_out") == policy.licence
    assert policy.licence_for("cop26") != policy.licence


def test_non_commercial_source_says_so() -> None:
    ecp = load_sources()["carbon_pricing"]
    assert "NC-ND" in ecp.licence.name
    assert ecp.notes and "NON-COMMERCIAL" in ecp.notes and "reference" in ecp.notes


def test_fixed_urls() -> None:
    s = load_sources()
    assert [f.url for f in s["eia_mines"].files] == [
        "https://www.eia.gov/coal/data/public/xls/coalpublic{year}.xls"
    ]
    wdi = {f.local_glob: f.url for f in s["wdi"].files}
    for code in ("NY.GDP.COAL.RT.ZS", "EG.ELC.COAL.ZS", "NY.GDP.MKTP.CD"):
        assert wdi[f"worldbank_wdi/*{code}*"] == (
            f"https://api.worldbank.org/v2/country/all/indicator/{code}?format=json&per_page=20000"
        )
    production = next(f for f in s["owid"].files if f.dataset == "coal_production")
    assert production.url == "https://ourworldindata.org/grapher/coal-production-by-country.csv"


def test_gated_downloads_are_marked_manual_with_a_note() -> None:
    for src in load_sources().values():
        for f in src.files:
            if f.manual:
                assert f.note, f"{src.id}/{f.dataset}: a manual file must say how to get it"
    assert all(f.manual for f in load_sources()["gem_mines"].files)


def test_only_year_placeholder_in_urls() -> None:
    for src in load_sources().values():
        for f in src.files:
            assert set(re.findall(r"\{[^}]*\}", f.url)) <= {"{year}"}, f.url


# --- variants that must fail, each naming the path ----------------------------------------------


def test_source_without_licence_fails(doc: dict[str, Any]) -> None:
    i = _index(doc, "gcp")
    del doc["sources"][i]["licence"]
    msg = _fails(doc)
    assert f"sources/{i}" in msg and "licence" in msg


def test_licence_without_url_fails(doc: dict[str, Any]) -> None:
    i = _index(doc, "owid")
    del doc["sources"][i]["licence"]["url"]
    msg = _fails(doc)
    assert f"sources/{i}/licence" in msg and "url" in msg


def test_file_without_url_fails(doc: dict[str, Any]) -> None:
    i = _index(doc, "climate_trace")
    del doc["sources"][i]["files"][1]["url"]
    msg = _fails(doc)
    assert f"sources/{i}/files/1" in msg and "url" in msg


@pytest.mark.parametrize("key", ["local_glob", "dataset"])
def test_file_without_required_key_fails(doc: dict[str, Any], key: str) -> None:
    i = _index(doc, "wdi")
    del doc["sources"][i]["files"][0][key]
    msg = _fails(doc)
    assert f"sources/{i}/files/0" in msg and key in msg


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("root", "(root)"),
        ("source", "sources/0"),
        ("file", "sources/0/files/0"),
        ("licence", "sources/0/licence"),
    ],
)
def test_unknown_key_fails(doc: dict[str, Any], where: str, path: str) -> None:
    target = {
        "root": doc,
        "source": doc["sources"][0],
        "file": doc["sources"][0]["files"][0],
        "licence": doc["sources"][0]["licence"],
    }[where]
    target["licnece"] = "typo"
    msg = _fails(doc)
    assert msg.startswith(f"sources.yml: {path}: ") and "licnece" in msg


@pytest.mark.parametrize("bad", ["GemMines", "gem-mines", "1gem", "gem__mines", "gem_"])
def test_id_must_be_lowercase_snake_case(doc: dict[str, Any], bad: str) -> None:
    doc["sources"][0]["id"] = bad
    assert "sources/0/id" in _fails(doc)


@pytest.mark.parametrize(
    "bad", ["/abs/path/*.csv", "../outside/*.csv", "no_folder.csv", "a/b c.csv"]
)
def test_local_glob_must_be_relative_inside_a_folder(doc: dict[str, Any], bad: str) -> None:
    doc["sources"][0]["files"][0]["local_glob"] = bad
    assert "sources/0/files/0/local_glob" in _fails(doc)


def test_url_must_be_http(doc: dict[str, Any]) -> None:
    doc["sources"][0]["files"][0]["url"] = "ftp://example.org/file.csv"
    assert "sources/0/files/0/url" in _fails(doc)


def test_duplicate_id_fails(doc: dict[str, Any]) -> None:
    doc["sources"].append(copy.deepcopy(doc["sources"][0]))
    with pytest.raises(RegistryError, match=rf"sources/{len(doc['sources']) - 1}/id: duplicate"):
        registry.validate_sources(doc)


def test_same_file_entry_twice_fails(doc: dict[str, Any]) -> None:
    doc["sources"][0]["files"].append(copy.deepcopy(doc["sources"][0]["files"][0]))
    with pytest.raises(RegistryError, match=r"sources/0/files/1"):
        registry.validate_sources(doc)


# --- hash and generated docs ---------------------------------------------------------------------


def test_registry_hash_is_stable_and_covers_sources() -> None:
    h = registry_hash()
    assert h == registry_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    # Same recipe recomputed here: sorted *.yml names, each name then its bytes.
    pkg = resources.files("fvi.registry")
    names = sorted(p.name for p in pkg.iterdir() if p.name.endswith(".yml"))
    assert {"sources.yml", "sources.schema.yml"} <= set(names)
    expected = hashlib.sha256()
    for name in names:
        expected.update(name.encode())
        expected.update(pkg.joinpath(name).read_bytes())
    assert h == expected.hexdigest()


def test_docs_sources_md_is_generated_from_the_registry() -> None:
    committed = (REPO / "docs" / "sources.md").read_text("utf-8")
    assert committed == sources_markdown(), (
        "docs/sources.md is stale: regenerate with `python -c 'import fvi.registry as r; "
        'print(r.sources_markdown(), end="")\' > docs/sources.md`'
    )


def test_sources_markdown_lists_every_source_with_licence() -> None:
    md = sources_markdown()
    for src in load_sources().values():
        row = next(line for line in md.splitlines() if line.startswith(f"| `{src.id}` |"))
        assert src.licence.url in row and src.cadence.replace("_", "-") in row
