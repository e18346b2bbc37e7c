"""The chat's steps as ``fvi`` runs them: ingest documents and fact sheets, answer one question."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any

from fvi.rag.ingest import CORPUS_COLLECTION, Ingestor, IngestReport, corpus_dir
from fvi.rag.store import DocStore, open_store
from fvi.settings import Settings

Say = Callable[[str], None]


@contextmanager
def live_facts(settings: Settings) -> Iterator[Any]:
    """WarehouseFacts over the live warehouse, or None when there is none."""
    from fvi.api.db import LiveWarehouse
    from fvi.rag.facts import WarehouseFacts
    from fvi.registry import registry_hash
    from fvi.warehouse import WarehouseUnavailable

    lw = LiveWarehouse(settings)
    try:
        try:
            cm = lw.reader()
            reader = cm.__enter__()
        except WarehouseUnavailable:
            yield None
            return
        try:
            yield WarehouseFacts(reader, registry_hash())
        finally:
            cm.__exit__(None, None, None)
    finally:
        lw.close()


@contextmanager
def staged_facts(staging: Any) -> Iterator[Any]:
    """WarehouseFacts over a run's staging warehouse: fact sheets of the build they are swapped in with."""
    from fvi.api.db import DuckDBSnapshot, Reader, _Handle
    from fvi.rag.facts import WarehouseFacts
    from fvi.registry import registry_hash

    wh = DuckDBSnapshot(staging.path) if staging.path is not None else staging.open()
    reader = Reader(_Handle(wh, f"staging:{staging.run_id}"), lambda _h, _e: None)
    try:
        yield WarehouseFacts(reader, registry_hash())
    finally:
        reader.close()
        wh.close()


def spider_cache_dir(home: Path) -> Path:
    return home / "rag" / "spider"


def crawl_wiki(settings: Settings, ing: Ingestor, *, targets: list[Any] | None = None, config: Any = None,
               say: Say = print) -> None:
    """Crawl the GEM wiki pages of ``targets`` (default: every mine's and plant's URL in the warehouse)."""
    from fvi.rag.spider import Spider, SpiderConfig, doc_id_for, wiki_targets

    if targets is None:
        with live_facts(settings) as wf:
            if wf is None:
                say("spider: no warehouse built yet, so no wiki URLs: skipped")
                return
            targets = wiki_targets(wf.r)
    cfg = config or SpiderConfig.from_settings(settings.chat)
    say(f"spider: {len(targets)} wiki URLs; at most {cfg.max_pages} pages this run, "
        f"one request per host every {cfg.delay:g} s, hosts {', '.join(sorted(cfg.hosts))}")
    spider = Spider(spider_cache_dir(settings.home_abs), cfg, say=say)
    try:
        crawl = spider.crawl(targets)
    finally:
        spider.close()
    ing.add_crawl(crawl, {doc_id_for(t.url) for t in targets})
    say(f"spider: {crawl.fetched} fetched, {crawl.not_modified} not modified (304), "
        f"{len(crawl.quarantined)} quarantined, {len(crawl.deferred)} left for the next run")


def ingest_documents(settings: Settings, *, data_dir: Path | None = None, folders: list[Path] | None = None,
                     fact_sheets: bool = True, say: Say = print,
                     progress: Callable[[int, int], None] | None = None, spider: bool | None = None,
                     spider_targets: list[Any] | None = None, spider_config: Any = None,
                     store: Path | None = None, facts: Callable[[], AbstractContextManager[Any]] | None = None,
                     sync: bool = True) -> IngestReport:
    """The corpus, any extra folders, the GEM wiki pages when asked, and the fact sheets of the live warehouse.

    The corpus is ``data_dir/rag_corpus`` (default: FVI_DATA_DIR, then FVI_SHARED_DATA). The wiki
    spider is the only step that reaches the network: it runs when ``spider`` is true, or, when
    ``spider`` is None, when FVI_SPIDER is set.

    Inside a run (``fvi run``): ``store`` is the run's staged copy of the document store, ``facts``
    opens the run's staging warehouse (fact sheets and wiki targets come from the build being made)
    and ``sync=False``: the pgvector mirror is synced after the commit, from the live store.
    """
    facts_of = facts or (lambda: live_facts(settings))
    if spider is None:
        spider = settings.chat.spider
    from fvi.rag.service import make_embedder

    home = settings.home_abs
    embedder = make_embedder(settings)
    base = data_dir or settings.data_dir or settings.shared_data
    opened: AbstractContextManager[DocStore] = open_store(home) if store is None else closing(DocStore(store))
    with opened as doc_store:
        ing = Ingestor(doc_store, embedder, say=say)
        corpus = corpus_dir(Path(base))
        if corpus.is_dir():
            ing.add_folder(corpus, CORPUS_COLLECTION)
        else:
            say(f"no corpus folder at {corpus}: skipped")
        for folder in folders or []:
            ing.add_folder(folder, f"folder:{folder.resolve()}")
        if spider:
            if spider_targets is None and facts is not None:
                from fvi.rag.spider import wiki_targets

                with facts_of() as wf:
                    spider_targets = wiki_targets(wf.r) if wf is not None else []
            crawl_wiki(settings, ing, targets=spider_targets, config=spider_config, say=say)
        else:
            say("GEM wiki spider off (offline): `fvi docs ingest --spider` or FVI_SPIDER=1 crawls it")
        if fact_sheets:
            with facts_of() as wf:
                if wf is None:
                    say("no warehouse built yet: fact sheets skipped")
                else:
                    add_fact_sheets(ing, wf, settings.chat.fact_sheet_mines, say)
        report = ing.finish(progress)
    if sync:
        sync_vector_store(settings, say)
    return report


def add_fact_sheets(ing: Ingestor, wf: Any, max_mines: int, say: Say = print) -> None:
    """The fact sheets of the live warehouse, rebuilt only when the run that built gold changed.

    Building a sheet reads the entity's profile and explanation (tens of ms each, minutes for
    every mine), so a store whose sheets were made from the same run, cap, format and model keeps
    them as they are.
    """
    from fvi.rag.facts import fact_sheets, warehouse_key

    key = warehouse_key(wf, max_mines, ing.embedder.version)
    if key is not None and ing.store.state("fact_sheets") == key:
        ing.keep_collection("fact_sheets")
        say("fact sheets: unchanged (same run)")
        return
    sheets = fact_sheets(wf, None, max_mines)
    say(f"fact sheets: {len(sheets)}")
    ing.add_documents(sheets, "fact_sheets")
    ing.on_finish(lambda: ing.store.set_state("fact_sheets", key))


def sync_vector_store(settings: Settings, say: Say = print) -> None:
    """Server profile: mirror the store's vectors into pgvector now, not on the API's first question."""
    from fvi.rag.pgvector import VectorStoreUnavailable
    from fvi.rag.service import vector_store

    pg = vector_store(settings)
    if pg is None:
        return
    try:
        with open_store(settings.home_abs, read_only=True) as store:
            docs, chunks, vectors = store.load()
        done = pg.sync(docs, chunks, vectors)
        say(f"pgvector: {done['copied']} document(s) copied ({done['chunks']} chunks), {done['deleted']} removed")
    except VectorStoreUnavailable as exc:
        say(f"{exc}: the API answers from BM25 until it can sync")
    finally:
        pg.close()


def ask(settings: Settings, question: str, entity: tuple[str, str] | None = None) -> dict[str, Any]:
    from fvi.rag.answer import ChatEngine
    from fvi.rag.index import IndexHolder
    from fvi.rag.service import make_embedder, vector_store

    home = settings.home_abs
    holder = IndexHolder(home, lambda: make_embedder(settings), vector_store(settings))
    engine = ChatEngine(holder, lambda: live_facts(settings), settings.chat)
    return engine.answer(question, entity)
