"""The shared skeleton of every connector: read a published file, copy it faithfully to bronze.

A connector reads; it does not clean. Bronze keeps every value as the text the publisher wrote
(numbers from spreadsheets rendered without loss), plus ``_source_file``, ``_sheet``,
``_row_number`` (1-based, the header being row 1, as a spreadsheet shows it) and ``_release``.
Typing, units and corrections happen in the dbt silver layer.

Column names that drift between releases are mapped through a column map kept as data
(``ingest/maps/<source>.yml``). A file whose header lacks a required column fails that source
with :class:`LayoutError` naming what is missing. A row that cannot be read (wrong field count,
missing or malformed key) goes to quarantine with the reason; nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

META_COLUMNS = ["_source_file", "_sheet", "_row_number", "_release"]
QUARANTINE_COLUMNS = [
    "source_id",
    "table_name",
    "source_file",
    "sheet",
    "row_number",
    "reason",
    "raw_record",
]
MISSING_TOKENS = frozenset({"", "-", "*", "n/a", "na", "none", "null", "nan", ".."})


class LayoutError(ValueError):
    """The file is not laid out as any known release of this source."""


class SourceNotFound(FileNotFoundError):
    """No file of this source is present where we looked."""


# ---------------------------------------------------------------------------------------------
# Names and values


def snake_case(name: str) -> str:
    r"""``'Mine Size\n(Km2)'`` → ``'mine_size_km2'``; ``'CO₂'`` → ``'co2'``; digits first get ``c_``."""
    text = str(name).translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
    text = text.replace("%", " pct ").replace("&", " and ")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text) if text.isascii() and " " not in text else text
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    text = re.sub(r"_+", "_", text)
    if not text:
        return "unnamed"
    return f"c_{text}" if text[0].isdigit() else text


def header_key(name: Any) -> str:
    """How headers are compared: whitespace and line breaks collapsed, case folded."""
    return re.sub(r"\s+", " ", str(name or "")).strip().casefold()


def to_text(value: Any) -> str | None:
    """Render one published cell as text without losing anything (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    return str(value)


def is_missing(value: str | None) -> bool:
    """Whether a published cell is empty or one of the publishers' missing tokens (``n/a``, ``..``, ``-`` ...)."""
    return value is None or value.strip().casefold() in MISSING_TOKENS


# ---------------------------------------------------------------------------------------------
# Column maps (data, not code)


@dataclass(frozen=True)
class TableMap:
    """How one bronze table's columns are found in a published header."""

    name: str
    columns: dict[str, tuple[str, ...]]  # canonical -> accepted header spellings
    required: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # a row missing any of these is quarantined
    types: dict[str, str] = field(default_factory=dict)  # canonical -> int | number | gem_id ...
    # number columns checked cell by cell: a cell that is not a finite number is quarantined with
    # its column and set to missing, the row kept (never a silent NULL in silver's cast)
    numbers: tuple[str, ...] = ()

    def resolve(self, header: Sequence[Any], where: str) -> list[str]:
        """Bronze column names for ``header``; unknown (added) columns keep their snake_case name."""
        lookup: dict[str, str] = {}
        for canonical, spellings in self.columns.items():
            for spelling in (canonical, *spellings):
                lookup.setdefault(header_key(spelling), canonical)
        names: list[str] = []
        seen: set[str] = set()
        for raw in header:
            name = lookup.get(header_key(raw)) or snake_case(str(raw or "unnamed"))
            base, i = name, 2
            while name in seen:
                name, i = f"{base}_{i}", i + 1
            seen.add(name)
            names.append(name)
        missing = [c for c in self.required if c not in seen]
        if missing:
            wanted = ", ".join(
                f"{c} (published as {' / '.join(repr(s) for s in self.columns.get(c, ())) or repr(c)})"
                for c in missing
            )
            raise LayoutError(f"{where}: missing required columns: {wanted}")
        return names

    @property
    def canonical_columns(self) -> list[str]:
        """The bronze column names this map declares, in declaration order."""
        return list(self.columns)


@cache
def load_column_maps(source_id: str) -> dict[str, TableMap]:
    """Read ``ingest/maps/<source_id>.yml``."""
    text = resources.files("fvi.ingest").joinpath("maps", f"{source_id}.yml").read_text("utf-8")
    doc = yaml.safe_load(text) or {}
    maps: dict[str, TableMap] = {}
    for name, spec in (doc.get("tables") or {}).items():
        cols = {str(k): tuple(str(s) for s in (v or [])) for k, v in (spec.get("columns") or {}).items()}
        maps[name] = TableMap(
            name=name,
            columns=cols,
            required=tuple(spec.get("required") or ()),
            key=tuple(spec.get("key") or ()),
            types={str(k): str(v) for k, v in (spec.get("types") or {}).items()},
            numbers=tuple(str(c) for c in (spec.get("numbers") or ())),
        )
    return maps


# ---------------------------------------------------------------------------------------------
# Rows → bronze frame + quarantine


_TYPE_PATTERNS = {
    "int": r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.0)?",
    "number": r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?",
    "gem_mine_id": r"M\d+",
    "gem_unit_id": r"G\d+",
    "year": r"\d{4}(\.0)?",
}


def _missing_mask(values: pd.Series) -> pd.Series:
    """Where a value is empty or one of the publishers' missing tokens."""
    return (values.isna() | values.str.strip().str.casefold().isin(MISSING_TOKENS)).fillna(True).astype(bool)


def _valid_mask(values: pd.Series, kind: str) -> pd.Series:
    """Where a (non-missing) value is a valid ``kind``: a regex per type, plus ranges for years."""
    stripped = values.str.strip()
    ok = stripped.str.fullmatch(_TYPE_PATTERNS[kind]).fillna(False).astype(bool)
    if kind == "number":
        ok &= stripped.str.contains(r"\d", regex=True).fillna(False).astype(bool)
        value = pd.to_numeric(stripped.where(ok).str.replace(",", "", regex=False), errors="coerce")
        ok &= (value.notna() & value.abs().lt(float("inf"))).fillna(False).astype(bool)  # 1e400 overflows
    if kind == "year":
        year = pd.to_numeric(stripped.where(ok), errors="coerce")
        ok &= year.between(1800, 2200).fillna(False).astype(bool)
    return ok


def _reject_mask(
    frame: pd.DataFrame,
    mask: pd.Series,
    names: list[str],
    reason: Callable[[Any], str],
    reject: Callable[[int, str, Any], None],
    column: str | None = None,
) -> None:
    if not mask.any():
        return
    for idx in mask[mask].index:
        row = frame.loc[idx, names]
        record = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        reject(int(str(frame.at[idx, "_row_number"])), reason(record.get(column) if column else None), record)


@dataclass
class Quarantine:
    """Rows that could not be read, each with its reason."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        *,
        source_id: str,
        table: str,
        file: str,
        sheet: str | None,
        row_number: int | None,
        reason: str,
        raw: Any,
    ) -> None:
        """Record one rejected row of ``table`` with where it came from, why, and its raw values as JSON."""
        self.rows.append(
            {
                "source_id": source_id,
                "table_name": table,
                "source_file": file,
                "sheet": sheet,
                "row_number": row_number,
                "reason": reason,
                "raw_record": json.dumps(raw, default=str, ensure_ascii=False),
            }
        )

    def frame(self) -> pd.DataFrame:
        """The quarantined rows as a frame with the ``QUARANTINE_COLUMNS`` layout (empty when none)."""
        return pd.DataFrame(self.rows, columns=QUARANTINE_COLUMNS)

    def __len__(self) -> int:
        return len(self.rows)


def build_frame(
    header: Sequence[Any],
    rows: Iterable[tuple[int, Sequence[Any]]],
    *,
    tmap: TableMap,
    source_id: str,
    file: str,
    sheet: str | None,
    release: str | None,
    quarantine: Quarantine,
    skip_blank: bool = True,
) -> pd.DataFrame:
    """Copy ``rows`` (row_number, cells) under a header into a bronze frame of text.

    Trailing empty cells beyond the header are tolerated (spreadsheets pad rows); a row with more
    non-empty cells than the header, or fewer cells than the header in a CSV, is quarantined.
    Checks run column-wise (vectorised): CSV files of a few hundred thousand rows stay fast.
    """
    where = f"{source_id}: {file}" + (f" [{sheet}]" if sheet else "")
    names = tmap.resolve(header, where)
    width = len(names)
    good: list[list[Any]] = []
    numbers: list[int] = []

    rejected: list[tuple[int, str, Any]] = []

    def reject(number: int, reason: str, raw: Any) -> None:
        rejected.append((number, reason, raw))

    for number, cells in rows:
        n = len(cells)
        if n != width:
            texts = [to_text(c) for c in cells]
            if n > width and not any(t is not None and t.strip() for t in texts[width:]):
                cells = cells[:width]
            elif n < width and sheet is not None:  # spreadsheets drop trailing empty cells
                cells = list(cells) + [None] * (width - n)
            elif not (skip_blank and all(t is None or not t.strip() for t in texts)):
                reject(number, f"expected {width} fields, got {n}", texts)
                continue
            else:
                continue
        good.append(cells if isinstance(cells, list) else list(cells))
        numbers.append(number)

    if sheet is not None:  # spreadsheet cells are typed values: render each as text
        good = [[to_text(c) for c in row] for row in good]
    frame = pd.DataFrame(good, columns=names, dtype="string") if good else pd.DataFrame(
        {n: pd.Series(dtype="string") for n in names}
    )
    frame = frame.replace("", pd.NA)
    frame["_row_number"] = pd.Series(numbers, dtype="Int64")
    keep = pd.Series(True, index=frame.index)
    if skip_blank and len(frame):
        keep &= ~frame[names].isna().all(axis=1)  # empty rows (padding) are not data
    for key in (k for k in tmap.key if k in names):
        bad = keep & _missing_mask(frame[key])
        _reject_mask(frame, bad, names, lambda _v, k=key: f"missing key {k}", reject)  # type: ignore[misc]
        keep &= ~bad
    for col, kind in tmap.types.items():
        if col not in names:
            continue
        values = frame[col]
        bad = keep & ~_missing_mask(values) & ~_valid_mask(values, kind)
        _reject_mask(
            frame, bad, names, lambda v, c=col, t=kind: f"{c}: {v!r} is not a valid {t}", reject, col  # type: ignore[misc]
        )
        keep &= ~bad
    for col in (c for c in tmap.numbers if c in names):
        values = frame[col]
        bad = keep & ~_missing_mask(values) & ~_valid_mask(values, "number")
        _reject_mask(
            frame, bad, names,
            lambda v, c=col: f"{c}: {v!r} is not a finite number; cell set to missing, row kept",  # type: ignore[misc]
            reject, col,
        )
        frame.loc[bad, col] = pd.NA
    for number, reason, raw in sorted(rejected, key=lambda r: r[0]):  # in file order
        quarantine.add(
            source_id=source_id, table=tmap.name, file=file, sheet=sheet, row_number=number,
            reason=reason, raw=raw,
        )
    frame = frame[keep].reset_index(drop=True)
    frame["_source_file"] = pd.Series([file] * len(frame), dtype="string")
    frame["_sheet"] = pd.Series([sheet] * len(frame), dtype="string")
    frame["_release"] = pd.Series([release] * len(frame), dtype="string")
    return frame[[*names, *META_COLUMNS]]


def empty_frame(tmap: TableMap) -> pd.DataFrame:
    """A bronze table with the canonical columns and no rows (used when a source is absent)."""
    cols = {c: pd.Series(dtype="string") for c in tmap.canonical_columns}
    cols.update({m: pd.Series(dtype="Int64" if m == "_row_number" else "string") for m in META_COLUMNS})
    return pd.DataFrame(cols)


def concat_frames(frames: list[pd.DataFrame], tmap: TableMap) -> pd.DataFrame:
    """Stack frames of several files/releases; columns absent in one are null there."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return empty_frame(tmap)
    merged = pd.concat(frames, ignore_index=True, sort=False)
    for c in tmap.canonical_columns:
        if c not in merged.columns:
            merged[c] = pd.Series([None] * len(merged), dtype="string")
    ordered = [c for c in merged.columns if c not in META_COLUMNS] + META_COLUMNS
    return merged[ordered]


# ---------------------------------------------------------------------------------------------
# Readers


def iter_csv(stream: io.TextIOBase | Any, *, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (row_number, fields); the first record is row 1. Handles a BOM on the first cell."""
    reader = csv.reader(stream, delimiter=delimiter)
    for i, record in enumerate(reader, start=1):
        if i == 1 and record and record[0].startswith("\ufeff"):
            record[0] = record[0][1:]
        yield i, record


def text_encoding(path: Path) -> str:
    """``utf-8-sig`` when the file is UTF-8, else ``cp1252`` (or ``latin-1``, which decodes any byte).

    A Latin-1 file read as UTF-8 used to load as replacement characters without a word; now it is
    decoded as what it is, and :func:`encoding_note` puts that in the manifest.
    """
    stat = path.stat()
    return _text_encoding(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _text_encoding(path: str, _size: int, _mtime: int) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def encoding_note(path: Path) -> str | None:
    """A manifest note for a text file that is not UTF-8, else None."""
    if path.suffix.lower() not in (".csv", ".txt", ".tsv") or not path.is_file():
        return None
    encoding = text_encoding(path)
    if encoding == "utf-8-sig":
        return None
    return f"{path.name}: not UTF-8; read as {encoding} (Windows Latin-1)"


def open_text(path: Path, encoding: str | None = None) -> io.TextIOWrapper:
    """Open a CSV file as text in its encoding (:func:`text_encoding`); stray bytes of a UTF-8 file are replaced."""
    return open(path, encoding=encoding or text_encoding(path), errors="replace", newline="")  # noqa: SIM115


def read_csv_table(
    path: Path,
    *,
    tmap: TableMap,
    source_id: str,
    release: str | None,
    quarantine: Quarantine,
    delimiter: str = ",",
    stream: Any | None = None,
    file_name: str | None = None,
    header_row: int = 1,
) -> pd.DataFrame:
    """A whole CSV file (or an open text stream, e.g. inside a zip) into a bronze frame."""
    fh = stream if stream is not None else open_text(path)
    try:
        it = iter_csv(fh, delimiter=delimiter)
        header: list[str] | None = None
        for number, record in it:
            if number == header_row:
                header = record
                break
        if header is None:
            raise LayoutError(f"{source_id}: {file_name or path.name}: no header row")
        return build_frame(
            header, it, tmap=tmap, source_id=source_id, file=file_name or path.name,
            sheet=None, release=release, quarantine=quarantine,
        )
    finally:
        if stream is None:
            fh.close()


def read_workbook(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet of an .xlsx as rows of Python values (python-calamine: fast, no formulas run)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        return {
            name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names
        }
    except CalamineError as exc:  # not a workbook at all, or a corrupt one: that source fails alone
        raise LayoutError(f"{path.name}: not a readable workbook ({exc})") from exc


def find_sheet(sheets: dict[str, Any], *prefixes: str, where: str) -> str:
    """The sheet whose name starts with one of ``prefixes`` (case-insensitive); else LayoutError."""
    for prefix in prefixes:
        for name in sheets:
            if name.casefold().startswith(prefix.casefold()):
                return name
    raise LayoutError(
        f"{where}: missing sheet: expected one named like {' or '.join(repr(p) for p in prefixes)}; "
        f"found {', '.join(repr(n) for n in sheets)}"
    )


def find_header_row(rows: list[list[Any]], must_contain: str, *, limit: int = 30) -> int:
    """0-based index of the first row containing a cell equal to ``must_contain`` (header_key)."""
    want = header_key(must_contain)
    for i, row in enumerate(rows[:limit]):
        if any(header_key(c) == want for c in row):
            return i
    return -1


# ---------------------------------------------------------------------------------------------
# Results


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of the file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class FileRecord:
    """One input file as read: where it came from and its checksum."""

    path: Path
    url: str | None = None
    release: str | None = None
    retrieved_at: str | None = None
    sha256: str = ""
    bytes: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    dataset: str | None = None

    def __post_init__(self) -> None:
        if self.path.exists() and not self.sha256:
            self.sha256 = sha256_file(self.path)
            self.bytes = self.path.stat().st_size


@dataclass
class LoadResult:
    """What one connector's ``load`` gives the pipeline."""

    source_id: str
    tables: dict[str, pd.DataFrame]
    quarantine: Quarantine
    files: list[FileRecord]
    release: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        """Rows loaded over all tables (quarantined rows not counted)."""
        return sum(len(t) for t in self.tables.values())
