"""The source registry against the real samples in ../shared/data."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from fvi.registry import load_sources

pytestmark = pytest.mark.integration


def _matches(data_dir: Path) -> dict[Path, set[tuple[str, str]]]:
    """Every file in ``data_dir`` matched by some local_glob -> the (source, dataset) pairs."""
    found: dict[Path, set[tuple[str, str]]] = defaultdict(set)
    for src in load_sources().values():
        for f in src.files:
            for path in data_dir.glob(f.local_glob):
                if path.is_file():
                    found[path.resolve()].add((src.id, f.dataset))
    return found


def test_every_local_glob_matches_a_sample(shared_data: Path) -> None:
    missing = [
        f"{src.id}/{f.dataset}: {f.local_glob}"
        for src in load_sources().values()
        for f in src.files
        if not any(p.is_file() for p in shared_data.glob(f.local_glob))
    ]
    assert not missing, "globs matching no file in shared data:\n" + "\n".join(missing)


def test_no_file_claimed_by_two_sources(shared_data: Path) -> None:
    clashes = {
        p.relative_to(shared_data).as_posix(): sorted(pairs)
        for p, pairs in _matches(shared_data).items()
        if len({source for source, _ in pairs}) > 1
    }
    assert not clashes, f"files matched by datasets of different sources: {clashes}"


def test_no_file_claimed_by_two_datasets(shared_data: Path) -> None:
    clashes = {
        p.relative_to(shared_data).as_posix(): sorted(pairs)
        for p, pairs in _matches(shared_data).items()
        if len(pairs) > 1
    }
    assert not clashes, f"files matched by two datasets: {clashes}"


@pytest.mark.parametrize(
    ("source_id", "dataset", "expected"),
    [
        ("climate_trace", "sources", {"climatetrace_coal-mining_emissions_sources_v4_4_0.zip"}),
        (
            "climate_trace",
            "confidence",
            {"climatetrace_coal-mining_emissions_sources_confidence_v4_4_0.zip"},
        ),
        ("climate_trace", "country", {"climatetrace_coal-mining_country_emissions_v4_4_0.csv"}),
        (
            "wdi",
            "indicators",
            {
                "WDI_extract_NY.GDP.COAL.RT.ZS_coal_rents.xlsx",
                "API_EG.ELC.COAL.ZS_DS2_en_csv_v2_6228498.csv",
                "API_NY.GDP.MKTP.CD_DS2_en_excel_v2_122372.xlsx",
            },
        ),
        ("owid", "codebook", {"owid-energy-codebook.csv", "owid-co2-codebook.csv"}),
        (
            "owid",
            "coal_consumption",
            {
                "owid_coal_consumption_by_country_twh.csv",
                "owid_coal_consumption_by_country_twh.xlsx",
            },
        ),
        (
            "gem_plants",
            "workbook",
            {
                "Global-Coal-Plant-Tracker-July-2023.xlsx",
                "Global-Coal-Plant-Tracker-Jan-2017.xlsx",
            },
        ),
        ("eia_mines", "mines", {f"coalpublic{y}.csv" for y in range(2008, 2017)}),
    ],
)
def test_globs_pick_exactly_the_intended_samples(
    shared_data: Path, source_id: str, dataset: str, expected: set[str]
) -> None:
    names = {p.name for p, pairs in _matches(shared_data).items() if (source_id, dataset) in pairs}
    assert names == expected


def test_coal_rents_extract_matched_by_its_own_entry(shared_data: Path) -> None:
    entry = next(f for f in load_sources()["wdi"].files if "NY.GDP.COAL.RT.ZS" in f.url)
    names = {p.name for p in shared_data.glob(entry.local_glob)}
    assert names == {"WDI_extract_NY.GDP.COAL.RT.ZS_coal_rents.xlsx"}


def test_readmes_and_unregistered_folders_stay_unclaimed(shared_data: Path) -> None:
    claimed = {p.relative_to(shared_data).as_posix() for p in _matches(shared_data)}
    for name in (
        "owid/README_owid_energy_data.md",
        "carbon_pricing/README_ECP.md",
        "climate_trace/climatetrace_detailed_data_schema_v5.0.0.csv",
    ):
        assert name not in claimed
    assert not any(c.startswith(("rag_corpus/", "carbon_majors/", "wri_gppd/")) for c in claimed)
