"""The dashboard's chat page in a real browser, against a real ``fvi serve`` on 127.0.0.1.

A small world built here (no shared data needed): the tiny API warehouse, the chat tests' corpus
ingested and embedded, and a local OpenAI-compatible endpoint (a test double) that streams a cited
answer sentence by sentence with a pause between pieces, and refuses the API key for one question.
Playwright runs ``web/e2e/chat.spec.ts`` (the chat page, the score drivers on a profile, the dark
theme and the phone layout; axe-core on each); screenshots land in ``FVI_E2E_ARTEFACTS``
(default ``web/test-results``) under ``screenshots-chat``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.test_web_e2e import CHROMIUM, WEB, _need_web, _node_env
from tests.servers import free_port, stop, wait_for
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse
from tests.unit.rag.conftest import model_cache  # noqa: F401  (fixture: one ONNX export per session)
from tests.unit.rag.helpers import write_corpus

from fvi.api.web import DEFAULT_DIR
from fvi.rag.jobs import ingest_documents
from fvi.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GAP = 1.5  # seconds between the pieces the test double streams: long enough to see the answer grow
REFUSE_MARK = "refused key"  # a question with these words gets HTTP 401 from the test double
LLM_MODEL = "e2e-double"


class _LLMDouble:
    """A chat-completions endpoint: cites the passage on emission factors in three streamed pieces."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        double = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                double.seen.append(body)
                user = body["messages"][1]["content"]
                if REFUSE_MARK in user.split("<DATA>")[0]:
                    payload = b'{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}'
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                question = user.split("<DATA>")[0]
                blocks = [b.strip() for b in user.split("<DATA>")[1].split("\n\n[")]

                def cite(needle: str) -> str:
                    return next(b.lstrip("[").split("]")[0] for b in blocks if needle in b)

                if "FVI" in question:  # the warehouse fact (facts are numbered before the passages)
                    n = cite("The FVI of Alpha Coal Mine (M1) at H10 for the analyst persona")
                    pieces = [
                        f"Alpha Coal Mine has an FVI of 60.0 at H10 for the analyst persona [{n}]. Its ",
                        f"rank is 2 [{n}].",
                    ]
                else:
                    n = cite("emission factor")
                    pieces = [
                        f"Climate TRACE multiplies coal production by an emission factor [{n}]. Underground ",
                        f"mines use a depth-dependent factor of 18 cubic metres per tonne [{n}]. Ventilation ",
                        f"air methane is dilute and hard to capture [{n}].",
                    ]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, p in enumerate(pieces):
                    if i:
                        time.sleep(GAP)
                    self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': p}}]})}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> _LLMDouble:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def build_chat_home(home: Path, cache: Path) -> Path:
    """The tiny warehouse with its runs, plus the chat corpus ingested (fact sheets included)."""
    settings = Settings(home=home)
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_warehouse(settings.duckdb_path)
    write_runs(settings.home_abs)
    corpus = write_corpus(home.parent / "data" / "rag_corpus")
    old = os.environ.get("FVI_CHAT_MODEL_CACHE")
    os.environ["FVI_CHAT_MODEL_CACHE"] = str(cache)
    try:
        report = ingest_documents(settings, data_dir=corpus.parent, say=lambda _m: None)
    finally:
        if old is None:
            os.environ.pop("FVI_CHAT_MODEL_CACHE", None)
        else:
            os.environ["FVI_CHAT_MODEL_CACHE"] = old
    assert report.embedded and not report.quarantined
    return home


@pytest.fixture(scope="module")
def llm() -> Iterator[_LLMDouble]:
    with _LLMDouble() as double:
        yield double


@contextmanager
def _serve(home: Path, log: Path, **extra: str) -> Iterator[str]:
    """``fvi serve`` on a free port of 127.0.0.1 over ``home``; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FVI_", "OPENAI_"))}
    env.update(
        FVI_HOME=str(home),
        FVI_API_RATE_PER_MINUTE="100000",
        FVI_API_KEY_RATE_PER_MINUTE="100000",
        FVI_API_RATE_BURST="100000",
        FVI_API_WHATIF_RATE_PER_MINUTE="100000",
        FVI_API_WARM_WHATIF="false",
        FVI_API_TRACING="false",
        **extra,
    )
    fvi = Path(sys.executable).with_name("fvi")
    with log.open("wb") as out:
        proc = subprocess.Popen([str(fvi), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", proc, log, 120.0, every=0.3)
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chat_served(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, llm: _LLMDouble) -> Iterator[str]:  # noqa: F811
    """The corpus ingested, the test-double model configured."""
    if not (DEFAULT_DIR / "index.html").is_file():
        pytest.fail(f"the dashboard is not built at {DEFAULT_DIR}: run `make setup`")
    root = tmp_path_factory.mktemp("chat_e2e")
    home = build_chat_home(root / "home", model_cache)
    extra = {"FVI_CHAT_MODEL_CACHE": str(model_cache), "FVI_LLM_BASE_URL": llm.url, "FVI_LLM_MODEL": LLM_MODEL,
             "FVI_LLM_API_KEY": "e2e-key", "FVI_LLM_TIMEOUT": "20"}  # fmt: skip
    with _serve(home, root / "serve.log", **extra) as base:
        yield base


@pytest.fixture(scope="module")
def nodocs_served(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[str]:  # noqa: F811
    """The same warehouse with no document ingested and no language model: what a fresh build looks like."""
    root = tmp_path_factory.mktemp("chat_e2e_nodocs")
    settings = Settings(home=root / "home")
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    write_warehouse(settings.duckdb_path)
    write_runs(settings.home_abs)
    with _serve(settings.home_abs, root / "serve.log", FVI_CHAT_MODEL_CACHE=str(model_cache)) as base:
        yield base


def test_the_world_answers_through_the_double(chat_served: str, llm: _LLMDouble) -> None:
    """Before the browser: the served chat streams the double's grounded answer (else the spec means nothing)."""
    with httpx.Client(base_url=chat_served, timeout=60) as c:
        assert c.get("/v1/documents", params={"limit": 1}).json()["total"] >= 4
        body = c.post("/v1/chat", json={"question": "How does Climate TRACE estimate coal mine methane?"}).json()
    assert body["backend"] == f"llm:{LLM_MODEL}", body["notes"]
    assert "18 cubic metres per tonne" in body["answer"] and body["citations"]
    assert llm.seen and llm.seen[-1]["model"] == LLM_MODEL


def test_chat_page_in_the_browser(chat_served: str, nodocs_served: str) -> None:
    """web/e2e/chat.spec.ts: ask, see the answer stream and its citations, the error states; axe on every view."""
    _need_web()
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `make browser` installs Debian's Chromium")
    artefacts = Path(os.environ.get("FVI_E2E_ARTEFACTS", WEB / "test-results")).resolve()
    shots = artefacts / "screenshots-chat"  # not test_web_e2e's folder: it empties that one when it starts
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    env = _node_env(
        FVI_E2E_BASE_URL=chat_served,
        FVI_E2E_NODOCS_URL=nodocs_served,
        FVI_E2E_OUTPUT=str(artefacts / "playwright-chat"),
        FVI_E2E_SCREENSHOTS=str(shots),
        FVI_E2E_CHROMIUM=str(CHROMIUM),
        FVI_E2E_CHAT_GAP_MS=str(int(GAP * 1000)),
        FVI_E2E_CHAT_MODEL=LLM_MODEL,
    )
    proc = subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test", "e2e/chat.spec.ts"],
        cwd=WEB, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    print(proc.stdout[-6000:])
    assert proc.returncode == 0, f"playwright failed:\n{(proc.stdout + proc.stderr)[-8000:]}"
    assert {"chat", "chat-error", "mine-score-drivers", "dark-mode", "phone-overview", "phone-chat"} <= {
        p.stem for p in shots.glob("*.png")
    }
