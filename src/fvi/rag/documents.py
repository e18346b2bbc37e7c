"""Read documents (PDF, markdown, HTML, plain text) into sections that keep their page or heading.

A section is the unit of structure: one PDF page, or the text under one markdown/HTML heading.
Chunking (``chunk``) splits sections along paragraphs and sentences into passages the embedder
can take whole (at most ``MAX_CHARS``), each keeping document, page, section title and character
offsets into the document's cleaned text. A file that cannot be read raises ``Unreadable`` with
the reason; the caller quarantines it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

SUFFIX_KIND = {".pdf": "pdf", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
               ".txt": "text"}
MAX_CHARS = 900
MIN_CHARS = 200


class Unreadable(ValueError):
    """The document cannot be read (encrypted, corrupt, no text); the message is the reason."""


@dataclass
class Section:
    text: str
    page: int | None = None
    title: str | None = None


@dataclass
class Document:
    doc_id: str
    kind: str
    title: str
    source_path: str | None
    source_url: str | None
    sha256: str
    licence: str
    collection: str
    sections: list[Section]
    entity_type: str | None = None
    entity_id: str | None = None
    retrieved_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    run_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # "chunks": each chunk's vector embeds its own text; "title": every chunk carries the vector of
    # the document's title (generated fact sheets: their text is a template around numbers, which
    # BM25 and the warehouse answer; what the dense half can match in them is which entity they are)
    embed: str = "chunks"


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    seq: int
    page: int | None
    section: str | None
    char_start: int
    char_end: int
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.seq}"


def embed_text(doc: Document, chunk: Chunk) -> str:
    """The text whose embedding is the chunk's vector (see ``Document.embed``)."""
    return doc.title if doc.embed == "title" else chunk.text


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "doc"


@cache
def _corpus_rules() -> list[dict[str, str]]:
    return list(yaml.safe_load((Path(__file__).parent / "corpus.yml").read_text()))


def licence_for(name: str) -> tuple[str, str | None]:
    """(licence name, registry source id) for a corpus file, from corpus.yml and the source registry."""
    from fvi.registry import load_sources

    for rule in _corpus_rules():
        if fnmatch.fnmatch(name, rule["glob"]):
            src = load_sources()[rule["source"]]
            return src.licence.name, src.id
    return "unknown", None


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"-\n(?=[a-z])", "", text)  # words hyphenated across lines
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read_pdf(data: bytes) -> tuple[str | None, list[Section]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        raise Unreadable(f"PDF cannot be opened: {reason}") from exc
    try:
        sections = []
        for i in range(len(pdf)):
            page = pdf[i]
            text = _clean(page.get_textpage().get_text_range())
            if text:
                sections.append(Section(text=text, page=i + 1, title=_pdf_heading(text)))
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        pdf.close()
    return title, sections


def _pdf_heading(text: str) -> str | None:
    """The first short line of a page that looks like a heading (numbered or Title Case), else None."""
    for line in text.split("\n")[:6]:
        line = line.strip()
        if 3 <= len(line) <= 90 and line.isascii() and line[0].isalnum() and not line.endswith((".", ",", ";")) and (
            re.match(r"^\d+(\.\d+)*\.?\s+[A-Z]", line) or line.istitle() or line.isupper()
        ):
            return line
    return None


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def read_markdown(text: str) -> tuple[str | None, list[Section]]:
    """Sections under each heading; the title path (``A > B``) names the section."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    buf: list[str] = []
    title = None
    in_code = False

    def flush() -> None:
        body = _clean("\n".join(buf))
        if body:
            sections.append(Section(text=body, title=" > ".join(t for _, t in path) or None))
        buf.clear()

    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if m:
            flush()
            level, head = len(m.group(1)), m.group(2).strip()
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, head)]
            title = title or head
            continue
        buf.append(line)
    flush()
    return title, sections


class _HTMLText(HTMLParser):
    SKIP = {"script", "style", "nav", "footer", "header", "noscript", "svg"}
    BLOCK = {"p", "div", "li", "tr", "br", "table", "ul", "ol", "section", "article", "td", "th", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.title: str | None = None
        self._skip = 0
        self._buf: list[str] = []
        self._head: str | None = None
        self._in_heading: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in {"h1", "h2", "h3", "h4"}:
            self._flush()
            self._in_heading = []
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self._buf.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag in {"h1", "h2", "h3", "h4"} and self._in_heading is not None:
            self._head = " ".join("".join(self._in_heading).split()) or self._head
            self._in_heading = None
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCK:
            self._buf.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif self._skip:
            return
        elif self._in_heading is not None:
            self._in_heading.append(data)
        else:
            self._buf.append(data)

    def _flush(self) -> None:
        body = _clean("".join(self._buf))
        if body:
            self.sections.append(Section(text=body, title=self._head))
        self._buf = []

    def close(self) -> None:
        super().close()
        self._flush()


def read_html(text: str) -> tuple[str | None, list[Section]]:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    return parser.title, parser.sections


def read_text(text: str) -> tuple[str | None, list[Section]]:
    body = _clean(text)
    return None, [Section(text=body)] if body else []


def parse(data: bytes, kind: str) -> tuple[str | None, list[Section]]:
    """(title, sections) of a document's bytes; ``Unreadable`` when there is nothing to read."""
    if kind == "pdf":
        if not data.startswith(b"%PDF"):
            raise Unreadable("not a PDF (no %PDF header)")
        title, sections = read_pdf(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unreadable(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
        title, sections = {"markdown": read_markdown, "html": read_html}.get(kind, read_text)(text)
    if not sections:
        raise Unreadable("no extractable text")
    return title, sections


def read_file(path: Path, *, collection: str, doc_id: str | None = None) -> Document:
    kind = SUFFIX_KIND.get(path.suffix.lower())
    if kind is None:
        raise Unreadable(f"unsupported file type {path.suffix!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read file: {exc.strerror}") from exc
    title, sections = parse(data, kind)
    licence, _source = licence_for(path.name)
    return Document(
        doc_id=doc_id or slug(path.stem),
        kind=kind,
        title=title or path.stem.replace("_", " "),
        source_path=str(path.resolve()),
        source_url=None,
        sha256=sha256_bytes(data),
        licence=licence,
        collection=collection,
        sections=sections,
    )


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'])")


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of paragraphs, with over-long paragraphs cut at sentence ends (or hard at MAX_CHARS)."""
    out: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n](?:.|\n(?!\n))*", text):
        s, e = m.start(), m.end()
        if text[s] == "|":  # a markdown table: one piece per row, so a chunk never cuts a row
            out.extend((r.start(), r.end()) for r in re.finditer(r"[^\n]+", text[:e]) if r.start() >= s)
            continue
        while e - s > MAX_CHARS:
            cut = None
            for sm in _SENTENCE_END.finditer(text, s, s + MAX_CHARS):
                if sm.start() - s >= MIN_CHARS:
                    cut = sm.start()
            if cut is None:
                space = text.rfind(" ", s + MIN_CHARS, s + MAX_CHARS)
                cut = space if space > s else s + MAX_CHARS
            out.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if e > s:
            out.append((s, e))
    return out


def chunk(doc: Document) -> tuple[str, list[Chunk]]:
    """(the document's cleaned text, its chunks): sections joined by blank lines, offsets into that text.

    Paragraphs of one section are packed together up to MAX_CHARS; a chunk never spans two
    sections (so never two pages or two headings).
    """
    parts: list[str] = []
    chunks: list[Chunk] = []
    pos = 0
    for sec in doc.sections:
        if parts:
            parts.append("\n\n")
            pos += 2
        base = pos
        parts.append(sec.text)
        pos += len(sec.text)
        cur: tuple[int, int] | None = None
        for s, e in _pieces(sec.text):
            if cur is not None and e - cur[0] <= MAX_CHARS:
                cur = (cur[0], e)
                continue
            if cur is not None:
                chunks.append(_mk(doc, len(chunks), sec, base, cur))
            cur = (s, e)
        if cur is not None:
            chunks.append(_mk(doc, len(chunks), sec, base, cur))
    return "".join(parts), chunks


def _mk(doc: Document, seq: int, sec: Section, base: int, span: tuple[int, int]) -> Chunk:
    s, e = span
    return Chunk(doc.doc_id, seq, sec.page, sec.title, base + s, base + e, sec.text[s:e])
