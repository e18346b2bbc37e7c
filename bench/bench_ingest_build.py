"""Benchmark: ingest all of ../shared/data and build gold (issue 2 target: ≤ 60 s, DuckDB, 2 cores).

Runs the real pipeline (`fvi run` without serving) in a fresh FVI_HOME, once on DuckDB and once
on the local PostgreSQL, and prints the wall-clock split (ingest / dbt build / total).
Usage: .venv/bin/python bench/bench_ingest_build.py [--skip-postgres] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(data_dir: Path, warehouse_url: str | None) -> dict[str, float]:
    from fvi.pipeline import run_pipeline
    from fvi.settings import get_settings

    with tempfile.TemporaryDirectory(prefix="fvi-bench-") as home:
        os.environ["FVI_HOME"] = home
        if warehouse_url:
            os.environ["FVI_WAREHOUSE_URL"] = warehouse_url
        else:
            os.environ.pop("FVI_WAREHOUSE_URL", None)
        get_settings.cache_clear()
        t0 = time.perf_counter()
        report = run_pipeline(get_settings(), data_dir=data_dir, say=lambda _m: None)
        total = time.perf_counter() - t0
        return {
            "ingest_s": report.seconds.get("ingest", 0.0),
            "build_s": report.seconds.get("build", 0.0),
            "total_s": total,
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FVI_SHARED_DATA", REPO.parent / "shared" / "data"))
    )
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    for name, url in [("duckdb", None)] + ([] if args.skip_postgres else [("postgres", args.pg_url)]):
        runs = [one_run(args.data_dir.resolve(), url) for _ in range(args.repeat)]
        summary = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
        results[name] = summary
        print(
            f"{name:9s} ingest {summary['ingest_s']:6.2f} s   build {summary['build_s']:6.2f} s   "
            f"total {summary['total_s']:6.2f} s   (target ≤ 60 s)"
        )
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "ingest_build.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
