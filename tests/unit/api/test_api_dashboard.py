"""The dashboard mount: a built export served at / after every API route; API paths keep their JSON answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient


def _export(root: Path) -> Path:
    """A minimal Next-style static export (index, a page folder, a hashed asset, the 404 page)."""
    (root / "mines").mkdir(parents=True)
    (root / "_next" / "static" / "chunks").mkdir(parents=True)
    (root / "index.html").write_text("<html><body>FVI overview</body></html>")
    (root / "mines" / "index.html").write_text("<html><body>FVI mines</body></html>")
    (root / "404.html").write_text("<html><body>not here</body></html>")
    (root / "_next" / "static" / "chunks" / "app-abc123.js").write_text("console.log(1)")
    return root


def test_dashboard_at_root_and_api_untouched(warehouse: Path, make_client, tmp_path: Path) -> None:
    client: TestClient = make_client(web_dir=_export(tmp_path / "web"))
    root = client.get("/")
    assert root.status_code == 200 and "FVI overview" in root.text
    assert root.headers["content-type"].startswith("text/html")
    page = client.get("/mines/")
    assert page.status_code == 200 and "FVI mines" in page.text
    assert client.get("/mines", follow_redirects=False).status_code in (301, 307)  # folder -> trailing slash
    asset = client.get("/_next/static/chunks/app-abc123.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    # the API keeps its routes and its JSON errors
    assert client.get("/health").json() == {"status": "ok"}
    listed = client.get("/v1/mines", params={"limit": 1})
    assert listed.status_code == 200 and listed.json()["total"] >= 1
    missing = client.get("/v1/no-such-route")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")
    assert client.get("/openapi.json").status_code == 200
    assert "/" not in client.get("/openapi.json").json()["paths"]
    # an unknown dashboard path gets the export's 404 page
    lost = client.get("/no-such-page/")
    assert lost.status_code == 404 and "not here" in lost.text


def test_without_a_build_root_says_how_to_make_one(warehouse: Path, make_client, tmp_path: Path) -> None:
    client: TestClient = make_client(web_dir=tmp_path / "not-built")
    r = client.get("/")
    assert r.status_code == 404 and "make setup" in r.json()["detail"]
    assert client.get("/v1/mines", params={"limit": 1}).status_code == 200
