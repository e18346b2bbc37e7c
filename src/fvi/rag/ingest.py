"""``fvi docs ingest``: corpus files, user folders and fact sheets into the store; only changed ones embedded.

A file whose bytes hash to the stored sha256 is not even parsed again (a re-run with nothing
changed costs a directory walk and a hash per file). A file that cannot be read is quarantined
with the reason and the others load. Documents of a collection that are gone from it are removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fvi.rag.documents import SUFFIX_KIND, Document, Unreadable, chunk, embed_text, read_file, sha256_bytes, slug
from fvi.rag.embed import Embedder
from fvi.rag.store import DocStore

Say = Callable[[str], None]
CORPUS_COLLECTION = "corpus"


@dataclass
class IngestReport:
    embedded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0  # texts embedded (a text several chunks share is embedded once)
    vectors_reused: int = 0  # chunks whose vector came from the store (same model, same text)
    seconds: float = 0.0
    spider: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "embedded": len(self.embedded),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "quarantined": self.quarantined,
            "chunks_embedded": self.chunks_embedded,
            "vectors_reused": self.vectors_reused,
            "seconds": round(self.seconds, 2),
            **({"spider": self.spider} if self.spider is not None else {}),
        }


def embed_key(model_version: str, text: str) -> str:
    """What a vector is the embedding of: the model's weights and the exact text."""
    return sha256_bytes(f"{model_version}\0{text}".encode())


def corpus_dir(data_dir: Path) -> Path:
    return data_dir / "rag_corpus"


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIX_KIND)


def folder_doc_id(folder: Path, path: Path, collection: str) -> str:
    rel = slug(path.relative_to(folder).with_suffix("").as_posix())
    return rel if collection == CORPUS_COLLECTION else f"{slug(collection)[:24]}--{rel}"


class Ingestor:
    """One ingest pass over one store; ``finish`` embeds every pending document in a few big batches."""

    def __init__(self, store: DocStore, embedder: Embedder, *, run_id: str | None = None, say: Say = print) -> None:
        self.store = store
        self.embedder = embedder
        self.run_id = run_id
        self.say = say
        self.known = store.known()
        self.report = IngestReport()
        self._pending: list[tuple[Document, str, list[Any]]] = []
        self._after: list[Callable[[], None]] = []
        self._t0 = time.perf_counter()

    def _fresh(self, doc_id: str, sha: str) -> bool:
        return self.known.get(doc_id) == (sha, self.embedder.version)

    def add_folder(self, folder: Path, collection: str) -> None:
        seen: set[str] = set()
        for path in folder_files(folder):
            doc_id = folder_doc_id(folder, path, collection)
            seen.add(doc_id)
            try:
                data = path.read_bytes()
            except OSError as exc:
                self._quarantine(str(path), collection, None, f"cannot read file: {exc.strerror}")
                continue
            sha = sha256_bytes(data)
            if self._fresh(doc_id, sha):
                self.report.unchanged.append(doc_id)
                self.store.con.execute(
                    "update bronze.raw_docs__documents set run_id = ? where doc_id = ?", [self.run_id, doc_id]
                )
                continue
            try:
                doc = read_file(path, collection=collection, doc_id=doc_id)
            except Unreadable as exc:
                self._quarantine(str(path), collection, sha, str(exc))
                continue
            doc.run_id = self.run_id
            self.add(doc)
        self._prune(collection, seen)

    def add_documents(self, docs: Iterable[Document], collection: str, *, prune: bool = True) -> None:
        seen: set[str] = set()
        for doc in docs:
            seen.add(doc.doc_id)
            if self._fresh(doc.doc_id, doc.sha256):
                self.report.unchanged.append(doc.doc_id)
                self.store.touch(doc)
                continue
            self.add(doc)
        if prune:
            self._prune(collection, seen)

    def on_finish(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once every pending document is stored (e.g. record what the store now holds)."""
        self._after.append(fn)

    def keep_collection(self, collection: str) -> None:
        """Every stored document of ``collection`` is known to be unchanged (nothing rebuilt or embedded)."""
        ids = sorted(self.store.collection_ids(collection))
        self.report.unchanged.extend(ids)
        if ids:
            self.store.con.execute(
                "update bronze.raw_docs__documents set run_id = coalesce(?, run_id) where collection = ?",
                [self.run_id, collection],
            )

    def add_crawl(self, crawl: Any, target_ids: set[str] | None) -> None:
        """The spider's pages: readable ones like any document, failures quarantined.

        A page that failed or was left for a later run (page cap) keeps its stored copy; only pages
        no longer among ``target_ids`` (None: keep everything) are removed.
        """
        from fvi.rag.spider import COLLECTION

        self.add_documents(crawl.documents, COLLECTION, prune=False)
        for q in crawl.quarantined:
            self.store.quarantine(q["source"], COLLECTION, q["sha256"] or None, q["reason"])
            self.report.quarantined.append({"source": q["source"], "reason": q["reason"]})
        if target_ids is not None:
            gone = sorted(self.store.collection_ids(COLLECTION) - target_ids)
            self.store.remove(gone)
            self.report.removed.extend(gone)
        self.report.spider = crawl.to_json()

    def add(self, doc: Document) -> None:
        text, chunks = chunk(doc)
        self._pending.append((doc, text, chunks))

    def _quarantine(self, source: str, collection: str, sha: str | None, reason: str) -> None:
        self.store.quarantine(source, collection, sha, reason)
        self.report.quarantined.append({"source": source, "reason": reason})
        self.say(f"quarantined {source}: {reason}")

    def _prune(self, collection: str, seen: set[str]) -> None:
        gone = sorted(self.store.collection_ids(collection) - seen)
        self.store.remove(gone)
        self.report.removed.extend(gone)

    def finish(self, progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Store every pending document; embed only texts the store holds no vector for (same model)."""
        texts = [embed_text(doc, c) for doc, _t, chunks in self._pending for c in chunks]
        keys = [embed_key(self.embedder.version, t) for t in texts]
        have = self.store.vectors_for(keys)
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in have:
                todo.setdefault(k, t)
        new_keys, new_texts = list(todo), list(todo.values())
        step = 1024
        for i in range(0, len(new_texts), step):
            vecs = self.embedder.embed(new_texts[i : i + step])
            have.update(zip(new_keys[i : i + step], vecs, strict=True))
            if progress:
                progress(min(i + step, len(new_texts)), len(new_texts))
        at = 0
        for doc, text, chunks in self._pending:
            ks = keys[at : at + len(chunks)]
            vectors = np.array([have[k] for k in ks], dtype=np.float32).reshape(len(chunks), self.embedder.dim)
            self.store.put(doc, text, chunks, vectors, self.embedder.version, ks)
            at += len(chunks)
            self.report.embedded.append(doc.doc_id)
        self.report.chunks_embedded = len(new_texts)
        self.report.vectors_reused = len(texts) - len(new_texts)
        self._pending.clear()
        for fn in self._after:
            fn()
        self._after.clear()
        self.report.seconds = time.perf_counter() - self._t0
        return self.report
