"""The probabilities FVI publishes: one coherent answer per entity, as-of year and horizon.

The models answer pieces of the question separately (a mine H5 classifier, a hazard model's
survival curve, one country classifier per horizon, a Bayesian model for intervals). Shown side
by side those pieces contradicted each other: P(operating) of a closed mine 0.41 at H5 and 0.05
at H10, a point outside the interval printed beside it, a country model with no skill at H20
answering 0.48 for every country. This step turns them into one table,
``gold.fvi_probabilities``, that every reader (profiles, exports, fact sheets) uses:

* **Oriented to viable.** ``p_viable`` is P(operating) for mines and 1 - P(decline) for
  countries; ``p_target`` keeps the model's own orientation for the exports' ``p_decline``.
* **Never rising with the horizon.** A longer horizon answered by the hazard model is chained to
  the horizon-5 answer: P(H) = P(5) x S(H) / S(5) (the survival curve's conditional survival);
  then a running minimum guarantees P(viable at H) <= P(viable at a shorter H).
* **Observed status first.** A GEM mine closed (or retired) by the as-of year is not viable:
  ``p_viable`` 0, ``method`` ``observed_status``, with the closure year in the note. A US mine
  the EIA lists as permanently abandoned in that year likewise, and a US mine whose GEM record
  (the crosswalk's same mine) closed in year c is not viable at any horizon reaching c: what FVI
  publishes uses every observation it holds, while the back-test judges out-of-fold values only.
* **Skill before publication.** A model whose strict back-test at that horizon gives an AUC
  whose 90 % lower bound (Hanley-McNeil) is not above 0.5 is not published: ``p_viable`` is NULL
  and ``note`` says why. Horizons no back-test reaches borrow the skill of the model's longest
  back-tested horizon and say so.
* **The interval belongs to the point.** The Bayesian model's spread on the log-odds scale
  (its 5th and 95th percentiles against its own mean) is laid around the published point, so the
  band always contains it; ``interval_method`` names where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fvi import known
from fvi.registry.vocabulary import HORIZON_LABELS, METHOD_PREFERENCE, horizon_label, is_bad_target
from fvi.warehouse import Warehouse

TABLE = "fvi_probabilities"
KEYS = ["entity_type", "entity_id", "as_of_year", "horizon"]
COLUMNS = [
    *KEYS, "target", "p_viable", "p_lo", "p_hi", "p_target", "p_target_lo", "p_target_hi", "method",
    "model_name", "model_version", "interval_method", "is_published", "note", "run_id",
]  # fmt: skip
#: One-sided 90 % normal quantile for the skill bound on AUC.
Z90 = 1.6449
#: GEM statuses that mean the mine no longer operates (outcomes.yml gem_survival.event_statuses).
_EPS = 1e-6
US_CLOSED_STATUS = "Permanently abandoned"


def auc_lower_bound(auc: float, n: int, n_positive: int, z: float = Z90) -> float:
    """Hanley & McNeil (1982) lower bound of an AUC from its sample sizes."""
    n_pos, n_neg = int(n_positive), int(n) - int(n_positive)
    if n_pos <= 0 or n_neg <= 0 or not math.isfinite(auc):
        return float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return float(auc - z * math.sqrt(max(var, 0.0)))


def skill_table(backtest: pd.DataFrame) -> dict[tuple[str, str], tuple[bool, str]]:
    """(model_name, horizon label) -> (published?, reason) from the pooled strict back-test rows."""
    out: dict[tuple[str, str], tuple[bool, str]] = {}
    if backtest.empty:
        return out
    rows = backtest[(backtest["scorer"] == "model") & backtest["as_of_year"].isna()]
    for (name, fh), grp in rows.groupby(["model_name", "fvi_horizon"]):
        best = grp.sort_values("n", ascending=False).iloc[0]
        lo = auc_lower_bound(float(best["auc"]), int(best["n"]), int(best["n_positive"]))
        ok = bool(lo > 0.5)
        why = (
            f"strict back-test AUC {float(best['auc']):.3f} (90 % lower bound {lo:.3f}, n = {int(best['n'])}, "
            f"{int(best['n_positive'])} positives)"
        )
        out[(str(name), horizon_label(fh))] = (ok, why if ok else f"not published: no skill on its {why}")
    return out


def _skill(skills: dict[tuple[str, str], tuple[bool, str]], model: str, horizon: str) -> tuple[bool, str]:
    if (model, horizon) in skills:
        return skills[(model, horizon)]
    tested = [h for (m, h) in skills if m == model]
    if not tested:
        return True, "no strict back-test could be run for this model (no outcome resolves in the data)"
    longest = max(tested, key=lambda h: int(h[1:]))
    ok, why = skills[(model, longest)]
    return ok, f"extrapolated beyond the back-tested horizons: {why} at {longest}"


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def recentre(point: np.ndarray, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band (lo, hi) around ``mean`` moved, on the log-odds scale, to sit around ``point``."""
    base = _logit(point)
    new_lo = _expit(base - np.maximum(_logit(mean) - _logit(lo), 0.0))
    new_hi = _expit(base + np.maximum(_logit(hi) - _logit(mean), 0.0))
    exact0, exact1 = point <= 0.0, point >= 1.0
    new_lo = np.where(exact0, 0.0, np.minimum(new_lo, point))
    new_hi = np.where(exact1, 1.0, np.maximum(new_hi, point))
    return new_lo, new_hi


def _oriented(preds: pd.DataFrame) -> pd.DataFrame:
    """``p_viable`` per prediction row (models with a bad-outcome target are turned round)."""
    preds = preds.copy()
    preds["horizon"] = preds["horizon"].map(horizon_label)
    preds["as_of_year"] = preds["as_of_year"].astype(int)
    bad = preds["target"].map(is_bad_target).astype(bool)
    p = preds["p"].astype(float)
    preds["p_viable"] = p.where(~bad, 1.0 - p)
    rank = {m: i for i, m in enumerate(METHOD_PREFERENCE)}
    preds["_method"] = preds["method"].map(rank).fillna(len(rank))
    preds["_version"] = pd.to_numeric(preds["model_version"], errors="coerce")
    return preds.sort_values(["_method", "model_name", "_version"], ascending=[True, True, False], kind="stable")


def coherent(
    preds: pd.DataFrame,
    bayes: pd.DataFrame,
    skills: dict[tuple[str, str], tuple[bool, str]],
    closed: pd.DataFrame,
) -> pd.DataFrame:
    """The published table from raw model rows (pure: the unit tests call it on hand-made frames).

    ``preds``: rows of ``fvi_predictions``; ``bayes``: rows of ``fvi_predictions_bayes`` (P(viable));
    ``closed``: entity_type, entity_id, as_of_year, note for entities observed closed at that year.
    """
    if preds.empty:
        return pd.DataFrame(columns=COLUMNS)
    preds = _oriented(preds)
    if "p_lo" in preds:  # a model's own band, oriented like its point
        bad = preds["target"].map(is_bad_target).astype(bool)
        lo, hi = pd.to_numeric(preds["p_lo"], errors="coerce"), pd.to_numeric(preds["p_hi"], errors="coerce")
        preds = preds.drop(columns=["p_lo", "p_hi"]).assign(
            own_lo=lo.where(~bad, 1.0 - hi),
            own_hi=hi.where(~bad, 1.0 - lo),
            own_method=preds.get("interval_method"),
        )
    ent = ["entity_type", "entity_id", "as_of_year"]
    best = preds.drop_duplicates(KEYS)
    hazard = preds[preds["method"] == "hazard"].drop_duplicates(KEYS).set_index(KEYS)["p_viable"]
    order = {h: i for i, h in enumerate(HORIZON_LABELS)}
    best = best[best["horizon"].isin(order)].copy()
    best["_h"] = best["horizon"].map(order)
    best = best.sort_values([*ent, "_h"], kind="stable").reset_index(drop=True)

    # chain longer horizons answered by the hazard curve onto the shortest horizon's answer
    first = best.groupby(ent, sort=False).head(1).set_index(ent)
    p = best["p_viable"].to_numpy(dtype=float).copy()
    method = best["method"].astype(object).to_numpy().copy()
    idx = pd.MultiIndex.from_frame(best[ent])
    head_p = first["p_viable"].reindex(idx).to_numpy(dtype=float)
    head_h = first["horizon"].reindex(idx).to_numpy()
    head_m = first["method"].reindex(idx).to_numpy()
    s_h = hazard.reindex(pd.MultiIndex.from_frame(best[KEYS])).to_numpy(dtype=float)
    s_0 = hazard.reindex(
        pd.MultiIndex.from_arrays([best["entity_type"], best["entity_id"], best["as_of_year"], head_h])
    ).to_numpy(dtype=float)
    chain = (best["method"].to_numpy() == "hazard") & (head_m != "hazard") & (best["horizon"].to_numpy() != head_h)
    chain &= np.isfinite(s_h) & np.isfinite(s_0) & np.isfinite(head_p)
    ratio = np.where(s_0 > 0, np.minimum(s_h / np.where(s_0 > 0, s_0, 1.0), 1.0), 0.0)
    p = np.where(chain, head_p * ratio, p)
    method = np.where(chain, "classifier_x_hazard", method)
    best["p_viable"], best["method"] = p, method

    # skill gate per model and horizon
    gate = [_skill(skills, str(m), str(h)) for m, h in zip(best["model_name"], best["horizon"], strict=True)]
    best["is_published"] = [g[0] for g in gate]
    own = best["note"] if "note" in best else pd.Series(None, index=best.index, dtype=object)
    best["note"] = [f"{o}; {g[1]}" if isinstance(o, str) and o else g[1] for o, g in zip(own, gate, strict=True)]
    best.loc[~best["is_published"], "p_viable"] = np.nan

    # never rising with the horizon (published values only)
    best["p_viable"] = best.groupby(ent, sort=False)["p_viable"].cummin()

    # intervals: the Bayesian spread of the same horizon laid around the point
    bayes = bayes.copy()
    if not bayes.empty:
        bayes["horizon"] = bayes["horizon"].map(horizon_label)
        bayes["as_of_year"] = bayes["as_of_year"].astype(int)
        bayes = bayes.drop_duplicates(KEYS, keep="last")
    out = best.merge(
        bayes[[*KEYS, "p_mean", "p_lo", "p_hi"]]
        if not bayes.empty
        else pd.DataFrame(columns=[*KEYS, "p_mean", "p_lo", "p_hi"]),
        on=KEYS,
        how="left",
    )
    for col in ("p_mean", "p_lo", "p_hi"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    has_band = out[["p_mean", "p_lo", "p_hi"]].notna().all(axis=1) & out["p_viable"].notna()
    lo, hi = recentre(
        out["p_viable"].fillna(0.5).to_numpy(float),
        out["p_mean"].fillna(0.5).to_numpy(float),
        out["p_lo"].fillna(0.5).to_numpy(float),
        out["p_hi"].fillna(0.5).to_numpy(float),
    )
    out["p_lo"] = np.where(has_band, lo, np.nan)
    out["p_hi"] = np.where(has_band, hi, np.nan)
    out["interval_method"] = pd.Series("bayes_spread_around_point", index=out.index).where(has_band)
    out = _chain_bands(out, ent)
    out = _own_bands(out)

    # observed status wins over any model
    if not closed.empty:
        dated = closed["closed_year"].notna() if "closed_year" in closed else pd.Series(False, index=closed.index)
        c = closed[~dated].astype({"as_of_year": int}).drop_duplicates(ent).set_index(ent)["note"]
        hit = c.reindex(pd.MultiIndex.from_frame(out[ent]))
        if dated.any():  # closed in a known year: every as-of row whose horizon reaches that year
            later = closed[dated].drop_duplicates(["entity_type", "entity_id"]).set_index(["entity_type", "entity_id"])
            idx = pd.MultiIndex.from_frame(out[["entity_type", "entity_id"]])
            year = later["closed_year"].astype(float).reindex(idx).to_numpy()
            reach = out["as_of_year"].astype(int).to_numpy() + out["horizon"].map(lambda h: int(str(h)[1:])).to_numpy()
            reached = np.isfinite(year) & (reach >= year)
            hit = hit.where(~pd.Series(reached, index=hit.index) | hit.notna(), later["note"].reindex(idx).to_numpy())
        is_closed = hit.notna().to_numpy()
        out.loc[is_closed, ["p_viable", "p_lo", "p_hi"]] = 0.0
        out.loc[is_closed, "method"] = "observed_status"
        out.loc[is_closed, "interval_method"] = "observed_status"
        out.loc[is_closed, "is_published"] = True
        out.loc[is_closed, "note"] = hit[is_closed].to_numpy()

    bad = out["target"].map(is_bad_target).astype(bool)
    pv, plo, phi = out["p_viable"], out["p_lo"], out["p_hi"]
    out["p_target"] = pv.where(~bad, 1.0 - pv)
    out["p_target_lo"] = plo.where(~bad, 1.0 - phi)
    out["p_target_hi"] = phi.where(~bad, 1.0 - plo)
    out["model_version"] = out["model_version"].astype(str)
    out["run_id"] = None
    return out[COLUMNS].reset_index(drop=True)


def _own_bands(out: pd.DataFrame) -> pd.DataFrame:
    """A model that gives its own band for its own point (``own_lo``/``own_hi``) keeps it, widened to hold the point."""
    if "own_lo" not in out:
        return out
    lo, hi = pd.to_numeric(out["own_lo"], errors="coerce"), pd.to_numeric(out["own_hi"], errors="coerce")
    p = out["p_viable"]
    use = lo.notna() & hi.notna() & p.notna()
    out.loc[use, "p_lo"] = np.fmin(lo[use], p[use])
    out.loc[use, "p_hi"] = np.fmax(hi[use], p[use])
    out.loc[use, "interval_method"] = out.loc[use, "own_method"]
    return out


def _chain_bands(out: pd.DataFrame, ent: list[str]) -> pd.DataFrame:
    """A chained horizon without a band of its own takes the first horizon's band, scaled like its point."""
    head = out.groupby(ent, sort=False).head(1).set_index(ent)[["p_viable", "p_lo", "p_hi"]]
    idx = pd.MultiIndex.from_frame(out[ent])
    hp, hlo, hhi = (head[c].reindex(idx).to_numpy(dtype=float) for c in ("p_viable", "p_lo", "p_hi"))
    need = (out["method"].to_numpy() == "classifier_x_hazard") & out["p_lo"].isna().to_numpy()
    need &= np.isfinite(hlo) & np.isfinite(hhi) & (hp > 0) & out["p_viable"].notna().to_numpy()
    scale = np.where(need, out["p_viable"].to_numpy(dtype=float) / np.where(hp > 0, hp, 1.0), np.nan)
    out.loc[need, "p_lo"] = (hlo * scale)[need]
    out.loc[need, "p_hi"] = np.minimum(hhi * scale, 1.0)[need]
    out.loc[need, "interval_method"] = "bayes_spread_around_point, chained by the hazard curve"
    return out


def _us_rows(msha_ids: pd.Series, **columns: Any) -> pd.DataFrame:
    """Closed-entity rows for US mines (entity ids built from the MSHA ids) with the given columns."""
    from fvi.registry.vocabulary import us_mine_ids

    return pd.DataFrame({"entity_type": "us_mine", "entity_id": us_mine_ids(msha_ids).to_numpy(), **columns})


def closed_entities(wh: Warehouse, event_statuses: list[str]) -> pd.DataFrame:
    """Entities observed closed at an as-of year: GEM mines by status and closure year, US mines by EIA status."""
    g = wh.schema("gold")
    frames = []
    marks = ", ".join("?" for _ in event_statuses)
    closed_statuses = [s.lower() for s in event_statuses]
    if wh.has_table("gold", "dim_mine") and wh.has_table("gold", "fvi_scores"):
        gem = wh.query(
            f"select distinct s.entity_type, s.entity_id, s.as_of_year, m.status, m.closing_year, m.latest_release "
            f"from {g}.fvi_scores s join {g}.dim_mine m on s.entity_type = 'mine' and m.gem_mine_id = s.entity_id "
            f"where lower(m.status) in ({marks})",
            closed_statuses,
        )
        if not gem.empty:
            release = known.release_year(gem[known.RELEASE_COLUMN])
            since = pd.to_numeric(gem["closing_year"], errors="coerce").fillna(release)
            gem = gem[gem["as_of_year"].astype(int) >= since]
            gem["note"] = [
                f"{status} (GEM Coal Mine Tracker{', closed in ' + str(int(y)) if pd.notna(y) else ''})"
                for status, y in zip(gem["status"], gem["closing_year"], strict=True)
            ]
            frames.append(gem[["entity_type", "entity_id", "as_of_year", "note"]])
    us_cols = (
        set(wh.query(f"select * from {g}.fct_us_mine__yearly limit 0").columns)
        if wh.has_table("gold", "fct_us_mine__yearly")
        else set()
    )
    if "status" in us_cols:
        us = wh.query(
            f"select msha_id, year as as_of_year from {g}.fct_us_mine__yearly where status = ?", [US_CLOSED_STATUS]
        )
        if not us.empty:
            frames.append(
                _us_rows(us["msha_id"], as_of_year=us["as_of_year"].astype(int).to_numpy(),
                         note=f"{US_CLOSED_STATUS.lower()} that year (EIA mine file)")
            )  # fmt: skip
    if "gem_mine_id" in us_cols and wh.has_table("gold", "dim_mine"):
        linked = wh.query(
            f"select distinct f.msha_id, m.gem_mine_id, m.closing_year from {g}.fct_us_mine__yearly f "
            f"join {g}.dim_mine m on m.gem_mine_id = f.gem_mine_id "
            f"where lower(m.status) in ({marks}) and m.closing_year is not null",
            closed_statuses,
        )
        if not linked.empty:
            linked = linked.sort_values("closing_year").drop_duplicates("msha_id")
            notes = [
                f"closed in {int(y)} (GEM Coal Mine Tracker {gid}, the same mine): not operating by then"
                for gid, y in zip(linked["gem_mine_id"], linked["closing_year"], strict=True)
            ]
            frames.append(
                _us_rows(linked["msha_id"], as_of_year=np.nan,
                         closed_year=linked["closing_year"].astype(float).to_numpy(), note=notes)
            )  # fmt: skip
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["entity_type", "entity_id", "as_of_year", "note"])
    )


def publish(
    wh: Warehouse,
    sink: Warehouse | None = None,
    *,
    run_id: str | None = None,
    backtest: pd.DataFrame | None = None,
    say: Callable[[str], Any] = lambda _m: None,
) -> dict[str, Any]:
    """Build ``gold.fvi_probabilities`` from the model tables of ``wh`` and write it to ``sink``."""
    from fvi.outcomes.labels import load_config

    g = wh.schema("gold")
    preds = (
        wh.query(f"select * from {g}.fvi_predictions") if wh.has_table("gold", "fvi_predictions") else pd.DataFrame()
    )
    bayes = (
        wh.query(f"select * from {g}.fvi_predictions_bayes")
        if wh.has_table("gold", "fvi_predictions_bayes")
        else pd.DataFrame()
    )
    if backtest is None:
        backtest = (
            wh.query(f"select * from {g}.fvi_backtest") if wh.has_table("gold", "fvi_backtest") else pd.DataFrame()
        )
    closed = closed_entities(wh, list(load_config().gem_survival.event_statuses))
    table = coherent(preds, bayes, skill_table(backtest), closed)
    table["run_id"] = run_id
    (sink or wh).write_table("gold", TABLE, table)
    unpublished = sorted(
        {
            f"{m} {h}"
            for m, h, ok in zip(table["model_name"], table["horizon"], table["is_published"], strict=True)
            if not ok
        }
    )
    summary = {
        "rows": len(table),
        "observed_closed": int((table["method"] == "observed_status").sum()),
        "chained": int((table["method"] == "classifier_x_hazard").sum()),
        "not_published": unpublished,
    }
    say(f"published probabilities: {summary['rows']} rows; not published: {', '.join(unpublished) or 'none'}")
    return summary
