"""GEM Global Coal Mine Tracker: the mine spine (status, capacity, reserves, owners, methane).

One workbook per release with a sheet of non-closed mines (``open``) and one of closed mines
(``closed``). Several releases may be loaded side by side; each row keeps its ``_release`` so
status changes between releases can become outcomes. An ID may span several rows of one release
(phases of one project): every row is kept.
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

SOURCE_ID = "gem_mines"
TITLE = "Global Coal Mine Tracker"
# table -> sheet-name prefixes, most specific first ("(Non-C" and "(Close" are Excel's
# 31-character truncations of "(Non-Closed Mines)" and "(Closed Mines)").
SHEETS = {
    "open": ("Global Coal Mine Tracker (Non", "GCMT Non", "Non-Closed", "Non Closed"),
    "closed": ("Global Coal Mine Tracker (Close", "GCMT Close", "Closed"),
}


def locate(data_dir: Path) -> list[FileRecord]:
    """Every GEM Coal Mine Tracker workbook under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download the workbooks; a form-gated one must already sit in ``dest`` (SourceNotFound says where to get it)."""
    return fetch_gated(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read the ``open`` and ``closed`` mine sheets of each workbook, each row keeping its ``_release``.

    The release (``YYYY-MM``) is read from the workbook's title or file name and noted; the result's
    release is the newest workbook's.
    """
    maps = load_column_maps(SOURCE_ID)
    q = Quarantine()
    frames: dict[str, list] = {t: [] for t in SHEETS}
    notes: list[str] = []
    for rec in files:
        sheets = read_workbook(rec.path)
        release, how = detect_release(sheets, rec.path, TITLE)
        notes.append(f"{rec.path.name}: release {release} read from {how}")
        before, loaded = len(q), 0
        for table, prefixes in SHEETS.items():
            sheet = find_sheet(sheets, *prefixes, where=f"{SOURCE_ID}: {rec.path.name}")
            frame = read_sheet_table(
                sheets[sheet], tmap=maps[table], source_id=SOURCE_ID, file=rec.path.name,
                sheet=sheet, release=release, quarantine=q,
            )
            frames[table].append(frame)
            loaded += len(frame)
        rec.release, rec.rows_loaded, rec.rows_quarantined = release, loaded, len(q) - before

    tables = {t: concat_frames(fs, maps[t]) for t, fs in frames.items()}
    releases = sorted({r.release for r in files if r.release})
    latest = releases[-1] if releases else None
    return LoadResult(SOURCE_ID, tables, q, files, release=latest, notes=notes)
