"""Checks at the door, before the long steps start: is the input usable at all.

An empty or wrong data folder used to run for minutes and exit 0 with every source carried
forward. :func:`preflight` looks at the folder first (globs only, then the first lines of each CSV
and the zip directory of each workbook or archive), in seconds:

- no file of any source in the folder -> :class:`fvi.errors.BadInput` naming the folder, what was
  expected (the registry's ``local_glob`` per source) and, when it helps, the folder meant;
- a source whose file is empty, is not the zip an ``.xlsx``/``.zip`` must be, or whose CSV header
  lacks a table's required columns -> that source is reported as failed before anything is loaded
  (the others go on: one bad file never blocks the rest).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fvi.errors import BadInput
from fvi.ingest.base import SourceNotFound, TableMap, header_key, iter_csv, load_column_maps, open_text
from fvi.registry import load_sources

HEADER_SCAN_ROWS = 30
#: Sources whose CSV files carry every required column of one of their tables in a header row
#: (WDI publishes years as columns, melted by the connector; its CSVs are checked for emptiness only).
HEADER_CHECKED = frozenset(
    {"carbon_pricing", "climate_trace", "coal_policy", "eia_mines", "gcp", "mining_land", "owid", "subsidies"}
)


@dataclass
class Preflight:
    """What the door check found: files per source, and the sources refused with the reason."""

    data_dir: Path
    found: dict[str, list[Path]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> list[str]:
        """The sources with files found and no problem, in the order they were found."""
        return [s for s in self.found if s not in self.problems]


def _expected(sources: tuple[str, ...]) -> str:
    registry = load_sources()
    lines = []
    for sid in sources:
        globs = ", ".join(f.local_glob for f in registry[sid].files if f.local_glob)
        lines.append(f"  {sid}: {globs}")
    return "\n".join(lines)


def _missing(tmap: TableMap, keys: set[str]) -> list[str]:
    return [c for c in tmap.required if not any(header_key(s) in keys for s in (c, *tmap.columns.get(c, ())))]


def _describe(tmap: TableMap, missing: list[str]) -> str:
    return ", ".join(
        f"{c} (published as {' / '.join(repr(s) for s in tmap.columns.get(c, ())) or repr(c)})" for c in missing
    )


def check_file(source_id: str, path: Path) -> str | None:
    """Why ``path`` cannot be this source's file, or None if its layout looks right."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"{path.name}: cannot be read ({exc.strerror or exc})"
    if size == 0:
        return f"{path.name}: the file is empty"
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".zip"):
        if not zipfile.is_zipfile(path):
            return f"{path.name}: not a readable {suffix} (a zip archive): truncated or another format"
        return None
    if suffix != ".csv" or source_id not in HEADER_CHECKED:
        return None
    tmaps = [t for t in load_column_maps(source_id).values() if t.required]
    if not tmaps:
        return None
    best: tuple[int, TableMap, list[str]] | None = None
    for delimiter in (",", ";", "\t"):  # some publishers use semicolons; connectors sniff it
        with open_text(path) as fh:
            for number, row in iter_csv(fh, delimiter=delimiter):
                keys = {header_key(c) for c in row}
                for tmap in tmaps:
                    missing = _missing(tmap, keys)
                    if not missing:
                        return None
                    if best is None or len(missing) < best[0]:
                        best = (len(missing), tmap, missing)
                if number >= HEADER_SCAN_ROWS:
                    break
    assert best is not None
    _, tmap, missing = best
    return f"{path.name}: missing required columns: {_describe(tmap, missing)} (table {tmap.name})"


def locate_all(data_dir: Path, sources: tuple[str, ...]) -> dict[str, list[Path]]:
    """Files per source by the registry's globs (sources with none are left out)."""
    from fvi.ingest.fetching import locate_files

    found: dict[str, list[Path]] = {}
    for sid in sources:
        try:
            found[sid] = [r.path for r in locate_files(sid, data_dir)]
        except SourceNotFound:
            continue
    return found


def preflight(data_dir: Path, sources: tuple[str, ...]) -> Preflight:
    """Check ``data_dir`` for ``sources``; raise :class:`BadInput` when none of them is there."""
    result = Preflight(data_dir, locate_all(data_dir, sources))
    if not result.found:
        hint = ""
        for child in sorted(p for p in data_dir.iterdir() if p.is_dir()) if data_dir.is_dir() else []:
            if locate_all(child, sources):
                hint = f"\nDid you mean {child}?"
                break
        raise BadInput(
            f"data folder {data_dir} holds no file of any source FVI reads; nothing was changed. "
            f"Expected a folder laid out like shared/data, with:\n{_expected(sources)}{hint}"
        )
    for sid, paths in result.found.items():
        problems = [p for p in (check_file(sid, path) for path in paths) if p]
        if problems:
            result.problems[sid] = "; ".join(problems)
    if not result.usable:
        raise BadInput(
            f"data folder {data_dir}: no source's file can be read; nothing was changed.\n"
            + "\n".join(f"  {sid}: {msg}" for sid, msg in result.problems.items())
        )
    return result
