"""Statistical audit of the index (JRC steps 4-5 and 7): structure, double counting, real influence.

Does the structure hold, is anything counted twice, and does each metric move the FVI as much as
its weight says?

For the latest as-of year of each entity type: per pillar, the Pearson correlation matrix of the
normalised metric scores and Cronbach's alpha; every metric pair with |r| above the registry
threshold flagged as double counting; any indicator (same gold column) placed in two pillars
flagged; and per horizon and persona, each metric's real influence on the FVI (Pearson's
correlation ratio eta^2 of the FVI on the metric, binned) beside its nominal effective weight.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.registry.metrics import Metric
from fvi.registry.vocabulary import DEFAULT_PERSONA
from fvi.scoring.engine import ENTITY_METRICS, Scorer

ENTITY_TITLES = {"mine": "GEM mines", "us_mine": "US mines (EIA)", "country": "Countries"}


def placement_findings(metrics: Mapping[str, Metric]) -> list[dict[str, Any]]:
    """Indicators (gold table + column) that feed more than one pillar, or one pillar twice."""
    by_column: dict[tuple[str, str], list[Metric]] = defaultdict(list)
    for m in metrics.values():
        by_column[(m.gold.table, m.gold.column)].append(m)
    out = []
    for (table, column), ms in by_column.items():
        if len(ms) > 1:
            pillars = sorted({m.pillar for m in ms})
            out.append(
                {
                    "kind": "indicator_in_two_pillars" if len(pillars) > 1 else "indicator_counted_twice",
                    "indicator": f"{table}.{column}",
                    "metrics": [m.id for m in ms],
                    "pillars": pillars,
                }
            )
    return out


def cronbach_alpha(scores: np.ndarray) -> float:
    """Cronbach's alpha over complete rows of [n, k] item scores (k >= 2); NaN if undefined."""
    x = scores[~np.isnan(scores).any(axis=1)]
    k = x.shape[1]
    if k < 2 or len(x) < 3:
        return float("nan")
    total = x.sum(axis=1).var(ddof=1)
    if total == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total))


def correlation_ratio(y: np.ndarray, x: np.ndarray, bins: int) -> float:
    """eta^2 = Var(E[y | x]) / Var(y), x binned into quantile bins (rows where both exist)."""
    ok = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(y) < bins * 2 or y.var() == 0 or np.ptp(x) == 0:
        return float("nan")
    codes = pd.qcut(pd.Series(x).rank(method="first"), q=bins, labels=False).to_numpy()
    means = pd.Series(y).groupby(codes).transform("mean").to_numpy()
    return float(means.var() / y.var())


def run_audit(scorer: Scorer, personas: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """Audit the latest as-of year of each entity type; the report :func:`write_audit` saves.

    Per entity type: per-pillar correlations and Cronbach's alpha, metric pairs with |r| above the
    double-counting threshold, and per horizon and persona each metric's eta^2 beside its nominal weight;
    plus indicators placed in more than one pillar.
    """
    spec = scorer.spec
    rules = spec.defaults.scoring
    report: dict[str, Any] = {
        "thresholds": {"double_counting_r": rules.double_counting_r, "influence_bins": rules.influence_bins},
        "placement": placement_findings(spec.metrics),
        "entity_types": {},
    }
    for et, panel in scorer.panels.items():
        rows = panel.latest_rows()
        if len(rows) == 0:
            continue
        s = scorer.metric_scores(et)[rows]
        ids = [m.id for m in panel.metrics]
        frame = pd.DataFrame(s, columns=ids)
        corr = frame.corr(method="pearson", min_periods=10)
        pillars: dict[str, Any] = {}
        for p in spec.pillar_ids:
            cols = [m.id for m in panel.metrics if m.pillar == p]
            if not cols:
                continue
            pillars[p] = {
                "metrics": cols,
                "n_complete_rows": int(frame[cols].notna().all(axis=1).sum()),
                "correlation": corr.loc[cols, cols].round(3).where(corr.loc[cols, cols].notna(), None).to_dict(),
                "cronbach_alpha": None if np.isnan(a := cronbach_alpha(frame[cols].to_numpy())) else round(a, 3),
            }
        flagged: list[dict[str, Any]] = []
        for i, first in enumerate(ids):
            for second in ids[i + 1 :]:
                r = float(corr.at[first, second])  # type: ignore[arg-type]
                if not np.isnan(r) and abs(r) > rules.double_counting_r:
                    pa, pb = spec.metrics[first].pillar, spec.metrics[second].pillar
                    flagged.append(
                        {"a": first, "b": second, "r": round(float(r), 3), "same_pillar": pa == pb, "pillars": [pa, pb]}
                    )
        influence = []
        for h in spec.horizons:
            pillar_scores = scorer.pillar_scores(et, h)[rows]
            hw = spec.entities[ENTITY_METRICS[et]].horizon_weights[h]
            for pid, weights in personas.items():
                w = spec.weight_vector(weights)
                fvi, _ = scorer.composite(pillar_scores, w)
                fvi = fvi[:, 0]
                etas = {
                    m.id: correlation_ratio(fvi, s[:, j], rules.influence_bins) for j, m in enumerate(panel.metrics)
                }
                total_eta = np.nansum(list(etas.values()))
                for j, m in enumerate(panel.metrics):
                    same = [k for k, x in enumerate(panel.metrics) if x.pillar == m.pillar]
                    within = hw[j] / hw[same].sum() if hw[same].sum() > 0 else 0.0
                    pillar_w = w[spec.pillar_ids.index(m.pillar)]
                    if et != "country":
                        pillar_w *= 1 - spec.blend[spec.pillar_ids.index(m.pillar)]
                    eta = etas[m.id]
                    influence.append(
                        {
                            "horizon": h,
                            "persona": pid,
                            "metric": m.id,
                            "pillar": m.pillar,
                            "nominal_weight": round(float(pillar_w * within), 4),
                            "eta2": None if np.isnan(eta) else round(eta, 4),
                            "influence_share": None if np.isnan(eta) or total_eta == 0 else round(eta / total_eta, 4),
                            "coverage": round(float((~np.isnan(s[:, j])).mean()), 3),
                        }
                    )
        report["entity_types"][et] = {
            "as_of_year": int(panel.keys["as_of_year"].iloc[rows[0]]),
            "n_entities": len(rows),
            "pillars": pillars,
            "high_correlation_pairs": flagged,
            "influence": influence,
        }
    return report


def audit_markdown(report: Mapping[str, Any], persona: str = DEFAULT_PERSONA, horizon: str = "H10") -> str:
    """A readable summary of the audit: flags first, then influence vs weight for one persona and horizon."""
    lines = ["# FVI statistical audit", ""]
    placement = report["placement"]
    lines += ["## Indicator placement", ""]
    lines += [
        f"- **{f['kind']}**: `{f['indicator']}` in metrics {f['metrics']} (pillars {f['pillars']})" for f in placement
    ] or ["- every indicator sits in exactly one pillar"]
    for et, block in report["entity_types"].items():
        lines += [
            "",
            f"## {ENTITY_TITLES.get(et, et)} (as of {block['as_of_year']}, {block['n_entities']} entities)",
            "",
        ]
        lines += ["### Pairs with |r| above the threshold (double counting)", ""]
        lines += [
            f"- `{f['a']}` ~ `{f['b']}`: r = {f['r']} ({_where(f)})" for f in block["high_correlation_pairs"]
        ] or ["- none"]
        lines += [
            "",
            "### Cronbach's alpha per pillar",
            "",
            "| pillar | metrics | complete rows | alpha |",
            "|---|---|---|---|",
        ]
        for p, info in block["pillars"].items():
            alpha = "n/a" if info["cronbach_alpha"] is None else info["cronbach_alpha"]
            lines.append(f"| {p} | {len(info['metrics'])} | {info['n_complete_rows']} | {alpha} |")
        lines += [
            "",
            f"### Influence vs nominal weight ({persona}, {horizon})",
            "",
            "| metric | pillar | nominal weight | eta^2 | influence share | coverage |",
            "|---|---|---|---|---|---|",
        ]
        for row in block["influence"]:
            if row["persona"] == persona and row["horizon"] == horizon:
                lines.append(
                    f"| `{row['metric']}` | {row['pillar']} | {row['nominal_weight']} | {row['eta2']} | "
                    f"{row['influence_share']} | {row['coverage']} |"
                )
    return "\n".join(lines) + "\n"


def _where(finding: Mapping[str, Any]) -> str:
    return "same pillar" if finding["same_pillar"] else "pillars " + "/".join(finding["pillars"])


def write_audit(report: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write the audit report as ``audit.json`` and ``audit.md`` in ``out_dir``; both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / "audit.json", out_dir / "audit.md"
    js.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    md.write_text(audit_markdown(report), encoding="utf-8")
    return js, md
