"""A local wiki on 127.0.0.1 for the spider tests: pages the tests write, every request logged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # answers given once each before the page itself: (status, headers, body)
    first: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)


@dataclass
class Hit:
    path: str
    at: float
    headers: dict[str, str]
    status: int


class Wiki:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self.base = ""
        self.lock = threading.Lock()

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def hits_of(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]


@contextmanager
def wiki_server() -> Iterator[Wiki]:
    wiki = Wiki()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            at = time.monotonic()
            with wiki.lock:
                page = wiki.pages.get(self.path)
                if page is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                elif page.first:
                    status, headers, body = page.first.pop(0)
                elif page.etag and self.headers.get("If-None-Match") == page.etag:
                    status, headers, body = 304, {"ETag": page.etag}, b""
                elif (not page.etag and page.last_modified
                      and self.headers.get("If-Modified-Since") == page.last_modified):
                    status, headers, body = 304, {"Last-Modified": page.last_modified}, b""
                else:
                    status, body = page.status, page.body
                    headers = {"Content-Type": page.content_type, **page.headers}
                    if page.etag:
                        headers["ETag"] = page.etag
                    if page.last_modified:
                        headers["Last-Modified"] = page.last_modified
                wiki.hits.append(Hit(self.path, at, dict(self.headers.items()), status))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    wiki.base = f"http://127.0.0.1:{srv.server_address[1]}"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield wiki
    finally:
        srv.shutdown()
        srv.server_close()


def wiki_page(title: str, lead: str, infobox: dict[str, str] | None = None,
              sections: dict[str, str] | None = None) -> bytes:
    """A MediaWiki-shaped page (the markup gem.wiki serves: firstHeading, mw-parser-output, infobox)."""
    box = ""
    if infobox:
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in infobox.items())
        box = f'<table class="infobox">{rows}</table>'
    secs = "".join(
        f'<div class="mw-heading mw-heading2"><h2 id="{h}">{h}<span class="mw-editsection">[edit]</span></h2></div>'
        f"<p>{p}</p>" for h, p in (sections or {}).items()
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title} - Global Energy Monitor</title><script>var x=1;</script></head>"
        f'<body><nav id="mw-navigation">Main page Recent changes</nav><h1 id="firstHeading">{title}</h1>'
        f'<div id="mw-content-text"><div class="mw-parser-output">{box}<p>{lead}</p>{secs}'
        f'<div id="catlinks">Categories: Coal mines</div></div></div><footer>Content is available under '
        f"CC BY-SA 4.0</footer></body></html>"
    ).encode()
