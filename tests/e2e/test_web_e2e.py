"""The dashboard in a real browser: Playwright drives Debian's Chromium against a real ``fvi serve``.

The server reads the session's real-data build (``shared_build``; ``FVI_E2E_HOME`` points at another
built FVI_HOME instead) and serves the dashboard that ``make setup`` built into the package. Also here:
the web unit tests (Vitest) and the drift test between the committed TypeScript API types and the
OpenAPI schema of the running server. Screenshots of every page land in ``FVI_E2E_ARTEFACTS``
(default: ``web/test-results/screenshots``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.servers import free_port, stop, wait_for

from fvi.api.web import DEFAULT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = Path(os.environ.get("FVI_E2E_CHROMIUM", "/usr/bin/chromium"))
START_TIMEOUT = 180.0


def _need_web() -> None:
    if not (WEB / "node_modules" / ".bin" / "playwright").exists():
        pytest.fail("web/node_modules is missing: `make setup` installs and builds the dashboard")


def _node_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    env.update(NEXT_TELEMETRY_DISABLED="1", npm_config_update_notifier="false", CI="true", **extra)
    return env


@pytest.fixture(scope="module")
def e2e_home(request: pytest.FixtureRequest) -> Path:
    home = os.environ.get("FVI_E2E_HOME")
    if home:
        return Path(home).resolve()
    built, _report = request.getfixturevalue("shared_build")
    return Path(built)


@pytest.fixture(scope="module")
def served(e2e_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``fvi serve`` on a free port over the build, with the dashboard at ``/``; yields its base URL."""
    if not (DEFAULT_DIR / "index.html").is_file():
        pytest.fail(f"the dashboard is not built at {DEFAULT_DIR}: run `make setup`")
    port = free_port()
    log = tmp_path_factory.mktemp("e2e") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FVI_")}
    env.update(
        FVI_HOME=str(e2e_home),
        FVI_API_RATE_PER_MINUTE="100000",
        FVI_API_KEY_RATE_PER_MINUTE="100000",
        FVI_API_RATE_BURST="100000",
        FVI_API_WHATIF_RATE_PER_MINUTE="100000",
        FVI_API_WARM_WHATIF="true",
        FVI_API_TRACING="false",
    )
    fvi = Path(sys.executable).with_name("fvi")
    cmd = [str(fvi), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", proc, log, START_TIMEOUT, every=0.3)
        yield base
    finally:
        stop(proc)


def test_dashboard_served_at_root_beside_the_api(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as c:
        root = c.get("/")
        assert root.status_code == 200 and "text/html" in root.headers["content-type"]
        assert "<html" in root.text and "FVI" in root.text
        assert c.get("/mines/").status_code == 200
        assert c.get("/v1/mines", params={"limit": 1}).headers["content-type"].startswith("application/json")
        assert c.get("/openapi.json").json()["info"]["title"].startswith("FVI")
        assert c.get("/docs").status_code == 200
        # an unknown API path stays a JSON 404, not the dashboard's page
        missing = c.get("/v1/no-such-route")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")


def test_generated_api_types_match_the_running_schema(served: str, tmp_path: Path) -> None:
    """web/src/lib/api-schema.ts is openapi-typescript's output for this server's /openapi.json."""
    _need_web()
    schema = tmp_path / "openapi.json"
    schema.write_bytes(httpx.get(f"{served}/openapi.json", timeout=30).content)
    out = tmp_path / "api-schema.ts"
    cmd = [str(WEB / "node_modules" / ".bin" / "openapi-typescript"), str(schema), "-o", str(out)]
    proc = subprocess.run(cmd, cwd=WEB, env=_node_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    committed = (WEB / "src" / "lib" / "api-schema.ts").read_text()
    assert out.read_text() == committed, (
        "the API's OpenAPI schema changed: regenerate the dashboard's types with `bash scripts/web-api-types.sh`"
    )


def test_web_unit_tests() -> None:
    _need_web()
    proc = subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "vitest"), "run", "--reporter=dot"],
        cwd=WEB, env=_node_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def test_browser_flows_and_accessibility(served: str) -> None:
    """Every flow in web/e2e/*.spec.ts (search, profile, horizon, what-if, map click, country, compare,
    weights, API down) plus axe-core on every page; screenshots written as artefacts."""
    _need_web()
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `make browser` installs Debian's Chromium")
    artefacts = Path(os.environ.get("FVI_E2E_ARTEFACTS", WEB / "test-results")).resolve()
    shots = artefacts / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    env = _node_env(
        FVI_E2E_BASE_URL=served,
        FVI_E2E_OUTPUT=str(artefacts / "playwright"),
        FVI_E2E_SCREENSHOTS=str(shots),
        FVI_E2E_CHROMIUM=str(CHROMIUM),
    )
    started = time.monotonic()
    proc = subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test", "e2e/dashboard.spec.ts"],
        cwd=WEB, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    took = time.monotonic() - started
    print(proc.stdout[-6000:])
    assert proc.returncode == 0, f"playwright failed after {took:.0f} s:\n{(proc.stdout + proc.stderr)[-8000:]}"
    expected = {"overview", "mines", "mine-profile", "country-profile", "compare", "weights", "track-record",
                "data-quality", "system-health", "api-down"}  # fmt: skip
    assert expected <= {p.stem for p in shots.glob("*.png")}
