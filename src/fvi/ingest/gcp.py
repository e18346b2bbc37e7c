"""Global Carbon Budget: national fossil CO2 emissions by fuel (MtCO2), flat CSV.

The release is in the file name (``GCB2022v27_MtCO2_flat.csv`` → ``2022v27``).
"""

from __future__ import annotations

from pathlib import Path

from fvi.ingest.base import FileRecord, LoadResult
from fvi.ingest.fetching import fetch_files, locate_files
from fvi.ingest.tabular import load_tables, release_from_name

SOURCE_ID = "gcp"
_release = release_from_name(r"GCB(\d{4}v\d+)")


def locate(data_dir: Path) -> list[FileRecord]:
    """Every file of this source under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download this source's files from the publisher into ``dest``; the records of what arrived."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the Global Carbon Budget CSV; the release comes from the file name (``2022v27``)."""
    return load_tables(SOURCE_ID, files, release=_release)
