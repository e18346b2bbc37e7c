"""Reading and chunking: pages and headings kept, offsets exact, unreadable files refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from fvi.rag.documents import MAX_CHARS, Unreadable, chunk, parse, read_file

MD = """# Field guide

Intro paragraph about coal mines.

## Status

"Status" describes the stages of a mine. Operating means it produces coal.

## Capacity

| field | definition |
|---|---|
| Capacity (Mtpa) | Maximum production per year. |
| Production (Mtpa) | Coal produced in the year. |

### Notes

""" + ("A long sentence about methane emissions from coal mines that keeps going. " * 30)


def test_markdown_sections_keep_heading_paths_and_exact_offsets(tmp_path: Path) -> None:
    p = tmp_path / "guide.md"
    p.write_text(MD)
    doc = read_file(p, collection="t")
    text, chunks = chunk(doc)
    assert doc.title == "Field guide"
    sections = [c.section for c in chunks]
    assert "Field guide > Status" in sections
    assert "Field guide > Capacity > Notes" in sections
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text
        assert len(c.text) <= MAX_CHARS
        assert c.page is None
    status = next(c for c in chunks if c.section == "Field guide > Status")
    assert "Operating means" in status.text and "Capacity" not in status.text
    # a table row is never cut in two
    table = [c for c in chunks if c.section == "Field guide > Capacity"]
    assert all(line.startswith("|") and line.endswith("|") for c in table for line in c.text.splitlines())
    assert len([c for c in chunks if c.section == "Field guide > Capacity > Notes"]) >= 2


def test_html_and_text(tmp_path: Path) -> None:
    html = "<html><title>Moatize</title><script>x()</script><h2>Background</h2><p>Open pit coal mine.</p></html>"
    title, sections = parse(html.encode(), "html")
    assert title == "Moatize" and sections[0].title == "Background" and "x()" not in sections[0].text
    _, sections = parse(b"plain words", "text")
    assert sections[0].text == "plain words"


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        (b"%PDF-1.4\n garbage that is no PDF", "pdf", "PDF cannot be opened"),
        (b"PK\x03\x04 zip", "pdf", "not a PDF"),
        (b"\xff\xfe\xfa bad", "markdown", "not UTF-8"),
        (b"   \n\n  ", "text", "no extractable text"),
    ],
)
def test_unreadable_documents_say_why(data: bytes, kind: str, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        parse(data, kind)


def test_real_pdf_pages_numbered(shared_data: Path) -> None:
    pdf = shared_data / "rag_corpus" / "climatetrace_2024_coal_mining_emissions_methodology.pdf"
    if not pdf.exists():
        pytest.skip("shared corpus not present")
    doc = read_file(pdf, collection="corpus")
    text, chunks = chunk(doc)
    pages = sorted({c.page for c in chunks})
    assert pages[0] == 1 and pages[-1] == 7
    assert doc.licence == "CC BY 4.0"
    hit = next(c for c in chunks if "3,788" in c.text)
    assert hit.page == 1
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
