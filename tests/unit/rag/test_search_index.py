"""Retrieval internals: faiss's exact scan ranks like NumPy, filters, tied dense ranks, vectors reused by text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fvi.rag.documents import Document, Section, chunk, embed_text, sha256_bytes
from fvi.rag.index import ExactCosine, SearchIndex
from fvi.rag.ingest import Ingestor
from fvi.rag.store import open_store


def unit(rng: np.random.Generator, n: int, d: int = 384) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def numpy_top(vectors: np.ndarray, q: np.ndarray, allowed: np.ndarray, n: int) -> list[int]:
    sims = np.where(allowed, vectors @ q, -np.inf)
    order = np.argsort(-sims, kind="stable")
    return [int(i) for i in order[: min(n, int(allowed.sum()))]]


def test_exact_cosine_ranks_like_numpy_on_every_path() -> None:
    rng = np.random.default_rng(7)
    vectors = unit(rng, 9000)
    # runs of chunks that share one vector (a fact sheet's title), scanned once and expanded in row order
    for start in range(0, 9000, 900):
        vectors[start + 1 : start + 9] = vectors[start]
    dense = ExactCosine(vectors)
    assert dense._flat.ntotal == 9000 - 10 * 8
    wide = rng.random(9000) < 0.7  # > SUBSET rows: faiss with a bitmap selector
    narrow = np.zeros(9000, dtype=bool)
    narrow[rng.choice(9000, 40, replace=False)] = True  # a few rows: ranked in NumPy
    for allowed in (np.ones(9000, dtype=bool), wide, narrow):
        for q in unit(rng, 5):
            got = dense.top(q, allowed, 50)
            assert got == numpy_top(vectors, q, allowed, 50)
            assert all(allowed[i] for i in got)
    assert dense.top(unit(rng, 1)[0], np.zeros(9000, dtype=bool), 50) == []


def frame(docs: list[dict], chunks: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(docs), pd.DataFrame(chunks)


class Fixed:
    """Query vectors chosen by the test (an Embedder stand-in in this test only)."""

    dim = 384

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.vectors[t] for t in texts])


def test_filters_and_tied_dense_ranks() -> None:
    rng = np.random.default_rng(3)
    base = unit(rng, 3)
    docs = [
        {"doc_id": "sheet-a", "kind": "fact_sheet", "title": "A", "source_url": None, "source_path": None,
         "licence": "x", "entity_type": "mine", "entity_id": "M1"},
        {"doc_id": "guide", "kind": "pdf", "title": "Guide", "source_url": None, "source_path": "g.pdf",
         "licence": "x", "entity_type": None, "entity_id": None},
    ]
    texts = ["identity of mine A", "FVI of mine A at H10 is 40", "probability mine A operating", "methane guide"]
    chunks = [{"chunk_id": f"c{i}", "doc_id": "guide" if i == 3 else "sheet-a", "seq": i, "page": None,
               "section": None, "char_start": 0, "char_end": len(t), "text": t} for i, t in enumerate(texts)]
    # the three chunks of the sheet share one vector (its title's), the guide has its own
    vectors = np.vstack([base[0], base[0], base[0], base[1]])
    d, c = frame(docs, chunks)
    q = "probability operating"
    index = SearchIndex(d, c, vectors, Fixed({q: base[0]}))  # type: ignore[arg-type]
    assert index.mask(entity=("mine", "M1")).tolist() == [True, True, True, False]
    assert index.mask(kinds=["pdf"]).tolist() == [False, False, False, True]
    assert not index.mask(entity=("mine", "M1"), kinds=["pdf"]).any()
    hits = index.search(q, 3, entity=("mine", "M1"))
    # equal similarity, equal dense rank: BM25 alone picks the probability chunk first
    assert [h.dense_rank for h in hits] == [1, 1, 1]
    assert hits[0].chunk_id == "c2" and hits[0].bm25_rank == 1
    assert {h.doc_id for h in index.search(q, 5, kinds=["pdf"])} == {"guide"}


def doc(doc_id: str, sections: list[str], *, embed: str = "chunks", title: str = "T") -> Document:
    body = "\n\n".join(sections)
    return Document(doc_id=doc_id, kind="fact_sheet" if embed == "title" else "markdown", title=title,
                    source_path=None, source_url=None, sha256=sha256_bytes(body.encode()), licence="x",
                    collection="c", sections=[Section(text=s, title=f"s{i}") for i, s in enumerate(sections)],
                    embed=embed)


def test_only_texts_without_a_stored_vector_are_embedded(tmp_path: Path, embedder) -> None:  # noqa: ANN001
    long = ["Coal mine methane is estimated from production and emission factors. " * 3,
            "Surface mines emit less methane per tonne than underground mines. " * 3]

    def ingest(docs: list[Document]) -> dict:
        with open_store(tmp_path) as st:
            ing = Ingestor(st, embedder, say=lambda _m: None)
            ing.add_documents(docs, "c")
            return ing.finish().to_json()

    sheet = doc("sheet", ["FVI 40.1 at H10.", "P(operating) 60%."], embed="title", title="FVI fact sheet: Mine A")
    first = ingest([doc("guide", long), sheet])
    assert first["chunks_embedded"] == 3  # two guide chunks, and one title for both chunks of the sheet
    with open_store(tmp_path, read_only=True) as st:
        _docs, chunks, vectors = st.load()
    sheet_rows = chunks.index[chunks["doc_id"] == "sheet"].tolist()
    assert len(sheet_rows) == 2
    title_vec = embedder.embed(["FVI fact sheet: Mine A"])[0]
    assert np.abs(vectors[sheet_rows] - title_vec).max() < 1e-5
    # new numbers, same title; one guide paragraph changed: only that paragraph is embedded again
    second = ingest([doc("guide", [long[0], "Underground mines vent methane through shafts. " * 3]),
                     doc("sheet", ["FVI 41.7 at H10.", "P(operating) 58%."], embed="title",
                         title="FVI fact sheet: Mine A")])
    assert second["embedded"] == 2 and second["chunks_embedded"] == 1 and second["vectors_reused"] == 3
    d = doc("x", long)
    assert [embed_text(d, c) for c in chunk(d)[1]] == [c.text for c in chunk(d)[1]]
