"""Benchmark: the dashboard in a real browser over a real ``fvi serve`` (issue 13).

Starts ``fvi serve`` on loopback over a built FVI_HOME (``--home``) serving a dashboard build
(``--web-dir``, default the package's ``static/web`` that ``make setup`` writes), then drives Debian's
Chromium with ``bench/bench_web.mjs`` (Playwright from ``web/node_modules``):

* overview and a mine profile (the top-ranked mine), ``--runs`` cold loads each (a fresh browser
  context: no HTTP cache): first contentful paint and largest contentful paint as Chromium reports
  them, and on the overview the time until the map holds every mine with coordinates;
* the mines table: scrolled top to bottom over 10 s (``FVI_BENCH_SCROLL_MS``), one step per animation
  frame; frame times are the deltas between ``requestAnimationFrame`` timestamps (Chromium's frame clock);
* first-load JavaScript per page: the scripts each exported HTML page loads, gzipped (level 9, as
  Next's build output counts them);
* with ``--lighthouse``: Lighthouse 12.2.3 (web/node_modules, Node 20, the same Chromium via
  CHROME_PATH) on the overview and the mine profile, desktop preset.

Targets: FCP <= 1.0 s and LCP <= 2.0 s; every mine drawn <= 2.0 s; first-load JS <= 250 kB gzipped per
page; scrolling at 60 fps (p95 frame <= 16.7 ms plus scheduling slack); Lighthouse performance >= 90,
accessibility >= 95, best practices >= 95. Writes JSON to bench/results/.

Usage: .venv/bin/python bench/bench_web.py --home /path/to/FVI_HOME [--web-dir DIR] [--runs 3] [--lighthouse]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
RESULTS = REPO / "bench" / "results"
TARGETS = {
    "fcp_ms": 1000.0,
    "lcp_ms": 2000.0,
    "all_mines_drawn_ms": 2000.0,
    "first_load_js_kb_gz": 250.0,
    "frame_ms_p95": 16.7,
    "lighthouse_performance": 90,
    "lighthouse_accessibility": 95,
    "lighthouse_best_practices": 95,
}
PAGES = ("index.html", "mines/index.html", "mine/index.html", "country/index.html", "compare/index.html",
         "weights/index.html", "track-record/index.html", "data-quality/index.html", "system/index.html",
         "chat/index.html")  # fmt: skip
# module-era browsers skip the noModule polyfills: they are not part of any page's first load
SCRIPT_SRC = re.compile(r'<script(?![^>]*noModule)[^>]+src="(/_next/[^"]+\.js)"')


def first_load_js(web_dir: Path) -> dict[str, float]:
    """kB gzipped of the scripts each page's HTML loads before anything runs (lazy chunks left out)."""
    out: dict[str, float] = {}
    for page in PAGES:
        html = web_dir / page
        if not html.is_file():
            continue
        total = 0
        for src in sorted(set(SCRIPT_SRC.findall(html.read_text("utf-8")))):
            total += len(gzip.compress((web_dir / src.lstrip("/")).read_bytes(), compresslevel=9))
        out["/" + page.removesuffix("index.html")] = round(total / 1000, 1)
    return out


def start_server(home: Path, web_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    env.update(
        FVI_HOME=str(home),
        FVI_API_WEB_DIR=str(web_dir),
        FVI_API_RATE_PER_MINUTE="100000",
        FVI_API_RATE_BURST="100000",
        FVI_API_TRACING="false",
    )
    fvi = Path(sys.executable).with_name("fvi")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(fvi), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_up(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"fvi serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"fvi serve did not answer in {timeout:.0f} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def expected_points(base: str) -> tuple[int, str]:
    """(GEM mines with coordinates at the default horizon and persona, the top-ranked mine's id).

    Read sorted by name: the pages the dashboard asks for stay uncached, so the first load is a cold one.
    """
    with httpx.Client(base_url=base, timeout=120) as c:
        first = c.get("/v1/mines", params={"limit": 500, "sort": "name"}).json()
        items = list(first["items"])
        for offset in range(500, int(first["total"]), 500):
            items += c.get("/v1/mines", params={"limit": 500, "offset": offset, "sort": "name"}).json()["items"]
    n = sum(1 for m in items if m.get("latitude") is not None and m.get("longitude") is not None)
    top = min((m for m in items if m.get("rank") is not None), key=lambda m: m["rank"])["id"]
    return n, top


def lighthouse(url: str, chromium: str) -> dict[str, Any]:
    lh = WEB / "node_modules" / ".bin" / "lighthouse"
    if not lh.exists():
        return {"error": "lighthouse is not installed in web/node_modules (npm ci in web/)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lh.json"
        cmd = [
            str(lh), url, "--quiet", "--output=json", f"--output-path={out}", "--preset=desktop",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new --no-sandbox --disable-dev-shm-usage",
        ]  # fmt: skip
        env = {**os.environ, "CHROME_PATH": chromium, "LIGHTHOUSE_CHROMIUM_PATH": chromium}
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        took = time.monotonic() - started
        if proc.returncode != 0 or not out.exists():
            return {"error": (proc.stdout + proc.stderr)[-1500:], "seconds": round(took, 1)}
        report = json.loads(out.read_text())
    cats = report["categories"]
    audits = report["audits"]
    return {
        "performance": round(100 * (cats["performance"]["score"] or 0)),
        "accessibility": round(100 * (cats["accessibility"]["score"] or 0)),
        "best_practices": round(100 * (cats["best-practices"]["score"] or 0)),
        "fcp_ms": audits["first-contentful-paint"].get("numericValue"),
        "lcp_ms": audits["largest-contentful-paint"].get("numericValue"),
        "tbt_ms": audits["total-blocking-time"].get("numericValue"),
        "cls": audits["cumulative-layout-shift"].get("numericValue"),
        "failing": sorted(
            k
            for c in ("accessibility", "best-practices")
            for k in (a["id"] for a in cats[c]["auditRefs"])
            if audits[k].get("score") is not None
            and audits[k]["score"] < 1
            and audits[k].get("scoreDisplayMode") == "binary"
        ),
        "seconds": round(took, 1),
        "lighthouse_version": report.get("lighthouseVersion"),
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first load (cold: the server's response cache empty) apart; median and max of the warm ones."""
    out: dict[str, Any] = {"runs": runs}
    if runs:
        out["cold"] = {k: v for k, v in runs[0].items() if k.endswith("_ms")}
    for key in ("fcp_ms", "lcp_ms", "all_mines_drawn_ms"):
        vals = [r[key] for r in runs[1:] if r.get(key) is not None]
        if vals:
            out[f"{key}_median"] = round(median(vals), 1)
            out[f"{key}_max"] = round(max(vals), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="a built FVI_HOME (fvi run)")
    ap.add_argument("--web-dir", type=Path, default=REPO / "src" / "fvi" / "api" / "static" / "web")
    ap.add_argument("--runs", type=int, default=4, help="loads per page: the first cold, the others warm")
    ap.add_argument("--lighthouse", action="store_true")
    ap.add_argument("--chromium", default=os.environ.get("FVI_E2E_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--label", default="")
    ap.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    args = ap.parse_args()
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH")
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="bench_web_")) / "serve.log"
    proc = start_server(args.home.resolve(), args.web_dir.resolve(), port, log)
    result: dict[str, Any] = {
        "bench": "web",
        "label": args.label,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
        },  # fmt: skip
        "targets": TARGETS,
    }
    try:
        wait_up(base, proc, log)
        n, top = expected_points(base)
        result.update(expected_points=n, mine_id=top, web_dir=str(args.web_dir))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FVI_")},
            "FVI_BENCH_BASE_URL": base,
            "FVI_BENCH_MINE_ID": top,
            "FVI_BENCH_EXPECTED_POINTS": str(n),
            "FVI_BENCH_RUNS": str(args.runs),
            "FVI_E2E_CHROMIUM": args.chromium,
        }
        proc_b = subprocess.run(
            [node, str(REPO / "bench" / "bench_web.mjs")], env=env, capture_output=True, text=True, timeout=600
        )
        if proc_b.returncode != 0:
            raise SystemExit(f"bench_web.mjs failed:\n{(proc_b.stdout + proc_b.stderr)[-4000:]}")
        browser = json.loads(proc_b.stdout.strip().splitlines()[-1])
        result["overview"] = summarise(browser["overview"])
        result["mine_profile"] = summarise(browser["mine_profile"])
        result["mines_scroll"] = browser["mines_scroll"]
        result["first_load_js_kb_gz"] = first_load_js(args.web_dir)
        if args.lighthouse:
            result["lighthouse"] = {
                "overview": lighthouse(f"{base}/", args.chromium),
                "mine_profile": lighthouse(f"{base}/mine/?id={top}", args.chromium),
            }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bench_web_{stamp}{'_' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(result, indent=2))
    brief = {
        "overview": {k: v for k, v in result["overview"].items() if k != "runs"},
        "mine_profile": {k: v for k, v in result["mine_profile"].items() if k != "runs"},
        "mines_scroll": result["mines_scroll"],
        "first_load_js_kb_gz": result["first_load_js_kb_gz"],
        "lighthouse": result.get("lighthouse"),
    }
    print(json.dumps(brief, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
