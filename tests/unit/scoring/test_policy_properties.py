"""Policy moves the score the declared way and by at least its weight: later phase-out, no pledge,
lower carbon price, more subsidy (property tests on the real registry, Hypothesis-generated values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fvi.scoring.config import ScoringSpec, load_personas
from fvi.scoring.engine import Scorer, build_panels
from fvi.scoring.normalise import goalposts
from fvi.scoring.whatif import WhatIf

SPEC = ScoringSpec.from_registry()
COUNTRY_METRICS = [m for m in SPEC.metrics.values() if m.entity == "country"]


def _mid(m) -> float:  # noqa: ANN001
    lo, hi = m.goalposts.low, m.goalposts.high
    return float(np.sqrt(lo * hi)) if m.transform == "log" and lo > 0 else (lo + hi) / 2


def _whatif() -> WhatIf:
    rows = [{"entity_id": c, "year": 2024, **{m.id: _mid(m) for m in COUNTRY_METRICS}} for c in ("DEU", "POL")]
    countries = pd.DataFrame(rows).assign(entity_name=lambda f: f["entity_id"], country_iso3=lambda f: f["entity_id"])
    mines = pd.DataFrame(columns=["entity_id", "entity_name", "country_iso3", "status", "year"])
    return WhatIf(Scorer(SPEC, build_panels(countries, mines, SPEC)))


WHATIF = _whatif()

# (metric, the change a test makes, the direction the score must move)
CASES = {
    "country_phase_out_year": "later phase-out -> more viable",
    "country_has_cop26_coal_pledge": "no pledge -> more viable",
    "country_carbon_price_usd_per_t_co2": "lower carbon price -> more viable",
    "country_coal_subsidies_pct_gdp": "more subsidy -> more viable",
}


def _bound(metric_id: str, persona: str, horizon: str, before: float, after: float) -> float:
    """Pillar weight x the metric's share of its pillar x the normalised change (no smaller move is right)."""
    m = SPEC.metrics[metric_id]
    w_pillar = load_personas()[persona].weights[m.pillar]
    same = [x for x in COUNTRY_METRICS if x.pillar == m.pillar]
    hw = {x.id: getattr(x.horizon_weights, horizon) for x in same}
    share = hw[metric_id] / sum(hw.values())
    d = goalposts(np.array([after]), m)[0] - goalposts(np.array([before]), m)[0]
    return w_pillar * share * abs(d)


def _move(metric_id: str, before: float, after: float, persona: str, horizon: str) -> tuple[float, float]:
    a = WHATIF.rescore("country", "DEU", persona=persona, horizons=[horizon], metric_values={metric_id: before})
    b = WHATIF.rescore("country", "DEU", persona=persona, horizons=[horizon], metric_values={metric_id: after})
    return b["horizons"][horizon]["fvi"] - a["horizons"][horizon]["fvi"], _bound(metric_id, persona, horizon, before,
                                                                                 after)


personas = st.sampled_from(sorted(load_personas()))
horizons = st.sampled_from(SPEC.horizons)


@settings(max_examples=12, deadline=None)
@given(st.integers(2025, 2045), st.integers(1, 60), personas, horizons)
def test_a_later_phase_out_never_lowers_the_score(year, later, persona, horizon) -> None:
    delta, bound = _move("country_phase_out_year", year, year + later, persona, horizon)
    assert delta >= bound - 0.01 and bound > 0


@settings(max_examples=8, deadline=None)
@given(personas, horizons)
def test_dropping_the_coal_pledge_raises_the_score_by_its_weight(persona, horizon) -> None:
    delta, bound = _move("country_has_cop26_coal_pledge", 1, 0, persona, horizon)
    assert delta >= bound - 0.01 and bound > 0


@settings(max_examples=12, deadline=None)
@given(st.floats(1, 100), st.floats(0.05, 0.95), personas, horizons)
def test_a_lower_carbon_price_raises_the_score(price, cut, persona, horizon) -> None:
    delta, bound = _move("country_carbon_price_usd_per_t_co2", price, price * (1 - cut), persona, horizon)
    assert delta >= bound - 0.01 and bound > 0


@settings(max_examples=12, deadline=None)
@given(st.floats(0, 9), st.floats(0.1, 5), personas, horizons)
def test_more_coal_subsidy_raises_the_score(share, more, persona, horizon) -> None:
    delta, bound = _move("country_coal_subsidies_pct_gdp", share, min(share + more, 10.0), persona, horizon)
    assert delta >= bound - 0.01 and bound > 0


@pytest.mark.parametrize("metric_id", sorted(CASES))
def test_each_policy_metric_is_declared_with_the_direction_the_tests_assume(metric_id) -> None:
    polarity = SPEC.metrics[metric_id].polarity
    expected = {"country_phase_out_year": "higher_is_better", "country_has_cop26_coal_pledge": "lower_is_better",
                "country_carbon_price_usd_per_t_co2": "lower_is_better",
                "country_coal_subsidies_pct_gdp": "higher_is_better"}[metric_id]  # fmt: skip
    assert polarity == expected, CASES[metric_id]
