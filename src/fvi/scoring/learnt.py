"""Score the learnt personas (``learnt`` in personas.yml) with the dynamic weights of each horizon.

The information-gain job (:mod:`fvi.weights.job`) learns pillar weights per horizon from observed
outcomes, at two levels: ``country`` (country declines) and ``mine`` (US mine closures). After it
has run, this step scores every entity with those weights (countries with the country level, GEM
and US mines with the mine level), through the same engine as the presets, and adds the rows to
``gold.fvi_scores`` under the learnt persona's id, so lists, profiles and exports show it beside
the expert personas. A horizon with no learnt weights has no data-driven score (said in the
summary); the Monte Carlo band is computed for the presets only, so these rows carry none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fvi.provenance import data_world
from fvi.registry import registry_hash
from fvi.scoring.config import ScoringSpec, load_learnt_personas
from fvi.weights.job import FIT_SUFFIX
from fvi.weights.store import read_history, weights_by_horizon

LEVEL_OF = {"country": "country", "mine": "mine", "us_mine": "mine"}


def learnt_weights(wh: Any) -> dict[str, dict[str, dict[str, float]]]:
    """{level: {horizon: {pillar: weight}}} of the latest learnt weights (normalised to sum 1)."""
    history = read_history(wh)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for level in sorted(set(LEVEL_OF.values())):
        # weights fitted on strict folds win over the information-gain ones where both exist
        by_h = {**weights_by_horizon(history, level), **weights_by_horizon(history, f"{level}{FIT_SUFFIX}")}
        for h, w in by_h.items():
            kept = {p: (v if np.isfinite(v) and v > 0 else 0.0) for p, v in w.items()}
            total = sum(kept.values())
            if total > 0:
                out.setdefault(level, {})[h] = {p: v / total for p, v in kept.items()}
    return out


def score_learnt(wh: Any, run_id: str, *, say: Callable[[str], Any] = print) -> dict[str, Any]:
    """Add the learnt personas' rows to ``gold.fvi_scores`` (replacing earlier ones); returns a summary."""
    from fvi.scoring.run import scorer_from_warehouse

    personas = load_learnt_personas()
    if not personas or not wh.has_table("gold", "fvi_scores"):
        return {"skipped": "no learnt personas or no scores"}
    weights = learnt_weights(wh)
    if not weights:
        return {"skipped": "no learnt weights yet (the dynamic-weights job had no outcomes to learn from)"}
    spec = ScoringSpec.from_registry()
    scorer = scorer_from_warehouse(wh, spec)
    frames: list[pd.DataFrame] = []
    covered: dict[str, list[str]] = {}
    for et in scorer.panels:
        by_h = weights.get(LEVEL_OF.get(et, ""), {})
        for h in spec.horizons:
            if h not in by_h:
                continue
            w = {p: by_h[h].get(p, 0.0) for p in spec.pillar_ids}
            frame = scorer.score_frame({pid: w for pid in personas}, horizons=[h], entity_types=(et,))
            frames.append(frame)
            covered.setdefault(et, []).append(h)
    if not frames:
        return {"skipped": "the learnt weights cover no scored horizon"}
    new = pd.concat(frames, ignore_index=True)
    text = new.select_dtypes("category").columns
    new[text] = new[text].astype(object)
    gold = wh.schema("gold")
    old = wh.query(f"select * from {gold}.fvi_scores")
    old = old[~old["persona"].isin(list(personas))]
    world = data_world(wh)
    synthetic = bool(old["is_synthetic"].any()) if "is_synthetic" in old.columns else False
    new = new.assign(run_id=run_id, registry_hash=registry_hash(), is_synthetic=synthetic,
                     data_world=world.fingerprint)
    for c in old.columns:
        if c not in new.columns:
            new[c] = np.nan
    combined = pd.concat([old, new[old.columns]], ignore_index=True)
    for c in ("rank", "rank_in_country", "rank_in_status"):
        if c in combined.columns:
            combined[c] = combined[c].astype("Int64")
    wh.write_table("gold", "fvi_scores", combined)
    summary = {"personas": list(personas), "rows": int(len(new)), "horizons": covered}
    say(f"learnt personas {list(personas)} scored: {len(new)} rows ({covered})")
    return summary
