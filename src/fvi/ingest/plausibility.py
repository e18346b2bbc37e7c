"""Plausibility before replacement: a new release far outside the previous one is refused.

A Global Carbon Budget CSV cut mid-line once loaded as a release with half its rows, all dbt tests
green, and halved the countries with GCP CO2. Before a source's new bronze replaces the previous
one, :func:`check_release` compares them:

- a CSV whose last line ends without a newline and has fewer fields than its header is truncated;
- a table whose row count fell by more than ``max_row_drop`` (declared per source in its column
  map, default :data:`DEFAULT_MAX_ROW_DROP`) against the live bronze is implausible;
- declared per table (``plausible:`` in the column map): ``key_coverage`` (the share of the
  previous release's values of a key column that must still be present: a renamed or recoded
  key) and ``ranges`` (physical bounds of a number column: negative tonnes, shares above 1).

Either raises :class:`Implausible`; the pipeline then keeps the previous good bronze of that source
(or leaves it empty on a first build) and reports the reason. ``FVI_ACCEPT_IMPLAUSIBLE=1`` takes
the release anyway (for a publisher who really did shrink a dataset). Non-finite and unparseable
numbers are caught cell by cell at read time (``numbers:`` in the column maps, ``ingest.base``).
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from fvi.ingest.base import LoadResult

DEFAULT_MAX_ROW_DROP = 0.25
MIN_PREVIOUS_ROWS = 20  # below this a drop says little (small test extracts, tiny tables)
TAIL_BYTES = 1 << 16


class Implausible(ValueError):
    """A release that must not replace the previous one; the message says why."""


@cache
def max_row_drop(source_id: str) -> float:
    """The declared tolerance of ``source_id`` (``max_row_drop:`` in ``ingest/maps/<source>.yml``)."""
    text = resources.files("fvi.ingest").joinpath("maps", f"{source_id}.yml").read_text("utf-8")
    doc = yaml.safe_load(text) or {}
    return float(doc.get("max_row_drop", DEFAULT_MAX_ROW_DROP))


def _fields(line: bytes, delimiter: str) -> int:
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff")
    row = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return len(row)


def truncated_csv(path: Path) -> str | None:
    """Why ``path`` looks cut short (last line without newline and short of fields), or None."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.readline()
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except OSError:
        return None
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    header = head.decode("utf-8", errors="replace")
    delimiter = max((",", ";", "\t"), key=header.count)
    last = tail.rsplit(b"\n", 1)[-1]
    want, got = _fields(head, delimiter), _fields(last, delimiter)
    if got < want:
        return f"{path.name} ends mid-line (its last line has {got} of {want} fields): a truncated file"
    return None


@cache
def declared(source_id: str) -> dict[str, dict[str, Any]]:
    """Per table, the ``plausible:`` block of ``ingest/maps/<source>.yml`` (key coverage, value ranges)."""
    text = resources.files("fvi.ingest").joinpath("maps", f"{source_id}.yml").read_text("utf-8")
    doc = yaml.safe_load(text) or {}
    return {t: dict(spec.get("plausible") or {}) for t, spec in (doc.get("tables") or {}).items()}


def out_of_range(frame: pd.DataFrame, ranges: dict[str, list[float | None]]) -> list[str]:
    """Cells outside the declared physical range of their column (e.g. negative tonnes)."""
    problems = []
    for column, (lo, hi) in ranges.items():
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ((values < lo) if lo is not None else False) | ((values > hi) if hi is not None else False)
        n = int(pd.Series(bad, index=frame.index).sum())
        if n:
            example = frame.loc[pd.Series(bad, index=frame.index), column].iloc[0]
            problems.append(f"column {column}: {n} values outside [{lo}, {hi}] (e.g. {example})")
    return problems


def previous_keys(settings: Any, source_id: str, table: str, column: str) -> set[str]:
    """Distinct values of ``column`` in the live bronze table (empty when there is none)."""
    from fvi.warehouse import WarehouseUnavailable, live

    try:
        if not _live_exists(settings):
            return set()
        with live(settings) as wh:
            name = f"raw_{source_id}__{table}"
            if name not in set(wh.tables("bronze")):
                return set()
            frame = wh.query(f"select distinct {column} as k from {wh.schema('bronze')}.{name}")
    except WarehouseUnavailable:
        return set()
    return {str(k) for k in frame["k"].dropna()}


def previous_counts(settings: Any, source_id: str, tables: list[str]) -> dict[str, int]:
    """Row counts of the live bronze tables of ``source_id`` (empty when there is no warehouse)."""
    from fvi.warehouse import WarehouseUnavailable, live

    counts: dict[str, int] = {}
    try:
        if not _live_exists(settings):
            return counts
        with live(settings) as wh:
            present = set(wh.tables("bronze"))
            for t in tables:
                name = f"raw_{source_id}__{t}"
                if name in present:
                    counts[t] = int(wh.query(f"select count(*) as n from {wh.schema('bronze')}.{name}")["n"].iloc[0])
    except WarehouseUnavailable:
        return {}
    return counts


def _live_exists(settings: Any) -> bool:
    if settings.is_postgres:
        from fvi.warehouse import PostgresWarehouse

        with PostgresWarehouse(str(settings.warehouse_url)) as wh:
            return "bronze" in wh.schemas()
    return bool(settings.duckdb_path.exists())


def check_release(settings: Any, source_id: str, result: LoadResult) -> list[str]:
    """Raise :class:`Implausible` if ``result`` must not replace the live bronze; else notes to report."""
    problems = [msg for msg in (truncated_csv(rec.path) for rec in result.files) if msg]
    counts = previous_counts(settings, source_id, list(result.tables))
    tolerance = max_row_drop(source_id)
    for table, frame in result.tables.items():
        before, now = counts.get(table, 0), len(frame) if frame is not None else 0
        if before >= MIN_PREVIOUS_ROWS and now < before * (1 - tolerance):
            problems.append(
                f"table {table}: {now} rows against {before} in the previous release "
                f"(a drop of {1 - now / before:.0%}, more than the {tolerance:.0%} declared for {source_id})"
            )
        rules = declared(source_id).get(table, {})
        if frame is not None and rules.get("ranges"):
            problems += [f"table {table}: {m}" for m in out_of_range(frame, rules["ranges"])]
        cover = rules.get("key_coverage")
        if frame is not None and cover and cover["column"] in frame.columns:
            was = previous_keys(settings, source_id, table, cover["column"])
            if len(was) >= MIN_PREVIOUS_ROWS:
                share = len(was & {str(k) for k in frame[cover["column"]].dropna()}) / len(was)
                if share < float(cover["min"]):
                    problems.append(
                        f"table {table}: only {share:.0%} of the previous release's {cover['column']} values are "
                        f"present (at least {float(cover['min']):.0%} declared for {source_id})"
                    )
    if not problems:
        return []
    if getattr(settings, "accept_implausible", False):
        return [f"accepted although implausible (FVI_ACCEPT_IMPLAUSIBLE): {'; '.join(problems)}"]
    raise Implausible(f"{source_id}: release refused: {'; '.join(problems)}")
