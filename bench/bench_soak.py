"""Soak: a bounded mixed load on ``fvi serve`` with memory, descriptors and latency sampled (issue 16, item 8).

``fvi serve`` (one process, loopback) over a built FVI_HOME, read only. ``--clients`` threads
(httpx, keep-alive) send requests back to back for ``--seconds``, each drawn from a fixed mix:
lists and profiles (reads), ``POST /v1/predict`` (predictions), ``GET /v1/explain`` with a rotating
``top`` and ``POST /v1/explain`` with feature overrides (explanations, the second computed now),
and ``POST /v1/score/what-if`` with a random metric value (what-if rescoring). Entity ids are drawn
from the whole build, so caches fill over the run as they would in service. Every ``--every``
seconds the server's RSS (``/proc/<pid>/status`` VmRSS) and open descriptors (``/proc/<pid>/fd``)
are sampled.

Targets (issue 16): no errors (any status >= 500, a transport error, or a 4xx other than the 429
of a rate limit, which the soak raises so it is not measuring the limiter), RSS growth < 5 %
between the first sample after ``--warmup`` and the last ``--tail`` seconds, descriptors at the end
no more than after warm-up. Writes ``bench/results/soak.json``.

Usage: .venv/bin/python bench/bench_soak.py --home /tmp/fvi-x/home [--seconds 240] [--clients 4]
       [--port 8642] [--warmup 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
MIX = {"read": 0.45, "predict": 0.25, "explain": 0.15, "whatif": 0.15}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    env.update({
        "FVI_HOME": str(home), "FVI_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE",
        # the soak measures the service, not the limiter: limits well above what 2 cores can serve
        "FVI_API_RATE_PER_MINUTE": "1000000", "FVI_API_KEY_RATE_PER_MINUTE": "1000000",
        "FVI_API_RATE_BURST": "100000", "FVI_API_WHATIF_RATE_PER_MINUTE": "1000000",
    })  # fmt: skip
    fvi = Path(sys.executable).with_name("fvi")
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(fvi), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"fvi serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("fvi serve did not become ready in 180 s")


def entities(base: str) -> dict[str, Any]:
    """Ids to draw from, the model features to override and the metrics a what-if may change."""
    with httpx.Client(base_url=base, timeout=60) as c:
        mines = [m["id"] for m in c.get("/v1/mines", params={"limit": 500}).json()["items"]]
        countries = [m["id"] for m in c.get("/v1/countries", params={"limit": 500}).json()["items"]]
        metrics = [m["id"] for m in c.get("/v1/metrics", params={"limit": 500}).json()["items"]
                   if m.get("entity") == "country"]
        models = c.get("/v1/models").json()
    features: dict[str, list[str]] = {}
    for m in models.get("items", models.get("models", [])):
        if m.get("entity_type") and m.get("features"):
            features.setdefault(m["entity_type"], list(m["features"]))
    return {"mine": mines, "country": countries, "metrics": metrics, "features": features}


def request(c: httpx.Client, kind: str, rng: random.Random, ids: dict[str, Any]) -> httpx.Response:
    etype = rng.choice(["mine", "country"]) if ids["mine"] else "country"
    eid = rng.choice(ids[etype])
    horizon = rng.choice(["H5", "H10"])
    if kind == "read":
        plural = {"mine": "mines", "country": "countries"}[etype]
        path = rng.choice([f"/v1/{plural}/{eid}", "/v1/mines?limit=50&sort=-fvi", "/v1/countries?limit=50",
                           "/v1/data-quality?limit=50", "/v1/rankings?limit=20"])
        return c.get(path)
    if kind == "predict":
        return c.post("/v1/predict", json={"entity_type": etype, "entity_id": eid, "horizon": horizon})
    if kind == "explain":
        feats = ids["features"].get(etype) or []
        if feats and rng.random() < 0.5:
            over = {rng.choice(feats): round(rng.uniform(0, 100), 3)}
            return c.post(f"/v1/explain/{etype}/{eid}", json={"horizon": horizon, "overrides": over})
        return c.get(f"/v1/explain/{etype}/{eid}", params={"horizon": horizon, "top": rng.randint(3, 8)})
    body: dict[str, Any] = {"entity_type": "country", "entity_id": rng.choice(ids["country"])}
    if ids["metrics"]:
        body["metric_values"] = {rng.choice(ids["metrics"]): round(rng.uniform(0, 1000), 3)}
    return c.post("/v1/score/what-if", json=body)


def main() -> None:  # noqa: C901 - one measured loop, read top to bottom
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--port", type=int, default=8642)
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--warmup", type=float, default=40.0)
    ap.add_argument("--tail", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "soak_server.log"
    proc = start_server(args.home, args.port, log)
    base = f"http://127.0.0.1:{args.port}"
    ids = entities(base)
    lat: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    limited = [0]
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    lock = threading.Lock()
    loads: list[list[float]] = []
    t0 = time.monotonic()

    def client(n: int) -> None:
        rng = random.Random(args.seed * 1000 + n)
        kinds, weights = list(MIX), list(MIX.values())
        with httpx.Client(base_url=base, timeout=60) as c:
            while not stop.is_set():
                kind = rng.choices(kinds, weights)[0]
                s = time.perf_counter()
                try:
                    r = request(c, kind, rng, ids)
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                ms = (time.perf_counter() - s) * 1000
                with lock:
                    statuses[kind][r.status_code] += 1
                    if r.status_code == 429:
                        limited[0] += 1
                    elif r.status_code >= 400:
                        errors.append(f"{kind} {r.request.method} {r.request.url.path}: {r.status_code} "
                                      f"{r.text[:200]}")
                    else:
                        lat[kind].append(ms)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    for t in threads:
        t.start()
    try:
        while time.monotonic() - t0 < args.seconds:
            samples.append({"t": round(time.monotonic() - t0, 1), "rss_kib": rss_kib(proc.pid),
                            "fds": fds(proc.pid), "done": sum(len(v) for v in lat.values())})
            loads.append(list(os.getloadavg()))
            time.sleep(args.every)
        samples.append({"t": round(time.monotonic() - t0, 1), "rss_kib": rss_kib(proc.pid), "fds": fds(proc.pid),
                        "done": sum(len(v) for v in lat.values())})
    finally:
        stop.set()
        for t in threads:
            t.join(70)
        proc.terminate()
        proc.wait(30)

    after_warmup = next(s for s in samples if s["t"] >= args.warmup)
    tail = [s for s in samples if s["t"] >= samples[-1]["t"] - args.tail]
    rss_tail = float(np.mean([s["rss_kib"] for s in tail]))
    growth = rss_tail / after_warmup["rss_kib"] - 1
    fd_growth = int(max(s["fds"] for s in tail) - after_warmup["fds"])
    latency = {
        k: {"n": len(v), **{f"p{q}_ms": round(float(np.percentile(v, q)), 2) for q in (50, 95, 99)},
            "max_ms": round(max(v), 1)}
        for k, v in sorted(lat.items()) if v
    }  # fmt: skip
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "home": str(args.home),
        "seconds": args.seconds, "clients": args.clients, "warmup_s": args.warmup, "mix": MIX,
        "requests_ok": sum(len(v) for v in lat.values()), "errors": len(errors), "error_examples": errors[:10],
        "rate_limited_429": limited[0],
        "statuses": {k: dict(v) for k, v in statuses.items()},
        "rss_kib_after_warmup": after_warmup["rss_kib"], "rss_kib_tail_mean": round(rss_tail),
        "rss_kib_max": max(s["rss_kib"] for s in samples), "rss_growth": round(growth, 4),
        "fds_after_warmup": after_warmup["fds"], "fds_end": samples[-1]["fds"], "fd_growth": fd_growth,
        "latency": latency,
        "load_avg_min_mean_max": [round(f([lo[0] for lo in loads]), 2) for f in (min, np.mean, max)],
        "targets": {"errors": 0, "rss_growth_below": 0.05, "fd_growth_at_most": 0},
        "ok": not errors and growth < 0.05 and fd_growth <= 0,
        "samples": samples,
    }  # fmt: skip
    (RESULTS / "soak.json").write_text(json.dumps(out, indent=1))
    show = {k: v for k, v in out.items() if k != "samples"}
    print(json.dumps(show, indent=1))
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
