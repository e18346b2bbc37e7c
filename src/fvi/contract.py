"""Gold is one contract: the tables Python writes are declared beside dbt's and checked when written.

dbt declares its own gold models in ``warehouse/models/gold/**.yml``. The tables the Python steps
write (scores, outcomes, predictions, back-tests, weights) are declared in the same project as dbt
*sources* (``warehouse/models/gold/python/_python__tables.yml``): grain, key, typed columns and a
description each, so ``dbt docs generate`` documents both alike. :func:`enforce` holds a frame to
its declaration before :meth:`fvi.warehouse.Warehouse.write_table` replaces the table: a missing or
undeclared column, a value of the wrong type, or a key that is null or repeated refuses the write
and names the table and what is wrong. A drift test compares every built gold table with the
declarations.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

CONTRACT_FILE = Path("models") / "gold" / "python" / "_python__tables.yml"
SOURCE_NAME = "gold_python"
TYPES = ("string", "integer", "float", "boolean", "timestamp")


class ContractError(ValueError):
    """A frame does not match the declaration of the gold table it is written to."""


@dataclass(frozen=True)
class ColumnContract:
    """One declared column of a Python-written gold table: name (or glob), type, description, required."""

    name: str
    """A column name, or a glob (``pillar_*``) for a family of columns the registry decides."""
    type: str
    description: str
    required: bool


@dataclass(frozen=True)
class TableContract:
    """The declaration of one Python-written gold table: grain, key, the code that writes it, its columns."""

    name: str
    description: str
    grain: str
    key: tuple[str, ...]
    writer: str
    key_nullable: tuple[str, ...]
    """Key columns where null is a value of its own (e.g. ``as_of_year`` null = pooled over the years)."""
    columns: tuple[ColumnContract, ...]

    def column(self, name: str) -> ColumnContract | None:
        """The declared column matching ``name`` exactly or by its glob; None when it is undeclared."""
        for c in self.columns:
            if c.name == name or ("*" in c.name and fnmatch.fnmatchcase(name, c.name)):
                return c
        return None


def contract_path() -> Path:
    """The declarations file in the dbt project in use (``models/gold/python/_python__tables.yml``)."""
    from fvi.dbt import project_dir

    return project_dir() / CONTRACT_FILE


def parse(doc: dict) -> dict[str, TableContract]:
    """Declarations from the dbt sources document; a malformed one raises naming the table."""
    sources = [s for s in doc.get("sources") or [] if s.get("name") == SOURCE_NAME]
    if len(sources) != 1:
        raise ContractError(f"{CONTRACT_FILE}: expected one source named {SOURCE_NAME}")
    out: dict[str, TableContract] = {}
    for t in sources[0].get("tables") or []:
        name = t.get("name")
        meta = t.get("meta") or {}
        missing = [k for k in ("grain", "key", "writer") if not meta.get(k)]
        if not name or not t.get("description") or missing:
            raise ContractError(f"{CONTRACT_FILE}: table {name!r} needs a description and meta {missing}")
        cols = []
        for c in t.get("columns") or []:
            ctype = c.get("data_type")
            if ctype not in TYPES or not c.get("description"):
                raise ContractError(f"{CONTRACT_FILE}: {name}.{c.get('name')}: data_type in {TYPES} and a description")
            cols.append(ColumnContract(c["name"], ctype, c["description"], not (c.get("meta") or {}).get("optional")))
        key = tuple(meta["key"])
        unknown = [k for k in key if k not in {c.name for c in cols}]
        if unknown:
            raise ContractError(f"{CONTRACT_FILE}: {name}: key columns {unknown} are not declared")
        out[name] = TableContract(
            name, t["description"], meta["grain"], key, meta["writer"], tuple(meta.get("key_nullable") or ()),
            tuple(cols),
        )
    return out


@lru_cache(maxsize=1)
def contracts() -> dict[str, TableContract]:
    """Every declared Python-written gold table, by name."""
    return parse(yaml.safe_load(contract_path().read_text("utf-8")) or {})


def _type_problem(series: pd.Series, ctype: str) -> str | None:
    """Why the column is not of the declared type (None: it is). ``infer_dtype`` runs in C: fast on 10^6 rows."""
    kind = series.dtype.kind
    if kind == "O" or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "empty":
            return None
        ok = {
            "string": ("string",),
            "boolean": ("boolean",),
            "integer": ("integer",),
            "float": ("floating", "integer", "mixed-integer-float"),
            "timestamp": ("datetime", "datetime64", "date"),
        }[ctype]
        return None if inferred in ok else f"holds {inferred} values, declared {ctype}"
    if ctype == "boolean":
        return None if kind == "b" or str(series.dtype) == "boolean" else f"is {series.dtype}, declared boolean"
    if ctype == "timestamp":
        return None if kind == "M" else f"is {series.dtype}, declared timestamp"
    if ctype == "integer":
        if kind in "iu":
            return None
        if kind == "f":
            values = series.to_numpy()
            finite = values[~np.isnan(values)]
            return None if (finite == np.round(finite)).all() else "holds fractions, declared integer"
    if ctype == "float" and kind in "iuf":
        return None
    return f"is {series.dtype}, declared {ctype}"


def problems(table: TableContract, frame: pd.DataFrame) -> list[str]:
    """What keeps ``frame`` from being ``table`` as declared (empty: it is)."""
    out: list[str] = []
    cols = list(frame.columns)
    undeclared = [c for c in cols if table.column(c) is None]
    if undeclared:
        out.append(f"undeclared columns {undeclared}")
    missing = [c.name for c in table.columns if c.required and "*" not in c.name and c.name not in cols]
    if missing:
        out.append(f"missing columns {missing}")
    for c in cols:
        spec = table.column(c)
        if spec is not None:
            why = _type_problem(frame[c], spec.type)
            if why:
                out.append(f"column {c} {why}")
    key = [k for k in table.key if k in cols]
    if key and len(key) == len(table.key) and len(frame):
        nulls = [k for k in key if k not in table.key_nullable and frame[k].isna().any()]
        if nulls:
            out.append(f"key columns {nulls} hold nulls")
        dup = int(frame.duplicated(subset=key).sum())
        if dup:
            out.append(f"{dup} rows repeat the key ({', '.join(key)}): the grain is {table.grain}")
    return out


def enforce(layer: str, name: str, frame: pd.DataFrame) -> None:
    """Refuse to write a declared gold table whose frame breaks its declaration."""
    if layer != "gold":
        return
    table = contracts().get(name)
    if table is None:
        return
    found = problems(table, frame)
    if found:
        raise ContractError(f"gold.{name} does not match its declaration ({CONTRACT_FILE}): " + "; ".join(found))


_NULLS = {
    "string": "object", "integer": "Int64", "float": "float64", "boolean": "boolean", "timestamp": "datetime64[ns]",
}


def complete(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every required column it lacks added as nulls of the declared type.

    For hand-made frames (tests, one-off repairs) that fill only the columns they care about:
    the table written still has the declared shape, and its types and key are still checked.
    """
    table = contracts()[name]
    missing = [c for c in table.columns if c.required and "*" not in c.name and c.name not in frame.columns]
    if not missing:
        return frame
    extra = pd.DataFrame({c.name: pd.Series([None] * len(frame), dtype=_NULLS[c.type]) for c in missing})
    return pd.concat([frame.reset_index(drop=True), extra], axis=1)


def columns(name: str) -> list[str]:
    """The declared columns of a table, in their declared order (families of columns left out)."""
    return [c.name for c in contracts()[name].columns if "*" not in c.name]
