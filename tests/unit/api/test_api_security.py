"""API keys (hashed at rest, scopes, revocation, CLI), rate limits, body size, CORS."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fvi.api.keys import KeyStore, keys_app
from fvi.api.security import TokenBucket


@pytest.fixture()
def store(settings) -> KeyStore:
    return KeyStore(settings.home_abs / "api" / "keys.sqlite3")


def test_keys_hashed_at_rest_and_verified(store: KeyStore) -> None:
    key, plaintext = store.create("dashboard", ["admin"])
    secret = plaintext.split(".", 1)[1]
    raw = store.path.read_bytes()
    assert secret.encode() not in raw and plaintext.encode() not in raw
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    found = store.verify(plaintext)
    assert found is not None and found.id == key.id and found.allows("write") and found.allows("admin")
    assert store.verify(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert store.verify("fvi_nothere.secret") is None and store.verify("garbage") is None
    assert store.revoke(key.id) and not store.revoke(key.id)
    assert store.verify(plaintext) is None
    assert [k.revoked_at is not None for k in store.list_keys()] == [True]


def test_same_secret_salted_differently(store: KeyStore) -> None:
    import sqlite3

    store.create("a")
    store.create("b")
    with sqlite3.connect(store.path) as con:
        salts = {r[0] for r in con.execute("select salt from api_keys")}
    assert len(salts) == 2


def test_unknown_scope_refused(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        store.create("x", ["root"])


def test_keys_cli(settings) -> None:
    runner = CliRunner()
    created = runner.invoke(keys_app, ["create", "ops", "--scope", "admin"])
    assert created.exit_code == 0, created.output
    plaintext = created.output.strip().splitlines()[-1]
    assert plaintext.startswith("fvi_")
    listed = runner.invoke(keys_app, ["list"])
    key_id = plaintext[4:].split(".")[0]
    assert key_id in listed.output and "admin" in listed.output and plaintext not in listed.output
    assert runner.invoke(keys_app, ["revoke", key_id]).exit_code == 0
    assert runner.invoke(keys_app, ["revoke", key_id]).exit_code == 1
    assert "revoked" in runner.invoke(keys_app, ["list"]).output
    assert runner.invoke(keys_app, ["create", "x", "--scope", "root"]).exit_code == 2


def test_admin_flush_needs_an_admin_key(client: TestClient, store: KeyStore) -> None:
    _, admin = store.create("ops", ["admin"])
    _, writer = store.create("etl", ["write"])
    client.get("/v1/mines")  # fill the cache
    r = client.post("/v1/admin/cache/flush")
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/v1/admin/cache/flush", headers={"X-API-Key": "fvi_0000.nope"})
    assert r.status_code == 401 and "not recognised" in r.json()["detail"]
    r = client.post("/v1/admin/cache/flush", headers={"X-API-Key": writer})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = client.post("/v1/admin/cache/flush", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and r.json()["flushed"] >= 1
    assert client.post("/v1/admin/cache/flush", headers={"X-API-Key": admin}).json()["flushed"] == 0


def test_revoked_key_stops_working_at_once(client: TestClient, store: KeyStore) -> None:
    key, admin = store.create("ops", ["admin"])
    assert client.post("/v1/admin/cache/flush", headers={"X-API-Key": admin}).status_code == 200
    store.revoke(key.id)
    assert client.post("/v1/admin/cache/flush", headers={"X-API-Key": admin}).status_code == 401


def test_token_bucket_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=60, burst=2, clock=lambda: now[0])
    assert bucket.take("a").allowed and bucket.take("a").allowed
    denied = bucket.take("a")
    assert not denied.allowed and denied.retry_after == pytest.approx(1.0)
    assert bucket.take("b").allowed  # per client
    now[0] = 1.0
    assert bucket.take("a").allowed and not bucket.take("a").allowed


def test_token_bucket_forgets_least_recent_clients() -> None:
    bucket = TokenBucket(per_minute=1, burst=1, max_clients=2, clock=lambda: 0.0)
    for c in ("a", "b", "c"):
        assert bucket.take(c).allowed
    assert bucket.take("a").allowed  # evicted, starts full again
    assert not bucket.take("c").allowed


def test_rate_limit_per_ip_then_429(warehouse: Path, make_client) -> None:
    c = make_client(rate_per_minute=60, rate_burst=3)
    codes = [c.get("/v1/personas").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.get("/v1/personas")
    assert r.headers["retry-after"] == "1" and "testclient" in r.json()["detail"]
    assert c.get("/health").status_code == 200  # probes are never limited


def test_rate_limit_per_key(warehouse: Path, make_client, store: KeyStore) -> None:
    c = make_client(rate_per_minute=60, key_rate_per_minute=60, rate_burst=2)
    _, key = store.create("etl")
    assert [c.get("/v1/personas").status_code for _ in range(3)] == [200, 200, 429]
    headers = {"X-API-Key": key}
    codes = [c.get("/v1/personas", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # a key has its own bucket
    r = c.get("/v1/personas", headers=headers)
    assert "API key" in r.json()["detail"]


def test_body_size_limit(client: TestClient, make_client) -> None:
    big = b'{"entity_type": "mine", "entity_id": "' + b"x" * (2 << 20) + b'"}'
    r = client.post("/v1/score/what-if", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"] and r.headers["x-trace-id"]
    small = make_client(max_body_bytes=1024)

    def chunks():
        for _ in range(8):
            yield b" " * 512

    r = small.post("/v1/score/what-if", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text


def test_cors_allowlist(warehouse: Path, make_client) -> None:
    closed = make_client()
    r = closed.get("/v1/personas", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    c = make_client(cors_origins="https://fvi.example, https://dash.example")
    r = c.get("/v1/personas", headers={"Origin": "https://dash.example"})
    assert r.headers["access-control-allow-origin"] == "https://dash.example"
    assert "x-trace-id" in r.headers["access-control-expose-headers"].lower()
    r = c.get("/v1/personas", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = c.options(
        "/v1/score/what-if",
        headers={"Origin": "https://fvi.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://fvi.example"


def test_cors_origins_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from fvi.settings import ApiSettings

    monkeypatch.setenv("FVI_API_CORS_ORIGINS", "https://a.example,https://b.example")
    assert ApiSettings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.delenv("FVI_API_CORS_ORIGINS")
    assert ApiSettings().cors_origins == []


def test_a_batch_of_n_predictions_costs_n_tokens(settings, make_client) -> None:
    """Before: a batch of 100 predictions cost one token, like a single prediction."""
    from tests.unit.api.serving_world import make_home

    make_home(settings.home_abs)
    c = make_client(rate_per_minute=60, rate_burst=5)
    items = [{"entity_type": "mine", "entity_id": "M1", "horizon": "H5"}] * 4
    assert c.post("/v1/predict/batch", json={"items": items}).status_code == 200  # 4 of 5 tokens
    assert c.post("/v1/predict", json=items[0]).status_code == 200  # the last token serves one prediction
    r = c.post("/v1/predict/batch", json={"items": items[:2]})
    assert r.status_code == 429 and "rate limit" in r.json()["detail"]  # with one token per batch: 200
