"""Plant pages (GEM location IDs) as a chat scope and a document filter, like mines and countries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fvi.api.errors import NotFound
from fvi.api.routers.chat import ChatRequest, list_documents
from fvi.rag.answer import ChatEngine
from fvi.rag.documents import Document, Section, sha256_bytes
from fvi.rag.index import IndexHolder
from fvi.rag.ingest import Ingestor
from fvi.rag.store import open_store
from fvi.settings import ChatSettings


def page(doc_id: str, etype: str, eid: str, title: str, text: str) -> Document:
    return Document(doc_id=doc_id, kind="wiki", title=title, source_path=None,
                    source_url=f"https://gem.wiki/{doc_id}", sha256=sha256_bytes(text.encode()), licence="CC BY-SA 4.0",
                    collection="gem_wiki", sections=[Section(text=text, title=title)], entity_type=etype,
                    entity_id=eid)


@contextmanager
def no_facts() -> Iterator[None]:
    yield None


@pytest.fixture()
def plant_home(tmp_path: Path, embedder) -> Path:  # noqa: ANN001
    home = tmp_path / "home"
    docs = [
        page("matarbari", "plant", "L100000410012", "Matarbari power station",
             "Matarbari power station is a coal plant in Bangladesh. Its two units burn imported coal."),
        page("payra", "plant", "L100000410099", "Payra power station",
             "Payra power station is a coal plant in Bangladesh with two supercritical units."),
        page("barapukuria", "mine", "M0123", "Barapukuria coal mine",
             "Barapukuria coal mine is an underground coal mine in Bangladesh."),
    ]
    with open_store(home) as st:
        ing = Ingestor(st, embedder, say=lambda _m: None)
        ing.add_documents(docs, "gem_wiki")
        ing.finish()
    return home


def test_chat_scoped_to_a_plant_cites_its_own_page(plant_home: Path, embedder) -> None:  # noqa: ANN001
    engine = ChatEngine(IndexHolder(plant_home, lambda: embedder), no_facts,
                        ChatSettings(FVI_LLM_BASE_URL=None, FVI_LLM_API_KEY=None))
    prep = engine.prepare("Which coal does this plant burn?", ("plant", "l100000410012"))
    assert prep.entity is not None and (prep.entity.type, prep.entity.id) == ("plant", "L100000410012")
    assert prep.sources[0].doc_id == "matarbari" and not prep.refused
    out = engine.answer("Which coal does this plant burn?", ("plant", "L100000410012"))
    assert out["entity"]["type"] == "plant" and out["citations"][0]["doc_id"] == "matarbari"
    with pytest.raises(NotFound):
        engine.prepare("Which coal does this plant burn?", ("plant", "L999"))


def test_plant_ids_accepted_by_the_routes(plant_home: Path, embedder) -> None:  # noqa: ANN001
    req = ChatRequest.model_validate({"question": "coal?", "entity": {"type": "plant", "id": "L100000410012"}})
    assert req.entity is not None and req.entity.type == "plant"

    class Page:
        def slice(self, rows: list) -> dict:
            return {"total": len(rows), "items": rows}

        def empty(self, note: str) -> dict:
            return {"total": 0, "items": [], "note": note}

    class Svc:
        holder = IndexHolder(plant_home, lambda: embedder)

    class State:
        extras = {"chat": Svc()}

    got = list_documents(State(), Page(), kind=None, entity="plant:L100000410099")  # type: ignore[arg-type]
    assert [d["doc_id"] for d in got["items"]] == ["payra"] and got["items"][0]["entity_type"] == "plant"


def test_a_country_named_in_passing_is_not_in_scope(plant_home: Path, embedder) -> None:  # noqa: ANN001
    from fvi.rag.facts import Entity

    class Facts:
        def link(self, question: str) -> Entity | None:
            return Entity("country", "PER", "Peru") if "Peru" in question else None

        def lookup(self, etype: str, eid: str) -> Entity:
            return Entity(etype, eid, "Peru")

        def entity_facts(self, e: Entity) -> list:
            return []

    @contextmanager
    def facts() -> Iterator[Facts]:
        yield Facts()

    engine = ChatEngine(IndexHolder(plant_home, lambda: embedder), facts,  # type: ignore[arg-type]
                        ChatSettings(FVI_LLM_BASE_URL=None, FVI_LLM_API_KEY=None))
    assert engine.prepare("What is the capital of Peru?").refused
    assert not engine.prepare("How much coal does Peru burn?").refused
    assert not engine.prepare("Why is this score low?", ("country", "PER")).refused
    assert not engine.prepare("How are emissions inventories projected?").refused
