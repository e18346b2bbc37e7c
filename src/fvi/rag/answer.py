"""Answering: retrieve passages and warehouse facts, answer from them, check every sentence, stream events.

One engine, two backends: the OpenAI-compatible client (``llm``) when configured, else the
offline extractive answerer, which quotes the best sentences of the retrieved passages and the
warehouse facts, each with its citation, and says that it is extractive. Both answers go through
the same grounding check (``guard.ground``). Events: ``started``, ``retrieved``, ``delta``…,
``completed`` (or ``error``).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from fvi.rag import guard
from fvi.rag.facts import Entity, Fact, WarehouseFacts
from fvi.rag.index import IndexHolder, Passage
from fvi.rag.llm import ChatClient, LLMFailed
from fvi.settings import ChatSettings

EXTRACTIVE_NOTE = "Extractive answer (no language model): sentences quoted from the sources, each cited."
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]+")
_STOP = set("the a an of to in on for and or is are was were be by with at as from that this what which how does do "
            "did why who whom when where it its their there about into than then can could would should will mine's "
            "tell me please give show list".split())
_RISK = re.compile(r"\b(at[- ]risk|lowest|least viable|worst|weakest)\b", re.I)
_HORIZON = re.compile(r"\bH(5|10|20)\b", re.I)
DOCUMENT_KINDS = ["pdf", "markdown", "html", "text", "wiki"]
FactsFactory = Callable[[], AbstractContextManager[WarehouseFacts | None]]


@dataclass
class Source:
    n: int
    doc_id: str
    title: str
    kind: str
    source_url: str | None
    page: int | None
    section: str | None
    text: str
    licence: str
    chunk_id: str | None = None
    score: float | None = None

    def citation(self, quote: str | None = None) -> dict[str, Any]:
        return {"n": self.n, "doc_id": self.doc_id, "title": self.title, "kind": self.kind,
                "source_url": self.source_url, "page": self.page, "section": self.section,
                "quote": (quote or self.text)[:400], "licence": self.licence, "chunk_id": self.chunk_id}


@dataclass
class Prepared:
    question: str
    entity: Entity | None
    sources: list[Source] = field(default_factory=list)
    refused: bool = False
    notes: list[str] = field(default_factory=list)
    retrieval: str = "hybrid"


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


class ChatEngine:
    def __init__(self, holder: IndexHolder, facts: FactsFactory, settings: ChatSettings) -> None:
        self.holder = holder
        self.facts = facts
        self.settings = settings

    # -- retrieval ---------------------------------------------------------------------------
    def prepare(self, question: str, entity: tuple[str, str] | None = None) -> Prepared:
        """Link the entity, check the scope, gather facts and passages (numbered [1]…).

        Raises NotFound for an ``entity`` the warehouse does not know (before any stream opens).
        """
        with self.facts() as wf:
            linked: Entity | None = None
            if entity is not None:
                linked = self._lookup(wf, entity)
            elif wf is not None:
                linked = wf.link(question)
            prep = Prepared(question, linked)
            # a mine or plant is coal by itself; a country named in passing is not ("the capital of Peru?")
            scoped = linked is not None and (entity is not None or linked.type != "country")
            if not guard.in_scope(question, entity_linked=scoped):
                prep.refused = True
                return prep
            facts: list[Fact] = []
            if wf is not None and linked is not None:
                facts = wf.entity_facts(linked)
                h = _HORIZON.search(question)
                if h:
                    want = f"H{h.group(1)}"
                    facts = [f for f in facts if f" {want}" in f.title]
                if linked.type == "country" and _RISK.search(question):
                    facts = wf.lowest_fvi(linked.id, horizon=f"H{h.group(1)}" if h else "H10") + facts
            elif wf is None:
                prep.notes.append("warehouse unavailable: answered from documents only")
        index = self.holder.current()
        passages: list[Passage] = []
        search_notes: list[str] = []
        if linked is not None:
            passages += index.search(question, 2, entity=(linked.type, linked.id), notes=search_notes)
        seen = {p.chunk_id for p in passages}
        # with a named entity, other entities' fact sheets are noise: documents only beyond its own sheet
        kinds = DOCUMENT_KINDS if linked is not None else None
        passages += [p for p in index.search(question, self.settings.top_k, kinds=kinds, notes=search_notes)
                     if p.chunk_id not in seen]
        if search_notes:
            prep.retrieval = "bm25"
            prep.notes.append(search_notes[-1])
        n = 0
        for f in facts:
            n += 1
            url = None
            if f.entity is not None:
                url = f"/v1/{'mines' if f.entity.type == 'mine' else 'countries'}/{f.entity.id}"
            prep.sources.append(Source(n, f.table, f"{f.title} (run {f.run_id})", "warehouse", url, None, f.table,
                                       f.text, "CC BY 4.0 (FVI; derived from the registered sources)"))
        removed = 0
        for p in passages:
            text, dropped = guard.sanitise(p.text)
            removed += dropped
            if not text.strip():
                continue
            n += 1
            prep.sources.append(Source(n, p.doc_id, p.title, p.kind, p.source_url or p.source_path, p.page,
                                       p.section, text, p.licence, p.chunk_id, p.score))
        if removed:
            prep.notes.append(f"{removed} instruction-like sentence(s) in retrieved text ignored (text is data)")
        if not len(index):
            prep.notes.append("no documents ingested yet: run `fvi docs ingest`")
        return prep

    def _lookup(self, wf: WarehouseFacts | None, entity: tuple[str, str]) -> Entity:
        """The entity a request scopes to; a plant also when only its wiki pages know it."""
        from fvi.api.errors import NotFound

        try:
            if wf is None:
                raise NotFound(f"{entity[0]} {entity[1]!r} not found: no warehouse built yet")
            return wf.lookup(*entity)
        except NotFound:
            if entity[0] != "plant":
                raise
            docs = self.holder.current().docs
            if len(docs):
                own = docs[(docs["entity_type"] == "plant") & (docs["entity_id"].str.lower() == entity[1].lower())]
                if len(own):
                    row = own.iloc[0]
                    return Entity("plant", str(row["entity_id"]), str(row["title"]))
            raise

    # -- answering ---------------------------------------------------------------------------
    def extractive(self, prep: Prepared) -> list[str]:
        """The best sentences: facts first, then passage sentences by term overlap and passage rank."""
        q = _terms(prep.question)
        picked: list[str] = []
        facts = [s for s in prep.sources if s.kind == "warehouse"]
        for s in facts[: max(1, self.settings.max_sentences - 2)]:
            picked.append(_cite(s.text, s.n))
        scored: list[tuple[float, int, str]] = []
        for rank, s in enumerate([s for s in prep.sources if s.kind != "warehouse"]):
            for sent in guard.split_sentences(s.text):
                if len(sent) < 30 or len(sent) > 600 or sent.count("|") > 2:
                    continue
                overlap = len(q & _terms(sent))
                if overlap == 0:
                    continue
                score = overlap / math.sqrt(len(_terms(sent)) + 1) + 1.0 / (rank + 2)
                scored.append((score, s.n, sent))
        per: dict[int, int] = {}
        for _score, n, sent in sorted(scored, key=lambda t: -t[0]):
            if len(picked) >= self.settings.max_sentences:
                break
            if per.get(n, 0) >= 2:
                continue
            per[n] = per.get(n, 0) + 1
            picked.append(_cite(sent, n))
        if not picked and prep.sources:
            s = prep.sources[0]
            first = guard.split_sentences(s.text)[0] if guard.split_sentences(s.text) else s.text[:200]
            picked.append(_cite(f"The closest source says: {first}", s.n))
        return picked

    def events(self, question: str, entity: tuple[str, str] | None = None,
               prep: Prepared | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        prep = prep or self.prepare(question, entity)
        yield "started", {"question": question, "entity": _entity_json(prep.entity)}
        yield "retrieved", {"citations": [s.citation() for s in prep.sources], "notes": prep.notes}
        if prep.refused:
            text = guard.rules()["refusal"]
            yield "delta", {"text": text}
            yield "completed", {"answer": text, "citations": [], "backend": "refusal", "dropped_sentences": [],
                                "notes": prep.notes, "entity": None, "refused": True, "retrieval": "none"}
            return
        sources = {s.n: s.text for s in prep.sources}
        kept: list[str] = []
        dropped: list[dict[str, str]] = []
        backend = "extractive"
        notes = list(prep.notes)
        if self.settings.llm_enabled and prep.sources:
            client = ChatClient(self.settings)
            buf = ""
            try:
                for piece in client.stream(question, [(s.n, s.title, s.text) for s in prep.sources]):
                    buf += piece
                    parts = guard.split_sentences(buf)
                    if len(parts) < 2:
                        continue
                    # the last part may still be growing; split_sentences strips it, so keep a trailing
                    # space ("Underground " + "mines" must not become "Undergroundmines")
                    done, buf = parts[:-1], parts[-1] + (" " if buf[-1:].isspace() else "")
                    for ev in self._checked(done, sources, kept, dropped):
                        yield ev
                for ev in self._checked(guard.split_sentences(buf), sources, kept, dropped):
                    yield ev
                backend = f"llm:{client.model}"
            except LLMFailed as exc:
                if kept:
                    notes.append(f"{exc}: the answer stops there")
                    backend = f"llm:{client.model}"
                else:
                    notes.append(f"{exc}: offline extractive answer instead")
            if backend.startswith("llm") and not kept:
                notes.append("no sentence of the model's answer passed the grounding check: extractive answer instead")
                backend = "extractive"
        if backend == "extractive":
            notes.insert(0, EXTRACTIVE_NOTE)
            for ev in self._checked(self.extractive(prep), sources, kept, dropped):
                yield ev
        if dropped:
            notes.append(f"{len(dropped)} sentence(s) dropped by the grounding check")
        cited = sorted({n for s in kept for n in guard.citations_of(s) if n in sources})
        by_n = {s.n: s for s in prep.sources}
        citations = [by_n[n].citation(_quote(kept, n, by_n[n])) for n in cited]
        yield "completed", {"answer": " ".join(kept), "citations": citations, "backend": backend,
                            "dropped_sentences": dropped, "notes": notes, "entity": _entity_json(prep.entity),
                            "refused": False, "retrieval": prep.retrieval}

    def _checked(self, sentences: list[str], sources: dict[int, str], kept: list[str],
                 dropped: list[dict[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
        checked = guard.ground([s for s in sentences if s.strip()], sources)
        dropped.extend(checked.dropped)
        for s in checked.kept:
            yield "delta", {"text": (" " if kept else "") + s}
            kept.append(s)

    def answer(self, question: str, entity: tuple[str, str] | None = None) -> dict[str, Any]:
        final: dict[str, Any] = {}
        for name, data in self.events(question, entity):
            if name == "completed":
                final = data
        return final


def _cite(sentence: str, n: int) -> str:
    """``text [n].``: the mark inside the sentence, so splitting sentences keeps it with its text."""
    body = sentence.rstrip().rstrip(".!?;:")
    return f"{body} [{n}]."


def _quote(kept: list[str], n: int, src: Source) -> str:
    for s in kept:
        if f"[{n}]" in s:
            return re.sub(r"\s*\[\d+\]", "", s)
    return src.text


def _entity_json(e: Entity | None) -> dict[str, str] | None:
    return None if e is None else {"type": e.type, "id": e.id, "name": e.name}


def new_session_id() -> str:
    return uuid.uuid4().hex
