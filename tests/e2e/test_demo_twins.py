"""The demo twins behave as designed, over real HTTPS (a fresh trustme CA) and plain HTTP.

The vulnerable twin must commit exactly its documented sins and the hardened twin none, since
the end-to-end tests of specdiff itself count on both.
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import jwt
import pytest

from specdiff.demo import data
from specdiff.demo.serve import SPEC_PATH, RunningTwin, serve_twin
from specdiff.demo.tokens import issue_token

USER_FIELDS = {"id", "username", "email", "display_name", "created_at"}
ORDER_FIELDS = {"id", "status", "total", "shipping"}
PRODUCT_FIELDS = {"id", "name", "price", "tags"}
HSTS = "max-age=31536000; includeSubDomains"

ALICE_OPEN = "3f6c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a21"
ALICE_SHIPPED = "a7d41e0b-2c9f-4b63-8e15-6f2a9d3c7b40"
BOB_OPEN = "c5e8f7a1-9d2b-4c6e-a3f0-7b1e2d4c8a95"
UNKNOWN_ORDER = "00000000-0000-4000-8000-000000000000"

BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
LIVE_KEY = re.compile(r"^sk_live_[A-Za-z0-9]{24}$")

# Every operation the document secures, with a request that is otherwise valid.
SECURED: list[tuple[str, str]] = [
    ("GET", "/me"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/1"),
    ("GET", "/orders"),
    ("GET", f"/orders/{ALICE_OPEN}"),
    ("DELETE", f"/orders/{ALICE_OPEN}"),
]


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return len(number) >= 12 and total % 10 == 0


def https(twin: RunningTwin) -> httpx.Client:
    """A client that trusts only the twin's test CA (httpx 0.28 deprecates ``verify=<str>``)."""
    ctx = ssl.create_default_context(cafile=str(twin.ca_pem))
    return httpx.Client(base_url=twin.https_url, verify=ctx, timeout=5)


def plain(twin: RunningTwin) -> httpx.Client:
    # verify= only spares httpx loading the whole certifi bundle; these requests use no TLS.
    return httpx.Client(
        base_url=twin.http_url, verify=twin.ssl_context(), timeout=5, follow_redirects=False
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def private_twin(kind: str) -> Iterator[RunningTwin]:
    """A twin of one's own, for tests that change its state."""
    assert kind in ("vulnerable", "hardened")
    with serve_twin("vulnerable" if kind == "vulnerable" else "hardened") as twin:
        yield twin


def assert_json_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    if message is not None:
        assert body["error"] == message


# --------------------------------------------------------------------------- seed data


def test_seed_data_looks_real() -> None:
    for user in data.USERS:
        assert user.ssn is not None
        assert SSN.match(user.ssn)
        assert user.password_hash is not None
        assert len(user.password_hash) == 60
        assert BCRYPT.match(user.password_hash)
        assert user.api_key is not None
        assert LIVE_KEY.match(user.api_key)
    assert [(u.id, u.username) for u in data.USERS] == [(1, "alice"), (2, "bob")]
    assert all(luhn_valid(o.card_number) for o in data.ORDERS)
    assert {o.owner_id for o in data.ORDERS} == {1, 2}
    assert [p.id for p in data.PRODUCTS] == [1, 2, 3]


def test_issue_token_claims() -> None:
    secret = secrets.token_urlsafe(32)
    before = int(time.time())
    claims = jwt.decode(issue_token("bob", secret, lifetime=60), secret, algorithms=["HS256"])
    assert set(claims) == {"sub", "uid", "scope", "iat", "exp"}
    assert claims["scope"] == "orders"  # bob lacks the admin scope
    assert claims["sub"] == "bob"
    assert claims["uid"] == 2
    assert before <= claims["iat"] <= claims["exp"] - 60 + 1
    with pytest.raises(KeyError):
        issue_token("mallory", secret)


# --------------------------------------------------------------------------- both twins


@pytest.mark.parametrize("which", ["vulnerable_twin", "hardened_twin"])
def test_open_operations(which: str, request: pytest.FixtureRequest) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    assert twin.spec_path == SPEC_PATH
    assert twin.spec_path.is_file()
    assert twin.https_url.startswith("https://127.0.0.1:")
    assert twin.http_url.startswith("http://127.0.0.1:")
    assert not twin.https_url.endswith("/")
    with https(twin) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.headers["content-type"] == "application/json"
        assert health.json() == {"status": "ok"}

        products = client.get("/products")
        assert products.status_code == 200
        assert [p["id"] for p in products.json()] == [1, 2, 3]
        assert all(set(p) == PRODUCT_FIELDS for p in products.json())

        limited = client.get("/products", params={"limit": 2})
        assert limited.status_code == 200
        assert [p["id"] for p in limited.json()] == [1, 2]

        assert_json_error(client.get("/products", params={"limit": 0}), 400)
        assert_json_error(client.get("/products", params={"limit": "many"}), 400)

        # the vulnerable twin wants a token here although the document says open (SD210)
        auth = bearer(twin.token) if twin.kind == "vulnerable" else {}
        if twin.kind == "vulnerable":
            assert_json_error(client.get("/products/2"), 401, "unauthorized")
        one = client.get("/products/2", headers=auth)
        assert one.status_code == 200
        assert one.json() == {
            "id": 2,
            "name": "Pour-over kettle",
            "price": 39.0,
            "tags": ["brewing"],
        }
        assert_json_error(client.get("/products/99", headers=auth), 404)
        assert_json_error(client.get("/nowhere"), 404)
        # No automatic OPTIONS: an undocumented method is a 405, not a 200.
        options = client.options("/products")
        assert_json_error(options, 405)
        assert "OPTIONS" not in options.headers["allow"]


@pytest.mark.parametrize("which", ["vulnerable_twin", "hardened_twin"])
def test_login_issues_a_token_the_twin_accepts(which: str, request: pytest.FixtureRequest) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    with https(twin) as client:
        login = client.post("/auth/login", json={"username": "bob", "password": "bob-demo-pw"})
        assert login.status_code == 200
        body = login.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert (claims["sub"], claims["uid"], claims["exp"] - claims["iat"]) == ("bob", 2, 3600)

        me = client.get("/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["username"] == "bob"
        # The harness's pre-issued tokens are accepted too.
        assert client.get("/me", headers=bearer(twin.token)).json()["id"] == 1
        assert client.get("/me", headers=bearer(twin.token_b)).json()["id"] == 2

        bad = [
            {"username": "bob", "password": "alice-demo-pw"},
            {"username": "mallory", "password": "x"},
            {"username": "bob"},
        ]
        refusals = [client.post("/auth/login", json=creds) for creds in bad]
        refusals.append(client.post("/auth/login", content=b"not json"))
    for refusal in refusals:
        assert_json_error(refusal, 401, "invalid credentials")
        # The hardened twin names its scheme on every 401; the vulnerable one never does.
        expected = "Bearer" if twin.kind == "hardened" else None
        assert refusal.headers.get("www-authenticate") == expected


@pytest.mark.parametrize("which", ["hardened_twin"])  # the vulnerable twin's: test_auth_twins
def test_invalid_and_expired_tokens_are_refused(which: str, request: pytest.FixtureRequest) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    expired = issue_token("alice", twin.secret, lifetime=-10)
    forged = issue_token("alice", secrets.token_urlsafe(32))
    with https(twin) as client:
        for token in (expired, forged, "not-a-jwt", twin.token + "x"):
            # the vulnerable twin echoes the rejected credential (SD404), the hardened one never
            message = (
                "unauthorized" if twin.kind == "hardened" else f"invalid token: Bearer {token}"
            )
            assert_json_error(client.get("/me", headers=bearer(token)), 401, message)
            assert_json_error(client.get("/orders", headers=bearer(token)), 401, message)
        assert_json_error(client.get("/me", headers={"Authorization": twin.token}), 401)
        assert_json_error(client.get("/me", headers={"Authorization": "Basic YTpi"}), 401)


@pytest.mark.parametrize("which", ["vulnerable_twin", "hardened_twin"])
def test_create_user_validates_its_body(which: str, request: pytest.FixtureRequest) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    with https(twin) as client:
        for body in ({"username": "ab", "email": "ab@example.com"}, {"username": "carol"}):
            assert_json_error(client.post("/users", json=body, headers=bearer(twin.token)), 422)
        assert_json_error(client.post("/users", json={"username": "carol", "email": "c@x.io"}), 401)
        # Nothing was created.
        users = client.get("/users", headers=bearer(twin.token)).json()
        assert [u["username"] for u in users] == ["alice", "bob"]


@pytest.mark.parametrize("kind", ["vulnerable", "hardened"])
def test_create_user(kind: str) -> None:
    with private_twin(kind) as twin, https(twin) as client:
        created = client.post(
            "/users",
            json={"username": "carol", "email": "carol@example.net", "display_name": "Carol"},
            headers=bearer(twin.token),
        )
        assert created.status_code == 201
        body = created.json()
        assert set(body) == USER_FIELDS
        assert (body["id"], body["username"], body["display_name"]) == (3, "carol", "Carol")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["created_at"])
        dup = client.post(
            "/users", json={"username": "carol", "email": "c@x.io"}, headers=bearer(twin.token)
        )
        assert_json_error(dup, 422)


@pytest.mark.parametrize("which", ["vulnerable_twin", "hardened_twin"])
def test_unknown_user_and_order_are_404(which: str, request: pytest.FixtureRequest) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    with https(twin) as client:
        assert_json_error(client.get("/users/999", headers=bearer(twin.token)), 404)
        assert_json_error(client.get(f"/orders/{UNKNOWN_ORDER}", headers=bearer(twin.token)), 404)
        gone = client.delete(f"/orders/{UNKNOWN_ORDER}", headers=bearer(twin.token))
        assert_json_error(gone, 404)


# --------------------------------------------------------------------------- vulnerable twin


def test_vulnerable_user_answers_without_auth_and_leaks(vulnerable_twin: RunningTwin) -> None:
    with https(vulnerable_twin) as client:
        response = client.get("/users/1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == USER_FIELDS | {"ssn", "password_hash"}
    assert body["id"] == 1
    assert body["username"] == "alice"
    assert body["ssn"] == "536-22-8415"
    assert BCRYPT.match(body["password_hash"])
    assert "strict-transport-security" not in response.headers
    assert "cache-control" not in response.headers


def test_vulnerable_order_answers_without_auth(vulnerable_twin: RunningTwin) -> None:
    with https(vulnerable_twin) as client:
        response = client.get(f"/orders/{BOB_OPEN}")
    assert response.status_code == 200
    assert response.json() == {
        "id": BOB_OPEN,
        "status": "open",
        "total": 18.0,
        "shipping": {"city": "Leeds", "country": "GB"},
    }


def test_vulnerable_delete_answers_without_auth_and_deletes() -> None:
    with private_twin("vulnerable") as twin, https(twin) as client:
        deleted = client.delete(f"/orders/{BOB_OPEN}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert "content-type" not in deleted.headers
        assert_json_error(client.get(f"/orders/{BOB_OPEN}"), 404)
        orders = client.get("/orders", headers=bearer(twin.token_b)).json()["items"]
        assert [o["id"] for o in orders] == ["e2b9c4d6-5a1f-4f8e-b7c3-0d9e6a2f1c58"]


def test_vulnerable_orders_leak_card_numbers(vulnerable_twin: RunningTwin) -> None:
    with https(vulnerable_twin) as client:
        assert_json_error(client.get("/orders"), 401, "unauthorized")
        response = client.get("/orders", headers=bearer(vulnerable_twin.token))
        shipped = client.get(
            "/orders", params={"status": "shipped"}, headers=bearer(vulnerable_twin.token)
        )
        bad = client.get(
            "/orders", params={"status": "lost"}, headers=bearer(vulnerable_twin.token)
        )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "next"}
    assert body["next"] is None
    assert [o["id"] for o in body["items"]] == [ALICE_OPEN, ALICE_SHIPPED]
    for order in body["items"]:
        assert set(order) == ORDER_FIELDS | {"card_number"}
        assert luhn_valid(order["card_number"])
    assert [o["id"] for o in shipped.json()["items"]] == [ALICE_SHIPPED]
    assert_json_error(bad, 400)


def test_vulnerable_me_leaks_api_key(vulnerable_twin: RunningTwin) -> None:
    with https(vulnerable_twin) as client:
        unauthenticated = client.get("/me")
        response = client.get("/me", headers=bearer(vulnerable_twin.token))
    assert_json_error(unauthenticated, 401, "unauthorized")
    assert "www-authenticate" not in unauthenticated.headers
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_FIELDS | {"api_key", "theme", "password"}
    assert body["id"] == 1
    assert LIVE_KEY.match(body["api_key"])
    assert body["theme"] == "dark"


def test_vulnerable_users_list_is_clean(vulnerable_twin: RunningTwin) -> None:
    with https(vulnerable_twin) as client:
        assert_json_error(client.get("/users"), 401, "unauthorized")
        response = client.get("/users", headers=bearer(vulnerable_twin.token))
    assert response.status_code == 200
    assert [u["id"] for u in response.json()] == [1, 2]
    assert all(set(u) == USER_FIELDS for u in response.json())


def test_vulnerable_http_port_serves_the_same_app(vulnerable_twin: RunningTwin) -> None:
    vulnerable_twin.log.clear()
    with plain(vulnerable_twin) as client:
        response = client.get("/users/2")
        health = client.get("/health")
    assert response.status_code == 200
    assert response.json()["ssn"] == "412-38-6290"
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert [(e.scheme, e.method, e.path) for e in vulnerable_twin.log] == [
        ("http", "GET", "/users/2"),
        ("http", "GET", "/health"),
    ]


def test_vulnerable_log_captures_requests(vulnerable_twin: RunningTwin) -> None:
    vulnerable_twin.log.clear()
    with https(vulnerable_twin) as client:
        client.post(
            "/users?dry=1",
            content=b'{"username": "x"}',
            headers={**bearer(vulnerable_twin.token), "Content-Type": "application/json"},
        )
    (entry,) = vulnerable_twin.log.entries()
    assert (entry.scheme, entry.method, entry.path, entry.query) == (
        "https",
        "POST",
        "/users",
        "dry=1",
    )
    assert entry.target == "/users?dry=1"
    assert entry.body == b'{"username": "x"}'
    assert entry.header("authorization") == f"Bearer {vulnerable_twin.token}"
    assert entry.header("Content-Type") == "application/json"
    assert entry.header("X-Missing") is None
    assert ("Host", vulnerable_twin.https_url.removeprefix("https://")) in entry.headers
    assert vulnerable_twin.log.filter(scheme="http") == ()
    assert vulnerable_twin.log.filter(method="post", path="/users") == (entry,)
    vulnerable_twin.log.clear()
    assert len(vulnerable_twin.log) == 0


# --------------------------------------------------------------------------- hardened twin


@pytest.mark.parametrize(("method", "path"), SECURED)
def test_hardened_secured_operations_require_a_token(
    hardened_twin: RunningTwin, method: str, path: str
) -> None:
    with https(hardened_twin) as client:
        body = {"username": "carol", "email": "c@x.io"} if method == "POST" else None
        response = client.request(method, path, json=body)
    assert_json_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["strict-transport-security"] == HSTS
    assert response.headers["cache-control"] == "no-store"


def test_hardened_refuses_tokens_without_exp_or_for_another_uid(hardened_twin: RunningTwin) -> None:
    now = int(time.time())
    no_exp = jwt.encode(
        {"sub": "alice", "uid": 1, "iat": now}, hardened_twin.secret, algorithm="HS256"
    )
    wrong_uid = jwt.encode(
        {"sub": "alice", "uid": 2, "iat": now, "exp": now + 60},
        hardened_twin.secret,
        algorithm="HS256",
    )
    with https(hardened_twin) as client:
        for token in (no_exp, wrong_uid):
            response = client.get("/me", headers=bearer(token))
            assert_json_error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_hardened_answers_documented_fields_only(hardened_twin: RunningTwin) -> None:
    auth = bearer(hardened_twin.token)
    with https(hardened_twin) as client:
        user = client.get("/users/1", headers=auth)  # another user's profile is a 404
        me = client.get("/me", headers=auth)
        users = client.get("/users", headers=auth)
        orders = client.get("/orders", headers=auth)
        order = client.get(f"/orders/{ALICE_OPEN}", headers=auth)
    for response in (user, me, users, orders, order):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["strict-transport-security"] == HSTS
        assert response.headers["cache-control"] == "no-store"
    assert user.json() == {
        "id": 1,
        "username": "alice",
        "email": "alice@example.com",
        "display_name": "Alice Example",
        "created_at": "2024-01-15T09:30:00Z",
    }
    assert set(me.json()) == USER_FIELDS
    assert me.json()["id"] == 1
    assert all(set(u) == USER_FIELDS for u in users.json())
    assert set(orders.json()) == {"items", "next"}
    assert orders.json()["next"] is None
    assert [o["id"] for o in orders.json()["items"]] == [ALICE_OPEN, ALICE_SHIPPED]
    assert all(set(o) == ORDER_FIELDS for o in orders.json()["items"])
    assert order.json() == {
        "id": ALICE_OPEN,
        "status": "open",
        "total": 59.9,
        "shipping": {"city": "Lyon", "country": "FR"},
    }


def test_hardened_orders_are_scoped_to_their_owner(hardened_twin: RunningTwin) -> None:
    with https(hardened_twin) as client:
        assert_json_error(
            client.get(f"/orders/{BOB_OPEN}", headers=bearer(hardened_twin.token)), 404
        )
        assert_json_error(
            client.delete(f"/orders/{BOB_OPEN}", headers=bearer(hardened_twin.token)), 404
        )
        mine = client.get(f"/orders/{BOB_OPEN}", headers=bearer(hardened_twin.token_b))
    assert mine.status_code == 200
    assert mine.json()["id"] == BOB_OPEN


def test_hardened_delete_with_auth_deletes() -> None:
    with private_twin("hardened") as twin, https(twin) as client:
        assert_json_error(client.delete(f"/orders/{ALICE_OPEN}"), 401)
        deleted = client.delete(f"/orders/{ALICE_OPEN}", headers=bearer(twin.token))
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert_json_error(client.get(f"/orders/{ALICE_OPEN}", headers=bearer(twin.token)), 404)
        remaining = client.get("/orders", headers=bearer(twin.token)).json()["items"]
        assert [o["id"] for o in remaining] == [ALICE_SHIPPED]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_hardened_http_port_only_redirects(hardened_twin: RunningTwin, method: str) -> None:
    hardened_twin.log.clear()
    with plain(hardened_twin) as client:
        response = client.request(method, "/users/1", params={"q": "a b", "x": "/"})
    assert response.status_code == 308
    assert response.headers["location"] == f"{hardened_twin.https_url}/users/1?q=a+b&x=%2F"
    assert response.content == b""
    assert "content-type" not in response.headers
    (entry,) = hardened_twin.log.entries()
    assert (entry.scheme, entry.method, entry.path, entry.query) == (
        "http",
        method,
        "/users/1",
        "q=a+b&x=%2F",
    )


def test_hardened_http_port_redirects_unknown_paths_too(hardened_twin: RunningTwin) -> None:
    with plain(hardened_twin) as client:
        health = client.get("/health")
        nowhere = client.get("/no/such%20path")
        login = client.post("/auth/login", json={"username": "alice", "password": "alice-demo-pw"})
    assert health.status_code == nowhere.status_code == login.status_code == 308
    assert health.headers["location"] == f"{hardened_twin.https_url}/health"
    assert nowhere.headers["location"] == f"{hardened_twin.https_url}/no/such%20path"
    assert login.content == b""


# --------------------------------------------------------------------------- harness


def _refused(url: str) -> bool:
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return False
    except OSError:
        return True


def test_serve_twin_starts_and_stops_quickly_and_cleans_up() -> None:
    started = time.perf_counter()
    with serve_twin("hardened") as twin:
        ready = time.perf_counter()
        assert twin.kind == "hardened"
        assert twin.ca_pem.read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert twin.https_url != twin.http_url.replace("http:", "https:")
        with https(twin) as client:
            assert client.get("/health").status_code == 200
        stopping = time.perf_counter()
    stopped = time.perf_counter()
    assert ready - started < 1.0
    assert stopped - stopping < 1.0
    assert not twin.ca_pem.exists()
    assert _refused(twin.https_url)
    assert _refused(twin.http_url)
