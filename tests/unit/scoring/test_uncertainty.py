import numpy as np
import pandas as pd
from tests.unit.scoring.builders import EQUAL, country_frame, metric, spec

from fvi.scoring.engine import Scorer, build_panels
from fvi.scoring.uncertainty import UncertaintyParams, _quantiles, _ranks, run_uncertainty


def _scorer() -> Scorer:
    rng = np.random.default_rng(7)
    s = spec(
        [
            metric("a", "01"),
            metric("b", "01", rule="carry_forward_years", max_years=1),
            metric("c", "02", polarity="lower_is_better"),
        ],
        as_of_from=2020,
    )
    rows = []
    for i in range(30):
        rows.append(
            {
                "entity_id": f"C{i:02d}",
                "year": 2019,
                "a": rng.uniform(0, 100),
                "b": rng.uniform(0, 100),
                "c": rng.uniform(0, 100),
            }
        )
        rows.append(
            {
                "entity_id": f"C{i:02d}",
                "year": 2020,
                "a": rng.uniform(0, 100),
                "b": None if i % 3 == 0 else rng.uniform(0, 100),
                "c": rng.uniform(0, 100),
            }
        )
    empty = pd.DataFrame(columns=["entity_id", "entity_name", "country_iso3", "status", "year"])
    return Scorer(s, build_panels(country_frame(rows), empty, s))


def _params(seed: int) -> UncertaintyParams:
    return UncertaintyParams(
        draws=200,
        seed=seed,
        dirichlet_concentration=20,
        normalisations=["goalposts", "minmax", "rank"],
        imputations=["declared", "none"],
        aggregations=["arithmetic", "geometric"],
        sobol_base_samples=16,
        horizons=["H5", "H10"],
        personas=EQUAL,
    )


def test_same_seed_same_output_and_params_round_trip() -> None:
    scorer = _scorer()
    b1, s1, _ = run_uncertainty(scorer, _params(11))
    b2, s2, _ = run_uncertainty(_scorer(), UncertaintyParams.from_json(_params(11).to_json()))
    pd.testing.assert_frame_equal(b1, b2)
    pd.testing.assert_frame_equal(s1, s2)
    b3, _, _ = run_uncertainty(scorer, _params(12))
    assert not b1[["fvi_p05", "fvi_p95"]].equals(b3[["fvi_p05", "fvi_p95"]])


def test_bands_are_ordered_and_sobol_covers_every_choice() -> None:
    bands, sens, summary = run_uncertainty(_scorer(), _params(5))
    assert len(bands) == 30 * 2 and summary["draws"] == 200
    assert (bands["fvi_p05"] <= bands["fvi_p50"]).all() and (bands["fvi_p50"] <= bands["fvi_p95"]).all()
    assert (bands["rank_p05"] <= bands["rank_p95"]).all() and bands["rank_p50"].between(1, 30).all()
    assert set(sens["factor"]) == {"weights", "normalisation", "imputation", "aggregation"}
    assert (sens["n_evaluations"] == 16 * 6).all()


def test_rank_and_quantile_helpers() -> None:
    r = _ranks(np.array([[10.0, 30.0, np.nan, 20.0]], dtype=np.float32))
    assert r[0, [0, 1, 3]].tolist() == [3, 1, 2] and np.isnan(r[0, 2])
    q = _quantiles(np.array([np.arange(101, dtype=float), np.r_[np.nan, np.arange(100.0)]]), [0.05, 0.5, 0.95])
    assert q[:, 0].tolist() == [5, 50, 95]
    assert q[1, 1] in (49.0, 50.0)


def test_the_band_is_centred_on_the_published_score() -> None:
    """The headline FVI is the band's centre (p50), inside p05..p95; the draws' own median is kept aside."""
    scorer = _scorer()
    bands, _, _ = run_uncertainty(scorer, _params(5))
    published = scorer.score_frame(EQUAL, horizons=["H5", "H10"])
    keys = ["entity_type", "entity_id", "as_of_year", "horizon", "persona"]
    merged = bands.merge(published[[*keys, "fvi"]], on=keys)
    assert len(merged) == len(bands)
    np.testing.assert_allclose(merged["fvi_p50"], merged["fvi"], atol=1e-3)
    assert ((merged["fvi_p05"] <= merged["fvi"] + 1e-9) & (merged["fvi"] <= merged["fvi_p95"] + 1e-9)).all()
    assert "fvi_mc_median" in bands and (bands["fvi_mc_median"] != bands["fvi_p50"]).any()


def test_every_entity_gets_a_band_at_its_own_latest_year() -> None:
    """A country last scored a year before the others still has a band (29 % had none)."""
    s = spec([metric("a", "01"), metric("c", "02")], as_of_from=2019, min_pillar_coverage=0.75)
    rows = [{"entity_id": f"C{i}", "year": 2020, "a": 10.0 * i, "c": 50.0} for i in range(6)]
    rows += [{"entity_id": "OLD", "year": 2019, "a": 40.0, "c": 40.0}]
    rows += [{"entity_id": "OLD", "year": 2020, "a": 40.0, "c": None}]  # 2020: too little to score
    empty = pd.DataFrame(columns=["entity_id", "entity_name", "country_iso3", "status", "year"])
    scorer = Scorer(s, build_panels(country_frame(rows), empty, s))
    bands, sens, _ = run_uncertainty(scorer, _params(3))
    old = bands[bands["entity_id"] == "OLD"]
    assert set(old["as_of_year"]) == {2019} and old["fvi_p05"].notna().all() and len(old) == 2  # H5, H10
    assert set(bands["entity_id"]) == {f"C{i}" for i in range(6)} | {"OLD"}
    assert set(sens["as_of_year"]) == {2020}  # Sobol from the newest year only
