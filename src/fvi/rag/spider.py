"""The GEM wiki spider: a polite crawler for the wiki page the GEM trackers give for a mine or plant.

Polite means: robots.txt is read once per host and obeyed (RFC 9309: a 4xx robots.txt allows
everything, a 5xx or an unreachable one forbids everything), its Crawl-delay raises the per-host
spacing, every request to a host (robots.txt, retries and redirect hops included) waits until
``delay`` seconds have passed since the previous one, 429 and 5xx answers are retried with
exponential backoff (Retry-After honoured; a wait longer than ``max_wait`` gives the page up),
and at most ``max_pages`` pages are requested per run (the least recently fetched first, so
successive runs work through the whole list). Redirects are followed by hand, so each hop is
checked against robots.txt and rate-limited like any request.

Every page is kept on disk under ``FVI_HOME/rag/spider`` with its ETag and Last-Modified; the
next run sends them back (conditional GET) and a 304 reuses the stored bytes, so an unchanged page
has the same sha256 and is not embedded again. A page that cannot be fetched or read is
quarantined with the reason and leaves its previous copy (cache and stored document) as it was.

Text and the infobox are extracted with selectolax (the Lexbor HTML5 parser): the MediaWiki
content block, cut into sections at its headings; the infobox (``table.infobox``, else the first
key/value table) becomes a first section and ``meta.infobox``.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import time
import urllib.robotparser
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import yaml

from fvi.rag.documents import Document, Section, Unreadable, sha256_bytes, slug
from fvi.settings import ChatSettings

COLLECTION = "gem_wiki"
KIND = "wiki"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")
Say = Callable[[str], None]


@cache
def spider_rules() -> dict[str, Any]:
    return dict(yaml.safe_load((Path(__file__).parent / "spider.yml").read_text()))


@dataclass(frozen=True)
class Target:
    """A wiki page and the mine (GEM Mine ID) or plant (GEM location ID) it describes."""

    url: str
    entity_type: str
    entity_id: str
    name: str | None = None


@dataclass
class SpiderConfig:
    max_pages: int = 200
    delay: float = 2.0
    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 120.0
    max_redirects: int = 5
    max_bytes: int = 5_000_000
    hosts: frozenset[str] = field(default_factory=lambda: frozenset(spider_rules()["hosts"]))
    user_agent: str = field(default_factory=lambda: str(spider_rules()["user_agent"]))

    @classmethod
    def from_settings(cls, settings: ChatSettings) -> SpiderConfig:
        s = settings
        hosts = frozenset(h.strip().lower() for h in s.spider_hosts.split(",") if h.strip()) if s.spider_hosts else None
        cfg = cls(max_pages=s.spider_max_pages, delay=s.spider_delay, retries=s.spider_retries,
                  max_wait=s.spider_max_wait, timeout=s.spider_timeout)
        if hosts:
            cfg.hosts = hosts
        return cfg


class FetchFailed(Exception):
    """A page could not be fetched; the message is the reason."""


class Disallowed(FetchFailed):
    """robots.txt forbids the URL."""


@dataclass
class CrawlReport:
    documents: list[Document] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    fetched: int = 0
    not_modified: int = 0
    requests: int = 0
    deferred: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    other_hosts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"pages": len(self.documents), "fetched": self.fetched, "not_modified": self.not_modified,
                "requests": self.requests, "deferred": len(self.deferred), "disallowed": self.disallowed,
                "other_hosts": len(self.other_hosts), "quarantined": self.quarantined}


# -- the on-disk cache -----------------------------------------------------------------------------


class PageCache:
    """One JSON record (validators, provenance) and one body file per requested URL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _key(self, url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()[:40]

    def get(self, url: str) -> tuple[dict[str, Any], bytes] | None:
        meta, body = self.root / f"{self._key(url)}.json", self.root / f"{self._key(url)}.body"
        if not (meta.exists() and body.exists()):
            return None
        rec = json.loads(meta.read_text())
        data = body.read_bytes()
        return (rec, data) if sha256_bytes(data) == rec.get("sha256") else None

    def put(self, url: str, rec: dict[str, Any], data: bytes) -> None:
        key = self._key(url)
        for suffix, payload in ((".body", data), (".json", json.dumps(rec, indent=1).encode())):
            tmp = self.root / f"{key}{suffix}.tmp"
            tmp.write_bytes(payload)
            tmp.replace(self.root / f"{key}{suffix}")

    def retrieved_at(self, url: str) -> str:
        meta = self.root / f"{self._key(url)}.json"
        if not meta.exists():
            return ""
        try:
            return str(json.loads(meta.read_text()).get("retrieved_at") or "")
        except ValueError:
            return ""


# -- the polite HTTP client ------------------------------------------------------------------------


def retry_after(resp: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP-date), None when absent or bad."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def _origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}".lower()


class PoliteClient:
    def __init__(self, cfg: SpiderConfig, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.sleep = sleep
        self.clock = clock
        self.http = httpx.Client(timeout=cfg.timeout, follow_redirects=False, transport=transport,
                                 headers={"User-Agent": cfg.user_agent})
        self._last: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    # rate limit
    def _spacing(self, origin: str) -> float:
        rp = self._robots.get(origin)
        robots = isinstance(rp, urllib.robotparser.RobotFileParser)
        crawl_delay = rp.crawl_delay(self.cfg.user_agent) if robots else None  # type: ignore[union-attr]
        return max(self.cfg.delay, float(crawl_delay or 0))

    def _wait_turn(self, origin: str) -> None:
        last = self._last.get(origin)
        if last is not None:
            gap = last + self._spacing(origin) - self.clock()
            if gap > 0:
                self.sleep(gap)
        self._last[origin] = self.clock()

    def request(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """One GET, rate-limited and retried on 429/5xx and transport errors; the body read (capped)."""
        origin = _origin(url)
        attempt = 0
        while True:
            self._wait_turn(origin)
            self.requests += 1
            try:
                with self.http.stream("GET", url, headers=headers or {}) as resp:
                    body = bytearray()
                    for part in resp.iter_bytes():
                        body.extend(part)
                        if len(body) > self.cfg.max_bytes:
                            raise FetchFailed(f"page larger than {self.cfg.max_bytes} bytes")
                    resp._content = bytes(body)  # noqa: SLF001 - the capped body, read once
            except httpx.TransportError as exc:
                self._last[origin] = self.clock()
                if attempt >= self.cfg.retries:
                    raise FetchFailed(f"{type(exc).__name__}: {exc} (after {attempt + 1} attempts)") from exc
                wait = self.cfg.backoff * 2**attempt
            else:
                # the next request to this host waits from the end of this one, so the host never sees
                # two requests closer than the delay however slow the exchange was
                self._last[origin] = self.clock()
                if resp.status_code not in RETRY_STATUS:
                    return resp
                if attempt >= self.cfg.retries:
                    raise FetchFailed(f"HTTP {resp.status_code} (after {attempt + 1} attempts)")
                asked = retry_after(resp)
                wait = max(asked if asked is not None else 0.0, self.cfg.backoff * 2**attempt)
                if wait > self.cfg.max_wait:
                    raise FetchFailed(f"HTTP {resp.status_code}: asked to wait {wait:.0f} s, more than "
                                      f"{self.cfg.max_wait:.0f} s")
            self.sleep(wait)
            attempt += 1

    # robots.txt
    def allowed(self, url: str) -> bool:
        origin = _origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        rp = self._robots[origin]
        if isinstance(rp, str):
            return rp == "allow"
        return rp.can_fetch(self.cfg.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | str:
        url = f"{origin}/robots.txt"
        try:
            for _ in range(self.cfg.max_redirects + 1):
                resp = self.request(url)
                if resp.status_code in REDIRECT_STATUS and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    continue
                break
        except FetchFailed:
            return "deny"  # unreachable: assume complete disallow (RFC 9309 2.3.1.4)
        if 400 <= resp.status_code < 500:
            return "allow"  # unavailable: no restrictions (RFC 9309 2.3.1.3)
        if resp.status_code != 200:
            return "deny"
        rp = urllib.robotparser.RobotFileParser(url)
        rp.parse(resp.content.decode("utf-8", "replace").splitlines())
        return rp

    def get_page(self, url: str, validators: dict[str, str] | None = None,
                 validated_url: str | None = None) -> tuple[httpx.Response, str]:
        """(final response, final URL): redirects followed by hand, every hop checked against robots.txt.

        ``validators`` (If-None-Match / If-Modified-Since) are sent to ``validated_url`` only, the
        URL the stored copy came from.
        """
        cur = url
        for _ in range(self.cfg.max_redirects + 1):
            if urlsplit(cur).hostname not in self.cfg.hosts:
                raise FetchFailed(f"redirected to a host the spider may not crawl: {cur}")
            if not self.allowed(cur):
                if self._robots.get(_origin(cur)) == "deny":
                    raise Disallowed(f"robots.txt of {_origin(cur)} unavailable (5xx or unreachable): "
                                     f"nothing fetched from that host")
                raise Disallowed(f"robots.txt forbids {cur}")
            resp = self.request(cur, validators if validators and cur == validated_url else None)
            if resp.status_code in REDIRECT_STATUS:
                loc = resp.headers.get("Location")
                if not loc:
                    raise FetchFailed(f"HTTP {resp.status_code} without a Location")
                cur = urljoin(cur, loc)
                continue
            return resp, cur
        raise FetchFailed(f"more than {self.cfg.max_redirects} redirects")


# -- extraction ------------------------------------------------------------------------------------

_DROP = ["script", "style", "noscript", "nav", "footer", "header", "form", "svg", "sup.reference", ".mw-editsection",
         ".navbox", ".toc", "#toc", "#catlinks", ".printfooter", ".mw-jump-link", ".noprint", "#siteSub",
         "#contentSub", ".mw-references-wrap", "ol.references"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _squash(text: str) -> str:
    return " ".join(text.split())


def _heading(node: Any) -> tuple[int, str] | None:
    if node.tag in _HEADINGS:
        return _HEADINGS[node.tag], _squash(node.text())
    cls = node.attributes.get("class") or ""
    if node.tag == "div" and "mw-heading" in cls:
        h = next((c for c in node.iter() if c.tag in _HEADINGS), None)
        if h is not None:
            return _HEADINGS[h.tag], _squash(h.text())
    return None


def _block_text(node: Any) -> str:
    if node.tag in {"ul", "ol"}:
        return "\n".join(f"- {t}" for li in node.css("li") if (t := _squash(li.text(separator=" "))))
    if node.tag == "dl":
        return "\n".join(t for c in node.iter() if (t := _squash(c.text(separator=" "))))
    if node.tag == "table":
        rows = []
        for tr in node.css("tr"):
            cells = [_squash(c.text(separator=" ")) for c in tr.iter() if c.tag in {"th", "td"}]
            if any(cells):
                rows.append(" | ".join(cells))
        return "\n".join(rows)
    return _squash(node.text(separator=" "))


def _walk(node: Any) -> Iterable[tuple[str, Any]]:
    """("h", (level, title)) and ("t", text) in document order; containers holding headings are entered."""
    for child in node.iter(include_text=False):
        head = _heading(child)
        if head is not None:
            yield "h", head
        elif child.tag in {"div", "section", "article", "main", "center"} and any(
            child.css_first(h) is not None for h in ("h1", "h2", "h3", "h4")
        ):
            yield from _walk(child)
        else:
            text = _block_text(child)
            if text:
                yield "t", text


def _infobox(root: Any) -> dict[str, str]:
    box = root.css_first("table.infobox")
    if box is None:
        for table in root.css("table"):
            pairs = [tr for tr in table.css("tr") if len([c for c in tr.iter() if c.tag in {"th", "td"}]) == 2]
            if len(pairs) >= 2 and len(pairs) == len(table.css("tr")):
                box = table
                break
    if box is None:
        return {}
    out: dict[str, str] = {}
    for tr in box.css("tr"):
        cells = [c for c in tr.iter() if c.tag in {"th", "td"}]
        if len(cells) == 2:
            key, value = _squash(cells[0].text(separator=" ")).rstrip(":"), _squash(cells[1].text(separator=" "))
            if key and value:
                out[key] = value
    box.decompose()
    return out


def _charset(content_type: str) -> str:
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    return m.group(1) if m else "utf-8"


def extract(data: bytes, content_type: str = "text/html; charset=utf-8",
            ) -> tuple[str | None, list[Section], dict[str, str]]:
    """(title, sections, infobox) of a wiki page; ``Unreadable`` with the reason when it is no readable page."""
    from selectolax.lexbor import LexborHTMLParser

    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        raise Unreadable(f"not an HTML page (Content-Type {mime})")
    try:
        text = data.decode(_charset(content_type))
    except LookupError as exc:
        raise Unreadable(f"unknown charset in Content-Type {content_type!r}") from exc
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not valid {_charset(content_type)}: {exc.reason} at byte {exc.start}") from exc
    if "<" not in text or "\x00" in text:
        raise Unreadable("no HTML markup")
    tree = LexborHTMLParser(text)
    h1 = tree.css_first("#firstHeading") or tree.css_first("h1")
    title_node = tree.css_first("title")
    title = _squash(h1.text()) if h1 is not None else (_squash(title_node.text()) if title_node is not None else None)
    root = (tree.css_first("#mw-content-text .mw-parser-output") or tree.css_first("#mw-content-text")
            or tree.css_first("main") or tree.css_first("article") or tree.body)
    if root is None:
        raise Unreadable("no page body")
    for sel in _DROP:
        for n in root.css(sel):
            n.decompose()
    box = _infobox(root)
    sections: list[Section] = []
    if box:
        sections.append(Section(text="\n".join(f"{k}: {v}" for k, v in box.items()), title="Infobox"))
    path: list[tuple[int, str]] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            sections.append(Section(text="\n\n".join(buf), title=" > ".join(t for _, t in path) or title or None))
            buf.clear()

    for what, value in _walk(root):
        if what == "h":
            flush()
            level, head = value
            if h1 is not None and head == title:
                continue
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, head)]
        else:
            buf.append(value)
    flush()
    if not any(s.title != "Infobox" for s in sections):
        raise Unreadable("no extractable text")
    return title or None, sections, box


# -- the crawl -------------------------------------------------------------------------------------


def doc_id_for(url: str) -> str:
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or urlsplit(url).hostname or "page"
    return f"wiki--{slug(name)[:60]}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Spider:
    def __init__(self, cache_dir: Path, cfg: SpiderConfig, *, say: Say = print,
                 client: PoliteClient | None = None) -> None:
        self.cfg = cfg
        self.cache = PageCache(cache_dir)
        self.say = say
        self.client = client or PoliteClient(cfg)
        rules = spider_rules()
        self.licence = str(rules["licence"]["name"])
        self.licence_url = str(rules["licence"]["url"])
        self.registry_source = str(rules["source"])

    def close(self) -> None:
        self.client.close()

    def crawl(self, targets: Iterable[Target]) -> CrawlReport:
        rep = CrawlReport()
        by_url: dict[str, list[Target]] = {}
        for t in targets:
            host = (urlsplit(t.url).hostname or "").lower()
            if urlsplit(t.url).scheme not in {"http", "https"} or host not in self.cfg.hosts:
                rep.other_hosts.append(t.url)
                continue
            by_url.setdefault(t.url, []).append(t)
        # never fetched first, then the stalest copy: a capped run works through the list over runs
        order = sorted(by_url, key=self.cache.retrieved_at)
        for i, url in enumerate(order):
            if i >= self.cfg.max_pages:
                rep.deferred.extend(order[i:])
                self.say(f"spider: page cap {self.cfg.max_pages} reached; {len(order) - i} pages left for the next run")
                break
            self._one(url, by_url[url], rep)
        rep.requests = self.client.requests
        return rep

    def _one(self, url: str, targets: list[Target], rep: CrawlReport) -> None:
        cached = self.cache.get(url)
        validators: dict[str, str] = {}
        if cached:
            rec = cached[0]
            if rec.get("etag"):
                validators["If-None-Match"] = rec["etag"]
            if rec.get("last_modified"):
                validators["If-Modified-Since"] = rec["last_modified"]
        try:
            resp, final = self.client.get_page(url, validators, cached[0].get("final_url") if cached else None)
            if resp.status_code == 304 and cached:
                rec, data = cached
                rec = {**rec, "validated_at": _now()}
                self.cache.put(url, rec, data)
                rep.not_modified += 1
                status = 304
            elif resp.status_code == 200:
                data = resp.content
                rec = {"url": url, "final_url": final, "etag": resp.headers.get("ETag"),
                       "last_modified": resp.headers.get("Last-Modified"),
                       "content_type": resp.headers.get("Content-Type", ""), "sha256": sha256_bytes(data),
                       "retrieved_at": _now()}
                rep.fetched += 1
                status = 200
            else:
                raise FetchFailed(f"HTTP {resp.status_code}")
            title, sections, box = extract(data, rec.get("content_type") or "")
        except Disallowed as exc:
            rep.disallowed.append(url)
            self._quarantine(rep, url, None, str(exc))
            return
        except FetchFailed as exc:
            self._quarantine(rep, url, None, str(exc))
            return
        except Unreadable as exc:
            self._quarantine(rep, url, sha256_bytes(data), str(exc))
            return
        if status == 200:
            self.cache.put(url, rec, data)  # only a readable page replaces the stored copy
        first = targets[0]
        rep.documents.append(Document(
            doc_id=doc_id_for(url), kind=KIND, title=title or first.name or url, source_path=None,
            source_url=rec["final_url"], sha256=rec["sha256"], licence=self.licence, collection=COLLECTION,
            sections=sections, entity_type=first.entity_type, entity_id=first.entity_id,
            retrieved_at=rec.get("validated_at") or rec["retrieved_at"],
            meta={"url": url, "final_url": rec["final_url"], "http_status": status, "etag": rec.get("etag"),
                  "last_modified": rec.get("last_modified"), "fetched_at": rec["retrieved_at"],
                  "licence_url": self.licence_url, "registry_source": self.registry_source, "infobox": box,
                  "entities": [{"type": t.entity_type, "id": t.entity_id, "name": t.name} for t in targets]},
        ))

    def _quarantine(self, rep: CrawlReport, url: str, sha: str | None, reason: str) -> None:
        rep.quarantined.append({"source": url, "reason": reason, "sha256": sha or ""})
        self.say(f"spider: {url}: {reason}")


# -- targets from the warehouse ------------------------------------------------------------------

_URL_SPLIT = re.compile(r"[;\s|]+|,(?=\s*https?://)")


def split_urls(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [u for u in _URL_SPLIT.split(value.strip()) if u.lower().startswith(("http://", "https://"))]


def _num(value: Any) -> float:
    """A capacity as a float for ordering; missing, NaN or text that is no number: 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if x == x else 0.0


def wiki_targets(reader: Any) -> list[Target]:
    """Every mine's and plant's wiki URL, latest release first: largest mines, then largest plants."""
    out: list[Target] = []
    cap: dict[str, float] = {}
    if reader.has_table("gold", "dim_mine"):
        for row in reader.rows(f"select gem_mine_id, capacity_mtpa from {reader.table('gold', 'dim_mine')}"):
            cap[row["gem_mine_id"]] = _num(row["capacity_mtpa"])
    mines: dict[str, tuple[str, str | None, str]] = {}
    for sheet in ("open", "closed"):
        name = f"raw_gem_mines__{sheet}"
        if not reader.has_table("bronze", name):
            continue
        cols = set(reader.query(f"select * from {reader.table('bronze', name)} limit 0").columns)
        if not {"gem_mine_id", "gem_wiki_url", "_release"} <= cols:
            continue
        for row in reader.rows(
            f"select trim(gem_mine_id) as id, gem_wiki_url as url, mine_name as name, _release as rel "
            f"from {reader.table('bronze', name)} where gem_wiki_url is not null"
        ):
            if row["id"] and (row["id"] not in mines or row["rel"] > mines[row["id"]][2]):
                mines[row["id"]] = (row["url"], row["name"], row["rel"])
    for mid in sorted(mines, key=lambda m: (-cap.get(m, 0.0), m)):
        url, mine_name, _rel = mines[mid]
        out.extend(Target(u, "mine", mid, mine_name) for u in split_urls(url))
    if reader.has_table("bronze", "raw_gem_plants__units"):
        tbl = reader.table("bronze", "raw_gem_plants__units")
        cols = set(reader.query(f"select * from {tbl} limit 0").columns)
        if {"gem_location_id", "wiki_url", "_release"} <= cols:
            plants: dict[str, dict[str, Any]] = {}
            rows = reader.rows(
                f"select trim(gem_location_id) as id, wiki_url as url, plant_name as name, capacity_mw as mw "
                f"from {tbl} where wiki_url is not null and _release = (select max(_release) from {tbl})"
            )
            for row in rows:
                if not row["id"]:
                    continue
                p = plants.setdefault(row["id"], {"url": row["url"], "name": row["name"], "mw": 0.0})
                p["mw"] += _num(row["mw"])
            for pid in sorted(plants, key=lambda k: (-plants[k]["mw"], k)):
                out.extend(Target(u, "plant", pid, plants[pid]["name"]) for u in split_urls(plants[pid]["url"]))
    return out
