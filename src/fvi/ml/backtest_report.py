"""The back-test's outputs: the gold table, the Markdown report and the reliability plot.

Everything here reads the report :func:`fvi.ml.backtest.run_backtest` builds; nothing computes a
figure.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.ml.backtest_data import BACKTEST_COLUMNS, MODEL, THIN_EVENTS, BacktestConfig


def backtest_table(rows: list[dict[str, Any]], run_id: str | None, registry_hash: str | None) -> pd.DataFrame:
    """Gold ``fvi_backtest``: one row per level, horizon, scorer (and model) pooled, and per as-of year."""
    table = pd.DataFrame(rows, columns=BACKTEST_COLUMNS).assign(run_id=run_id, registry_hash=registry_hash)
    for col in ("horizon", "n", "n_positive", "as_of_year"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    for col in (
        "auc", "brier", "brier_base_rate", "ece", "lift_riskiest_decile", "auc_minus_size", "auc_minus_size_lo",
        "auc_minus_size_hi",
    ):  # fmt: skip
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    for col in (
        "level",
        "fvi_horizon",
        "scorer",
        "model_name",
        "model_version",
        "as_of_years",
        "outcome_years",
        "persona",
        "run_id",
        "registry_hash",
    ):
        table[col] = table[col].astype(object)
    return table


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary name, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Reports


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _label(entry: dict[str, Any]) -> str:
    return f"model ({entry['model_name']})" if entry.get("scorer") == MODEL else str(entry.get("scorer"))


def backtest_markdown(report: dict[str, Any]) -> str:
    """Tables per level and horizon, with the year ranges and how each score is read."""
    cfg = report["config"]
    lines = [
        "# FVI back-test",
        "",
        f"Run `{report.get('run_id')}` · scores `{report.get('scores_run_id')}` · "
        f"registry `{report.get('registry_hash')}` · persona `{cfg['persona']}`.",
        "",
        "Every score is oriented so higher = more viable and judged against the label *viable* "
        "(countries: viable = 1 − decline). Features are as of year t, outcomes at t + H, and only as-of years "
        "whose outcome year is at most the last observed year enter.",
        "",
        f"* FVI horizon used for an outcome H years ahead: {report['fvi_horizon_map']}.",
        *[
            f"* `{k}` as a probability (Brier, calibration): {v}. AUC is rank-based."
            for k, v in report["probabilities"].items()
        ],
        "* Model rows cover only the rows with an out-of-fold prediction (their n), so compare models with the "
        "index through ΔAUC vs size, which is computed on paired rows.",
        f"* ΔAUC vs size: paired rows, cluster bootstrap over entities, {cfg['n_boot']} replicates, "
        f"{cfg['interval']:.0%} percentile interval, seed {cfg['seed']}.",
        "",
    ]
    for level, entry in report["levels"].items():
        lines += [f"## {level}", "", entry["description"] + ".", ""]
        if entry.get("skipped"):
            lines += [f"Skipped: {entry['skipped']}.", ""]
            continue
        lines += [
            f"As-of years {entry['as_of_years']}, outcome years {entry['outcome_years']}, last observed year "
            f"{entry['last_observed_year']}; {entry['n_scored']} of {entry['n_labels']} labelled rows scored.",
            "",
        ]
        for h, hd in entry["horizons"].items():
            lines += [
                f"### H = {h} years (FVI {hd['fvi_horizon']}; as-of {hd['as_of_years']}, outcomes "
                f"{hd['outcome_years']}; n = {hd['n']}, viable = {hd['n_positive']})",
                "",
                "| scorer | n | viable | AUC | Brier | Brier (base rate) | ECE | lift, riskiest 10 % "
                "| ΔAUC vs size [90 % CI] |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            ]
            for sc in hd["scorers"].values():
                d = sc.get("auc_minus_size")
                delta = "–" if not d else f"{_fmt(d['diff'])} [{_fmt(d['lo'])}, {_fmt(d['hi'])}]"
                events = int(sc["n"]) - int(sc["n_positive"])
                thin = f" (thin: {events} events)" if events < THIN_EVENTS else ""
                lift = _fmt(sc.get("lift_riskiest_decile"), 2)
                lines.append(
                    f"| {_label(sc)}{thin} | {sc['n']} | {sc['n_positive']} | {_fmt(sc['auc'])} | {_fmt(sc['brier'])} "
                    f"| {_fmt(sc['brier_base_rate'])} | {_fmt(sc.get('ece'))} | {lift} | {delta} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def plot_reliability(report: dict[str, Any], path: Path, config: BacktestConfig | None = None) -> None:
    """Reliability curves (mean predicted vs observed per quantile bin) of every scorer for one level and horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = config or BacktestConfig()
    level, horizon = cfg.plot_level, str(cfg.plot_horizon)
    hd = report["levels"].get(level, {}).get("horizons", {}).get(horizon)
    fig, ax = plt.subplots(figsize=(6.0, 6.0))
    try:
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
        if hd is None:
            ax.text(0.5, 0.5, f"no back-test for {level} at H={horizon}", ha="center", va="center")
        else:
            for sc in hd["scorers"].values():
                cal = pd.DataFrame(sc["calibration"])
                if cal.empty:
                    continue
                ax.plot(
                    cal["p_mean"],
                    cal["observed"],
                    marker="o",
                    linewidth=1.5,
                    label=f"{_label(sc)} (n {sc['n']}, AUC {_fmt(sc['auc'], 2)}, Brier {_fmt(sc['brier'], 3)})",
                )
            ax.set_title(f"{level}, H = {horizon} years (as-of {hd['as_of_years']}, n = {hd['n']})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted probability of viable (FVI / 100; size: percentile)")
        ax.set_ylabel("observed share viable")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        tmp = path.with_name(f".{path.stem}.part.png")
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
