"""Benchmark: single-row inference, ONNX Runtime against native LightGBM (target: ONNX p50 <= 20 µs).

For each champion model in the JSON registry (FVI_HOME/models, or --models-dir): one session created
once, one prebuilt float32 1-row input taken from the real features of the live warehouse, then
``InferenceSession.run`` and ``Booster.predict`` on that same row, each ``--iterations`` times after
``--warmup`` calls, timed per call with perf_counter_ns. Prints a table and writes JSON to
bench/results/ (not committed). Without exported models it first trains them (no MLflow) into a
temporary folder.

Usage: .venv/bin/python bench/bench_onnx.py [--models-dir DIR] [--iterations 5000] [--warmup 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def timings(fn: Any, iterations: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    out = np.empty(iterations)
    clock = time.perf_counter_ns
    for i in range(iterations):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    us = out / 1000.0
    return {
        "p50_us": float(np.percentile(us, 50)),
        "p90_us": float(np.percentile(us, 90)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
    }


def real_rows(settings: Any) -> dict[str, Any]:
    """Latest real feature rows per entity kind (mine / country), or None without a warehouse."""
    from fvi.ml import features as F
    from fvi.warehouse import WarehouseUnavailable, open_live

    try:
        wh = open_live(settings)
    except WarehouseUnavailable:
        return {}
    with wh:
        mines = F.mine_features(wh, horizon="H5")
        countries = F.country_features(wh, horizon="H5")
    return {
        "mine": mines[mines["entity_type"] == "mine"],
        "us_mine": mines[mines["entity_type"] == "us_mine"],
        "country": countries,
    }


def ensure_models(models_dir: Path | None, settings: Any) -> Path:
    from fvi.ml.model_registry import ModelRegistry

    path = models_dir or settings.home_abs / "models"
    if ModelRegistry(path).names():
        return path
    from fvi.ml.train import train_all
    from fvi.warehouse import open_live

    tmp = Path(tempfile.mkdtemp(prefix="fvi-bench-models-"))
    with open_live(settings) as wh:
        train_all(settings, wh, models_dir=tmp, track=False, explain=False, say=lambda _m: None)
    return tmp


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--iterations", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=500)
    args = ap.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from fvi.ml.hazard import K_FEATURE
    from fvi.ml.model_registry import ModelRegistry, load_bundle
    from fvi.ml.onnx_export import INPUT_NAME, PROB_OUTPUT
    from fvi.settings import get_settings

    settings = get_settings()
    models_dir = ensure_models(args.models_dir, settings)
    rows = real_rows(settings)
    reg = ModelRegistry(models_dir)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "iterations": args.iterations,
        "warmup": args.warmup,
        "models_dir": str(models_dir),
        "models": {},
    }
    print(
        f"{'model':18s} {'ver':>3s} {'F':>3s}  {'ONNX p50':>9s} {'p90':>7s} {'p99':>7s}"
        f"   {'native p50':>10s} {'p90':>7s} {'p99':>7s}   {'|diff|':>8s}"
    )
    for name in reg.names():
        bundle = load_bundle(models_dir, name)
        order = bundle.feature_order
        kind = "country" if name.startswith("fvi_country") else "mine"
        frame = rows.get(kind)
        if frame is not None and len(frame):
            row = frame.iloc[[len(frame) // 2]].assign(**{K_FEATURE: 5.0})
            x32 = np.ascontiguousarray(bundle.matrix(row))
        else:
            x32 = np.zeros((1, len(order)), dtype=np.float32)
        x64 = x32.astype(np.float64)
        sess, booster = bundle.session, bundle.booster
        feeds = {INPUT_NAME: x32}
        outputs = [PROB_OUTPUT]
        onnx_t = timings(lambda s=sess, f=feeds, o=outputs: s.run(o, f), args.iterations, args.warmup)
        native_t = timings(lambda b=booster, x=x64: b.predict(x), args.iterations, args.warmup)
        diff = abs(float(sess.run(outputs, feeds)[0][0, 1]) - float(booster.predict(x64)[0]))
        results["models"][name] = {
            "version": bundle.version,
            "n_features": len(order),
            "onnx": onnx_t,
            "native": native_t,
            "abs_diff": diff,
        }
        print(
            f"{name:18s} {bundle.version:>3s} {len(order):3d}  {onnx_t['p50_us']:7.1f}µs {onnx_t['p90_us']:7.1f}"
            f" {onnx_t['p99_us']:7.1f}   {native_t['p50_us']:8.1f}µs {native_t['p90_us']:7.1f}"
            f" {native_t['p99_us']:7.1f}   {diff:8.1e}"
        )
    p50s = [m["onnx"]["p50_us"] for m in results["models"].values()]
    if p50s:
        results["onnx_p50_us_median_over_models"] = statistics.median(p50s)
        print(f"ONNX p50 (median over models) {results['onnx_p50_us_median_over_models']:.1f} µs (target <= 20 µs)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"onnx_{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
