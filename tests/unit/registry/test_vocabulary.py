"""The shared vocabulary comes from the registry files, and nothing in src restates it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from fvi.registry import vocabulary as v
from fvi.scoring.config import load_personas

SRC = Path(__file__).resolve().parents[3] / "src" / "fvi"


def test_words_come_from_the_registry() -> None:
    metrics = yaml.safe_load((SRC / "registry" / "metrics.yml").read_text())
    assert v.HORIZON_LABELS == tuple(metrics["defaults"]["horizons"])
    assert v.HORIZONS == tuple(int(h[1:]) for h in metrics["defaults"]["horizons"])
    assert v.DEFAULT_PERSONA in load_personas()
    assert v.PERSONA_IDS == tuple(load_personas())
    assert {"decline", "stopped", "closed"} <= v.BAD_TARGETS
    models = yaml.safe_load((SRC / "registry" / "models.yml").read_text())
    assert v.METHOD_PREFERENCE == tuple(models["method_preference"])
    # the worldwide model answers GEM mines first; a direct classifier still precedes the US hazard curve
    assert v.METHOD_PREFERENCE[0] == "global_hazard"
    assert v.METHOD_PREFERENCE.index("classifier") < v.METHOD_PREFERENCE.index("hazard")


@pytest.mark.parametrize(("value", "label"), [(5, "H5"), ("10", "H10"), ("h20", "H20"), (5.0, "H5"), ("H5", "H5")])
def test_horizon_label(value: object, label: str) -> None:
    assert v.horizon_label(value) == label
    assert v.horizon_years(label) == int(label[1:])


def test_horizon_label_refuses_junk() -> None:
    with pytest.raises(ValueError, match="not a horizon"):
        v.horizon_label("soon")


def test_us_mine_keys_round_trip() -> None:
    assert v.us_mine_id(4801353) == "MSHA4801353"
    assert v.us_mine_id("4801353.0") == "MSHA4801353"
    assert v.us_mine_id("MSHA12") == "MSHA12"
    assert list(v.us_mine_ids([12, None, 3.0])) == ["MSHA12", None, "MSHA3"]
    ids = v.msha_of(["MSHA12", "M1052", None])
    assert ids.iloc[0] == 12 and ids.iloc[1:].isna().all()
    assert v.us_mine_id_sql("o.msha_id") == "'MSHA' || cast(o.msha_id as varchar)"


def test_no_module_restates_the_vocabulary() -> None:
    """Horizon tuples, persona defaults, bad-target sets and MSHA keys live in one module."""
    patterns = {
        "horizon tuple": re.compile(r"\(5, 10, 20\)"),
        "horizon literal": re.compile(r"Literal\[\"H5\""),
        "default persona literal": re.compile(r"= \"analyst\""),
        "bad-target set": re.compile(r"frozenset\(\{\"decline\""),
        "MSHA key in Python": re.compile(r"\"MSHA\" \+|f\"MSHA\{"),
        "MSHA key in SQL": re.compile(r"'MSHA' \|\||US_PREFIX!r\} \|\|"),
    }
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(SRC)}: {what}" for what, pat in patterns.items() if pat.search(text)]
    assert offenders == []


def test_a_declared_model_with_an_unknown_estimator_is_refused() -> None:
    from fvi.registry.vocabulary import _model_spec

    doc = {"name": "x", "entity": "mine", "label": "t.c", "target": "operating", "horizons": [5],
           "feature_horizon": "H5", "estimator": "classifier", "validation": "strict"}
    assert _model_spec(doc, ("H5",)).horizons == (5,)
    with pytest.raises(ValueError, match="estimator"):
        _model_spec({**doc, "estimator": "neural_net"}, ("H5",))
    with pytest.raises(ValueError, match="entity"):
        _model_spec({**doc, "entity": "plant"}, ("H5",))


def test_the_us_mine_key_dbt_makes_is_the_vocabularys() -> None:
    """dim_entity makes the 'MSHA' key (macro us_mine_entity_id); the vocabulary must say the same."""
    import re
    from pathlib import Path

    from fvi.registry.vocabulary import US_MINE_PREFIX

    macro = (Path(__file__).resolve().parents[3] / "warehouse" / "macros" / "entities.sql").read_text("utf-8")
    made = re.search(r"'([A-Z]+)' \|\| cast\(\{\{ column \}\} as varchar\)", macro)
    assert made is not None and made.group(1) == US_MINE_PREFIX
