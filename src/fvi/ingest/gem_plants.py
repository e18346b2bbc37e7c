"""GEM Global Coal Plant Tracker: coal-fired units (capacity, age, status, retirement plans).

The units sheet was called "Coal Projects" (2017-2023) and "Units" in newer releases; the 2017
CoalSwarm layout and the GEM layout map to one column set (``maps/gem_plants.yml``). Several
releases load side by side, each row keeping its ``_release``.
"""

from __future__ import annotations

from pathlib import Path

from fvi.ingest._gem import detect_release, fetch_gated, read_sheet_table
from fvi.ingest.base import (
    FileRecord,
    LoadResult,
    Quarantine,
    concat_frames,
    find_sheet,
    load_column_maps,
    read_workbook,
)
from fvi.ingest.fetching import locate_files

SOURCE_ID = "gem_plants"
TITLE = "Global Coal Plant Tracker"
UNIT_SHEETS = ("Units", "Coal Projects", "Coal Units", "Coal Plants")


def locate(data_dir: Path) -> list[FileRecord]:
    """Every GEM Coal Plant Tracker workbook under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download the workbooks; a form-gated one must already sit in ``dest`` (SourceNotFound says where to get it)."""
    return fetch_gated(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the units sheet of each workbook into table ``units``, each row keeping its ``_release``.

    The release (``YYYY-MM``) is read from the workbook's title or file name and noted; the result's
    release is the newest workbook's.
    """
    tmap = load_column_maps(SOURCE_ID)["units"]
    q = Quarantine()
    frames = []
    notes: list[str] = []
    for rec in files:
        sheets = read_workbook(rec.path)
        release, how = detect_release(sheets, rec.path, TITLE)
        notes.append(f"{rec.path.name}: release {release} read from {how}")
        sheet = find_sheet(sheets, *UNIT_SHEETS, where=f"{SOURCE_ID}: {rec.path.name}")
        before = len(q)
        frame = read_sheet_table(
            sheets[sheet], tmap=tmap, source_id=SOURCE_ID, file=rec.path.name, sheet=sheet,
            release=release, quarantine=q,
        )
        rec.release, rec.rows_loaded, rec.rows_quarantined = release, len(frame), len(q) - before
        frames.append(frame)

    releases = sorted({r.release for r in files if r.release})
    return LoadResult(
        SOURCE_ID, {"units": concat_frames(frames, tmap)}, q, files,
        release=releases[-1] if releases else None, notes=notes,
    )
