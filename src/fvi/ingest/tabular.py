"""The loading loop shared by sources whose every dataset is one flat table (a CSV or one sheet).

``FileRecord.dataset`` names the bronze table a file feeds. Releases are detected per file; a file
with nothing in its name to say which release it is gets ``sha256:<first 12 hex>`` so two
different contents never share a release label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fvi.ingest.base import (
    FileRecord,
    LayoutError,
    LoadResult,
    Quarantine,
    TableMap,
    build_frame,
    concat_frames,
    find_header_row,
    load_column_maps,
    open_text,
    read_csv_table,
    read_workbook,
)

ReleaseFn = Callable[[FileRecord], str]
Reader = Callable[[FileRecord, TableMap, str, str, Quarantine], pd.DataFrame]
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def content_release(rec: FileRecord) -> str:
    """A release label from the file's content, for publishers that do not version their files."""
    return f"sha256:{rec.sha256[:12]}" if rec.sha256 else "unversioned"


def release_from_name(pattern: str) -> ReleaseFn:
    """Release = first group of ``pattern`` in the file name, else the content label."""
    rx = re.compile(pattern)

    def detect(rec: FileRecord) -> str:
        m = rx.search(rec.path.name)
        return m.group(1) if m else content_release(rec)

    return detect


def sniff_delimiter(path: Path) -> str:
    """``;`` when the header line has more semicolons than commas (European CSV), else ``,``."""
    with open_text(path) as fh:
        first = fh.readline()
    return ";" if first.count(";") > first.count(",") else ","


def dataset_of(rec: FileRecord, maps: dict[str, TableMap], source_id: str) -> str:
    """The table a file feeds; a one-table source needs no dataset name."""
    if rec.dataset is None and len(maps) == 1:
        return next(iter(maps))
    if rec.dataset not in maps:
        raise ValueError(f"{source_id}: {rec.path.name}: unknown dataset {rec.dataset!r}; map has {sorted(maps)}")
    return rec.dataset


def prefer_csv(files: list[FileRecord]) -> tuple[list[FileRecord], list[FileRecord]]:
    """Within a dataset a CSV wins over its spreadsheet copy: the same data is never read twice."""
    with_csv = {f.dataset for f in files if f.path.suffix.lower() == ".csv"}
    kept = [f for f in files if not (f.path.suffix.lower() in SHEET_SUFFIXES and f.dataset in with_csv)]
    return kept, [f for f in files if f not in kept]


def read_sheet_table(
    path: Path, *, tmap: TableMap, source_id: str, release: str, quarantine: Quarantine
) -> pd.DataFrame:
    """The first sheet holding ``tmap``'s first required column, from its header row down."""
    sheets = read_workbook(path)
    spellings = (tmap.required[0], *tmap.columns.get(tmap.required[0], ())) if tmap.required else ()
    for name, rows in sheets.items():
        at = next((i for s in spellings if (i := find_header_row(rows, s)) >= 0), -1)
        if at >= 0:
            body = ((i + 1, r) for i, r in enumerate(rows) if i > at)
            return build_frame(
                rows[at],
                body,
                tmap=tmap,
                source_id=source_id,
                file=path.name,
                sheet=name,
                release=release,
                quarantine=quarantine,
            )
    name, rows = next(iter(sheets.items()), ("", []))
    tmap.resolve(rows[0] if rows else [], f"{source_id}: {path.name} [{name}]")
    raise LayoutError(f"{source_id}: {path.name}: no header row found")


def read_flat(rec: FileRecord, tmap: TableMap, source_id: str, release: str, q: Quarantine) -> pd.DataFrame:
    """One file as one table: a spreadsheet by its header row, a CSV by its sniffed delimiter."""
    if rec.path.suffix.lower() in SHEET_SUFFIXES:
        return read_sheet_table(rec.path, tmap=tmap, source_id=source_id, release=release, quarantine=q)
    return read_csv_table(
        rec.path,
        tmap=tmap,
        source_id=source_id,
        release=release,
        quarantine=q,
        delimiter=sniff_delimiter(rec.path),
    )


def load_tables(
    source_id: str,
    files: list[FileRecord],
    *,
    release: ReleaseFn,
    reader: Reader = read_flat,
    csv_over_sheet: bool = False,
) -> LoadResult:
    """Read each file into its dataset's table; every table of the map is returned, even empty.

    ``csv_over_sheet``: the source publishes a dataset both as CSV and as a spreadsheet copy.
    """
    maps = load_column_maps(source_id)
    q = Quarantine()
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in maps}
    kept, skipped = prefer_csv(files) if csv_over_sheet else (files, [])
    for rec in kept:
        table = dataset_of(rec, maps, source_id)
        before = len(q)
        rec.release = release(rec)
        frame = reader(rec, maps[table], source_id, rec.release, q)
        rec.rows_loaded, rec.rows_quarantined = len(frame), len(q) - before
        frames[table].append(frame)
    notes = [f"{f.path.name}: not read, the CSV of dataset {f.dataset!r} was read instead" for f in skipped]
    releases = sorted({r.release for r in kept if r.release})
    return LoadResult(
        source_id,
        {t: concat_frames(fs, maps[t]) for t, fs in frames.items()},
        q,
        kept,
        release=", ".join(releases) or None,
        notes=notes,
    )
