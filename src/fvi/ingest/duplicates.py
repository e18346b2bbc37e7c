"""Duplicates are loaded once, never a failed build and never a silent drop (issue 16, item 1).

A duplicated id or the same file copied twice used to fail dbt's uniqueness tests, so the whole
build failed and no source's new release swapped in. Here, before bronze is written:

- **duplicate files**: byte-identical files (same sha256) of one source are read once; the copy
  is named in the run's notes;
- **exact duplicate rows** of a table with a declared ``unique:`` key (same values in every
  published column) are loaded once, with their count in the notes;
- **conflicting duplicates** (same ``unique:`` key, different values) go to quarantine by the
  declared rule: *the first copy in file order wins* (files in path order, rows in file order,
  as the publisher wrote them); every later copy is quarantined with the key and the row kept.

``unique:`` is declared per table in ``ingest/maps/<source>.yml`` only where the publisher's grain
is one row per key (checked on the real samples); ``key:`` stays the looser "must be present".
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import pandas as pd
import yaml

from fvi.ingest.base import META_COLUMNS, FileRecord, LoadResult


@cache
def unique_keys(source_id: str) -> dict[str, tuple[str, ...]]:
    """The declared ``unique:`` key of each table of ``source_id`` that has one (from its column map)."""
    text = resources.files("fvi.ingest").joinpath("maps", f"{source_id}.yml").read_text("utf-8")
    doc = yaml.safe_load(text) or {}
    return {
        name: tuple(str(c) for c in spec["unique"])
        for name, spec in (doc.get("tables") or {}).items()
        if spec and spec.get("unique")
    }


def drop_duplicate_files(files: list[FileRecord]) -> tuple[list[FileRecord], list[str]]:
    """``files`` without byte-identical copies (the first path in sorted order is kept)."""
    kept: dict[str, FileRecord] = {}
    notes: list[str] = []
    for rec in sorted(files, key=lambda r: str(r.path)):
        first = kept.get(rec.sha256) if rec.sha256 else None
        if first is not None:
            notes.append(f"{rec.path.name} is a byte-identical copy of {first.path.name}: loaded once")
            continue
        kept[rec.sha256 or str(rec.path)] = rec
    order = {id(r): i for i, r in enumerate(files)}
    return sorted(kept.values(), key=lambda r: order[id(r)]), notes


def dedupe_tables(result: LoadResult) -> list[str]:
    """Drop exact duplicates and quarantine conflicting ones in ``result`` (in place); notes."""
    notes: list[str] = []
    for table, key in unique_keys(result.source_id).items():
        frame = result.tables.get(table)
        if frame is None or not len(frame) or not all(k in frame.columns for k in key):
            continue
        data = [c for c in frame.columns if c not in META_COLUMNS]
        order = frame.sort_values(["_source_file", "_row_number"], kind="stable", na_position="last")
        exact = order.duplicated(subset=data, keep="first")
        if exact.any():
            notes.append(f"{table}: {int(exact.sum())} exact duplicate rows loaded once")
        order = order[~exact]
        conflict = order.duplicated(subset=list(key), keep="first")
        if conflict.any():
            firsts = order[~conflict].set_index(list(key))
            for _, row in order[conflict].iterrows():
                k = tuple(row[c] for c in key)
                winner = firsts.loc[k if len(key) > 1 else k[0]]
                if isinstance(winner, pd.DataFrame):
                    winner = winner.iloc[0]
                result.quarantine.add(
                    source_id=result.source_id, table=table, file=str(row["_source_file"]),
                    sheet=None if pd.isna(row["_sheet"]) else str(row["_sheet"]),
                    row_number=int(row["_row_number"]),
                    reason=(
                        f"duplicate {'+'.join(key)} {json.dumps([str(v) for v in k])} with other values: "
                        f"row {int(winner['_row_number'])} of {winner['_source_file']} kept (first copy wins)"
                    ),
                    raw={c: (None if pd.isna(row[c]) else row[c]) for c in data},
                )
            notes.append(f"{table}: {int(conflict.sum())} conflicting duplicates of {'+'.join(key)} quarantined")
        kept = order[~conflict].sort_index()
        result.tables[table] = kept.reset_index(drop=True)
    return notes
