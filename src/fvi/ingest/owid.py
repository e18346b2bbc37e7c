"""Our World in Data coal series: production, consumption, CO2 from coal, electricity, codebooks.

Grapher exports carry no release label; one in the file name (``..._2022.csv``) is used, else the
content hash. The coal consumption series is published as CSV and as an xlsx copy: the CSV is read
when present, never both.
"""

from __future__ import annotations

from pathlib import Path

from fvi.ingest.base import FileRecord, LoadResult
from fvi.ingest.fetching import fetch_files, locate_files
from fvi.ingest.tabular import load_tables, release_from_name

SOURCE_ID = "owid"
_release = release_from_name(r"_((?:19|20)\d\d)\.[a-z]+$")


def locate(data_dir: Path) -> list[FileRecord]:
    """Every file of this source under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download this source's files from the publisher into ``dest``; the records of what arrived."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the OWID series, the CSV over its xlsx copy; release from the file name, else the content hash."""
    return load_tables(SOURCE_ID, files, release=_release, csv_over_sheet=True)
