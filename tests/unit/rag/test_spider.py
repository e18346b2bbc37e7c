"""The GEM wiki spider against a local wiki on 127.0.0.1 (no test reaches the internet).

robots.txt obeyed (the forbidden path is never requested), per-host spacing, 429 then success
with Retry-After, redirects, conditional GET (304 reuses the cache), the page cap, quarantine
with the reason, the previous copy kept when a page breaks, and nothing re-embedded unchanged.
"""

from __future__ import annotations

import email.utils
import os
import time
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest
from tests.unit.rag.wiki_server import Page, Wiki, wiki_page, wiki_server

from fvi.rag.documents import Unreadable, sha256_bytes
from fvi.rag.jobs import ingest_documents, spider_cache_dir
from fvi.rag.spider import (
    COLLECTION,
    PoliteClient,
    Spider,
    SpiderConfig,
    Target,
    doc_id_for,
    extract,
    retry_after,
    split_urls,
    wiki_targets,
)
from fvi.rag.store import open_store
from fvi.settings import get_settings

DELAY = 0.25
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
LAST_MOD = "Wed, 01 Oct 2025 10:00:00 GMT"
MOATIZE = wiki_page("Moatize Coal Mine", "Moatize is an open pit coal mine in Tete province, Mozambique.",
                    {"Owner": "Vulcan Resources", "Capacity": "11 Mtpa", "Status": "Operating"},
                    {"Background": "The mine was opened in 2011 and produces coking and thermal coal.",
                     "Emissions": "Coal mine methane is vented from the open pit."})
HWANGE = wiki_page("Hwange Power Station", "Hwange is a coal-fired power station in Zimbabwe.",
                   {"Capacity": "920 MW"}, {"Units": "Units 7 and 8 were commissioned in 2023."})
NEW_NAME = wiki_page("Benga Coal Mine", "Benga is a coal mine near Moatize, renamed in 2021.")
BUSY = wiki_page("Kusile Power Station", "Kusile is a coal-fired power station in Mpumalanga.")


def cfg(**kw: object) -> SpiderConfig:
    base = {"delay": DELAY, "backoff": 0.05, "retries": 3, "max_wait": 5.0, "max_pages": 50,
            "hosts": frozenset({"127.0.0.1"}), "timeout": 5.0}
    return SpiderConfig(**{**base, **kw})  # type: ignore[arg-type]


def serve_wiki(w: Wiki) -> list[Target]:
    w.pages["/robots.txt"] = Page(ROBOTS, content_type="text/plain")
    w.pages["/wiki/Moatize_Coal_Mine"] = Page(MOATIZE, etag='"moatize-v1"', last_modified=LAST_MOD)
    w.pages["/wiki/Hwange_Power_Station"] = Page(HWANGE, last_modified=LAST_MOD)  # Last-Modified only
    w.pages["/wiki/Old_Name"] = Page(b"", status=301, headers={"Location": "/wiki/Benga_Coal_Mine"})
    w.pages["/wiki/Benga_Coal_Mine"] = Page(NEW_NAME, etag='"benga-v1"')
    w.pages["/wiki/Kusile"] = Page(BUSY, etag='"kusile-v1"',
                                   first=[(429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"slow down")])
    w.pages["/wiki/Broken"] = Page(b"\xff\xfe\x00\x81<html><body><p>half a page", content_type="text/html")
    w.pages["/private/Secret_Mine"] = Page(wiki_page("Secret", "Never to be fetched."))
    b = w.base
    return [
        Target(f"{b}/wiki/Moatize_Coal_Mine", "mine", "M0740", "Moatize Coal Mine"),
        Target(f"{b}/wiki/Hwange_Power_Station", "plant", "L100000000123", "Hwange"),
        Target(f"{b}/wiki/Old_Name", "mine", "M0100", "Benga"),
        Target(f"{b}/wiki/Kusile", "plant", "L100000000456", "Kusile"),
        Target(f"{b}/wiki/Broken", "mine", "M0200", "Broken mine"),
        Target(f"{b}/private/Secret_Mine", "mine", "M0300", "Secret"),
        Target(f"{b}/wiki/Missing_Page", "mine", "M0400", "Missing"),
        Target("https://example.org/wiki/Elsewhere", "mine", "M0500", "Not an allowed host"),
    ]


def assert_spacing(w: Wiki, start: int = 0) -> None:
    """Every request to the host came at least DELAY after the previous one."""
    times = [h.at for h in w.hits[start:]]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps and min(gaps) >= DELAY - 0.02, gaps


@pytest.fixture()
def home(fvi_home: Path, chat_env: Path) -> Path:
    return fvi_home


def run(home: Path, targets: list[Target], config: SpiderConfig, tmp_path: Path) -> dict:
    messages: list[str] = []
    report = ingest_documents(get_settings(), data_dir=tmp_path / "no_data", fact_sheets=False,
                              say=messages.append, spider=True, spider_targets=targets, spider_config=config)
    out = report.to_json()
    out["messages"] = messages
    return out


def test_crawl_polite_cached_and_quarantined(home: Path, tmp_path: Path) -> None:
    with wiki_server() as w:
        targets = serve_wiki(w)
        first = run(home, targets, cfg(), tmp_path)

        # robots.txt read once, first; the forbidden path never requested; nothing from other hosts
        assert w.paths()[0] == "/robots.txt" and w.paths().count("/robots.txt") == 1
        assert not any(p.startswith("/private/") for p in w.paths())
        assert_spacing(w)
        # 429 then success, after the Retry-After second
        kusile = w.hits_of("/wiki/Kusile")
        assert [h.status for h in kusile] == [429, 200] and kusile[1].at - kusile[0].at >= 1.0
        # the polite user agent on every request
        assert all("fvi-docs-spider" in h.headers.get("User-Agent", "") for h in w.hits)

        spider = first["spider"]
        assert spider["fetched"] == 5 and spider["not_modified"] == 0 and spider["other_hosts"] == 1
        assert spider["disallowed"] == [f"{w.base}/private/Secret_Mine"]
        assert first["embedded"] == 4
        reasons = {q["source"].rsplit("/", 1)[-1]: q["reason"] for q in first["quarantined"]}
        assert reasons["Broken"].startswith("not valid utf-8")
        assert reasons["Secret_Mine"].startswith("robots.txt forbids")
        assert reasons["Missing_Page"] == "HTTP 404"
        assert not any("GEM wiki spider off" in m for m in first["messages"])

        with open_store(home) as st:
            docs = st.documents().set_index("doc_id")
            quarantine = st.quarantined()
            chunks = st.con.execute("select doc_id, section, text from silver.stg_docs__chunks").df()
        moatize = docs.loc[doc_id_for(f"{w.base}/wiki/Moatize_Coal_Mine")]
        assert (moatize.kind, moatize.collection, moatize.entity_type, moatize.entity_id) == (
            "wiki", COLLECTION, "mine", "M0740")
        assert moatize.title == "Moatize Coal Mine" and moatize.licence == "CC BY-SA 4.0"
        assert moatize.sha256 == sha256_bytes(MOATIZE) and moatize.retrieved_at
        assert moatize.source_url == f"{w.base}/wiki/Moatize_Coal_Mine"
        assert '"Owner": "Vulcan Resources"' in moatize.meta
        hwange = docs.loc[doc_id_for(f"{w.base}/wiki/Hwange_Power_Station")]
        assert (hwange.entity_type, hwange.entity_id) == ("plant", "L100000000123")
        # the redirect: stored under the URL the tracker gives, with the URL it ended at
        benga = docs.loc[doc_id_for(f"{w.base}/wiki/Old_Name")]
        assert benga.source_url == f"{w.base}/wiki/Benga_Coal_Mine" and benga.entity_id == "M0100"
        assert set(quarantine.collection) == {COLLECTION} and len(quarantine) == 3
        m_chunks = chunks[chunks.doc_id == moatize.name]
        assert "Background" in set(m_chunks.section) and "Infobox" in set(m_chunks.section)
        body = " ".join(chunks.text)
        assert "var x=1" not in body and "Recent changes" not in body and "[edit]" not in body

        # the pages are searchable like any document, filtered by their mine or plant
        from fvi.rag.embed import Embedder
        from fvi.rag.index import SearchIndex

        idx = SearchIndex.from_store(home, Embedder(Path(os.environ["FVI_CHAT_MODEL_CACHE"])))
        hits = idx.search("who owns the mine and what capacity", k=3, entity=("mine", "M0740"), kinds=["wiki"])
        assert hits and {h.doc_id for h in hits} == {moatize.name}
        assert any("Owner: Vulcan Resources" in h.text for h in hits) and hits[0].licence == "CC BY-SA 4.0"

        # second run: conditional GETs answered 304, served from the cache, nothing re-embedded
        n = len(w.hits)
        w.pages["/wiki/Broken"] = Page(b"", status=503, first=[])  # still failing, another way
        second = run(home, targets, cfg(), tmp_path)
        again = w.hits[n:]
        assert not any(h.path.startswith("/private/") for h in again)
        assert_spacing(w, n)
        by_path = {h.path: h for h in again}
        assert by_path["/wiki/Moatize_Coal_Mine"].headers.get("If-None-Match") == '"moatize-v1"'
        assert by_path["/wiki/Hwange_Power_Station"].headers.get("If-Modified-Since") == LAST_MOD
        assert by_path["/wiki/Benga_Coal_Mine"].headers.get("If-None-Match") == '"benga-v1"'
        assert "If-None-Match" not in by_path["/wiki/Old_Name"].headers  # validators go to the stored URL only
        assert by_path["/wiki/Moatize_Coal_Mine"].status == 304
        assert second["spider"]["not_modified"] == 4 and second["spider"]["fetched"] == 0
        assert second["embedded"] == 0 and second["chunks_embedded"] == 0 and second["unchanged"] == 4
        assert len(w.hits_of("/wiki/Broken")) >= 2  # the 503 was retried
        assert any(q["reason"].startswith("HTTP 503") for q in second["quarantined"])

        # a page that changes is embedded again; one that breaks keeps its previous copy
        w.pages["/wiki/Moatize_Coal_Mine"] = Page(MOATIZE.replace(b"2011", b"2012"), etag='"moatize-v2"')
        w.pages["/wiki/Hwange_Power_Station"] = Page(b"<html><body></body></html>")
        third = run(home, targets, cfg(), tmp_path)
        assert third["embedded"] == 1 and third["spider"]["fetched"] == 2
        assert any(q["reason"] == "no extractable text" and q["source"].endswith("Hwange_Power_Station")
                   for q in third["quarantined"])
        with open_store(home) as st:
            docs3 = st.documents().set_index("doc_id")
        assert docs3.loc[hwange.name].sha256 == hwange.sha256  # previous copy kept
        assert docs3.loc[moatize.name].sha256 == sha256_bytes(MOATIZE.replace(b"2011", b"2012"))
        cached = Spider(spider_cache_dir(home), cfg()).cache.get(f"{w.base}/wiki/Hwange_Power_Station")
        assert cached is not None and cached[1] == HWANGE

        # a page no longer among the targets is removed
        fourth = run(home, [t for t in targets if "Kusile" not in t.url], cfg(), tmp_path)
        assert fourth["removed"] == 1


def test_page_cap_defers_the_rest_to_the_next_run(home: Path, tmp_path: Path) -> None:
    with wiki_server() as w:
        w.pages["/robots.txt"] = Page(b"", status=404, content_type="text/plain")  # no robots.txt: all allowed
        targets = []
        for i in range(5):
            w.pages[f"/wiki/Mine_{i}"] = Page(wiki_page(f"Mine {i}", f"Mine {i} is a coal mine."), etag=f'"m{i}"')
            targets.append(Target(f"{w.base}/wiki/Mine_{i}", "mine", f"M{i:04d}"))
        first = run(home, targets, cfg(max_pages=3), tmp_path)
        pages = [p for p in w.paths() if p.startswith("/wiki/")]
        assert pages == ["/wiki/Mine_0", "/wiki/Mine_1", "/wiki/Mine_2"]
        assert first["spider"]["deferred"] == 2 and first["embedded"] == 3
        assert any("page cap 3" in m for m in first["messages"])
        n = len(w.hits)
        second = run(home, targets, cfg(max_pages=3), tmp_path)
        pages = [h.path for h in w.hits[n:] if h.path.startswith("/wiki/")]
        # never fetched first, then the stalest
        assert pages[:2] == ["/wiki/Mine_3", "/wiki/Mine_4"] and len(pages) == 3
        assert second["embedded"] == 2 and second["removed"] == 0
        with open_store(home) as st:
            assert len(st.collection_ids(COLLECTION)) == 5


def test_spider_is_off_unless_asked(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FVI_SPIDER", raising=False)
    messages: list[str] = []
    report = ingest_documents(get_settings(), data_dir=tmp_path, fact_sheets=False, say=messages.append)
    assert report.spider is None and "spider" not in report.to_json()
    assert any("GEM wiki spider off" in m for m in messages)
    assert not spider_cache_dir(home).exists()
    monkeypatch.setenv("FVI_SPIDER", "1")
    get_settings.cache_clear()  # settings are read once, at the edge: a new process would read FVI_SPIDER
    messages.clear()
    ingest_documents(get_settings(), data_dir=tmp_path, fact_sheets=False, say=messages.append)
    assert any("no warehouse built yet" in m for m in messages)  # asked: looks for the URLs


def test_robots_unreachable_forbids_everything_and_crawl_delay_spaces(tmp_path: Path) -> None:
    with wiki_server() as w:
        w.pages["/robots.txt"] = Page(b"down", status=500, content_type="text/plain")
        w.pages["/wiki/A"] = Page(wiki_page("A", "A coal mine."))
        rep = Spider(tmp_path / "c", cfg(retries=1)).crawl([Target(f"{w.base}/wiki/A", "mine", "M1")])
        assert rep.disallowed == [f"{w.base}/wiki/A"] and "/wiki/A" not in w.paths()
        assert "unavailable" in rep.quarantined[0]["reason"]
    with wiki_server() as w:
        w.pages["/robots.txt"] = Page(b"User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
        for p in ("A", "B"):
            w.pages[f"/wiki/{p}"] = Page(wiki_page(p, f"{p} is a coal mine."))
        rep = Spider(tmp_path / "d", cfg()).crawl([Target(f"{w.base}/wiki/{p}", "mine", p) for p in "AB"])
        assert rep.fetched == 2
        times = [h.at for h in w.hits]
        assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.98


def test_retry_after_too_long_gives_up_without_waiting(tmp_path: Path) -> None:
    with wiki_server() as w:
        w.pages["/robots.txt"] = Page(b"", status=404)
        w.pages["/wiki/A"] = Page(wiki_page("A", "A."), first=[(429, {"Retry-After": "3600"}, b"")])
        t0 = time.monotonic()
        rep = Spider(tmp_path / "c", cfg()).crawl([Target(f"{w.base}/wiki/A", "mine", "M1")])
        assert time.monotonic() - t0 < 3
        assert rep.quarantined[0]["reason"] == "HTTP 429: asked to wait 3600 s, more than 5 s"
        assert len(w.hits_of("/wiki/A")) == 1


def test_redirect_to_another_host_or_forbidden_path_is_not_followed(tmp_path: Path) -> None:
    with wiki_server() as w:
        w.pages["/robots.txt"] = Page(ROBOTS, content_type="text/plain")
        w.pages["/wiki/Out"] = Page(b"", status=302, headers={"Location": "https://example.org/x"})
        w.pages["/wiki/In"] = Page(b"", status=302, headers={"Location": "/private/x"})
        rep = Spider(tmp_path / "c", cfg()).crawl(
            [Target(f"{w.base}/wiki/Out", "mine", "M1"), Target(f"{w.base}/wiki/In", "mine", "M2")])
        reasons = sorted(q["reason"] for q in rep.quarantined)
        assert reasons[0].startswith("redirected to a host") and reasons[1].startswith("robots.txt forbids")
        assert "/private/x" not in w.paths()


def test_retry_after_header_forms() -> None:
    req = httpx.Request("GET", "http://127.0.0.1/")
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}, request=req)) == 7.0
    when = email.utils.format_datetime(pd.Timestamp("2030-01-01 00:00:30", tz="UTC").to_pydatetime(), usegmt=True)
    now = pd.Timestamp("2030-01-01", tz="UTC").timestamp()
    assert retry_after(httpx.Response(503, headers={"Retry-After": when}, request=req), now=lambda: now) == 30.0
    assert retry_after(httpx.Response(503, headers={"Retry-After": "soon"}, request=req)) is None
    assert retry_after(httpx.Response(503, request=req)) is None


def test_rate_limit_uses_the_clock_it_is_given() -> None:
    """Spacing is computed, not slept blindly: a request made after the delay has passed waits nothing."""
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    transport = httpx.MockTransport(lambda r: httpx.Response(200, text="ok"))
    c = PoliteClient(cfg(delay=2.0), sleep=sleep, clock=lambda: now[0], transport=transport)
    c.request("http://127.0.0.1/a")
    now[0] += 0.5
    c.request("http://127.0.0.1/b")
    now[0] += 5.0
    c.request("http://127.0.0.1/c")
    c.request("http://localhost/d")  # another host: its own turn
    assert slept == [pytest.approx(1.5)]


@pytest.mark.parametrize(
    ("data", "ctype", "reason"),
    [
        (b"\xff\xfe<html>", "text/html", "not valid utf-8"),
        (b"<html><body><div></div></body></html>", "text/html", "no extractable text"),
        (b"%PDF-1.4", "application/pdf", "not an HTML page"),
        (b"just words, no markup", "text/html", "no HTML markup"),
        (b"<p>x</p>", "text/html; charset=klingon", "unknown charset"),
    ],
)
def test_malformed_pages_say_why(data: bytes, ctype: str, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        extract(data, ctype)


def test_extract_keeps_infobox_and_sections() -> None:
    title, sections, box = extract(MOATIZE)
    assert title == "Moatize Coal Mine"
    assert box == {"Owner": "Vulcan Resources", "Capacity": "11 Mtpa", "Status": "Operating"}
    assert [s.title for s in sections] == ["Infobox", "Moatize Coal Mine", "Background", "Emissions"]
    assert sections[0].text.startswith("Owner: Vulcan Resources")
    assert "Tete province" in sections[1].text and "[edit]" not in " ".join(s.text for s in sections)


def test_split_urls() -> None:
    assert split_urls("https://www.gem.wiki/A,_B_mine; https://www.gem.wiki/C, https://gem.wiki/D") == [
        "https://www.gem.wiki/A,_B_mine", "https://www.gem.wiki/C", "https://gem.wiki/D"]
    assert split_urls(None) == [] and split_urls("-") == []


class DuckReader:
    """The three Reader calls wiki_targets makes, over a DuckDB connection (test double of the warehouse)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def has_table(self, layer: str, name: str) -> bool:
        return bool(self.con.execute("select count(*) from information_schema.tables where table_schema = ? "
                                     "and table_name = ?", [layer, name]).fetchone()[0])

    def table(self, layer: str, name: str) -> str:
        return f"{layer}.{name}"

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def rows(self, sql: str) -> list[dict]:
        return self.con.execute(sql).df().to_dict("records")


def test_wiki_targets_from_the_trackers() -> None:
    con = duckdb.connect()
    for s in ("bronze", "gold"):
        con.execute(f"create schema {s}")
    con.execute("create table gold.dim_mine as select * from (values ('M1', 5.0), ('M2', 50.0)) "
                "t(gem_mine_id, capacity_mtpa)")
    con.execute("""create table bronze.raw_gem_mines__open as select * from (values
        ('M1', 'https://www.gem.wiki/Old_M1', 'One', '2024-04'),
        ('M1', 'https://www.gem.wiki/M1', 'One', '2025-04'),
        ('M2', 'https://www.gem.wiki/M2; https://www.gem.wiki/M2_phase_2', 'Two', '2025-04'),
        ('M3', null, 'Three', '2025-04')) t(gem_mine_id, gem_wiki_url, mine_name, _release)""")
    con.execute("""create table bronze.raw_gem_mines__closed as select * from (values
        ('M9', 'https://www.gem.wiki/M9', 'Nine', '2025-04')) t(gem_mine_id, gem_wiki_url, mine_name, _release)""")
    con.execute("""create table bronze.raw_gem_plants__units as select * from (values
        ('L1', 'https://www.gem.wiki/P1', 'P one', '300', '2025-07'),
        ('L1', 'https://www.gem.wiki/P1', 'P one', '300', '2025-07'),
        ('L2', 'https://www.gem.wiki/P2', 'P two', '900', '2025-07'),
        ('L3', 'https://www.gem.wiki/P3', 'P three', '10', '2024-07'))
        t(gem_location_id, wiki_url, plant_name, capacity_mw, _release)""")
    got = [(t.entity_type, t.entity_id, t.url.rsplit("/", 1)[-1]) for t in wiki_targets(DuckReader(con))]
    assert got == [("mine", "M2", "M2"), ("mine", "M2", "M2_phase_2"), ("mine", "M1", "M1"), ("mine", "M9", "M9"),
                   ("plant", "L2", "P2"), ("plant", "L1", "P1")]
