"""Chat benchmark: embedding time, retrieval quality and latency, answers, and the chat route through HTTP.

Run on a built FVI_HOME (``fvi run`` on ../shared/data); the benchmark writes that home's chat store.

1. Embedding: the corpus (``rag_corpus``) and the fact sheets of every country and of
   ``--fact-sheet-mines`` mines (-1: all) into a fresh store (``--fresh``), then the same again
   with nothing changed.
2. Retrieval on the question set of the tests (``tests/integration/rag_questions.yml``): recall@5
   and MRR for BM25 alone, dense alone and hybrid; hybrid p50/p99 over ``--repeat`` passes.
3. Answers (offline extractive backend; also the configured OpenAI-compatible one when
   FVI_LLM_BASE_URL or OPENAI_API_KEY is set): citation precision, cited an expected source, share
   of answers with a dropped sentence, refusals and injections.
4. HTTP (uvicorn, one worker): POST /v1/chat with ``stream: true``, time to the first SSE event
   and to the whole answer; p50/p99 over the question set.

    .venv/bin/python bench/bench_chat.py --home /tmp/me/home --fresh --fact-sheet-mines -1
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
QUESTIONS = REPO / "tests" / "integration" / "rag_questions.yml"


def settings_for(home: Path) -> Any:
    os.environ["FVI_HOME"] = str(home)
    os.environ.pop("FVI_WAREHOUSE_URL", None)
    from fvi.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


def embed(home: Path, data_dir: Path, mines: int, fresh: bool) -> dict[str, Any]:
    from fvi.rag.ingest import CORPUS_COLLECTION, Ingestor, corpus_dir
    from fvi.rag.jobs import add_fact_sheets, live_facts
    from fvi.rag.service import make_embedder
    from fvi.rag.store import open_store, store_path

    settings = settings_for(home)
    if fresh and store_path(home).exists():
        store_path(home).unlink()
    out: dict[str, Any] = {}
    for label in ("first", "again"):
        t0 = time.perf_counter()
        embedder = make_embedder(settings)
        t_model = time.perf_counter() - t0
        with open_store(home) as store:
            ing = Ingestor(store, embedder, say=lambda _m: None)
            ing.add_folder(corpus_dir(data_dir), CORPUS_COLLECTION)
            t_corpus = time.perf_counter()
            before = len(ing._pending)
            with live_facts(settings) as wf:
                if wf is not None:
                    add_fact_sheets(ing, wf, mines, say=lambda _m: None)
            sheets = [d for d, _t, _c in ing._pending[before:]]
            t_sheets = time.perf_counter() - t_corpus
            t_embed0, c_embed0 = time.perf_counter(), time.process_time()
            report = ing.finish()
            t_embed, c_embed = time.perf_counter() - t_embed0, time.process_time() - c_embed0
        total = time.perf_counter() - t0
        out[label] = {"seconds": round(total, 2), "model_load_s": round(t_model, 2),
                      "fact_sheets_changed": len(sheets), "fact_sheet_build_s": round(t_sheets, 2),
                      "embed_and_write_s": round(t_embed, 2), "embed_and_write_cpu_s": round(c_embed, 2),
                      "chunks_embedded": report.chunks_embedded, "vectors_reused": report.vectors_reused,
                      "load_average": [round(x, 1) for x in os.getloadavg()],
                      "documents_embedded": len(report.embedded), "unchanged": len(report.unchanged)}
        print(f"embed {label}: {json.dumps(out[label])}", flush=True)
    return out


def retrieval(home: Path, repeat: int) -> tuple[dict[str, Any], list[Any]]:
    from fvi.rag.evaluate import largest_mines, load_questions, percentile
    from fvi.rag.evaluate import retrieval as score
    from fvi.rag.index import SearchIndex
    from fvi.rag.jobs import live_facts
    from fvi.rag.service import make_embedder

    settings = settings_for(home)
    with live_facts(settings) as wf:
        qs = load_questions(QUESTIONS, largest_mines(wf) if wf is not None else None)
    t0 = time.perf_counter()
    index = SearchIndex.from_store(home, make_embedder(settings))
    load_s = time.perf_counter() - t0
    index.search("warm up", 5)
    out: dict[str, Any] = {"chunks": len(index), "documents": len(index.docs), "index_load_s": round(load_s, 2),
                           "questions": len(qs)}
    for mode in ("bm25", "dense", "hybrid"):
        s = score(index, qs, mode)  # type: ignore[arg-type]
        out[mode] = {"recall@5": round(s.recall, 3), "mrr": round(s.mrr, 3), "n": s.n, "misses": s.misses}
    lat: list[float] = []
    c0 = time.process_time()
    for _ in range(repeat):
        index.clear_query_cache()  # every question embedded again: a question's first search is timed
        lat += score(index, qs, "hybrid").latencies_ms
    cpu_ms = 1000 * (time.process_time() - c0) / max(len(lat), 1)
    out["hybrid_latency_ms"] = {"p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2),
                                "n": len(lat), "cpu_per_query": round(cpu_ms, 2)}
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]
    print(f"retrieval: {json.dumps(out)}", flush=True)
    return out, qs


def answers(home: Path, qs: list[Any]) -> dict[str, Any]:
    from fvi.rag.answer import ChatEngine
    from fvi.rag.evaluate import answers as score
    from fvi.rag.evaluate import percentile
    from fvi.rag.index import IndexHolder
    from fvi.rag.jobs import live_facts
    from fvi.rag.service import make_embedder
    from fvi.settings import ChatSettings

    settings = settings_for(home)

    def facts() -> AbstractContextManager[Any]:
        return live_facts(settings)

    holder = IndexHolder(home, lambda: make_embedder(settings))
    out: dict[str, Any] = {}
    backends = [("offline", ChatSettings(FVI_LLM_BASE_URL=None, FVI_LLM_API_KEY=None))]
    configured = ChatSettings()
    if configured.llm_enabled:
        backends.append((f"llm:{configured.model}", configured))
    for name, rs in backends:
        s = score(ChatEngine(holder, facts, rs), qs)
        out[name] = {**s.to_json(), "answer_ms_p50": round(percentile(s.latencies_ms, 50), 1),
                     "answer_ms_p99": round(percentile(s.latencies_ms, 99), 1)}
        print(f"answers {name}: {json.dumps(out[name])}", flush=True)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(home: Path, qs: list[Any], repeat: int) -> dict[str, Any]:
    import httpx

    from fvi.rag.evaluate import percentile

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FVI_", "OPENAI_"))}
    env.update(FVI_HOME=str(home), FVI_API_RATE_PER_MINUTE="10000000", FVI_API_KEY_RATE_PER_MINUTE="10000000",
               FVI_API_RATE_BURST="1000000", FVI_API_WHATIF_RATE_PER_MINUTE="10000000",
               FVI_API_WARM_WHATIF="false")
    log = Path(tempfile.mkdtemp(prefix="fvi-bench-chat-")) / "server.log"
    cmd = [sys.executable, "-m", "uvicorn", "fvi.api.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
    with log.open("wb") as out_f:
        server = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=subprocess.STDOUT)
    first: list[float] = []
    whole: list[float] = []
    errors = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"server exited:\n{log.read_text()[-2000:]}")
                try:
                    if c.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            c.post("/v1/chat", json={"question": "warm up: coal mine methane", "stream": False})
            for _ in range(repeat):
                for q in qs:
                    body: dict[str, Any] = {"question": q.question, "stream": True}
                    if q.entity:
                        body["entity"] = q.entity
                    t0 = time.perf_counter()
                    got_first = None
                    with c.stream("POST", "/v1/chat", json=body) as r:
                        if r.status_code != 200:
                            errors += 1
                            r.read()
                            continue
                        for line in r.iter_lines():
                            if got_first is None and line.startswith("event:"):
                                got_first = time.perf_counter()
                    first.append(1000 * ((got_first or time.perf_counter()) - t0))
                    whole.append(1000 * (time.perf_counter() - t0))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    out = {"first_event_ms": {"p50": round(percentile(first, 50), 1), "p99": round(percentile(first, 99), 1)},
           "whole_answer_ms": {"p50": round(percentile(whole, 50), 1), "p99": round(percentile(whole, 99), 1)},
           "requests": len(whole), "errors": errors}
    print(f"http: {json.dumps(out)}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="a built FVI_HOME (its chat store is rewritten)")
    shared = Path(os.environ.get("FVI_SHARED_DATA", REPO.parent / "shared" / "data"))
    ap.add_argument("--data-dir", type=Path, default=shared)
    ap.add_argument("--fact-sheet-mines", type=int, default=-1, help="mines given a fact sheet; -1: every mine")
    ap.add_argument("--fresh", action="store_true", help="start from an empty chat store (embed everything)")
    ap.add_argument("--skip-embed", action="store_true")
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the question set for latencies")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    home = args.home.resolve()
    result: dict[str, Any] = {}
    if not args.skip_embed:
        result["embed"] = embed(home, args.data_dir.resolve(), args.fact_sheet_mines, args.fresh)
    result["retrieval"], qs = retrieval(home, args.repeat)
    result["answers"] = answers(home, qs)
    if not args.skip_http:
        result["http"] = http(home, qs, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
