"""Property tests: scores stay in [0, 100]; improving a higher-is-better metric never lowers the FVI (arithmetic)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.scoring.builders import country_frame, metric, spec

from fvi.scoring.engine import Scorer, build_panels

SPEC = spec(
    [
        metric("a", "01", low=-50, high=50),
        metric("b", "01", polarity="lower_is_better", low=1, high=1000, transform="log"),
        metric("c", "02", fill_value=0),
        metric("d", "03", rule="exclude"),
    ],
    as_of_from=2020,
)
EMPTY = pd.DataFrame(columns=["entity_id", "entity_name", "country_iso3", "status", "year"])
value = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))
weights = st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda w: sum(w) > 1e-3)


def _fvi(rows: list[dict], w: list[float], aggregation: str = "arithmetic") -> pd.DataFrame:
    total = sum(w)
    persona = {"p": {p: x / total for p, x in zip(SPEC.pillar_ids, w, strict=True)}}
    last = SPEC.pillar_ids[-1]  # the rounding residual, never below 0 (a zero weight stays a weight)
    persona["p"][last] = max(0.0, persona["p"][last] + 1 - sum(persona["p"].values()))
    scorer = Scorer(SPEC, build_panels(country_frame(rows), EMPTY, SPEC))
    return scorer.score_frame(persona, aggregation=aggregation)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(value, value, value, value), min_size=1, max_size=8),
    weights,
    st.sampled_from(["arithmetic", "geometric"]),
)
def test_scores_stay_in_range(vals, w, aggregation) -> None:
    rows = [{"entity_id": f"C{i}", "year": 2020, "a": a, "b": b, "c": c, "d": d} for i, (a, b, c, d) in enumerate(vals)]
    f = _fvi(rows, w, aggregation)
    cols = ["fvi", "pillar_01", "pillar_02", "pillar_03"]
    v = f[cols].to_numpy(dtype=float)
    assert np.all((v[~np.isnan(v)] >= 0) & (v[~np.isnan(v)] <= 100))


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e3, 1e3), st.floats(0, 1e3), value, value, value, weights)
def test_improving_a_higher_is_better_metric_never_lowers_the_fvi(a, step, b, c, d, w) -> None:
    base = {"entity_id": "C0", "year": 2020, "a": a, "b": b, "c": c, "d": d}
    lo = _fvi([base], w)
    hi = _fvi([{**base, "a": a + step}], w)
    if len(lo):
        assert hi["fvi"].iloc[0] >= lo["fvi"].iloc[0] - 1e-9
