"""Tiny registries built inline for scoring tests, so expectations can be computed by hand."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fvi.registry.metrics import Defaults, Metric, Pillar, load_defaults
from fvi.scoring.config import ScoringSpec


def metric(
    mid: str,
    pillar: str,
    entity: str = "country",
    *,
    polarity: str = "higher_is_better",
    low: float = 0,
    high: float = 100,
    weights: tuple[float, float, float] = (1, 1, 1),
    rule: str = "none",
    transform: str = "none",
    **missing: Any,
) -> Metric:
    return Metric.model_validate(
        {
            "id": mid,
            "name": mid,
            "description": f"test metric {mid}",
            "pillar": pillar,
            "entity": entity,
            "gold": {"table": "fct_country__yearly" if entity == "country" else "fct_mine__yearly", "column": mid},
            "unit": "x",
            "polarity": polarity,
            "goalposts": {"low": low, "high": high},
            "horizon_weights": dict(zip(("H5", "H10", "H20"), weights, strict=True)),
            "sources": ["owid"],
            "missing_data": {"rule": rule, **missing},
            "transform": transform,
        }
    )


def spec(metrics: list[Metric], pillars: list[str] | None = None, **scoring: Any) -> ScoringSpec:
    ids = pillars or sorted({m.pillar for m in metrics})
    defaults = load_defaults().model_dump()
    defaults["scoring"].update(scoring)
    return ScoringSpec(
        {m.id: m for m in metrics},
        {p: Pillar(id=p, name=f"pillar {p}", description="test") for p in ids},
        Defaults.model_validate(defaults),
    )


def country_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["entity_name"] = frame["entity_id"]
    frame["country_iso3"] = frame["entity_id"]
    return frame


def tiny_world(**scoring: Any) -> tuple[ScoringSpec, pd.DataFrame, pd.DataFrame]:
    """Two pillars, two countries (A strong, B weak), mines x (in A) and y (country unknown).

    Hand-computed with blend 0.4 and equal pillar weights:
    A: c1 80 -> 80, c2 20 (lower is better) -> 80: FVI 80.   B: 40, 40: FVI 40.
    x: own pillar 02 = 20, blended 0.6 * 20 + 0.4 * 80 = 44; pillar 01 = A's 80: FVI 62.
    """
    s = spec(
        [
            metric("c1", "01"),
            metric("c2", "02", polarity="lower_is_better"),
            metric("m1", "02", entity="mine"),
        ],
        **{"mine_country_blend": 0.4, "as_of_from": 2020, **scoring},
    )
    countries = country_frame(
        [
            {"entity_id": "A", "year": 2020, "c1": 80.0, "c2": 20.0},
            {"entity_id": "B", "year": 2020, "c1": 40.0, "c2": 60.0},
        ]
    )
    mines = pd.DataFrame(
        {
            "entity_id": ["x", "y"],
            "entity_name": ["x", "y"],
            "country_iso3": ["A", "ZZZ"],
            "status": ["operating", "operating"],
            "year": [2020, 2020],
            "m1": [20.0, 90.0],
        }
    )
    return s, countries, mines


EQUAL = {"eq": {"01": 0.5, "02": 0.5}}
