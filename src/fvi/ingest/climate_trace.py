"""Climate TRACE coal mining: monthly per-mine activity and emissions, keyed by GEM Mine ID.

Three tables: ``sources`` (per mine and month; ``native_source_id`` is the GEM Mine ID),
``confidence`` (the publisher's confidence word for each field of a sources row) and
``country`` (national totals). The per-mine CSV is large (~84 MB), so it is streamed straight
out of its zip and never extracted to disk. Files are recognised by their published names, so
the same code reads the separate downloads and a sector package zip holding all three.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pandas as pd

from fvi.ingest.base import (
    FileRecord,
    LoadResult,
    Quarantine,
    concat_frames,
    load_column_maps,
    open_text,
    read_csv_table,
)
from fvi.ingest.fetching import fetch_files, locate_files

SOURCE_ID = "climate_trace"
# Published file names (table <- pattern on the CSV's own name, inside a zip or not).
_TABLE_PATTERNS = {
    "confidence": re.compile(r"coal-mining_emissions_sources_confidence_v[\d._]+\.csv$", re.I),
    "sources": re.compile(r"coal-mining_emissions_sources_v[\d._]+\.csv$", re.I),
    "country": re.compile(r"coal-mining_country_emissions_v[\d._]+\.csv$", re.I),
}
_RELEASE = re.compile(r"_v(\d+)[._](\d+)[._](\d+)", re.I)


def locate(data_dir: Path) -> list[FileRecord]:
    """Every Climate TRACE file under ``data_dir``, zips and plain CSVs, found by the registry's globs."""
    return locate_files(SOURCE_ID, data_dir)


def fetch(dest: Path) -> list[FileRecord]:
    """Download the Climate TRACE coal-mining files from the publisher into ``dest``."""
    return fetch_files(SOURCE_ID, dest)


def load(files: list[FileRecord]) -> LoadResult:
    """Read ``sources``, ``confidence`` and ``country`` from each zip or CSV, streaming zip members.

    The release of each file is the version in its name (``v4.4.0``); the result's release is the
    newest one. A file holding none of the three tables is noted and not loaded.
    """
    maps = load_column_maps(SOURCE_ID)
    q = Quarantine()
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in maps}
    notes: list[str] = []
    for rec in files:
        before, loaded = len(q), 0
        for table, name, stream in _members(rec.path):
            release = release_of(name) or release_of(rec.path.name)
            frame = read_csv_table(
                rec.path, tmap=maps[table], source_id=SOURCE_ID, release=release,
                quarantine=q, stream=stream, file_name=name,
            )
            frames[table].append(frame)
            loaded += len(frame)
            rec.release = rec.release or release
        if rec.release is None:
            notes.append(f"{rec.path.name}: not a Climate TRACE coal-mining table; not loaded")
        rec.rows_loaded, rec.rows_quarantined = loaded, len(q) - before
    tables = {t: concat_frames(fs, maps[t]) for t, fs in frames.items()}
    releases = sorted({r.release for r in files if r.release}, key=_version_key)
    return LoadResult(
        SOURCE_ID, tables, q, files, release=releases[-1] if releases else None, notes=notes
    )


def release_of(name: str) -> str | None:
    """``..._v4_4_0.csv`` → ``'v4.4.0'``."""
    m = _RELEASE.search(name)
    return f"v{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def _version_key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.lstrip("v").split("."))


def _table_for(name: str) -> str | None:
    base = PurePosixPath(name).name
    return next((t for t, pat in _TABLE_PATTERNS.items() if pat.search(base)), None)


def _members(path: Path) -> Iterator[tuple[str, str, io.TextIOBase]]:
    """(table, file name, open text stream) for each coal-mining CSV in a zip or plain file.

    Zip members are decoded as they are read; ``_source_file`` names them ``archive.zip/member``.
    """
    if zipfile.is_zipfile(path):
        named_by_zip = _table_for(f"{path.stem}.csv")  # a member renamed inside a named zip
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.lower().endswith(".csv"):
                    continue
                table = _table_for(info.filename) or named_by_zip
                if table is None:
                    continue
                with zf.open(info) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
                    yield table, f"{path.name}/{info.filename}", text
        return
    table = _table_for(path.name)
    if table is not None:
        with open_text(path) as text:  # type: ignore[assignment]
            yield table, path.name, text
