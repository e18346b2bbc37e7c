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


def _listed(client: TestClient, entity_type: str) -> list[dict]:
    first = client.get("/v1/mines", params={"limit": 500, "entity_type": entity_type}).json()
    items = list(first["items"])
    for offset in range(500, int(first["total"]), 500):
        page = client.get("/v1/mines", params={"limit": 500, "offset": offset, "entity_type": entity_type}).json()
        items += page["items"]
    return items


def test_mine_table_is_the_list_in_one_columnar_answer(client: TestClient) -> None:
    """GET /v1/dashboard/mine-table: every listed mine with the table's fields, in rank order, in one request."""
    for entity_type in ("mine", "us_mine"):
        listed = {m["id"]: m for m in _listed(client, entity_type)}
        assert listed, f"the test world has {entity_type} scores"
        r = client.get("/v1/dashboard/mine-table", params={"entity_type": entity_type, "horizon": "H5"})
        assert r.status_code == 200
        body = r.json()
        cols = body["columns"]
        assert set(cols) == {"id", "name", "country_iso3", "status", "capacity_mtpa", "fvi", "fvi_p05", "fvi_p95",
                             "rank", "percentile"}  # fmt: skip
        assert body["total"] == len(listed) and {len(v) for v in cols.values()} == {len(listed)}
        assert body["as_of_year"] == next(iter(listed.values()))["as_of_year"]
        h5 = {m["id"]: m for m in client.get("/v1/mines", params={"limit": 500, "entity_type": entity_type,
                                                                   "horizon": "H5"}).json()["items"]}  # fmt: skip
        for i, mid in enumerate(cols["id"]):
            m = h5[mid]
            assert cols["name"][i] == m["name"] and cols["rank"][i] == m["rank"] and cols["status"][i] == m["status"]
            for k in ("fvi", "fvi_p05", "fvi_p95", "percentile", "capacity_mtpa"):
                assert (cols[k][i] is None) == (m.get(k) is None), (mid, k)
                assert m.get(k) is None or abs(cols[k][i] - m[k]) <= 5e-4, (mid, k)
        ranks = [x for x in cols["rank"] if x is not None]
        assert ranks == sorted(ranks) and ranks, entity_type
    assert client.get("/v1/dashboard/mine-table", params={"entity_type": "country"}).status_code == 422
    # the map route keeps its own (smaller) set of columns
    assert "percentile" not in client.get("/v1/dashboard/map-mines").json()["columns"]
