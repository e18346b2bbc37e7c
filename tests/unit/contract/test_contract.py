"""Gold is one contract: Python-written gold tables are declared beside dbt's and held to it on write."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from fvi.contract import ContractError, complete, contract_path, contracts, parse, problems
from fvi.warehouse import DuckDBWarehouse


def _probabilities(**changes: object) -> pd.DataFrame:
    row = {
        "entity_type": "mine", "entity_id": "M1", "as_of_year": 2024, "horizon": "H5", "target": "operating",
        "p_viable": 0.9, "p_lo": 0.8, "p_hi": 0.95, "p_target": 0.9, "p_target_lo": 0.8, "p_target_hi": 0.95,
        "method": "global_hazard", "model_name": "fvi_mine_global", "model_version": "1",
        "interval_method": "bootstrap", "is_published": True, "note": None, "run_id": "r1",
    }  # fmt: skip
    frame = pd.DataFrame([row, {**row, "horizon": "H10", "p_viable": 0.8}])
    for k, v in changes.items():
        frame[k] = v
    return frame


def test_every_declared_table_has_grain_key_writer_and_described_typed_columns() -> None:
    tables = contracts()
    assert {"fvi_scores", "fvi_probabilities", "fvi_backtest", "fvi_outcome_gem_hazard"} <= set(tables)
    for t in tables.values():
        assert t.name.startswith("fvi_") and t.grain.startswith("one row per") and t.key and t.writer, t.name
        assert all(c.description and c.type for c in t.columns), t.name
        assert set(t.key) <= {c.name for c in t.columns}


def test_a_declaration_without_grain_or_with_an_undeclared_key_is_refused() -> None:
    doc = yaml.safe_load(contract_path().read_text("utf-8"))
    table = doc["sources"][0]["tables"][0]
    del table["meta"]["grain"]
    with pytest.raises(ContractError, match="grain"):
        parse(doc)
    doc = yaml.safe_load(contract_path().read_text("utf-8"))
    doc["sources"][0]["tables"][0]["meta"]["key"] = ["no_such_column"]
    with pytest.raises(ContractError, match="no_such_column"):
        parse(doc)


def test_a_frame_as_declared_passes() -> None:
    assert problems(contracts()["fvi_probabilities"], _probabilities()) == []


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_probabilities().drop(columns=["p_viable"]), "missing columns ['p_viable']"),
        (_probabilities(surprise=1.0), "undeclared columns ['surprise']"),
        (_probabilities(p_viable="high"), "column p_viable holds string values, declared float"),
        (_probabilities(as_of_year=2024.5), "column as_of_year holds fractions, declared integer"),
        (_probabilities(horizon=[5, "H10"]), "column horizon holds mixed-integer values, declared string"),
        (_probabilities(entity_id=[None, "M1"]), "key columns ['entity_id'] hold nulls"),
        (_probabilities(horizon="H5"), "1 rows repeat the key"),
    ],
)
def test_each_breach_is_named(frame: pd.DataFrame, message: str) -> None:
    assert any(message in p for p in problems(contracts()["fvi_probabilities"], frame)), problems(
        contracts()["fvi_probabilities"], frame
    )


def test_write_table_refuses_a_breach_and_keeps_the_previous_table(tmp_path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.write_table("gold", "fvi_probabilities", _probabilities())
        with pytest.raises(ContractError, match=r"gold\.fvi_probabilities .*repeat the key"):
            wh.write_table("gold", "fvi_probabilities", _probabilities(horizon="H5"))
        kept = wh.query("select horizon from gold.fvi_probabilities order by horizon")
        assert kept["horizon"].tolist() == ["H10", "H5"]
        wh.write_table("gold", "fvi_not_declared_scratch", pd.DataFrame({"x": [1]}))  # undeclared: not held
        wh.write_table("silver", "fvi_probabilities", pd.DataFrame({"x": [1]}))  # other layers: not held


def test_optional_and_family_columns() -> None:
    scores = contracts()["fvi_scores"]
    assert scores.column("pillar_08") is not None and scores.column("pillar_08").name == "pillar_*"
    assert not scores.column("fvi_p05").required  # `fvi score --no-uncertainty` writes no band


def test_complete_adds_the_declared_columns_a_hand_made_frame_leaves_out() -> None:
    frame = complete("fvi_probabilities", _probabilities().drop(columns=["note", "p_viable"]))
    assert "note" in frame and "p_viable" in frame and frame["p_viable"].isna().all()
    assert problems(contracts()["fvi_probabilities"], frame) == []
