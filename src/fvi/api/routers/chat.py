"""Chat, documents and passage search (``fvi.rag``): answers that cite every sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.sse import format_sse_event
from pydantic import BaseModel, Field, field_validator

from fvi.api.deps import ComputeRateLimited, PageDep, StateDep
from fvi.api.errors import NotFound
from fvi.api.schemas import error_responses
from fvi.rag import guard
from fvi.rag.answer import new_session_id
from fvi.rag.service import chat_service

router = APIRouter(tags=["chat"], responses=error_responses(404))

IdStr = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class EntityRef(BaseModel):
    type: Literal["mine", "country", "plant"] = Field(description="plant: a GEM location ID (its wiki pages).")
    id: IdStr


class ChatRequest(BaseModel):
    question: str = Field(description="The question, in plain words.", max_length=guard.rules()["max_question_chars"])
    session_id: IdStr | None = None
    entity: EntityRef | None = None
    stream: bool = False

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("question is empty")
        return v


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    kind: str
    source_url: str | None
    page: int | None
    section: str | None
    quote: str
    licence: str
    chunk_id: str | None = None


class ChatResponse(BaseModel):
    answer: str
    citations: list[Citation]
    session_id: str
    backend: str
    dropped_sentences: list[dict[str, str]]
    notes: list[str] = []
    entity: dict[str, str] | None = None
    refused: bool = False
    retrieval: str = Field(default="hybrid", description="hybrid; bm25 when the vector store was unavailable.")


STREAM_DOC = (
    "Server-sent events: `started`, `retrieved` (the numbered citations), `delta` (answer text, one "
    "grounded sentence at a time), `completed` (the body of the non-streaming answer), or `error`."
)


@router.post(
    "/chat",
    response_model=ChatResponse,
    dependencies=[ComputeRateLimited],
    summary="Ask a question; every sentence of the answer cites a passage or a warehouse fact",
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": STREAM_DOC}},
)
def chat(state: StateDep, body: ChatRequest) -> Any:
    """Hybrid retrieval over documents and fact sheets, then a cited answer.

    Warehouse facts for a named mine or country are added; the answer comes from the configured
    OpenAI-compatible model or, offline, is extractive; a grounding check drops any sentence whose
    numbers no cited source holds (``dropped_sentences``).
    """
    svc = chat_service(state)
    entity = (body.entity.type, body.entity.id) if body.entity else None
    session_id = body.session_id or new_session_id()
    prep = svc.engine.prepare(body.question, entity)  # NotFound -> 404 before any stream opens

    if not body.stream:
        result: dict[str, Any] = {}
        for name, data in svc.engine.events(body.question, entity, prep=prep):
            if name == "completed":
                result = data
        svc.sessions.add_turn(session_id, body.question, result)
        return {**result, "session_id": session_id}

    def event(name: str, data: dict[str, Any]) -> bytes:
        return format_sse_event(event=name, data_str=json.dumps(data, separators=(",", ":"), default=str))

    def events() -> Iterator[bytes]:
        try:
            for name, data in svc.engine.events(body.question, entity, prep=prep):
                if name == "started":
                    data = {**data, "session_id": session_id}
                if name == "completed":
                    data = {**data, "session_id": session_id}
                    svc.sessions.add_turn(session_id, body.question, data)
                yield event(name, data)
        except Exception as exc:  # a stream cannot change its status: say it in an event
            yield event("error", {"status": 500, "detail": f"answer failed ({type(exc).__name__})"})

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get("/chat/sessions/{session_id}", summary="A chat session with its turns")
def get_session(state: StateDep, session_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]) -> Any:
    found = chat_service(state).sessions.get(session_id)
    if found is None:
        raise NotFound(f"chat session {session_id!r} not found")
    return found


DocKind = Literal["pdf", "markdown", "html", "text", "fact_sheet", "wiki"]
EntityQuery = Annotated[
    str | None,
    Query(max_length=80, pattern=r"^(mine|country|plant):[A-Za-z0-9_.\-]+$",
          description="mine:M0740, country:POL or plant:<GEM location ID>"),
]


def _entity(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    t, i = value.split(":", 1)
    return t, i


def _doc_json(row: dict[Any, Any]) -> dict[str, Any]:
    keep = ("doc_id", "kind", "title", "collection", "source_path", "source_url", "sha256", "licence", "entity_type",
            "entity_id", "retrieved_at", "run_id", "embed_model", "n_chunks", "text_chars")
    return {k: (None if isinstance(row.get(k), float) and row[k] != row[k] else row.get(k)) for k in keep}


@router.get("/documents", summary="Ingested documents and fact sheets (paginated)")
def list_documents(
    state: StateDep, page: PageDep, kind: DocKind | None = None, entity: EntityQuery = None
) -> dict[str, Any]:
    index = chat_service(state).holder.current()
    docs = index.docs
    if not len(docs):
        return page.empty("no documents ingested yet: run `fvi docs ingest`")
    if kind:
        docs = docs[docs["kind"] == kind]
    ent = _entity(entity)
    if ent:
        docs = docs[(docs["entity_type"] == ent[0]) & (docs["entity_id"] == ent[1])]
    rows = [_doc_json(r) for r in docs.sort_values("doc_id").to_dict("records")]
    return page.slice(rows)


@router.get("/documents/{doc_id}", summary="One document with its chunks")
def get_document(state: StateDep, doc_id: Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]) -> Any:
    index = chat_service(state).holder.current()
    if not len(index.docs) or doc_id not in index.docs.index:
        raise NotFound(f"document {doc_id!r} not found")
    row = _doc_json(index.docs.loc[doc_id].to_dict())
    chunks = index.chunks[index.chunks["doc_id"] == doc_id].sort_values("seq")
    row["chunks"] = [
        {"chunk_id": c["chunk_id"], "seq": int(c["seq"]), "page": None if c["page"] != c["page"] else int(c["page"]),
         "section": c["section"], "char_start": int(c["char_start"]), "char_end": int(c["char_end"]), "text": c["text"]}
        for c in chunks.to_dict("records")
    ]
    return row


@router.get("/search", summary="Passages for a query (hybrid BM25 + vectors, reciprocal-rank fusion)")
def search(
    state: StateDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="The query.")],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    entity: EntityQuery = None,
    kind: DocKind | None = None,
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid",
) -> Any:
    if not q.strip():
        return JSONResponse(status_code=422, content={"detail": "invalid request: query.q: query is empty"})
    index = chat_service(state).holder.current()
    notes: list[str] = []
    hits = index.search(q, k, entity=_entity(entity), kinds=[kind] if kind else None, mode=mode, notes=notes)
    return {"query": q, "k": k, "mode": "bm25" if notes else mode, "notes": notes, "items": [h.to_json() for h in hits]}
