"""Chat routes on the tiny warehouse: JSON and SSE answers, sessions, documents, search, 404/422."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.rag.conftest import chat_env, model_cache  # noqa: F401 - fixtures
from tests.unit.rag.helpers import write_corpus

from fvi.rag.jobs import ingest_documents
from fvi.settings import Settings


@pytest.fixture()
def chat_client(warehouse: Path, settings: Settings, chat_env: Path, tmp_path: Path, make_client) -> TestClient:  # noqa: ANN001, F811
    corpus = write_corpus(tmp_path / "data" / "rag_corpus")
    report = ingest_documents(settings, data_dir=corpus.parent, say=lambda _m: None)
    assert report.embedded and not report.quarantined
    return make_client()


def sse(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_chat_answers_with_citations_and_keeps_the_session(chat_client: TestClient) -> None:
    r = chat_client.post("/v1/chat", json={"question": "How does Climate TRACE estimate coal mine methane?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["backend"] == "extractive" and body["citations"] and body["session_id"]
    c = body["citations"][0]
    assert set(c) >= {"n", "doc_id", "title", "kind", "source_url", "page", "section", "quote", "licence"}
    r2 = chat_client.post("/v1/chat", json={"question": "What does the Status field mean?",
                                             "session_id": body["session_id"]})
    s = chat_client.get(f"/v1/chat/sessions/{body['session_id']}").json()
    assert [t["n"] for t in s["turns"]] == [1, 2] and s["turns"][1]["answer"] == r2.json()["answer"]
    assert chat_client.get("/v1/chat/sessions/nope").status_code == 404


def test_entity_facts_from_the_warehouse(chat_client: TestClient) -> None:
    body = chat_client.post("/v1/chat", json={"question": "What is the FVI of Alpha Coal Mine at H10?"}).json()
    assert body["entity"]["id"] == "M1"
    facts = [c for c in body["citations"] if c["kind"] == "warehouse"]
    assert facts and "H10" in facts[0]["title"] and "FVI of Alpha Coal Mine (M1) at H10" in body["answer"]
    fact_sheets = chat_client.get("/v1/documents", params={"kind": "fact_sheet", "entity": "mine:M1"}).json()
    assert fact_sheets["total"] == 1
    one = chat_client.get(f"/v1/documents/{fact_sheets['items'][0]['doc_id']}").json()
    assert one["chunks"] and one["entity_id"] == "M1"


def test_stream_event_order(chat_client: TestClient) -> None:
    r = chat_client.post("/v1/chat", json={"question": "How is coal mine methane estimated?", "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    names = [e for e, _ in events]
    assert names[:2] == ["started", "retrieved"] and names[-1] == "completed"
    assert set(names[2:-1]) == {"delta"}
    assert "".join(d["text"] for e, d in events if e == "delta") == events[-1][1]["answer"]


def test_bad_input(chat_client: TestClient) -> None:
    for body in ({"question": "   "}, {"question": "x" * 1001}, {}):
        r = chat_client.post("/v1/chat", json=body)
        assert r.status_code == 422 and "question" in r.json()["detail"]
    r = chat_client.post("/v1/chat", json={"question": "coal?", "entity": {"type": "mine", "id": "M999"}})
    assert r.status_code == 404 and "M999" in r.json()["detail"]
    r = chat_client.post("/v1/chat", json={"question": "Best pancake recipe?"})
    assert r.json()["backend"] == "refusal"


def test_search_and_documents(chat_client: TestClient) -> None:
    r = chat_client.get("/v1/search", params={"q": "ventilation air methane", "k": 3})
    items = r.json()["items"]
    assert items[0]["doc_id"] == "methane" and items[0]["score"] > 0
    docs = chat_client.get("/v1/documents", params={"limit": 2}).json()
    assert docs["total"] >= 4 and len(docs["items"]) == 2
    assert chat_client.get("/v1/documents/nope").status_code == 404
    assert chat_client.get("/v1/search", params={"q": ""}).status_code == 422
