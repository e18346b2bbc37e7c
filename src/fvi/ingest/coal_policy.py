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
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    return load_tables(SOURCE_ID, files, release=_release)
