"""Drift: the real build's gold tables are dbt's models or declared Python tables, exactly as declared."""

from __future__ import annotations

import json
from pathlib import Path

from fvi.contract import SOURCE_NAME, contracts
from fvi.dbt import project_dir
from fvi.warehouse import DuckDBWarehouse

DUCKDB_TYPES = {
    "VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "float", "FLOAT": "float",
    "BOOLEAN": "boolean", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp",
}  # fmt: skip


def test_every_gold_table_is_declared_once_and_matches_its_declaration(shared_build) -> None:
    home, _ = shared_build
    dbt_models = {p.stem for p in (project_dir() / "models" / "gold").rglob("*.sql")}
    declared = contracts()
    assert not dbt_models & set(declared), "a table declared twice (a dbt model and a Python table)"
    with DuckDBWarehouse(Path(home) / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        cols = wh.query(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'gold' order by table_name, ordinal_position"
        )
    built = set(cols["table_name"])
    assert built - dbt_models - set(declared) == set(), "gold tables written by Python without a declaration"
    assert set(declared) - built == set(), "declared tables the real run does not write"
    drift = []
    for name, table in declared.items():
        frame = cols[cols["table_name"] == name]
        for col, dtype in zip(frame["column_name"], frame["data_type"], strict=True):
            spec = table.column(col)
            if spec is None:
                drift.append(f"{name}.{col}: not declared")
            elif dtype != '"NULL"' and DUCKDB_TYPES.get(dtype, dtype) != spec.type:
                drift.append(f"{name}.{col}: built {dtype}, declared {spec.type}")
        names = set(frame["column_name"])
        missing = [c.name for c in table.columns if c.required and "*" not in c.name and c.name not in names]
        drift += [f"{name}.{c}: declared, not built" for c in missing]
    assert drift == []


def test_the_declarations_are_in_the_dbt_docs(shared_build) -> None:
    """The same generator documents both: the run's dbt manifest holds every Python table as a source."""
    home, _ = shared_build
    manifest = json.loads((Path(home) / "dbt" / "target" / "manifest.json").read_text())
    sources = {s["name"]: s for s in manifest["sources"].values() if s["source_name"] == SOURCE_NAME}
    assert set(sources) == set(contracts())
    scores = sources["fvi_scores"]
    assert scores["description"] and scores["columns"]["fvi"]["description"]
    assert scores["meta"]["grain"].startswith("one row per")


def test_every_scored_entity_is_in_dim_entity_once(shared_build) -> None:
    home, _ = shared_build
    with DuckDBWarehouse(Path(home) / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        counts = wh.query("select entity_type, count(*) as n from gold.dim_entity group by 1")
        orphans = wh.query(
            "select distinct s.entity_type, s.entity_id from gold.fvi_scores s left join gold.dim_entity e "
            "on e.entity_type = s.entity_type and e.entity_id = s.entity_id where e.entity_id is null"
        )
    assert set(counts["entity_type"]) == {"mine", "us_mine", "country"}
    assert orphans.empty, orphans.head()
