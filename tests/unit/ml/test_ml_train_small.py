import numpy as np
import pytest
from tests.unit.ml.ml_world import build_world

from fvi.ml import train as T
from fvi.ml.model_registry import CHALLENGER, CHAMPION, ModelRegistry, load_bundle
from fvi.settings import Settings
from fvi.warehouse import DuckDBWarehouse


def test_time_folds_never_train_on_a_label_resolved_after_the_validation_year():
    as_of = np.repeat(np.arange(2000, 2010), 20)
    horizon = 3
    outcome = as_of + horizon
    y = np.tile([0, 1], 100)
    folds = T.time_folds(as_of, outcome, y, min_train=10)
    assert [f.val_year for f in folds] == [2003, 2004, 2005, 2006, 2007, 2008, 2009]  # 2003 trains on 2000 only
    for f in folds:
        assert (outcome[f.train] <= f.val_year).all()
        assert (as_of[f.val] == f.val_year).all()
        assert as_of[f.train].max() == f.val_year - horizon
    # labels resolving after every possible validation year: no strict fold, fall back to entity groups
    folds, scheme = T.choose_folds(as_of, as_of + 50, np.arange(len(as_of)) % 17, y)
    assert scheme == "grouped_entity" and len(folds) == T.GROUPED_SPLITS
    groups = np.arange(len(as_of)) % 17
    for f in folds:
        assert not set(groups[f.train]) & set(groups[f.val])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ml_train")
    world = build_world(root / "world.duckdb")
    settings = Settings(home=root / "home")
    with DuckDBWarehouse(world, read_only=True) as wh:
        first = T.train_all(settings, wh, track=False, num_rounds=20, say=lambda _m: None)
        second = T.train_all(settings, wh, track=False, num_rounds=20, seed=3, say=lambda _m: None)
    return root, world, first, second


def test_every_model_trains_exports_and_is_registered(trained):
    root, _, first, _ = trained
    names = set(first["models"])
    assert names == {T.MINE_H5, T.MINE_HAZARD, *(T.country_model_name(h) for h in T.COUNTRY_HORIZONS)}
    for name, m in first["models"].items():
        assert m["version"] == "1" and m["alias"] == CHAMPION
        assert m["onnx_parity_max_abs"] <= 1e-5
        bundle = load_bundle(root / "home" / "models", name)
        assert bundle.feature_order == first["trained"][name].feature_order
    assert first["models"][T.MINE_HAZARD]["cv_scheme"] == "strict"
    assert first["models"][T.MINE_H5]["cv_scheme"] == "grouped_entity"  # H5 labels all resolve after 2012


def test_second_run_follows_the_alias_rule(trained):
    root, _, first, second = trained
    reg = ModelRegistry(root / "home" / "models")
    for name, m in second["models"].items():
        expected = CHAMPION if m["cv"]["auc_mean"] >= first["models"][name]["cv"]["auc_mean"] else CHALLENGER
        assert m["version"] == "2" and m["alias"] == expected
        assert reg.aliases(name)[expected] == "2"
        served = second["tables"]["fvi_predictions"].query("model_name == @name")["model_version"].unique().tolist()
        assert served == [reg.aliases(name)[CHAMPION]]  # predictions come from the champion


def test_tables_have_their_columns_and_write(trained, tmp_path):
    _, world, first, _ = trained
    preds, oof, expl = (first["tables"][k] for k in ("fvi_predictions", "fvi_backtest_oof", "fvi_explanations"))
    assert list(preds.columns) == T.PREDICTION_COLUMNS
    assert set(preds["horizon"]) == {"H5", "H10", "H20"}
    mines = preds[preds["entity_type"] != "country"]
    assert set(mines.groupby(["horizon", "method"]).groups) == {
        ("H5", "classifier"),
        ("H5", "hazard"),
        ("H10", "hazard"),
        ("H20", "hazard"),
    }
    assert set(mines["entity_type"]) == {"us_mine", "mine"}
    assert preds["p"].between(0, 1).all() and preds["p_raw"].between(0, 1).all()
    # the hazard's survival cannot rise with the horizon
    hz = mines[mines["method"] == "hazard"].pivot_table(
        index=["entity_type", "entity_id", "as_of_year"], columns="horizon", values="p"
    )
    assert (hz["H10"] <= hz["H5"] + 1e-12).all() and (hz["H20"] <= hz["H10"] + 1e-12).all()
    assert list(oof.columns) == T.OOF_COLUMNS and oof["horizon"].dtype == "int64"
    assert set(oof["cv_scheme"]) <= {"strict", "grouped_entity"}
    assert {"entity_type", "feature", "shap", "base_value", "model_version"} <= set(expl.columns)
    latest = expl[expl["entity_type"] == "us_mine"].groupby("entity_id")["as_of_year"].nunique()
    assert (latest == 1).all()  # one (latest) year per mine
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(world.read_bytes())
    with DuckDBWarehouse(copy) as wh:
        rows = T.write_ml_tables(wh, first)
        assert rows["fvi_predictions"] == len(preds)
        assert len(wh.query("select * from gold.fvi_backtest_oof")) == len(oof)


def test_shap_rows_add_up_to_the_model_output(trained):
    from fvi.ml.explain import explain_row

    root, _, first, _ = trained
    bundle = load_bundle(root / "home" / "models", T.MINE_H5)
    expl = first["tables"]["fvi_explanations"]
    one = expl[(expl["model_name"] == T.MINE_H5) & (expl["model_version"] == bundle.version)]
    key = one.iloc[0][["entity_type", "entity_id", "as_of_year"]].tolist()
    rows = one[(one["entity_type"] == key[0]) & (one["entity_id"] == key[1]) & (one["as_of_year"] == key[2])]
    values = dict(zip(rows["feature"], rows["value"], strict=True))
    out = explain_row(bundle, values)
    logit = rows["base_value"].iloc[0] + rows["shap"].sum()
    assert out["logit"] == pytest.approx(logit, abs=1e-6)
    p_raw, _ = bundle.predict(values)[1], None
    assert out["p_raw"] == pytest.approx(float(p_raw[0]), abs=1e-5)
    # an override moves the explanation and the probability together
    changed = explain_row(bundle, {**values, "prod_log_change_1y": -3.0})
    assert changed["p_raw"] == pytest.approx(
        float(bundle.predict({**values, "prod_log_change_1y": -3.0})[1][0]), abs=1e-5
    )


def test_tuning_is_seeded_and_stays_in_bounds():
    calls: list[tuple[dict, int]] = []

    def objective(params, rounds):
        calls.append((params, rounds))
        return (params["learning_rate"] - 0.05) ** 2 + rounds / 1e4

    first = T.tune_params(objective, n_trials=6, seed=11, timeout=None)
    second = T.tune_params(objective, n_trials=6, seed=11, timeout=None)
    assert first == second
    for params, rounds in calls:
        assert 0.01 <= params["learning_rate"] <= 0.2 and 4 <= params["num_leaves"] <= 63
        assert 50 <= rounds <= 400 and params["num_threads"] == T.N_JOBS


def test_tuned_training_and_as_of_max(tmp_path):
    world = build_world(tmp_path / "world.duckdb", n_us=90, n_countries=16)
    with DuckDBWarehouse(world, read_only=True) as wh:
        out = T.train_all(
            Settings(home=tmp_path / "home"),
            wh,
            track=False,
            explain=False,
            tune=True,
            n_trials=2,
            as_of_max=2014,
            num_rounds=20,
            say=lambda _m: None,
        )
    oof = out["tables"]["fvi_backtest_oof"]
    assert (oof["as_of_year"] + oof["horizon"] <= 2014).all()  # trained as if in 2014
    assert out["models"][T.MINE_H5]["label_years"] == [2008, 2009]  # H5 labels of 2010+ resolve after 2014
    hazard = out["models"][T.MINE_HAZARD]
    assert hazard["tuned"]["n_trials"] == 2 and hazard["k_max"] <= 2014 - 2008


def test_the_declared_model_list_is_what_trains(trained):
    """models.yml `models:` drives training: every declared classifier/hazard model trained, in order."""
    from fvi.registry.vocabulary import MODELS

    _, _, first, _ = trained
    declared = [m.name for m in MODELS if m.estimator in ("classifier", "hazard")]
    assert list(first["models"]) == declared
    for m in MODELS:
        if m.name in first["trained"]:
            t = first["trained"][m.name]
            assert (t.entity, t.target, t.feature_horizon) == (m.entity, m.target, m.feature_horizon)
    assert {m.name for m in MODELS if m.estimator == "global_hazard"} == {"fvi_mine_global"}
