import numpy as np
import pytest

from fvi.scoring.aggregate import blend, weighted
from fvi.scoring.config import ScoringError, check_personas, load_personas, validate_weights

W = np.array([[0.5], [0.5]])


def test_arithmetic_and_geometric_hand_computed() -> None:
    s = np.array([[20.0, 80.0]])
    a, _ = weighted(s, W, "arithmetic", 1.0)
    g, _ = weighted(s, W, "geometric", 1.0)
    assert a[0, 0] == pytest.approx(50.0)
    assert g[0, 0] == pytest.approx(40.0)  # sqrt(20 * 80)


def test_geometric_never_exceeds_arithmetic_and_penalises_imbalance() -> None:
    rng = np.random.default_rng(1)
    s = rng.uniform(1, 100, size=(500, 2))
    a, _ = weighted(s, W, "arithmetic", 1.0)
    g, _ = weighted(s, W, "geometric", 1.0)
    assert (g <= a + 1e-9).all()
    balanced, _ = weighted(np.array([[50.0, 50.0]]), W, "geometric", 1.0)
    assert balanced[0, 0] == pytest.approx(50.0)


def test_missing_inputs_drop_out_and_weights_renormalise() -> None:
    s = np.array([[np.nan, 80.0], [np.nan, np.nan]])
    out, present = weighted(s, np.array([[0.25], [0.75]]), "arithmetic", 1.0)
    assert out[0, 0] == pytest.approx(80.0) and present[0, 0] == pytest.approx(0.75)
    assert np.isnan(out[1, 0])


def test_blend_uses_what_exists() -> None:
    own = np.array([[60.0, np.nan, 10.0]])
    ctx = np.array([[40.0, 30.0, np.nan]])
    out = blend(own, ctx, np.array([0.25, 0.25, 0.25]), "arithmetic", 1.0)
    assert out[0].tolist() == pytest.approx([55.0, 30.0, 10.0])


def test_weights_must_be_valid() -> None:
    validate_weights({"01": 0.5, "02": 0.5}, ["01", "02", "03"])
    with pytest.raises(ScoringError, match="sum to 1"):
        validate_weights({"01": 0.5, "02": 0.4}, ["01", "02"])
    with pytest.raises(ScoringError, match=">= 0"):
        validate_weights({"01": 1.5, "02": -0.5}, ["01", "02"])
    with pytest.raises(ScoringError, match="unknown pillar"):
        validate_weights({"99": 1.0}, ["01"])


def test_persona_presets_are_valid_and_analyst_is_equal() -> None:
    personas = load_personas()
    assert {"investor", "lender", "policymaker", "ngo", "community", "analyst"} <= set(personas)
    assert set(personas["analyst"].weights.values()) == {0.1}
    bad = {
        "version": 1,
        "personas": [{"id": "x", "name": "x", "description": "ten chars!", "pillar_weights": {"01": 0.7}}],
    }
    with pytest.raises(ScoringError, match="sum to 1"):
        check_personas(bad, ["01", "02"])


def test_geometric_floor_keeps_a_zero_pillar_from_annihilating_the_composite() -> None:
    """Without the floor one pillar at 0 makes the geometric composite 0 whatever the others say."""
    from fvi.scoring.aggregate import weighted

    scores = np.array([[0.0, 100.0]])
    weights = np.array([[0.5], [0.5]])
    out, den = weighted(scores, weights, "geometric", floor=1.0)
    assert den[0, 0] == 1.0
    assert out[0, 0] == pytest.approx(10.0)  # sqrt(1 * 100): the floor, not the zero
    blended = blend(np.array([0.0]), np.array([100.0]), np.array([0.5]), "geometric", floor=1.0)
    assert blended[0] == pytest.approx(10.0)


def test_geometric_floor_holds_on_the_country_side_of_the_blend_too() -> None:
    """A mine in a country whose pillar is 0 keeps its own score's share: sqrt(100 * floor), not 0."""
    out = blend(np.array([[100.0, 0.0]]), np.array([[0.0, 100.0]]), np.array([0.5, 0.5]), "geometric", floor=4.0)
    assert out[0].tolist() == pytest.approx([20.0, 20.0])  # sqrt(100 * 4) whichever side is 0


def test_geometric_floor_makes_a_zero_pillar_with_no_weight_irrelevant() -> None:
    """A pillar at 0 that a persona does not weight must not touch the composite (log 0 * 0 is NaN)."""
    scores = np.array([[0.0, 50.0], [0.0, 0.0]])
    weights = np.array([[0.0, 0.5], [1.0, 0.5]])
    out, den = weighted(scores, weights, "geometric", floor=1.0)
    assert den.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert out[0].tolist() == pytest.approx([50.0, np.sqrt(50.0)])
    assert out[1].tolist() == pytest.approx([1.0, 1.0])  # every pillar at 0: the floor, a number


def test_engine_geometric_score_of_a_country_with_a_zero_pillar_uses_the_registry_floor() -> None:
    """End to end through the scorer: pillar 01 at 0 and pillar 02 at 100 give sqrt(floor * 100)."""
    from tests.unit.scoring.builders import EQUAL, country_frame, metric, spec

    from fvi.scoring.engine import Scorer, build_panels

    s = spec([metric("c1", "01"), metric("c2", "02")], geometric_floor=4.0)
    countries = country_frame([{"entity_id": "A", "year": 2020, "c1": 0.0, "c2": 100.0}])
    scorer = Scorer(s, build_panels(countries, countries.iloc[0:0].assign(status=None), s))
    f = scorer.score_frame(EQUAL, aggregation="geometric", horizons=["H5"])
    assert f["fvi"].tolist() == pytest.approx([20.0])
