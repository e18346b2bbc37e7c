"""Each metric's contribution to the FVI, in points, against the typical entity (hand-computed, tiny world)."""

from __future__ import annotations

import pytest
from tests.unit.scoring.builders import EQUAL, tiny_world

from fvi.scoring.contributions import contributions
from fvi.scoring.engine import Scorer, build_panels


def test_contributions_in_points_against_the_median_entity() -> None:
    s, countries, mines = tiny_world()
    c = contributions(Scorer(s, build_panels(countries, mines, s)), EQUAL, horizons=["H10"])
    got = {(r.entity_id, r.metric_id, r.metric_of): r.points for r in c.itertuples()}
    # countries: the median scores are 60 and 60; A (80, 80) gains 10 from each, B (40, 40) loses 10
    assert got[("A", "c1", "own")] == pytest.approx(10.0) and got[("A", "c2", "own")] == pytest.approx(10.0)
    assert got[("B", "c1", "own")] == pytest.approx(-10.0)
    # mine x (FVI 62): its own m1 score 20 against the median 55 -> pillar 02 44 -> 65: -10.5 points
    assert got[("x", "m1", "own")] == pytest.approx(-10.5)
    # its country's c1 (80 vs 60) reaches it whole through pillar 01 (+10), c2 through the 0.4 blend (+4)
    assert got[("x", "c1", "country")] == pytest.approx(10.0)
    assert got[("x", "c2", "country")] == pytest.approx(4.0)
    row = c[(c["entity_id"] == "x") & (c["metric_id"] == "m1")].iloc[0]
    assert (row["raw_value"], row["typical_value"], row["imputation"]) == (20.0, 55.0, "observed")
