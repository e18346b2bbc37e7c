"""Before/after comparison of two full ``fvi run`` homes: every export and back-test figure that moved.

Each home is an FVI_HOME holding the results of a full run: the DuckDB warehouse at
``<home>/warehouse/fvi.duckdb`` (opened read-only) and run folders ``<home>/runs/<id>/``.

* Exports: the tables ``fvi export scores --entity mine`` and ``--entity country`` write, built by
  the project's own :func:`fvi.ml.export_mines.mine_score_frame` / ``country_score_frame``. Per
  entity type and horizon: rows, coverage and mean/median of FVI, of the probability
  (``p_operating`` for mines, ``p_decline`` for countries) and its interval, and of each pillar.
  On the keys both homes share (mine or country, horizon): the rank correlation of FVI and of the
  probability between the homes and the largest per-entity changes.
* Back-test: ``gold.fvi_backtest`` (the latest run's table; the latest run folder's
  ``backtest/backtest.json`` when the table is missing): AUC, Brier and the other figures of every
  (level, horizon, scorer, model), pooled and per as-of year.

Markdown goes to stdout; ``--json PATH`` also writes the whole comparison as JSON (``-``: JSON to
stdout instead of Markdown). A figure has moved when it differs by more than ``--tolerance`` or
is missing on one side. Run with the project's interpreter::

    .venv/bin/python scripts/compare_runs.py BEFORE_HOME AFTER_HOME [--json report.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from fvi.ml.export_mines import HORIZONS, country_score_frame, mine_score_frame
from fvi.registry.vocabulary import DEFAULT_PERSONA
from fvi.warehouse import DuckDBWarehouse, Warehouse

EXPORTS = {"mine": ("mine_id", "mine_name", "p_operating"), "country": ("iso3", "country_name", "p_decline")}
"""export -> (key column, name column, probability column), as in ``fvi.ml.export_mines``."""
BACKTEST_KEYS = ["level", "horizon", "scorer", "model_name", "as_of_year"]
BACKTEST_FIGURES = [
    "n", "n_positive", "auc", "brier", "brier_base_rate", "auc_minus_size", "auc_minus_size_lo", "auc_minus_size_hi",
]  # fmt: skip
POOLED = "pooled"


# ---------------------------------------------------------------------------------------------
# Reading one home


def warehouse_path(home: Path) -> Path:
    return home / "warehouse" / "fvi.duckdb"


def open_home(home: Path) -> Warehouse:
    """The home's warehouse, read-only (a missing file is an error, never created)."""
    return DuckDBWarehouse(warehouse_path(home), read_only=True)


def _distinct(wh: Warehouse, table: str, column: str) -> list[str]:
    if not wh.has_table("gold", table):
        return []
    rows = wh.query(f"select distinct {column} as v from {wh.schema('gold')}.{table} where {column} is not null")
    return sorted(str(v) for v in rows["v"])


def run_info(wh: Warehouse, home: Path) -> dict[str, Any]:
    """Which runs the compared tables come from (run ids and registry hash as written by the run)."""
    runs = home / "runs"
    folders = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
    return {
        "home": str(home),
        "scores_run_ids": _distinct(wh, "fvi_scores", "run_id"),
        "backtest_run_ids": _distinct(wh, "fvi_backtest", "run_id"),
        "registry_hashes": _distinct(wh, "fvi_scores", "registry_hash"),
        "latest_run_folder": folders[-1] if folders else None,
    }


def export_frames(wh: Warehouse, persona: str) -> dict[str, pd.DataFrame]:
    """The two export tables, in one shape: export, entity_type, key, name, horizon, fvi, p, p_lo, p_hi, pillars."""
    out = {}
    for export, build in (("mine", mine_score_frame), ("country", country_score_frame)):
        key, name, prob = EXPORTS[export]
        try:
            frame = build(wh, persona=persona)
        except LookupError:  # no gold.fvi_scores: nothing to export
            frame = pd.DataFrame(columns=[key, name, "horizon", "as_of_year", "fvi", prob, f"{prob}_lo", f"{prob}_hi"])
        frame = frame.rename(columns={key: "key", name: "name", prob: "p", f"{prob}_lo": "p_lo", f"{prob}_hi": "p_hi"})
        if export == "country":
            frame["entity_type"] = "country"
        frame["export"] = export
        out[export] = frame.reset_index(drop=True)
    return out


def backtest_rows(wh: Warehouse, home: Path) -> tuple[pd.DataFrame, str]:
    """The latest run's back-test rows and where they were read from."""
    if wh.has_table("gold", "fvi_backtest"):
        frame = wh.query(f"select * from {wh.schema('gold')}.fvi_backtest")
        return _backtest_keys(frame), "gold.fvi_backtest"
    runs = home / "runs"
    files = sorted(runs.glob("*/backtest/backtest.json")) if runs.is_dir() else []
    if not files:
        return pd.DataFrame(columns=BACKTEST_KEYS + BACKTEST_FIGURES), "none"
    path = files[-1]
    return _backtest_keys(backtest_json_rows(json.loads(path.read_text()))), str(path.relative_to(home))


def backtest_json_rows(report: dict[str, Any]) -> pd.DataFrame:
    """Rows of ``backtest.json`` (``fvi.ml.backtest.run_backtest``) in the layout of ``gold.fvi_backtest``."""
    rows: list[dict[str, Any]] = []
    for level, entry in (report.get("levels") or {}).items():
        for horizon, hd in (entry.get("horizons") or {}).items():
            for sc in (hd.get("scorers") or {}).values():
                diff = sc.get("auc_minus_size") or {}
                base = {"level": level, "horizon": int(horizon), "scorer": sc.get("scorer"),
                        "model_name": sc.get("model_name")}  # fmt: skip
                rows.append(
                    {
                        **base,
                        "as_of_year": None,
                        **{k: sc.get(k) for k in ("n", "n_positive", "auc", "brier", "brier_base_rate")},
                        "auc_minus_size": diff.get("diff"),
                        "auc_minus_size_lo": diff.get("lo"),
                        "auc_minus_size_hi": diff.get("hi"),
                    }
                )
                for year, yr in (sc.get("by_year") or {}).items():
                    rows.append(
                        {**base, "as_of_year": int(year), **{k: yr.get(k) for k in ("n", "n_positive", "auc", "brier")}}
                    )
    return pd.DataFrame(rows, columns=BACKTEST_KEYS + BACKTEST_FIGURES)


def _backtest_keys(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for col in BACKTEST_KEYS + BACKTEST_FIGURES:
        if col not in frame:
            frame[col] = None
    frame["model_name"] = frame["model_name"].where(frame["model_name"].notna(), "").astype(str)
    frame["horizon"] = pd.to_numeric(frame["horizon"]).astype(int)
    years = pd.to_numeric(frame["as_of_year"], errors="coerce")
    frame["as_of_year"] = [POOLED if pd.isna(y) else str(int(y)) for y in years]
    for col in BACKTEST_FIGURES:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame[BACKTEST_KEYS + BACKTEST_FIGURES].drop_duplicates(BACKTEST_KEYS, keep="last")


# ---------------------------------------------------------------------------------------------
# Figures


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _by_horizon(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``("all", frame)`` then one group per horizon, in the order H5, H10, H20."""
    order = {h: i for i, h in enumerate(HORIZONS)}
    groups = sorted(frame.groupby("horizon"), key=lambda kv: (order.get(str(kv[0]), len(order)), str(kv[0])))
    return [("all", frame), *((str(h), g) for h, g in groups)]


def _median(values: pd.Series) -> float | None:
    return float(values.median()) if values.notna().any() else None


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if values.notna().any() else None


def export_figures(frame: pd.DataFrame) -> dict[tuple[str, ...], float | None]:
    """(export, entity_type, horizon, figure) -> value, per entity type and horizon (and ``all`` horizons)."""
    figures: dict[tuple[str, ...], float | None] = {}
    if frame.empty:
        return figures
    export = str(frame["export"].iloc[0])
    prob = EXPORTS[export][2]
    pillars = sorted(c for c in frame.columns if c.startswith("pillar_") or c == "imputed_share")
    for entity_type, group in frame.groupby("entity_type", dropna=False):
        et = str(entity_type)
        for h, rows in _by_horizon(group):

            def put(name: str, value: Any, et: str = et, h: str = h) -> None:
                figures[(export, et, h, name)] = _num(value)

            put("rows", len(rows))
            put("distinct entities", rows["key"].nunique())
            if h != "all":
                put("as-of year (max)", pd.to_numeric(rows["as_of_year"]).max())
            fvi = pd.to_numeric(rows["fvi"], errors="coerce")
            p = pd.to_numeric(rows["p"], errors="coerce")
            band = (
                pd.to_numeric(rows["p_lo"], errors="coerce").notna()
                & pd.to_numeric(rows["p_hi"], errors="coerce").notna()
            )
            put("fvi rows", fvi.notna().sum())
            put("fvi mean", _mean(fvi))
            put("fvi median", _median(fvi))
            put(f"{prob} rows", p.notna().sum())
            put(f"{prob} coverage", p.notna().mean() if len(rows) else None)
            put(f"{prob} interval coverage", band.mean() if len(rows) else None)
            put(f"{prob} mean", _mean(p))
            put(f"{prob} median", _median(p))
            for col in pillars:
                put(f"{col} mean", _mean(pd.to_numeric(rows[col], errors="coerce")))
    return figures


def backtest_figures(frame: pd.DataFrame) -> dict[tuple[str, ...], float | None]:
    """(level, horizon, scorer, model_name, as_of_year, figure) -> value."""
    out: dict[tuple[str, ...], float | None] = {}
    for row in frame.itertuples(index=False):
        key = (str(row.level), str(row.horizon), str(row.scorer), str(row.model_name), str(row.as_of_year))
        for fig in BACKTEST_FIGURES:
            out[(*key, fig)] = _num(getattr(row, fig))
    return out


def moved(before: float | None, after: float | None, tol: float) -> bool:
    if before is None and after is None:
        return False
    if before is None or after is None:
        return True
    return abs(after - before) > tol


def compare(
    before: dict[tuple[str, ...], float | None], after: dict[tuple[str, ...], float | None], tol: float
) -> list[dict[str, Any]]:
    """Every key of either side with before, after, difference and whether it moved."""
    rows = []
    for key in sorted(set(before) | set(after), key=lambda k: tuple(str(x) for x in k)):
        b, a = before.get(key), after.get(key)
        rows.append(
            {
                "key": list(key),
                "before": b,
                "after": a,
                "diff": None if a is None or b is None else a - b,
                "moved": moved(b, a, tol),
            }
        )
    return rows


def shared_changes(before: pd.DataFrame, after: pd.DataFrame, tol: float, top: int) -> dict[str, Any]:
    """Rank correlation and largest changes of FVI and the probability on the keys both homes share."""
    export = str((after if len(after) else before)["export"].iloc[0]) if len(after) or len(before) else "?"
    prob = EXPORTS.get(export, ("", "", "p"))[2]
    cols = ["key", "horizon", "entity_type", "name", "as_of_year", "fvi", "p"]
    b = before[cols] if len(before) else pd.DataFrame(columns=cols)
    a = after[cols] if len(after) else pd.DataFrame(columns=cols)
    both = b.merge(a, on=["key", "horizon"], how="outer", suffixes=("_before", "_after"), indicator=True)
    shared = both[both["_merge"] == "both"].copy()
    for col in ("fvi", "p"):
        for side in ("before", "after"):
            shared[f"{col}_{side}"] = pd.to_numeric(shared[f"{col}_{side}"], errors="coerce").astype(float)
        shared[f"{col}_diff"] = shared[f"{col}_after"] - shared[f"{col}_before"]
    groups = []
    for horizon, g in _by_horizon(shared):
        entry: dict[str, Any] = {"horizon": horizon, "shared": int(len(g))}
        if horizon == "all":
            entry["only_before"] = int((both["_merge"] == "left_only").sum())
            entry["only_after"] = int((both["_merge"] == "right_only").sum())
        years = (pd.to_numeric(g[f"as_of_year_{side}"], errors="coerce") for side in ("before", "after"))
        entry["as_of_year_changed"] = int((next(years) != next(years)).sum())
        for col, label in (("fvi", "fvi"), ("p", prob)):
            pair = g[[f"{col}_before", f"{col}_after"]].dropna()
            rho = pair[f"{col}_before"].corr(pair[f"{col}_after"], method="spearman") if len(pair) > 1 else None
            changed = [moved(_num(x), _num(y), tol) for x, y in zip(g[f"{col}_before"], g[f"{col}_after"], strict=True)]
            entry[f"{label} spearman"] = _num(rho)
            entry[f"{label} changed"] = int(sum(changed))
            entry[f"{label} max abs change"] = _num(g[f"{col}_diff"].abs().max()) if len(g) else None
        groups.append(entry)
    largest: dict[str, list[dict[str, Any]]] = {}
    for col, label in (("fvi", "fvi"), ("p", prob)):
        ranked = shared.assign(_abs=shared[f"{col}_diff"].abs()).dropna(subset=["_abs"])
        ranked = ranked[ranked["_abs"] > tol].sort_values(["_abs", "key", "horizon"], ascending=[False, True, True])
        largest[label] = [
            {
                "key": str(r.key),
                "name": str(r.name_after) if isinstance(r.name_after, str) else None,
                "entity_type": str(r.entity_type_after),
                "horizon": str(r.horizon),
                "before": _num(getattr(r, f"{col}_before")),
                "after": _num(getattr(r, f"{col}_after")),
                "diff": _num(getattr(r, f"{col}_diff")),
            }
            for r in ranked.head(top).itertuples(index=False)
        ]
    return {"by_horizon": groups, "largest_changes": largest}


# ---------------------------------------------------------------------------------------------
# The comparison


def comparison(before_home: Path, after_home: Path, *, persona: str, tol: float, top: int) -> dict[str, Any]:
    sides: dict[str, Any] = {}
    for side, home in (("before", before_home), ("after", after_home)):
        with open_home(home) as wh:
            sides[side] = {
                "info": run_info(wh, home),
                "exports": export_frames(wh, persona),
                "backtest": backtest_rows(wh, home),
            }
    b, a = sides["before"], sides["after"]
    export_rows: list[dict[str, Any]] = []
    shared: dict[str, Any] = {}
    for export in EXPORTS:
        fb, fa = b["exports"][export], a["exports"][export]
        for row in compare(export_figures(fb), export_figures(fa), tol):
            export_rows.append(
                dict(zip(["export", "entity_type", "horizon", "figure"], row.pop("key"), strict=True)) | row
            )
        shared[export] = shared_changes(fb, fa, tol, top)
    backtest = [
        dict(zip([*BACKTEST_KEYS, "figure"], row.pop("key"), strict=True)) | row
        for row in compare(backtest_figures(b["backtest"][0]), backtest_figures(a["backtest"][0]), tol)
    ]
    n_moved = sum(r["moved"] for r in export_rows) + sum(r["moved"] for r in backtest)
    return {
        "persona": persona,
        "tolerance": tol,
        "before": b["info"] | {"backtest_source": b["backtest"][1]},
        "after": a["info"] | {"backtest_source": a["backtest"][1]},
        "summary": {"compared": len(export_rows) + len(backtest), "moved": n_moved},
        "exports": {"figures": export_rows, "shared": shared},
        "backtest": {"figures": backtest},
    }


# ---------------------------------------------------------------------------------------------
# Markdown


def fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def _signed(value: Any) -> str:
    text = fmt(value)
    return f"+{text}" if isinstance(value, int | float) and value is not None and value > 0 else text


def table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _side(label: str, info: dict[str, Any]) -> str:
    def ids(key: str) -> str:
        return ", ".join(info[key]) or "–"

    return (
        f"- {label}: `{info['home']}`: scores of run {ids('scores_run_ids')}, back-test of run "
        f"{ids('backtest_run_ids')} ({info['backtest_source']}), registry {ids('registry_hashes')}"
    )


def markdown(report: dict[str, Any]) -> str:
    b, a = report["before"], report["after"]
    s = report["summary"]
    out = [
        "# FVI before/after comparison",
        "",
        _side("before", b),
        _side("after", a),
        f"- persona {report['persona']}; a figure moved when it differs by more than {report['tolerance']:g} "
        "or exists on one side only",
        f"- **{s['moved']} of {s['compared']} figures moved**",
        "",
        "## Exports (`fvi export scores --entity mine` / `--entity country`)",
        "",
    ]
    figs = report["exports"]["figures"]
    moved_figs = [r for r in figs if r["moved"]]
    out.append(f"### Figures that moved ({len(moved_figs)} of {len(figs)}; the others are unchanged)")
    out.append("")
    if moved_figs:
        out += table(
            ["export", "entity type", "horizon", "figure", "before", "after", "Δ"],
            ([r["export"], r["entity_type"], r["horizon"], r["figure"], fmt(r["before"]), fmt(r["after"]),
              _signed(r["diff"])] for r in moved_figs),
        )  # fmt: skip
    else:
        out.append("None.")
    for export, sh in report["exports"]["shared"].items():
        out += ["", f"### {export}: the same keys in both homes", ""]
        groups = sh["by_horizon"]
        if groups:
            cols = [c for c in groups[0] if c != "horizon"]
            extra = [c for c in ("only_before", "only_after") if c not in cols]
            cols = cols + extra
            out += table(["horizon", *cols], ([g["horizon"], *(fmt(g.get(c)) for c in cols)] for g in groups))
        for label, rows in sh["largest_changes"].items():
            out += ["", f"Largest {label} changes ({len(rows)} shown):", ""]
            if rows:
                out += table(
                    ["key", "name", "entity type", "horizon", "before", "after", "Δ"],
                    ([r["key"], r["name"] or "–", r["entity_type"], r["horizon"], fmt(r["before"]), fmt(r["after"]),
                      _signed(r["diff"])] for r in rows),
                )  # fmt: skip
            else:
                out.append("None changed.")
    out += ["", "## Back-test (`gold.fvi_backtest`)", ""]
    bt = report["backtest"]["figures"]
    by_key: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
    for r in bt:
        by_key.setdefault(tuple(r[k] for k in BACKTEST_KEYS), {})[r["figure"]] = r
    pooled = [k for k in by_key if k[4] == POOLED]
    out.append("Pooled over as-of years, every level, horizon and scorer:")
    out.append("")
    if pooled:
        rows = []
        for k in sorted(pooled, key=lambda k: (k[0], int(k[1]), k[2], k[3])):
            f = by_key[k]
            scorer = f"{k[2]} ({k[3]})" if k[3] else k[2]
            rows.append(
                [k[0], k[1], scorer, fmt(f["n"]["before"]), fmt(f["n"]["after"]),
                 fmt(f["auc"]["before"]), fmt(f["auc"]["after"]), _signed(f["auc"]["diff"]),
                 fmt(f["brier"]["before"]), fmt(f["brier"]["after"]), _signed(f["brier"]["diff"]),
                 "yes" if any(x["moved"] for x in f.values()) else ""]
            )  # fmt: skip
        out += table(
            ["level", "horizon", "scorer", "n before", "n after", "AUC before", "AUC after", "Δ AUC",
             "Brier before", "Brier after", "Δ Brier", "moved"],
            rows,
        )  # fmt: skip
    else:
        out.append("No back-test rows on either side.")
    other = [r for r in bt if r["moved"] and not (r["as_of_year"] == POOLED and r["figure"] in ("auc", "brier", "n"))]
    out += ["", f"Other back-test figures that moved ({len(other)}):", ""]
    if other:
        out += table(
            ["level", "horizon", "scorer", "as-of year", "figure", "before", "after", "Δ"],
            ([r["level"], r["horizon"], f"{r['scorer']} ({r['model_name']})" if r["model_name"] else r["scorer"],
              r["as_of_year"], r["figure"], fmt(r["before"]), fmt(r["after"]), _signed(r["diff"])] for r in other),
        )  # fmt: skip
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="FVI_HOME of the run before the change")
    parser.add_argument("after", type=Path, help="FVI_HOME of the run after the change")
    parser.add_argument("--json", dest="json_out", help="also write the comparison as JSON here ('-': stdout only)")
    parser.add_argument("--persona", default=DEFAULT_PERSONA, help="persona of the exported FVI")
    parser.add_argument(
        "--tolerance", type=float, default=1e-9, help="absolute change below which a figure is unchanged"
    )
    parser.add_argument("--top", type=int, default=10, help="largest per-entity changes listed per export")
    parser.add_argument("--fail-on-change", action="store_true", help="exit 1 when any figure moved")
    args = parser.parse_args(argv)
    for home in (args.before, args.after):
        if not warehouse_path(home).exists():
            parser.error(f"no warehouse at {warehouse_path(home)}")
    import duckdb

    try:
        report = comparison(args.before, args.after, persona=args.persona, tol=args.tolerance, top=args.top)
    except duckdb.IOException as exc:  # e.g. a run still writing that home holds the file's lock
        parser.exit(2, f"compare_runs: cannot open a warehouse read-only: {exc}\n")
    text = json.dumps(report, indent=1, default=str)
    if args.json_out == "-":
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(markdown(report))
        if args.json_out:
            Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 1 if args.fail_on_change and report["summary"]["moved"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
