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
    """Every file of this source under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download this source's files from the publisher into ``dest``; the records of what arrived."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the subsidy files into their tables; the release is the years the file covers."""
    return load_tables(SOURCE_ID, files, release=_release)
