"""Issue-3 acceptance on the real samples: every operating mine and coal-producing country is scored."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fvi.scoring.config import load_learnt_personas, load_personas
from fvi.scoring.export import export_scores
from fvi.warehouse import open_live

pytestmark = [pytest.mark.integration]
PERSONAS = set(load_personas())


@pytest.fixture(scope="module")
def gold(shared_build):
    from tests.integration.helpers import env

    home, report = shared_build
    with env(FVI_HOME=str(home), FVI_WAREHOUSE_URL=None) as settings:
        wh = open_live(settings)
        try:
            yield wh, report, settings
        finally:
            wh.close()


def _latest(wh, entity_type: str) -> pd.DataFrame:
    return wh.query(
        "select * from gold.fvi_scores where entity_type = ? and as_of_year = "
        "(select max(as_of_year) from gold.fvi_scores where entity_type = ?)",
        [entity_type, entity_type],
    )


def _complete(frame: pd.DataFrame, ids: set[str]) -> None:
    # the presets carry bands at every horizon; the learnt persona (no band) only where weights were learnt
    assert set(frame.persona) - PERSONAS <= set(load_learnt_personas())
    frame = frame[frame.persona.isin(PERSONAS)]
    got = frame.groupby("entity_id").apply(lambda g: set(zip(g.horizon, g.persona, strict=True)), include_groups=False)
    want = {(h, p) for h in ("H5", "H10", "H20") for p in PERSONAS}
    missing = ids - set(got.index)
    assert not missing, f"{len(missing)} entities unscored, e.g. {sorted(missing)[:5]}"
    assert all(got[i] == want for i in ids)
    rows = frame[frame.entity_id.isin(ids)]
    assert rows[["fvi_p05", "fvi_p50", "fvi_p95", "rank_p50"]].notna().all().all()
    assert (rows.fvi_p05 <= rows.fvi_p95).all() and rows.fvi.between(0, 100).all()


def test_every_operating_gem_mine_scored_with_bands(gold) -> None:
    wh, _, _ = gold
    operating = set(wh.query("select gem_mine_id from gold.dim_mine where status = 'operating'").gem_mine_id)
    assert len(operating) > 3000
    _complete(_latest(wh, "mine"), operating)


def test_every_coal_producing_country_scored_with_bands(gold) -> None:
    wh, _, _ = gold
    latest = wh.query("select max(year) from gold.fct_country__yearly where coal_production_twh > 0").iloc[0, 0]
    producers = set(
        wh.query(f"select iso3 from gold.fct_country__yearly where year = {latest} and coal_production_twh > 0").iso3
    )
    assert len(producers) >= 30
    _complete(_latest(wh, "country"), producers)


def test_us_mines_scored_every_eia_year(gold) -> None:
    wh, _, _ = gold
    years = wh.query("select distinct as_of_year from gold.fvi_scores where entity_type = 'us_mine' order by 1")
    assert years.as_of_year.tolist() == list(range(2008, 2017))


def test_sensitivity_audit_and_reproducible_parameters_recorded(gold) -> None:
    wh, report, settings = gold
    sens = wh.query("select * from gold.fvi_sensitivity")
    assert set(sens.factor) == {"weights", "normalisation", "imputation", "aggregation"}
    assert sens[["s1", "st"]].notna().all().all()
    run = settings.home_abs / "runs" / report["run_id"]
    audit = json.loads((run / "audit.json").read_text())
    assert {"mine", "us_mine", "country"} <= set(audit["entity_types"])
    assert (run / "audit.md").read_text().startswith("# FVI statistical audit")
    params = json.loads((run / "uncertainty_params.json").read_text())
    assert params["draws"] >= 1000 and isinstance(params["seed"], int)
    imputations = wh.query("select imputation, count(*) n from gold.fvi_metric_scores group by 1")
    assert {"observed", "carry_forward", "country_median"} <= set(imputations.imputation)


def test_export_scores(gold, tmp_path) -> None:
    _, _, settings = gold
    out = tmp_path / "countries.parquet"
    n = export_scores(settings, "country", "parquet", out, as_of=2020)
    frame = pd.read_parquet(out)
    assert n == len(frame) > 0 and set(frame.as_of_year) == {2020} and set(frame.entity_type) == {"country"}
