import numpy as np
import pandas as pd
import pytest
from tests.unit.scoring.builders import country_frame, metric, spec

from fvi.scoring.audit import audit_markdown, correlation_ratio, cronbach_alpha, placement_findings, run_audit
from fvi.scoring.engine import Scorer, build_panels


def test_an_indicator_placed_in_two_pillars_is_flagged() -> None:
    a = metric("a", "01")
    b = metric("b", "02").model_copy(update={"gold": a.gold})
    found = placement_findings({"a": a, "b": b, "c": metric("c", "02")})
    assert found == [
        {
            "kind": "indicator_in_two_pillars",
            "indicator": "fct_country__yearly.a",
            "metrics": ["a", "b"],
            "pillars": ["01", "02"],
        }
    ]
    assert placement_findings({"a": a, "c": metric("c", "02")}) == []


def test_cronbach_alpha_hand_checked() -> None:
    x = np.arange(10, dtype=float)
    assert cronbach_alpha(np.c_[x, x, x]) == pytest.approx(1.0)
    items = np.array([[1, 2], [2, 1], [3, 3], [4, 5.0]])
    var = items.var(axis=0, ddof=1).sum()
    total = items.sum(axis=1).var(ddof=1)
    assert cronbach_alpha(items) == pytest.approx(2 * (1 - var / total))
    assert np.isnan(cronbach_alpha(x[:, None]))


def test_correlation_ratio_sees_nonlinear_influence() -> None:
    x = np.linspace(-1, 1, 400)
    assert correlation_ratio(x**2, x, 10) > 0.9  # Pearson r is ~0 here
    assert correlation_ratio(np.random.default_rng(0).normal(size=400), x, 10) < 0.1


def test_audit_flags_high_correlation_and_reports_influence() -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 100, 60)
    rows = [
        {"entity_id": f"C{i:02d}", "year": 2020, "a": v, "b": v * 0.9 + 1, "c": rng.uniform(0, 100)}
        for i, v in enumerate(base)
    ]
    s = spec([metric("a", "01"), metric("b", "01"), metric("c", "02")], as_of_from=2020)
    countries = country_frame(rows)
    scorer = Scorer(
        s,
        build_panels(
            countries, pd.DataFrame(columns=["entity_id", "entity_name", "country_iso3", "status", "year"]), s
        ),
    )
    report = run_audit(scorer, {"eq": {"01": 0.5, "02": 0.5}})
    block = report["entity_types"]["country"]
    assert [(f["a"], f["b"], f["same_pillar"]) for f in block["high_correlation_pairs"]] == [("a", "b", True)]
    assert block["pillars"]["01"]["cronbach_alpha"] > 0.99
    infl = {r["metric"]: r for r in block["influence"] if r["horizon"] == "H5"}
    assert infl["c"]["nominal_weight"] == pytest.approx(0.5) and infl["a"]["nominal_weight"] == pytest.approx(0.25)
    assert "double counting" in audit_markdown(report, persona="eq", horizon="H5")
