"""Redis restarted under API load (issue 16, item 4), on a private server the test starts.

The shared Redis on this machine serves every agent, so the test starts its own ``redis-server``
(no persistence, a free port), points ``fvi serve`` (a real process, the tiny warehouse) at it as the
response cache, and keeps four clients reading while it stops Redis, leaves it down, and starts it
again on the same port. Every answer during and after the outage must be a 200 with the same body
as before (the cache degrades to misses, never to errors), ``/ready`` stays ready and says the
cache is unreachable while it is, and after the restart the service fills the new Redis again.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.helpers import fvi_env
from tests.servers import free_port, stop, wait_for
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

pytestmark = pytest.mark.integration
REDIS = shutil.which("redis-server")
URLS = ("/v1/mines", "/v1/mines/M1", "/v1/countries/ZAF", "/v1/rankings?country=ZAF", "/v1/data-quality")


def _redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    assert REDIS is not None
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    ping = ["redis-cli", "-p", str(port), "ping"]
    while subprocess.run(ping, capture_output=True, text=True).stdout.strip() != "PONG":
        assert proc.poll() is None and time.monotonic() < deadline, "private redis-server did not start"
        time.sleep(0.1)
    return proc


def _keys(port: int) -> int:
    out = subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True).stdout
    return int(out.strip() or 0)


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
def test_redis_restarted_under_load_costs_no_answer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    write_warehouse(home / "warehouse" / "fvi.duckdb")
    write_runs(home)
    rport, port = free_port(), free_port()
    redis = _redis(rport, tmp_path)
    log = tmp_path / "api.log"
    env = fvi_env(home, FVI_CACHE_URL=f"redis://127.0.0.1:{rport}/0", FVI_API_RATE_PER_MINUTE="1000000",
                  FVI_API_RATE_BURST="100000")
    with open(log, "w") as fh:
        api = subprocess.Popen([str(Path(sys.executable).with_name("fvi")), "serve", "--port", str(port)], env=env,
                               stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/ready", api, log)
        expected = {u: httpx.get(base + u, timeout=30).json() for u in URLS}
        assert _keys(rport) > 0  # the service caches in the private Redis
        bad: list[str] = []
        served = [0]
        done = threading.Event()

        def client(n: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                i = n
                while not done.is_set():
                    u = URLS[i % len(URLS)]
                    i += 1
                    try:
                        r = c.get(u)
                        if r.status_code != 200 or r.json() != expected[u]:
                            bad.append(f"{u}: {r.status_code} {r.text[:200]}")
                        served[0] += 1
                    except httpx.HTTPError as exc:
                        bad.append(f"{u}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        before = served[0]
        redis.terminate()  # Redis goes away under load
        redis.wait(30)
        time.sleep(3)
        ready = httpx.get(base + "/ready", timeout=30)
        down = ready.json()
        during = served[0]
        redis = _redis(rport, tmp_path)  # and comes back on the same port, empty
        deadline = time.monotonic() + 60  # the client stays away for its back-off (at most 30 s), then returns
        while _keys(rport) == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        refilled = _keys(rport)
        time.sleep(1)
        done.set()
        for t in threads:
            t.join(60)
        assert bad == [], bad[:5]
        assert before > 0 and during > before and served[0] > during  # answered before, during and after
        assert ready.status_code == 200 and "unreachable" in down["checks"]["cache"]["detail"]
        assert refilled > 0, "the service did not use Redis again after its restart"
        assert httpx.get(base + "/ready", timeout=30).json()["checks"]["cache"]["detail"] == "redis"
    finally:
        stop(api)
        redis.terminate()
        redis.wait(30)
