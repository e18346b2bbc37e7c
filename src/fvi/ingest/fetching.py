"""Finding a source's files: in a local data directory, or at the publisher's real URL.

Downloads use HTTP caching (ETag / Last-Modified revalidation), retries with exponential
backoff, a timeout, and record the SHA-256 of what arrived. A download is written aside and
renamed into place, so an interrupted fetch never leaves a half file that looks whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from fvi.ingest.base import FileRecord, SourceNotFound, sha256_file
from fvi.registry import load_sources
from fvi.settings import get_settings


def locate_files(source_id: str, data_dir: Path) -> list[FileRecord]:
    """Every file of ``source_id`` found in ``data_dir`` by the registry's ``local_glob``s."""
    source = load_sources()[source_id]
    found: list[FileRecord] = []
    seen: set[Path] = set()
    for f in source.files:
        for path in sorted(data_dir.glob(f.local_glob)):
            if path.name.endswith(".part") or path.name.startswith("."):
                continue  # an interrupted download or our HTTP cache metadata, never data
            if path.is_file() and path not in seen:
                seen.add(path)
                found.append(FileRecord(path=path, url=None, dataset=f.dataset))
    if not found:
        globs = ", ".join(f.local_glob for f in source.files)
        raise SourceNotFound(f"{source_id}: no file in {data_dir} matching {globs}")
    return found


class _Retryable(Exception):
    pass


def download(url: str, dest_dir: Path, *, name: str | None = None, client: httpx.Client | None = None) -> Path:
    """GET ``url`` into ``dest_dir`` with revalidation against the cached copy; return the path."""
    settings = get_settings()
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = name or (unquote(Path(urlparse(url).path).name) or "download")
    target = dest_dir / name
    meta_path = dest_dir / f".{name}.http.json"
    meta: dict[str, str] = json.loads(meta_path.read_text()) if meta_path.exists() and target.exists() else {}
    headers = {"User-Agent": "fvi/0.1 (+https://github.com/; open Future Viability Index)"}
    if meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]

    own = client is None
    http = client or httpx.Client(timeout=settings.http_timeout, follow_redirects=True)

    @retry(
        retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
        stop=stop_after_attempt(max(1, settings.http_retries)),
        wait=wait_exponential(multiplier=1, min=1, max=30),
        reraise=True,
    )
    def _get() -> Path:
        part = target.with_suffix(target.suffix + ".part")
        with http.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304:
                return target
            if resp.status_code in (429, 500, 502, 503, 504):
                raise _Retryable(f"{url}: HTTP {resp.status_code}")
            resp.raise_for_status()
            with open(part, "wb") as fh:
                for chunk in resp.iter_bytes(1 << 20):
                    fh.write(chunk)
            os.replace(part, target)
            new_meta = {
                "url": url,
                "etag": resp.headers.get("etag", ""),
                "last_modified": resp.headers.get("last-modified", ""),
                "retrieved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sha256": sha256_file(target),
            }
            meta_path.write_text(json.dumps(new_meta, indent=1))
            return target

    try:
        return _get()
    finally:
        if own:
            http.close()


def fetch_files(source_id: str, dest_dir: Path, *, client: httpx.Client | None = None) -> list[FileRecord]:
    """Download every file the registry lists for ``source_id`` into ``dest_dir``.

    Files land at their ``local_glob`` location (the glob's folder), so a fetched directory is
    laid out like ``shared/data`` and the same ``locate_files`` reads it.
    """
    source = load_sources()[source_id]
    records: list[FileRecord] = []
    fetched: set[str] = set()
    for f in source.files:
        if getattr(f, "manual", False) or f.url in fetched:
            continue  # a form-gated page is not a file; one URL serving several datasets: once
        fetched.add(f.url)
        sub = Path(f.local_glob).parent
        glob_name = Path(f.local_glob).name
        name = glob_name if not any(ch in glob_name for ch in "*?[") else None
        path = download(f.url, dest_dir / sub, name=name, client=client)
        meta_path = path.parent / f".{path.name}.http.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        records.append(
            FileRecord(
                path=path, url=f.url, dataset=f.dataset, retrieved_at=meta.get("retrieved_at")
            )
        )
    return records


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether ``url``'s host answers at all (a HEAD within ``timeout``)."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as c:
            c.head(url)
        return True
    except httpx.HTTPError:
        return False
