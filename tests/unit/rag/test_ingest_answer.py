"""Ingest (quarantine, re-embed only changed sha256), hybrid search, and answers from both backends."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.unit.rag.helpers import llm_server, sse_answer, write_corpus

from fvi.rag.answer import EXTRACTIVE_NOTE, ChatEngine
from fvi.rag.index import IndexHolder, SearchIndex
from fvi.rag.ingest import Ingestor
from fvi.rag.store import open_store
from fvi.settings import ChatSettings


@contextmanager
def no_facts() -> Iterator[None]:
    yield None


def ingest(home: Path, folder: Path, embedder) -> dict:  # noqa: ANN001
    with open_store(home) as st:
        ing = Ingestor(st, embedder, say=lambda _m: None)
        ing.add_folder(folder, "corpus")
        return ing.finish().to_json()


@pytest.fixture(scope="module")
def corpus_template(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    from fvi.rag.embed import Embedder

    root = tmp_path_factory.mktemp("rag_corpus")
    folder = write_corpus(root / "corpus")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    first = ingest(root / "home", folder, Embedder(model_cache))
    assert first["embedded"] == 4 and first["quarantined"][0]["source"].endswith("broken.pdf")
    return root


@pytest.fixture()
def corpus_home(corpus_template: Path, tmp_path: Path) -> Path:
    """A copy of the ingested store and its corpus folder (tests may change both)."""
    shutil.copytree(corpus_template / "home", tmp_path / "home")
    shutil.copytree(corpus_template / "corpus", tmp_path / "corpus")
    return tmp_path / "home"


def test_rerun_embeds_only_changed_documents(corpus_home: Path, tmp_path: Path, embedder) -> None:  # noqa: ANN001
    folder = tmp_path / "corpus"
    again = ingest(corpus_home, folder, embedder)
    assert again["embedded"] == 0 and again["unchanged"] == 4 and again["chunks_embedded"] == 0
    (folder / "plants.txt").write_text("Coal plants retire. Gas plants replace them.")
    (folder / "fields.md").unlink()
    changed = ingest(corpus_home, folder, embedder)
    assert changed["embedded"] == 1 and changed["unchanged"] == 2 and changed["removed"] == 1
    with open_store(corpus_home, read_only=True) as st:
        docs = st.documents()
        assert set(docs["doc_id"]) == {"methane", "injection", "plants"}
        assert (docs["sha256"].str.len() == 64).all() and (docs["licence"] == "unknown").all()
        assert len(st.quarantined()) == 3  # the broken PDF, once per run (3 runs)


def test_hybrid_search_and_filters(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    idx = SearchIndex.from_store(corpus_home, embedder)
    hits = idx.search("How is coal mine methane estimated?", 3)
    assert hits[0].doc_id == "methane" and hits[0].section == "Coal mine methane > Estimation"
    assert hits[0].bm25_rank == 1 or hits[0].dense_rank == 1
    dense = idx.search("what does the stage of a mine mean", 2, mode="dense")
    assert dense[0].doc_id == "fields"
    assert all(h.kind == "text" for h in idx.search("coal", 5, kinds=["text"]))
    assert idx.search("coal", 5, entity=("mine", "M1")) == []


def engine(home: Path, embedder, **settings) -> ChatEngine:  # noqa: ANN001
    return ChatEngine(IndexHolder(home, lambda: embedder), no_facts, ChatSettings(**settings))


def test_extractive_answer_cites_every_sentence(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    out = engine(corpus_home, embedder).answer("How does Climate TRACE estimate coal mine methane?")
    assert out["backend"] == "extractive" and EXTRACTIVE_NOTE in out["notes"]
    assert "emission factor" in out["answer"]
    from fvi.rag.guard import citations_of, split_sentences

    cited = {c["n"]: c for c in out["citations"]}
    for s in split_sentences(out["answer"]):
        assert citations_of(s) and all(n in cited for n in citations_of(s))
    assert any(c["doc_id"] == "methane" and c["section"].endswith("Estimation") for c in cited.values())


def test_injected_text_changes_nothing(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    out = engine(corpus_home, embedder).answer("What are coal reserves and where do reserve estimates come from?")
    assert "99" not in out["answer"] and "never cites" not in out["answer"]
    assert "Reserve estimates come from company reports" in out["answer"]
    assert any("instruction-like" in n for n in out["notes"])


def test_out_of_scope_question_refused(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    out = engine(corpus_home, embedder).answer("What is a good recipe for pancakes?")
    assert out["backend"] == "refusal" and out["citations"] == [] and "coal" in out["answer"]


def test_openai_compatible_backend_grounded(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    def respond(body: dict):  # noqa: ANN202
        user = body["messages"][1]["content"]
        blocks = user.split("<DATA>")[1].split("\n\n[")
        n = next(b.lstrip("[").split("]")[0] for b in blocks if "emission factor" in b)
        return sse_answer(["Methane is production times an emission ", f"factor [{n}]. Underground ",
                           f"mines use 18 cubic metres per tonne [{n}]. It is 42 tonnes [{n}]."])

    with llm_server(respond) as (url, seen):
        out = engine(corpus_home, embedder, llm_base_url=url, llm_model="test-model", llm_api_key="k").answer(
            "How does Climate TRACE estimate coal mine methane?")
    assert out["backend"] == "llm:test-model", out["notes"]
    assert "18 cubic metres" in out["answer"] and "42" not in out["answer"]
    assert out["dropped_sentences"][0]["reason"].startswith("number(s) 42")
    body = seen[0]["body"]
    assert seen[0]["path"] == "/v1/chat/completions" and seen[0]["auth"] == "Bearer k"
    assert body["stream"] is True and "<DATA>" in body["messages"][1]["content"]
    assert "data, never instructions" in body["messages"][0]["content"]
    # the injection never reaches the model
    assert "Ignore all previous instructions" not in json.dumps(body)


def test_streamed_pieces_keep_the_space_between_words(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    """A piece that ends with a space ("Underground ") and the next one ("mines ...") stay two words."""
    def respond(body: dict):  # noqa: ANN202
        blocks = body["messages"][1]["content"].split("<DATA>")[1].split("\n\n[")
        n = next(b.strip().lstrip("[").split("]")[0] for b in blocks if "emission factor" in b)
        return sse_answer([f"Methane is production times an emission factor [{n}]. Underground ",
                           f"mines use 18 cubic metres per tonne [{n}]."])

    with llm_server(respond) as (url, _seen):
        eng = engine(corpus_home, embedder, llm_base_url=url, llm_model="m")
        out = eng.answer("How is coal mine methane estimated?")
    assert out["backend"] == "llm:m", out["notes"]
    assert "Underground mines use 18" in out["answer"] and "Undergroundmines" not in out["answer"]


@pytest.mark.parametrize(
    ("response", "note"),
    [
        ((500, {"Content-Type": "application/json"}, [b"{}"], 0.0), "HTTP 500"),
        ((200, {"Content-Type": "text/event-stream"}, [b"data: {not json\n\n"], 0.0), "malformed"),
        ((200, {"Content-Type": "application/json"}, [b'{"choices": []}'], 0.0), "malformed"),
        ((200, {"Content-Type": "text/event-stream"}, [b"data: [DONE]\n\n"], 2.0), "timed out"),
    ],
)
def test_llm_faults_fall_back_to_the_extractive_answer(corpus_home: Path, embedder, response, note) -> None:  # noqa: ANN001
    with llm_server(lambda _b: response) as (url, _seen):
        eng = engine(corpus_home, embedder, llm_base_url=url, llm_timeout=0.5)
        out = eng.answer("How is coal mine methane estimated?")
    assert out["backend"] == "extractive"
    assert any(note in n for n in out["notes"]) and out["answer"]


def test_llm_unreachable(corpus_home: Path, embedder) -> None:  # noqa: ANN001
    out = engine(corpus_home, embedder, llm_base_url="http://127.0.0.1:9/v1", llm_timeout=1).answer("coal methane?")
    assert out["backend"] == "extractive" and any("unreachable" in n for n in out["notes"])
