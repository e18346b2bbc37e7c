"""EIA Annual Coal Report, mine-level files (``coalpublicYYYY``): US production and workforce.

One bronze table ``mines`` stacks every year. The publisher's files are old Excel workbooks with
title rows above the header; CSV exports of them circulate too, so both are read. Headers change
between years (``Mine Basin`` until 2011, ``Coal Supply Region`` from 2013, neither in 2012): the
column map absorbs that, and a column a year lacks is null there. This is the outcome series for
back-testing (a US mine that stops producing), so every year the server still answers is fetched.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pandas as pd

from fvi.ingest.base import (
    FileRecord,
    LoadResult,
    Quarantine,
    TableMap,
    build_frame,
    concat_frames,
    find_header_row,
    is_missing,
    load_column_maps,
    read_csv_table,
    read_workbook,
)
from fvi.ingest.fetching import download, locate_files
from fvi.registry import load_sources
from fvi.settings import get_settings

SOURCE_ID = "eia_mines"
TABLE = "mines"
FIRST_YEAR = 2001  # the first coalpublic year on the EIA server
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_WORKBOOK_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".xlsb"}


def locate(data_dir: Path) -> list[FileRecord]:
    """Every ``coalpublic`` workbook or CSV export under ``data_dir``, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Every ``coalpublic{year}`` the EIA server has, from 2001 to this year."""
    records: list[FileRecord] = []
    for f in load_sources()[SOURCE_ID].files:
        for rec in fetch_years(f.url, dest / Path(f.local_glob).parent):
            rec.dataset = f.dataset
            records.append(rec)
    return records


def fetch_years(
    url_template: str,
    dest_dir: Path,
    years: range | None = None,
    *,
    client: httpx.Client | None = None,
) -> list[FileRecord]:
    """Download ``url_template`` for each year; a 404 means that year is not published."""
    years = years or range(FIRST_YEAR, dt.date.today().year + 1)
    own = client is None
    http = client or httpx.Client(timeout=get_settings().http_timeout, follow_redirects=True)
    records: list[FileRecord] = []
    try:
        for year in years if "{year}" in url_template else [None]:
            url = url_template.format(year=year) if year is not None else url_template
            try:
                path = download(url, dest_dir, client=http)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 404:
                    continue
                raise
            meta_path = path.parent / f".{path.name}.http.json"
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            records.append(FileRecord(path=path, url=url, retrieved_at=meta.get("retrieved_at")))
    finally:
        if own:
            http.close()
    return records


def load(files: list[FileRecord]) -> LoadResult:
    """Stack every year's file into table ``mines``; each file's release is its report year.

    The year comes from the file name, else (a renamed file) from its ``Year`` column. A file that is
    neither a workbook nor a CSV is noted and skipped; the result's release is the latest year.
    """
    tmap = load_column_maps(SOURCE_ID)[TABLE]
    q = Quarantine()
    frames: list[pd.DataFrame] = []
    notes: list[str] = []
    for rec in sorted(files, key=lambda r: r.path.name):
        before = len(q)
        release = _year_from_name(rec.path)
        frame = _read_file(rec.path, tmap, release, q)
        if frame is None:
            notes.append(f"{rec.path.name}: neither a workbook nor a CSV; not loaded")
            continue
        if release is None:  # a renamed file: the Year column says which report it is
            release = _year_from_column(frame)
            frame["_release"] = pd.Series([release] * len(frame), dtype="string")
        rec.release, rec.rows_loaded, rec.rows_quarantined = release, len(frame), len(q) - before
        frames.append(frame)
    releases = sorted(r.release for r in files if r.release)
    return LoadResult(
        SOURCE_ID, {TABLE: concat_frames(frames, tmap)}, q, files,
        release=releases[-1] if releases else None, notes=notes,
    )


def _read_file(
    path: Path, tmap: TableMap, release: str | None, q: Quarantine
) -> pd.DataFrame | None:
    suffix = path.suffix.lower()
    if suffix in _WORKBOOK_SUFFIXES:
        return _read_workbook(path, tmap, release, q)
    if suffix == ".csv":
        return read_csv_table(path, tmap=tmap, source_id=SOURCE_ID, release=release, quarantine=q)
    return None


def _read_workbook(path: Path, tmap: TableMap, release: str | None, q: Quarantine) -> pd.DataFrame:
    """The sheet holding the mine table; its header sits below a few title rows.

    Row numbers are the spreadsheet's own, so a reader can find a row in the published file.
    Without a recognisable header the first row is used, so LayoutError names what is missing.
    """
    sheets = read_workbook(path)
    spellings = ("msha_id", *tmap.columns["msha_id"])
    found = (
        (name, i)
        for name, rows in sheets.items()
        for s in spellings
        if (i := find_header_row(rows, s)) >= 0
    )
    sheet, header_at = next(found, (next(iter(sheets), None), 0))
    rows = (sheets.get(sheet) if sheet else None) or [[]]
    body = ((i + 1, row) for i, row in enumerate(rows) if i > header_at)
    return build_frame(
        rows[header_at], body, tmap=tmap, source_id=SOURCE_ID, file=path.name, sheet=sheet,
        release=release, quarantine=q,
    )


def _year_from_name(path: Path) -> str | None:
    m = _YEAR_IN_NAME.search(path.stem)
    return m.group(1) if m else None


def _year_from_column(frame: pd.DataFrame) -> str | None:
    if "year" not in frame:
        return None
    years = [y for y in frame["year"].dropna().unique() if not is_missing(y)]
    return str(years[0]).strip().removesuffix(".0") if years else None
