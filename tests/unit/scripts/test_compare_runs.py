"""scripts/compare_runs.py on two tiny FVI homes built here, gold tables in the layout the run writes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from tests.gold import write_gold

from fvi.ml.backtest_report import backtest_table
from fvi.ml.publish import COLUMNS as PROBABILITY_COLUMNS
from fvi.warehouse import DuckDBWarehouse

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "compare_runs.py"
HORIZONS = ("H5", "H10", "H20")
RUN = "20260101T000000Z_abcdef"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_runs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_runs"] = module
    spec.loader.exec_module(module)
    return module


def _scores(pol_fvi: float) -> pd.DataFrame:
    """gold.fvi_scores rows (the columns ``fvi.scoring.run`` writes that the export reads)."""
    entities = [
        ("country", "DEU", "Germany", "DEU", None, 40.0),
        ("country", "POL", "Poland", "POL", None, pol_fvi),
        ("mine", "G100001", "Alpha Mine", "POL", "operating", 55.0),
        ("us_mine", "MSHA4601", "Beta Mine", "USA", "active", 62.0),
    ]
    rows = []
    for entity_type, entity_id, name, iso3, status, fvi in entities:
        for i, h in enumerate(HORIZONS):
            rows.append(
                {
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "entity_name": name,
                    "country_iso3": iso3,
                    "status": status,
                    "as_of_year": 2023,
                    "horizon": h,
                    "persona": "analyst",
                    "aggregation": "arithmetic",
                    "fvi": fvi + i,
                    "pillar_01": fvi,
                    "pillar_02": 50.0,
                    "pillar_coverage": 1.0,
                    "imputed_share": 0.25,
                    "rank": 1,
                    "percentile": 100.0,
                    "fvi_p05": fvi - 5,
                    "fvi_p50": fvi,
                    "fvi_p95": fvi + 5,
                    "run_id": RUN,
                    "registry_hash": "hash",
                    "is_synthetic": False,
                    "data_world": "real",
                }
            )
    return pd.DataFrame(rows)


def _probabilities() -> pd.DataFrame:
    """gold.fvi_probabilities (``fvi.ml.publish.COLUMNS``): the same in both homes."""
    rows = []
    for entity_type, entity_id, target, p in (
        ("country", "DEU", "decline", 0.7),
        ("country", "POL", "decline", 0.6),
        ("mine", "G100001", "operating", 0.8),
        ("us_mine", "MSHA4601", "operating", 0.5),
    ):
        for i, h in enumerate(HORIZONS):
            pv = p - 0.1 * i
            rows.append(
                {
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "as_of_year": 2023,
                    "horizon": h,
                    "target": target,
                    "p_viable": pv,
                    "p_lo": pv - 0.05,
                    "p_hi": pv + 0.05,
                    "p_target": 1 - pv if target == "decline" else pv,
                    "p_target_lo": None,
                    "p_target_hi": None,
                    "method": "direct",
                    "model_name": f"fvi_{entity_type}_{h.lower()}",
                    "model_version": "1",
                    "interval_method": "bayes",
                    "is_published": True,
                    "note": None,
                    "run_id": RUN,
                }
            )
    return pd.DataFrame(rows, columns=PROBABILITY_COLUMNS)


def _backtest(fvi_auc: float) -> pd.DataFrame:
    """gold.fvi_backtest as ``fvi.ml.backtest_report.backtest_table`` builds it: pooled and one as-of year."""
    rows: list[dict[str, Any]] = []
    for scorer, auc, brier in (("fvi", fvi_auc, 0.20), ("size", 0.60, 0.25)):
        for as_of_year in (None, 2010):
            rows.append(
                {
                    "level": "country",
                    "horizon": 5,
                    "fvi_horizon": "H5",
                    "scorer": scorer,
                    "model_name": None,
                    "model_version": None,
                    "as_of_year": as_of_year,
                    "as_of_years": "2000-2015" if as_of_year is None else "2010",
                    "outcome_years": "2005-2020",
                    "n": 100 if as_of_year is None else 10,
                    "n_positive": 60 if as_of_year is None else 6,
                    "auc": auc,
                    "brier": brier,
                    "brier_base_rate": 0.24,
                    "auc_minus_size": (auc - 0.60) if scorer != "size" and as_of_year is None else None,
                    "auc_minus_size_lo": None,
                    "auc_minus_size_hi": None,
                    "persona": "analyst",
                }
            )
    return backtest_table(rows, RUN, "hash")


def _home(root: Path, *, pol_fvi: float, fvi_auc: float) -> Path:
    home = root
    (home / "runs" / RUN / "backtest").mkdir(parents=True)
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb") as wh:
        write_gold(wh, "fvi_scores", _scores(pol_fvi))
        write_gold(wh, "fvi_probabilities", _probabilities())
        write_gold(wh, "fvi_backtest", _backtest(fvi_auc))
    return home


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def homes(tmp_path: Path) -> tuple[Path, Path]:
    before = _home(tmp_path / "before", pol_fvi=30.0, fvi_auc=0.70)
    after = _home(tmp_path / "after", pol_fvi=35.0, fvi_auc=0.72)
    return before, after


def test_report_lists_what_moved_and_not_what_did_not(homes: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    before, after = homes
    digests = {h: _digest(h / "warehouse" / "fvi.duckdb") for h in homes}
    out = tmp_path / "report.json"
    # DuckDB refuses, in one process, a second connection to a file with another configuration: holding
    # read-only connections makes the script fail if it opened a warehouse for writing
    held = [DuckDBWarehouse(h / "warehouse" / "fvi.duckdb", read_only=True) for h in homes]
    try:
        assert _script().main([str(before), str(after), "--json", str(out)]) == 0
    finally:
        for wh in held:
            wh.close()
    md = capsys.readouterr().out
    report = json.loads(out.read_text())

    # exports: Poland's FVI rose by 5 at every horizon; the mines and the probabilities did not move
    moved = {
        (r["export"], r["entity_type"], r["horizon"], r["figure"]) for r in report["exports"]["figures"] if r["moved"]
    }
    assert ("country", "country", "H5", "fvi mean") in moved
    assert ("country", "country", "all", "fvi mean") in moved
    assert ("mine", "mine", "H5", "fvi mean") not in moved
    assert ("country", "country", "H5", "p_decline coverage") not in moved
    assert ("country", "country", "H5", "rows") not in moved
    assert not [m for m in moved if m[0] == "mine"]
    h5 = next(r for r in report["exports"]["figures"] if r["figure"] == "fvi mean" and r["horizon"] == "H5"
              and r["entity_type"] == "country")  # fmt: skip
    assert h5["before"] == pytest.approx(35.0) and h5["after"] == pytest.approx(37.5)
    assert "| country | country | H5 | fvi mean | 35 | 37.5 | +2.5 |" in md
    assert "| mine | mine | H5 | fvi mean |" not in md
    assert "p_decline coverage" not in md

    # the same keys: FVI changed for Poland only, probabilities for no one
    country = report["exports"]["shared"]["country"]
    overall = country["by_horizon"][0]
    assert overall["horizon"] == "all" and overall["shared"] == 6 and overall["fvi changed"] == 3
    assert overall["p_decline changed"] == 0 and overall["only_before"] == overall["only_after"] == 0
    assert [r["key"] for r in country["largest_changes"]["fvi"]] == ["POL"] * 3
    assert country["largest_changes"]["p_decline"] == []
    assert report["exports"]["shared"]["mine"]["largest_changes"]["fvi"] == []
    assert "| POL | Poland | country | H5 | 30 | 35 | +5 |" in md

    # back-test: the FVI scorer's AUC moved (pooled and in 2010), the size scorer did not
    bt = {(r["scorer"], r["as_of_year"], r["figure"]): r for r in report["backtest"]["figures"]}
    assert bt[("fvi", "pooled", "auc")]["moved"] and bt[("fvi", "pooled", "auc")]["diff"] == pytest.approx(0.02)
    assert bt[("fvi", "2010", "auc")]["moved"]
    assert not bt[("fvi", "pooled", "brier")]["moved"]
    assert not any(r["moved"] for k, r in bt.items() if k[0] == "size")
    assert "| country | 5 | fvi | 100 | 100 | 0.7 | 0.72 | +0.02 | 0.2 | 0.2 | 0 | yes |" in md
    assert "| country | 5 | size | 100 | 100 | 0.6 | 0.6 | 0 | 0.25 | 0.25 | 0 |  |" in md
    assert "| country | 5 | fvi | 2010 | auc | 0.7 | 0.72 | +0.02 |" in md
    assert "| country | 5 | size | 2010 |" not in md

    # read-only: neither warehouse was written
    assert {h: _digest(h / "warehouse" / "fvi.duckdb") for h in homes} == digests


def test_same_home_twice_moves_nothing_and_the_run_folder_stands_in_for_gold(homes: tuple[Path, Path], capsys) -> None:
    before, _ = homes
    script = _script()
    assert script.main([str(before), str(before), "--fail-on-change"]) == 0
    assert "**0 of " in capsys.readouterr().out

    # without gold.fvi_backtest the latest run folder's backtest.json is read, in the same rows
    with DuckDBWarehouse(before / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        gold = script.backtest_rows(wh, before)[0]
    pooled = gold[gold["as_of_year"] == "pooled"]
    report = {
        "levels": {
            "country": {
                "horizons": {
                    "5": {
                        "scorers": {
                            r.scorer: {
                                "scorer": r.scorer,
                                "model_name": None,
                                "n": r.n,
                                "n_positive": r.n_positive,
                                "auc": r.auc,
                                "brier": r.brier,
                                "brier_base_rate": r.brier_base_rate,
                                "auc_minus_size": None if pd.isna(r.auc_minus_size) else {"diff": r.auc_minus_size},
                                "by_year": {},
                            }
                            for r in pooled.itertuples()
                        }
                    }
                }
            }
        }
    }
    (before / "runs" / RUN / "backtest" / "backtest.json").write_text(json.dumps(report))
    with DuckDBWarehouse(before / "warehouse" / "fvi.duckdb") as wh:
        wh.con.execute("drop table gold.fvi_backtest")
    with DuckDBWarehouse(before / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        from_file, source = script.backtest_rows(wh, before)
    assert source == f"runs/{RUN}/backtest/backtest.json"
    cols = ["level", "horizon", "scorer", "model_name", "as_of_year", "n", "auc", "brier", "auc_minus_size"]
    pd.testing.assert_frame_equal(
        from_file[cols].sort_values("scorer").reset_index(drop=True),
        pooled[cols].sort_values("scorer").reset_index(drop=True),
    )
