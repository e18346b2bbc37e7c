"""Fossil-fuel subsidies: the OECD/IISD tracker (via ONE, USD) and IMF 2015 post-tax (% of GDP).

The years a file covers are its release label (``..._2010_2022.csv`` → ``2010_2022``).
"""

from __future__ import annotations

from pathlib import Path

from fvi.ingest.base import FileRecord, LoadResult
from fvi.ingest.fetching import fetch_files, locate_files
from fvi.ingest.tabular import load_tables, release_from_name

SOURCE_ID = "subsidies"
_release = release_from_name(r"_(\d{4}(?:_\d{4})?)(?:_|\.)")


def locate(data_dir: Path) -> list[FileRecord]:
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    return load_tables(SOURCE_ID, files, release=_release)
