"""The metric registry: schema, cross-references, the generated seed, and drift against dbt."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from fvi.registry import RegistryError
from fvi.registry.metrics import (
    SEED_PATH,
    check_metrics,
    load_metrics,
    load_pillars,
    metric_seed_text,
)

REPO = Path(__file__).resolve().parents[3]
GOLD = REPO / "warehouse" / "models" / "gold"
PILLARS = {"01", "02", "03", "04", "05", "08", "09", "11", "20", "24"}


def _doc() -> dict[str, Any]:
    return yaml.safe_load(resources.files("fvi.registry").joinpath("metrics.yml").read_text("utf-8"))


def _first_metric(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["metrics"][0]


def _gold_columns() -> dict[str, dict[str, dict[str, Any]]]:
    """table -> column -> column spec, from every schema YAML under warehouse/models/gold."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(GOLD.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
        for model in doc.get("models") or []:
            cols = tables.setdefault(model["name"], {})
            for col in model.get("columns") or []:
                cols[col["name"]] = col
    return tables


def test_real_registry_validates() -> None:
    metrics = load_metrics()
    pillars = load_pillars()
    assert set(pillars) == PILLARS
    assert len(metrics) >= 30
    for pillar in pillars.values():
        n = sum(1 for m in metrics.values() if m.pillar == pillar.id)
        assert n > 0 or pillar.unsupported_reason, pillar.id


def test_both_entities_and_goalposts_ordered() -> None:
    metrics = load_metrics()
    assert {m.entity for m in metrics.values()} == {"mine", "country"}
    for m in metrics.values():
        assert m.goalposts.low < m.goalposts.high, m.id
        assert m.goalpost_note, f"{m.id}: goalposts need a justification"


@pytest.mark.parametrize("field", ["polarity", "goalposts", "sources", "horizon_weights", "missing_data"])
def test_metric_without_required_field_fails(field: str) -> None:
    doc = _doc()
    del _first_metric(doc)[field]
    with pytest.raises(RegistryError, match=field):
        check_metrics(doc)


def test_metric_with_empty_sources_fails() -> None:
    doc = _doc()
    _first_metric(doc)["sources"] = []
    with pytest.raises(RegistryError):
        check_metrics(doc)


def test_bad_polarity_and_reversed_goalposts_fail() -> None:
    doc = _doc()
    _first_metric(doc)["polarity"] = "up"
    with pytest.raises(RegistryError):
        check_metrics(doc)
    doc = _doc()
    gp = _first_metric(doc)["goalposts"]
    gp["low"], gp["high"] = gp["high"], gp["low"]
    with pytest.raises(RegistryError, match="low < high"):
        check_metrics(doc)


def test_unknown_pillar_and_unknown_key_fail() -> None:
    doc = _doc()
    _first_metric(doc)["pillar"] = "99"
    with pytest.raises(RegistryError, match="unknown pillar"):
        check_metrics(doc)
    doc = _doc()
    doc["defaults"]["scoring"]["mine_country_blend"] = 1.5
    with pytest.raises(RegistryError, match="mine_country_blend"):
        check_metrics(doc)


def test_carry_forward_needs_max_years() -> None:
    doc = _doc()
    _first_metric(doc)["missing_data"] = {"rule": "carry_forward_years"}
    with pytest.raises(RegistryError, match="max_years"):
        check_metrics(doc)


def test_pillar_without_metrics_needs_a_reason() -> None:
    doc = _doc()
    doc["metrics"] = [m for m in doc["metrics"] if m["pillar"] != "11"]
    with pytest.raises(RegistryError, match="pillar 11"):
        check_metrics(doc)
    for p in doc["pillars"]:
        if p["id"] == "11":
            p["unsupported_reason"] = "no market-share data in this test document"
    check_metrics(copy.deepcopy(doc))


def test_sources_exist_in_source_registry() -> None:
    if not resources.files("fvi.registry").joinpath("sources.yml").is_file():
        pytest.skip("src/fvi/registry/sources.yml absent: source ids of metrics not checked")
    from fvi.registry import load_sources

    known = set(load_sources())
    for m in load_metrics().values():
        missing = set(m.sources) - known
        assert not missing, f"{m.id}: unknown source ids {sorted(missing)}"


def test_metric_columns_exist_in_gold_schema() -> None:
    """Registry -> dbt: every metric's gold {table, column} is documented in a gold schema.yml."""
    tables = _gold_columns()
    for m in load_metrics().values():
        assert m.gold.table in tables, f"{m.id}: gold table {m.gold.table} has no schema.yml"
        assert m.gold.column in tables[m.gold.table], f"{m.id}: {m.gold.table}.{m.gold.column} undocumented"


def test_tagged_gold_columns_are_in_registry() -> None:
    """dbt -> registry: every gold column tagged meta.metric is a metric."""
    registered = {(m.gold.table, m.gold.column) for m in load_metrics().values()}
    for table, cols in _gold_columns().items():
        for name, spec in cols.items():
            meta = {**(spec.get("meta") or {}), **((spec.get("config") or {}).get("meta") or {})}
            if meta.get("metric"):
                assert (table, name) in registered, f"{table}.{name} is tagged metric but not in metrics.yml"


def test_committed_seed_matches_registry() -> None:
    assert SEED_PATH.read_text("utf-8") == metric_seed_text(), (
        "warehouse/seeds/metric_registry.csv drifted: run `python -m fvi.registry.metrics`"
    )


def test_dq_mart_depends_on_every_metric_table() -> None:
    sql = (REPO / "warehouse" / "models" / "marts" / "vw_metric_dq.sql").read_text("utf-8")
    for table in {m.gold.table for m in load_metrics().values()}:
        assert f"depends_on: {{{{ ref('{table}') }}}}" in sql, f"vw_metric_dq.sql lacks depends_on for {table}"


def test_us_mine_columns_exist_in_gold() -> None:
    us = _gold_columns()["fct_us_mine__yearly"]
    for m in load_metrics().values():
        if m.us_mine_column is not None:
            assert m.entity == "mine", m.id
            assert m.us_mine_column in us, f"{m.id}: fct_us_mine__yearly.{m.us_mine_column} not documented"


def test_horizon_weights_that_change_need_a_stated_reason() -> None:
    """An FVI differs between horizons only through these weights: the registry must say why they move."""
    doc = _doc()
    moving = next(m for m in doc["metrics"] if len(set(m["horizon_weights"].values())) > 1)
    del moving["horizon_note"]
    with pytest.raises(RegistryError, match="horizon_note"):
        check_metrics(doc)
    doc = _doc()
    flat = copy.deepcopy(_first_metric(doc))
    flat.pop("horizon_note", None)
    flat["horizon_weights"] = {"H5": 0.5, "H10": 0.5, "H20": 0.5}
    doc["metrics"][0] = flat
    check_metrics(doc)  # equal weights need no reason
    for m in load_metrics().values():
        w = m.horizon_weights
        assert len({w.H5, w.H10, w.H20}) == 1 or m.horizon_note, m.id
