"""Mining land area per country (Maus et al. 2020, PANGAEA): km² of mapped mining polygons."""

from __future__ import annotations

from pathlib import Path

from fvi.ingest.base import (
    FileRecord,
    LoadResult,
    Quarantine,
    concat_frames,
    load_column_maps,
    read_csv_table,
)
from fvi.ingest.fetching import fetch_files, locate_files

SOURCE_ID = "mining_land"


def locate(data_dir: Path) -> list[FileRecord]:
    """Every file of this source under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download this source's files from the publisher into ``dest``; the records of what arrived."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the mining-area CSVs into table ``area`` (km² per country); the release is always ``v1``."""
    maps = load_column_maps(SOURCE_ID)
    q = Quarantine()
    frames = []
    for rec in files:
        before = len(q)
        frame = read_csv_table(rec.path, tmap=maps["area"], source_id=SOURCE_ID, release="v1", quarantine=q)
        rec.release, rec.rows_loaded, rec.rows_quarantined = "v1", len(frame), len(q) - before
        frames.append(frame)

    return LoadResult(SOURCE_ID, {"area": concat_frames(frames, maps["area"])}, q, files, release="v1")
