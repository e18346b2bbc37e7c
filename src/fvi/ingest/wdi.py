"""World Bank WDI (coal rents % GDP, electricity from coal %, GDP current USD) as one long table.

The World Bank publishes the same cells in four forms: bulk CSV and bulk XLSX (one column per
year, with "Data Source" / "Last Updated Date" lines around the table), DataBank extracts
(``2000 [YR2000]`` columns, ``..`` for missing, "Data from database" / "Last Updated" footer
lines) and API v2 JSON pages (already one record per cell). The wide forms are unpivoted: that
is a reshape, every value stays the publisher's text and ``_row_number`` is the source row
(for JSON, the record's 1-based position in the page). Release = the "Last Updated" date the
file states, else its file name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.ingest.base import (
    FileRecord,
    LayoutError,
    LoadResult,
    Quarantine,
    TableMap,
    build_frame,
    find_header_row,
    is_missing,
    iter_csv,
    open_text,
    read_workbook,
    to_text,
)
from fvi.ingest.fetching import download, locate_files
from fvi.ingest.tabular import SHEET_SUFFIXES, load_tables

SOURCE_ID = "wdi"
TABLE = "indicators"
INDICATOR_CODES = ("NY.GDP.COAL.RT.ZS", "EG.ELC.COAL.ZS", "NY.GDP.MKTP.CD")
API_URL = "https://api.worldbank.org/v2/country/all/indicator/{code}?format=json&per_page=20000&page={page}"
LOCAL_DIR = "worldbank_wdi"

_YEAR_COL = re.compile(r"^\s*(\d{4})(?:\s*\[YR\d{4}\])?\s*$")
_META_ROW = re.compile(r"^\s*(data source|last updated(?: date)?|data from database)\s*:?\s*(.*)$", re.I)
_LONG = ["country_name", "country_code", "indicator_name", "indicator_code", "year", "value"]
_API_FIELDS = ("unit", "obs_status", "decimal")


def locate(data_dir: Path) -> list[FileRecord]:
    """Local files, minus the ``.<name>.http.json`` cache sidecars that ``download`` writes."""
    return [f for f in locate_files(SOURCE_ID, data_dir) if not f.path.name.startswith(".")]


def fetch(dest: Path, *, api_url: str = API_URL) -> list[FileRecord]:
    """Every page of the API v2 JSON for each indicator, saved as ``worldbank_wdi/*.json``."""
    records: list[FileRecord] = []
    for code in INDICATOR_CODES:
        page, pages = 1, 1
        while page <= pages:
            url = api_url.format(code=code, page=page)
            path = download(url, dest / LOCAL_DIR, name=f"wdi_api_{code}_page{page}.json")
            pages = int(_api_page(path)[0].get("pages") or 1)
            records.append(FileRecord(path=path, url=url, dataset=TABLE, retrieved_at=_retrieved(path)))
            page += 1
    return records


def _retrieved(path: Path) -> str | None:
    """When ``download`` fetched the file (from its cache sidecar)."""
    meta = path.parent / f".{path.name}.http.json"
    return json.loads(meta.read_text()).get("retrieved_at") if meta.exists() else None


def load(files: list[FileRecord]) -> LoadResult:
    """Read every WDI form (bulk CSV/XLSX, DataBank extract, API JSON) into the one long table."""
    return load_tables(SOURCE_ID, files, release=_release, reader=_read)


# ---------------------------------------------------------------------------------------------
# Releases


def _iso_date(text: str) -> str:
    """DataBank writes MM/DD/YYYY; the bulk files and API write ISO dates."""
    try:
        return dt.datetime.strptime(text.strip(), "%m/%d/%Y").date().isoformat()
    except ValueError:
        return text.strip()


def _release(rec: FileRecord) -> str:
    """The date the file says it was last updated, else the file name."""
    for label, value in _meta_rows(_raw_rows(rec.path)):
        if label.startswith("last updated") and value:
            return _iso_date(value)
    if rec.path.suffix.lower() == ".json":
        updated = _api_page(rec.path)[0].get("lastupdated")
        if updated:
            return str(updated)
    return rec.path.stem


def _meta_rows(rows: Sequence[tuple[int, Sequence[Any]]]) -> Iterator[tuple[str, str | None]]:
    """(label, value) of "Data Source: …" / "Last Updated: …" lines anywhere in a wide file."""
    for _, cells in rows:
        label, value = _meta_of(cells)
        if label:
            yield label, value


def _meta_of(cells: Sequence[Any]) -> tuple[str | None, str | None]:
    texts = [t for t in (to_text(c) for c in cells) if t is not None and t.strip()]
    m = _META_ROW.match(texts[0]) if texts and len(texts) <= 2 else None
    if not m:
        return None, None
    return m.group(1).casefold(), (m.group(2) or (texts[1] if len(texts) > 1 else "")) or None


# ---------------------------------------------------------------------------------------------
# Readers


def _read(rec: FileRecord, tmap: TableMap, source_id: str, release: str, q: Quarantine) -> pd.DataFrame:
    if rec.path.suffix.lower() == ".json":
        return _read_api(rec.path, tmap, release, q)
    sheet = "Data" if rec.path.suffix.lower() in SHEET_SUFFIXES else None
    rows = _raw_rows(rec.path, sheet)
    return _read_wide(rows, rec.path.name, sheet, tmap, release, q)


def _raw_rows(path: Path, sheet: str | None = None) -> list[tuple[int, list[Any]]]:
    """(row_number, cells) of a CSV file or of the data sheet of a workbook; [] for JSON."""
    suffix = path.suffix.lower()
    if suffix in SHEET_SUFFIXES:
        sheets = read_workbook(path)
        rows = sheets.get(sheet or "Data") or next(iter(sheets.values()), [])
        return [(i, r) for i, r in enumerate(rows, start=1)]
    if suffix == ".csv":
        with open_text(path) as fh:
            return list(iter_csv(fh))
    return []


def _api_page(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(page metadata, records) of one API v2 page; numbers kept as the text the API sent."""
    doc = json.loads(path.read_text("utf-8-sig"), parse_float=str, parse_int=str)
    if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict)):
        raise LayoutError(f"{SOURCE_ID}: {path.name}: not a World Bank API v2 page: {str(doc)[:200]}")
    return doc[0], list(doc[1] or [])


def _read_api(path: Path, tmap: TableMap, release: str, q: Quarantine) -> pd.DataFrame:
    header = [*_LONG, *_API_FIELDS]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for i, r in enumerate(_api_page(path)[1], start=1):
            ind, country = r.get("indicator") or {}, r.get("country") or {}
            ids = [country.get("value"), r.get("countryiso3code"), ind.get("value"), ind.get("id")]
            yield i, [*ids, r.get("date"), r.get("value"), *(r.get(f) for f in _API_FIELDS)]

    return build_frame(
        header,
        rows(),
        tmap=tmap,
        source_id=SOURCE_ID,
        file=path.name,
        sheet=None,
        release=release,
        quarantine=q,
    )


def _read_wide(
    rows: list[tuple[int, list[Any]]],
    file: str,
    sheet: str | None,
    tmap: TableMap,
    release: str,
    q: Quarantine,
) -> pd.DataFrame:
    """Unpivot a one-column-per-year table into (ids…, year, value) rows of the long table."""
    at = _header_index(rows, tmap)
    if at < 0:
        _id_map(tmap).resolve(rows[0][1] if rows else [], f"{SOURCE_ID}: {file}")
        raise LayoutError(f"{SOURCE_ID}: {file}: no header row")
    header = [to_text(c) or "" for c in rows[at][1]]
    id_names = _id_map(tmap).resolve(
        [h for h in header if h.strip() and not _YEAR_COL.match(h)], f"{SOURCE_ID}: {file}"
    )
    ids = [i for i, h in enumerate(header) if h.strip() and not _YEAR_COL.match(h)]
    years = [(i, m.group(1)) for i, h in enumerate(header) if (m := _YEAR_COL.match(h))]
    blank_cols = [i for i, h in enumerate(header) if not h.strip()]
    keys = [(n, i) for n, i in zip(id_names, ids, strict=True) if n in tmap.key]

    def long_rows() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in rows[at + 1 :]:
            texts = [to_text(c) for c in cells]
            if all(t is None or not t.strip() for t in texts) or _meta_of(cells)[0]:
                continue
            problem = _malformed(texts, len(header), blank_cols, csv=sheet is None) or next(
                (f"missing key {n}" for n, i in keys if i >= len(texts) or is_missing(texts[i])),
                None,
            )
            if problem:
                q.add(
                    source_id=SOURCE_ID,
                    table=tmap.name,
                    file=file,
                    sheet=sheet,
                    row_number=number,
                    reason=problem,
                    raw=texts,
                )
                continue
            id_cells = [texts[i] for i in ids]
            for i, year in years:
                yield number, [*id_cells, year, texts[i] if i < len(texts) else None]

    return build_frame(
        [*id_names, "year", "value"],
        long_rows(),
        tmap=tmap,
        source_id=SOURCE_ID,
        file=file,
        sheet=sheet,
        release=release,
        quarantine=q,
        skip_blank=False,
    )


def _id_map(tmap: TableMap) -> TableMap:
    """The map's identifier columns only: what a wide header must carry besides its years."""
    keep = {c: s for c, s in tmap.columns.items() if c not in ("year", "value", *_API_FIELDS)}
    return TableMap(tmap.name, keep, tuple(c for c in tmap.required if c in keep))


def _header_index(rows: list[tuple[int, list[Any]]], tmap: TableMap) -> int:
    """Index in ``rows`` of the header: the first row naming the country code column."""
    plain = [r for _, r in rows]
    for spelling in ("country_code", *tmap.columns["country_code"]):
        at = find_header_row(plain, spelling)
        if at >= 0:
            return at
    return -1


def _malformed(texts: list[str | None], width: int, blank_cols: list[int], *, csv: bool) -> str | None:
    """Why a wide row cannot be read: wrong field count (CSV) or a value under an empty header."""
    if csv and len(texts) != width:
        return f"expected {width} fields, got {len(texts)}"
    if len(texts) > width and any(t and t.strip() for t in texts[width:]):
        return f"expected {width} fields, got {len(texts)}"
    if any(i < len(texts) and texts[i] and str(texts[i]).strip() for i in blank_cols):
        return "value under an empty header"
    return None
