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
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    return load_tables(SOURCE_ID, files, release=_release)
