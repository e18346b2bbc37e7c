"""What the GEM tracker workbooks share: the release named on the About sheet, sheets of one table.

GEM publishes each tracker as a dated workbook whose About sheet opens with the title
(``Global Coal Mine Tracker - April 2024``). The release is read from there, because a file
renamed on download keeps its title; the file name is only the fallback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.ingest.base import (
    FileRecord,
    Quarantine,
    SourceNotFound,
    TableMap,
    build_frame,
    find_header_row,
)
from fvi.ingest.fetching import fetch_files, locate_files
from fvi.registry import load_sources

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH_YEAR = re.compile(
    rf"(?<![a-z])({_MONTH_NAMES})\.?[\s_,-]*((?:19|20)\d\d)(?!\d)", re.IGNORECASE
)


def fetch_gated(source_id: str, dest: Path) -> list[FileRecord]:
    """GEM hands out workbooks through a request form, not a stable URL.

    So a live fetch of a file the registry marks ``manual`` uses what was placed in ``dest`` by
    hand, and otherwise says where to get it, instead of saving the form page as a workbook.
    """
    files = load_sources()[source_id].files
    if not all(getattr(f, "manual", False) for f in files):
        return fetch_files(source_id, dest)
    try:
        return locate_files(source_id, dest)
    except SourceNotFound as exc:
        pages = ", ".join(sorted({f.url for f in files}))
        hint = f"GEM gates this workbook behind a form: get it at {pages}"
        raise SourceNotFound(f"{exc}; {hint}") from exc


def release_from_text(text: str) -> str | None:
    """``'... Tracker - Jan 2017c'`` → ``'2017-01'``; None when no month and year are named."""
    m = _MONTH_YEAR.search(text)
    return f"{m.group(2)}-{_MONTHS[m.group(1).casefold()]:02d}" if m else None


def detect_release(
    sheets: dict[str, list[list[Any]]], path: Path, title: str
) -> tuple[str | None, str]:
    """(release, where it was read): the About sheet's title cell, else the file name."""
    about = next((rows for name, rows in sheets.items() if name.strip().casefold() == "about"), [])
    for row in about[:10]:
        for cell in row:
            text = str(cell or "")
            if title.casefold() in text.casefold() and (release := release_from_text(text)):
                return release, f"About sheet ({text.strip()!r})"
    release = release_from_text(path.stem)
    return release, ("file name" if release else "nowhere (neither About sheet nor file name)")


def read_sheet_table(
    rows: list[list[Any]],
    *,
    tmap: TableMap,
    source_id: str,
    file: str,
    sheet: str,
    release: str | None,
    quarantine: Quarantine,
) -> pd.DataFrame:
    """One sheet to a bronze frame; the header is the first row naming the key column.

    Row numbers are the spreadsheet's own (the header on row 1 in every release seen so far).
    Without a recognisable header the first row is used, so LayoutError names what is missing.
    """
    rows = rows or [[]]
    key = tmap.key[0] if tmap.key else next(iter(tmap.columns))
    found = (find_header_row(rows, s) for s in (key, *tmap.columns.get(key, ())))
    header_at = next((i for i in found if i >= 0), 0)
    body = ((i + 1, row) for i, row in enumerate(rows) if i > header_at)
    return build_frame(
        rows[header_at], body, tmap=tmap, source_id=source_id, file=file, sheet=sheet,
        release=release, quarantine=quarantine,
    )
