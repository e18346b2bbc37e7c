import numpy as np
import pandas as pd
from tests.unit.scoring.builders import metric

from fvi.scoring.impute import (
    CARRY_FORWARD,
    COUNTRY_MEDIAN,
    EXCLUDED,
    FILL_VALUE,
    MISSING,
    OBSERVED,
    PILLAR_MEAN,
    apply_missing_rules,
    without_imputation,
)


def _panel(values: list[float | None], years: list[int], entity: str = "A", country: str = "AAA") -> pd.DataFrame:
    return pd.DataFrame({"entity_id": entity, "country_iso3": country, "year": years, "x": values})


def test_carry_forward_within_max_years_and_flagged() -> None:
    m = metric("x", "01", rule="carry_forward_years", max_years=2)
    p = _panel([5.0, None, None, None], [2000, 2001, 2002, 2003])
    raw, values, flags = apply_missing_rules(p, [m], entity_col="entity_id")
    assert values[:, 0].tolist()[:3] == [5, 5, 5] and np.isnan(values[3, 0])
    assert flags[:, 0].tolist() == [OBSERVED, CARRY_FORWARD, CARRY_FORWARD, MISSING]
    assert np.isnan(raw[1:, 0]).all()


def test_carry_forward_never_crosses_entities() -> None:
    m = metric("x", "01", rule="carry_forward_years", max_years=5)
    p = pd.DataFrame({"entity_id": ["A", "B"], "country_iso3": "AAA", "year": [2000, 2001], "x": [1.0, None]})
    _, values, flags = apply_missing_rules(p, [m], entity_col="entity_id")
    assert np.isnan(values[1, 0]) and flags[1, 0] == MISSING


def test_country_median_same_country_and_year() -> None:
    m = metric("x", "02", entity="mine", rule="country_median")
    p = pd.DataFrame(
        {
            "entity_id": ["a", "b", "c", "d", "e"],
            "country_iso3": ["X", "X", "X", "X", "Y"],
            "year": [2020] * 5,
            "x": [1.0, 3.0, 10.0, None, None],
        }
    )
    _, values, flags = apply_missing_rules(p, [m], entity_col="entity_id", country_col="country_iso3")
    assert values[3, 0] == 3.0 and flags[3, 0] == COUNTRY_MEDIAN
    assert np.isnan(values[4, 0]) and flags[4, 0] == MISSING  # no peer in Y: stays missing, never 50


def test_fill_value_exclude_and_pillar_mean_are_flagged() -> None:
    ms = [
        metric("x", "01", fill_value=2100),
        metric("y", "01", rule="exclude"),
        metric("z", "01", rule="pillar_mean"),
    ]
    p = pd.DataFrame({"entity_id": ["A"], "country_iso3": ["A"], "year": [2020], "x": [None], "y": [None], "z": [None]})
    _, values, flags = apply_missing_rules(p, ms, entity_col="entity_id")
    assert values[0, 0] == 2100 and flags[0].tolist() == [FILL_VALUE, EXCLUDED, PILLAR_MEAN]
    assert np.isnan(without_imputation(values, flags)).all()


def test_a_missing_capacity_comes_from_the_same_mines_production_before_peers() -> None:
    """North Antelope Rochelle: no GEM capacity, 56.3 Mt produced -> not the US median of 1.8 Mt/yr."""
    from fvi.registry.metrics import load_metrics
    from fvi.scoring.impute import FLAG_NAMES, RELATED_FIELD, apply_missing_rules

    metrics = load_metrics()
    cap, prod = metrics["mine_capacity_mtpa"], metrics["mine_production_mt"]
    panel = pd.DataFrame(
        {
            "entity_id": ["NAR", "P1", "P2", "P3"],
            "country_iso3": ["USA"] * 4,
            "year": [2023] * 4,
            "mine_capacity_mtpa": [None, 1.5, 1.8, 2.0],
            "mine_production_mt": [56.3, 1.2, None, 1.9],
        }
    )
    raw, values, flags = apply_missing_rules(panel, [cap, prod], entity_col="entity_id", country_col="country_iso3")
    assert np.isnan(raw[0, 0]) and values[0, 0] == 56.3 and flags[0, 0] == RELATED_FIELD
    assert FLAG_NAMES[int(flags[0, 0])] == "related_field"
    assert values[1, 0] == 1.5  # observed values are kept


def test_the_same_mines_record_in_the_other_spine_comes_before_related_fields_and_peers() -> None:
    """EIA <-> GEM through the crosswalk: the linked record's value of the same year fills first, flagged."""
    from fvi.registry.metrics import load_metrics
    from fvi.scoring.impute import CROSSWALK, FLAG_NAMES, LINKED_PREFIX, RELATED_FIELD, apply_missing_rules

    metrics = load_metrics()
    cap, prod = metrics["mine_capacity_mtpa"], metrics["mine_production_mt"]
    panel = pd.DataFrame(
        {
            "entity_id": ["A", "B", "C"],
            "country_iso3": ["USA"] * 3,
            "year": [2016] * 3,
            "mine_capacity_mtpa": [None, None, 3.0],
            "mine_production_mt": [None, 40.0, 2.5],
            LINKED_PREFIX + "mine_capacity_mtpa": [None, 60.0, 9.0],
            LINKED_PREFIX + "mine_production_mt": [56.3, None, 7.0],
        }
    )
    raw, values, flags = apply_missing_rules(panel, [cap, prod], entity_col="entity_id", country_col="country_iso3")
    assert values[0, 1] == 56.3 and flags[0, 1] == CROSSWALK and FLAG_NAMES[CROSSWALK] == "crosswalk"
    assert np.isnan(raw[0, 1])  # the entity's own observation stays missing
    assert values[0, 0] == 56.3 and flags[0, 0] == RELATED_FIELD  # capacity from the (linked) production
    assert values[1, 0] == 60.0 and flags[1, 0] == CROSSWALK  # the linked capacity beats its own production
    assert values[2].tolist() == [3.0, 2.5] and flags[2].tolist() == [OBSERVED, OBSERVED]  # observed values kept
