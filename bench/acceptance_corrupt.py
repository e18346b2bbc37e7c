"""Acceptance (issue 16): one source corrupted, every other source swapped in, the report names what broke.

A copy of the real samples (``FVI_SHARED_DATA``, copied into a scratch folder, never into the repo)
is ingested and built once (the previous good build). Then, one case at a time, a fresh copy with
ONE source corrupted is run through the same pipeline on the same home:

- ``duplicate_ids``: an EIA mine's row repeated with other values (same MSHA ID and year);
- ``renamed_column``: the Global Carbon Budget's ``Total`` header renamed;
- ``truncated_file``: the Global Carbon Budget CSV cut in the middle of a line, half-way through;
- ``inf_1e400``: ``1e400`` in a Global Carbon Budget number cell;
- ``abc_in_number``: ``abc`` in a Global Carbon Budget number cell.

For each case it records whether the build swapped, the status of every source (all others must be
``loaded``), whether the broken source's bronze tables are still the previous good ones (or, for
a bad cell, whether only that cell was quarantined), and exactly what the run report, the manifest
and the quarantine say. The pipeline runs ingest, the dbt build and the swap (``score=False``: the
scoring and model steps read gold and do not decide which source's data is swapped in).

Usage: .venv/bin/python bench/acceptance_corrupt.py [--work /tmp/fvi-acc] [--data $FVI_SHARED_DATA]
       [--cases duplicate_ids,...]. Writes bench/results/acceptance_corrupt.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
GCP = Path("gcp_co2_by_fuel") / "GCB2022v27_MtCO2_flat.csv"
EIA = Path("eia_us_coal_mines") / "coalpublic2016.csv"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def duplicate_ids(data: Path) -> str:
    path = data / EIA
    lines = _lines(path)
    row = lines[1]
    year, msha, rest = row.split(",", 2)
    changed = row.replace(',"37,786",', ',"99,999",') if ',"37,786",' in row else row.rstrip("\n") + "\n"
    lines.insert(2, changed)
    path.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    return f"{EIA}: MSHA ID {msha} ({year}) repeated with production 99,999 instead of 37,786 (line 3)"


def renamed_column(data: Path) -> str:
    path = data / GCP
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"Total"', '"Total CO2"', 1), encoding="utf-8")
    return f'{GCP}: header "Total" renamed "Total CO2"'


def truncated_file(data: Path) -> str:
    path = data / GCP
    raw = path.read_bytes()
    cut = raw.index(b"\n", len(raw) // 2) + 12  # in the middle of a line, half-way through the file
    path.write_bytes(raw[:cut])
    line = raw[:cut].count(b"\n") + 1
    return f"{GCP}: cut at byte {cut:,} of {len(raw):,}, inside line {line}"


def _cell(data: Path, value: str) -> str:
    path = data / GCP
    lines = _lines(path)
    i = next(n for n, line in enumerate(lines) if line.startswith('"Germany","DEU",2020,'))
    cells = lines[i].rstrip("\n").split(",")
    old, cells[4] = cells[4], value  # Coal
    lines[i] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return f"{GCP}: line {i + 1} (Germany 2020), column Coal: {old} -> {value}"


CASES: dict[str, Callable[[Path], str]] = {
    "duplicate_ids": duplicate_ids,
    "renamed_column": renamed_column,
    "truncated_file": truncated_file,
    "inf_1e400": lambda d: _cell(d, "1e400"),
    "abc_in_number": lambda d: _cell(d, "abc"),
}
BROKEN = {"duplicate_ids": "eia_mines", "renamed_column": "gcp", "truncated_file": "gcp",
          "inf_1e400": "gcp", "abc_in_number": "gcp"}  # fmt: skip


def bronze_digest(home: Path) -> dict[str, tuple[int, str]]:
    """Rows and a content hash of every bronze table of the live warehouse (load bookkeeping aside)."""
    from fvi.warehouse import DuckDBWarehouse

    out: dict[str, tuple[int, str]] = {}
    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        for t in wh.tables("bronze"):
            if not t.startswith("raw_"):
                continue
            frame = wh.query(f"select * from bronze.{t}")
            frame = frame.drop(columns=[c for c in frame.columns if c in ("_release", "_loaded_at", "_run_id")])
            text = frame.sort_values(list(frame.columns), ignore_index=True).to_csv(index=False)
            out[t] = (len(frame), hashlib.sha256(text.encode()).hexdigest()[:16])
    return out


def quarantined(home: Path, run_id: str, source: str) -> list[dict[str, Any]]:
    from fvi.warehouse import DuckDBWarehouse

    with DuckDBWarehouse(home / "warehouse" / "fvi.duckdb", read_only=True) as wh:
        if "quarantine" not in wh.tables("bronze"):
            return []
        frame = wh.query(f"select * from bronze.quarantine where run_id = '{run_id}' and source_id = '{source}'")
    return json.loads(frame.head(20).to_json(orient="records"))


def run(home: Path, data: Path) -> Any:
    from fvi.pipeline import run_pipeline
    from fvi.settings import get_settings

    os.environ["FVI_HOME"] = str(home)
    get_settings.cache_clear()
    t0 = time.perf_counter()
    try:
        report = run_pipeline(get_settings(), data_dir=data, score=False, say=lambda _m: None)
    except Exception as exc:  # noqa: BLE001 - a case that fails the whole build is an outcome to record
        return None, f"{type(exc).__name__}: {str(exc)[:500]}", time.perf_counter() - t0
    return report, None, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/fvi-acc"))
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("FVI_SHARED_DATA", "/work/shared/data")))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    os.environ.update({"FVI_OFFLINE": "1", "FVI_CHAT_DOCS_IN_RUN": "false", "OMP_WAIT_POLICY": "PASSIVE"})
    shutil.rmtree(args.work, ignore_errors=True)
    home, good = args.work / "home", args.work / "good"
    shutil.copytree(args.data, good, ignore=shutil.ignore_patterns("rag_corpus"))
    base, error, seconds = run(home, good)
    assert base is not None and base.built, error
    before = bronze_digest(home)
    results: dict[str, Any] = {"baseline": {"run_id": base.run_id, "seconds": round(seconds, 1),
                                            "statuses": {o.source_id: o.status for o in base.outcomes}}}
    for case in args.cases.split(","):
        data = args.work / case
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(good, data)
        what = CASES[case](data)
        report, error, seconds = run(home, data)
        broken = BROKEN[case]
        after = bronze_digest(home)
        row: dict[str, Any] = {"corruption": what, "broken_source": broken, "seconds": round(seconds, 1)}
        if report is None:
            row.update(swapped=False, error=error)
        else:
            outcome = next(o for o in report.outcomes if o.source_id == broken)
            others = {o.source_id: o.status for o in report.outcomes if o.source_id != broken}
            mine = [t for t in before if t.startswith(f"raw_{broken}__")]
            row.update(
                swapped=report.built and report.error is None,
                others_loaded=all(s == before_s for s, before_s in zip(others.values(),
                                  [results["baseline"]["statuses"][k] for k in others], strict=True)),
                other_statuses=others,
                status=outcome.status,
                message=outcome.message,
                rows_loaded=outcome.rows_loaded,
                rows_quarantined=outcome.rows_quarantined,
                previous_bronze_kept={t: after.get(t) == before[t] for t in mine},
                bronze_rows_before_after={t: [before[t][0], after.get(t, (None,))[0]] for t in mine},
                quarantine=quarantined(home, report.run_id, broken),
                run_report=f"runs/{report.run_id}.json",
            )
        results[case] = row
        print(json.dumps({case: {k: v for k, v in row.items() if k != "other_statuses"}}, indent=1, default=str))
        shutil.rmtree(data, ignore_errors=True)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_avg"] = [round(v, 2) for v in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "acceptance_corrupt.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
