"""Coal policy signals: Beyond Coal phase-out timeline (OWID) and COP26 pledges (Klimadashboard).

Neither file carries a version, so the content hash labels the release. The COP26 file is
semicolon-separated; the delimiter is sniffed from its header line.
"""

from __future__ import annotations

from pathlib import Path

from fvi.ingest.base import FileRecord, LoadResult
from fvi.ingest.fetching import fetch_files, locate_files
from fvi.ingest.tabular import content_release, load_tables

SOURCE_ID = "coal_policy"
_release = content_release


def locate(data_dir: Path) -> list[FileRecord]:
    """Every file of this source under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download this source's files from the publisher into ``dest``; the records of what arrived."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the Beyond Coal and COP26 files into their tables; the release is each file's content hash."""
    return load_tables(SOURCE_ID, files, release=_release)
