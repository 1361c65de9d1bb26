"""SD202, SD207-SD213 on recorded exchanges: each fires on its breach and stays silent on the
correct answer or a decoy."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from probes.auth import (
    BrokenObjectLevelAuthorization,
    CheckedAfterValidation,
    ErrorOracle,
    InvalidTokenAccepted,
    MissingCredentialsAccepted,
    ScopeNotEnforced,
    TokenInQueryAccepted,
    UndocumentedRequirement,
    WeakIssuedToken,
)
from specdiff.config import AuthMaterial, Credentials
from specdiff.model import ApiModel, AuthMode, Confidence, Exchange, PlannedRequest, Severity
from specdiff.mutate import MALFORMED_JSON
from specdiff.probe import Listing, ProbeContext, ProbeOptions
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation, variant

USER = {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}}
DOC = minimal_doc(
    {
        "/open": {"get": {"security": [], "responses": ok_json({"type": "object"})}},
        "/items": {
            "get": {"responses": ok_json({"type": "object"})},
            "post": {
                "requestBody": {"content": {"application/json": {"schema": USER}}},
                "responses": {"201": {"description": "x"}},
            },
        },
        "/users/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": {"responses": ok_json(USER)},
            "delete": {"responses": {"204": {"description": "x"}}},
        },
        "/keyed": {"get": {"security": [{"key": []}], "responses": ok_json({"type": "object"})}},
        "/header-keyed": {
            "get": {"security": [{"hkey": []}], "responses": ok_json({"type": "object"})}
        },
        "/cookie-keyed": {
            "get": {"security": [{"ckey": []}], "responses": ok_json({"type": "object"})}
        },
        "/basic": {"get": {"security": [{"basic": []}], "responses": ok_json({"type": "object"})}},
        "/admin": {
            "get": {"security": [{"oauth": ["admin"]}], "responses": ok_json({"type": "object"})}
        },
    },
    security=[{"bearer": []}],
    components={
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
            "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            "hkey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "ckey": {"type": "apiKey", "in": "cookie", "name": "sid"},
            "oauth": {
                "type": "oauth2",
                "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {"admin": "a"}}},
            },
        }
    },
)
A = Credentials.build(token="tok-alice-123")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("auth"), DOC)


def ctx(
    api: ApiModel,
    path: str = "/items",
    *,
    status: int | None = 200,
    body: Any = None,
    pool: tuple[Exchange, ...] = (),
    identities: frozenset[str] = frozenset(),
    low: Credentials | None = None,
    creds: bool = True,
) -> ProbeContext:
    base = PlannedRequest("GET", path)
    ex = exchange(status, body if body is not None else {"id": 1}, request=base) if status else None
    options = ProbeOptions(
        has_credentials=creds,
        identities=identities,
        auth=AuthMaterial(credentials=A, credentials_low=low or Credentials()),
    )
    return ProbeContext(api, options, base, ex, pool)


def sent(req: PlannedRequest, status: int, body: Any = None) -> Exchange:
    return exchange(status, body if body is not None else {"id": 1}, request=req)


# --------------------------------------------------------------------------- SD202


def test_sd202_plans_scheme_specific_fakes(api: ApiModel) -> None:
    probe = InvalidTokenAccepted()
    bearer = list(probe.plan(operation(api, "GET /items"), ctx(api)))
    assert [r.purpose for r in bearer] == ["random-token", "malformed-token", "wrong-scheme-word"]
    assert all(r.auth is AuthMode.CUSTOM and "tok-alice" not in str(r) for r in bearer)
    # made-up credentials are canaries: SD404 looks for them in every answer
    assert dict(bearer[2].headers)["Authorization"].startswith("Token sdcanary")
    [basic] = probe.plan(operation(api, "GET /basic"), ctx(api, "/basic"))
    pair = dict(basic.headers)["Authorization"].removeprefix("Basic ")
    user, _, password = base64.b64decode(pair).decode().partition(":")
    assert user.startswith("sdcanary") and password == "not-the-password"
    [key] = probe.plan(operation(api, "GET /keyed"), ctx(api, "/keyed"))
    assert key.query[0][0] == "api_key" and key.query[0][1].startswith("sdcanary")
    assert list(probe.plan(operation(api, "GET /items"), ctx(api, status=401))) == []


@pytest.mark.parametrize(("status", "fires"), [(200, True), (401, False), (403, False)])
def test_sd202_judging(api: ApiModel, status: int, fires: bool) -> None:
    probe = InvalidTokenAccepted()
    op = operation(api, "GET /items")
    [req, *_] = probe.plan(op, ctx(api))
    findings = list(probe.judge(op, ctx(api), [sent(req, status)]))
    assert [(f.rule, f.key) for f in findings] == ([("SD202", "random-token")] if fires else [])


def test_sd202_silent_when_the_operation_checks_no_credential_at_all(api: ApiModel) -> None:
    probe = InvalidTokenAccepted()
    op = operation(api, "GET /items")
    anonymous = sent(PlannedRequest("GET", "/items", variant=variant("no-credentials")), 200)
    c = ctx(api, pool=(anonymous,))
    assert list(probe.plan(op, c)) == []
    [req, *_] = probe.plan(op, ctx(api))
    assert list(probe.judge(op, c, [sent(req, 200)])) == []


# --------------------------------------------------------------------------- SD207


def test_sd207_moves_the_bearer_token_to_the_query(api: ApiModel) -> None:
    probe = TokenInQueryAccepted()
    op = operation(api, "GET /items")
    reqs = list(probe.plan(op, ctx(api)))
    assert [r.query for r in reqs] == [
        (("access_token", "tok-alice-123"),),
        (("token", "tok-alice-123"),),
        (("api_key", "tok-alice-123"),),
    ]
    exchanges = [sent(reqs[0], 401), sent(reqs[1], 200), sent(reqs[2], 403)]
    assert [f.key for f in probe.judge(op, ctx(api), exchanges)] == ["token"]
    html = exchange(
        200, "<html>login</html>", request=reqs[1], headers={"Content-Type": "text/html"}
    )
    assert list(probe.judge(op, ctx(api), [html])) == []


@pytest.mark.parametrize(
    ("path", "headers", "moved"),
    [
        ("/header-keyed", (("x-api-key", "key-alice"),), "key-alice"),
        ("/cookie-keyed", (("Cookie", "theme=dark; SID=key-alice"),), "key-alice"),
        ("/cookie-keyed", (("Cookie", "theme=dark"),), None),  # the key is not in the cookie
        ("/keyed", (("X-Other", "key-alice"),), None),  # already a query parameter
    ],
)
def test_sd207_moves_an_api_key_from_its_header_or_cookie(
    api: ApiModel, path: str, headers: tuple[tuple[str, str], ...], moved: str | None
) -> None:
    probe = TokenInQueryAccepted()
    op = operation(api, f"GET {path}")
    base = ctx(api, path)
    auth = AuthMaterial(credentials=Credentials.build(headers=headers))
    c = dataclasses.replace(base, options=dataclasses.replace(base.options, auth=auth))
    reqs = list(probe.plan(op, c))
    if moved is None:
        assert reqs == []
        return
    assert [(r.query, r.auth, r.headers) for r in reqs] == [
        (((name, moved),), AuthMode.CUSTOM, ()) for name in ("access_token", "token", "api_key")
    ]
    found = list(probe.judge(op, c, [sent(reqs[0], 200), sent(reqs[1], 401)]))
    assert [(f.rule, f.key) for f in found] == [("SD207", "access_token")]


@pytest.mark.parametrize(
    ("path", "moved"),
    [
        ("/header-keyed", "key-alice"),  # the key, not the token the operation never reads
        ("/items", "tok-alice-123"),  # the token, not the key the operation never reads
        ("/cookie-keyed", None),  # the key the operation reads is not among the credentials
    ],
)
def test_sd207_moves_the_credential_of_the_operations_own_scheme(
    api: ApiModel, path: str, moved: str | None
) -> None:
    # a user who gives both: --token tok-alice-123 --header 'X-API-Key: key-alice'
    both = Credentials.build(token="tok-alice-123", headers=(("X-API-Key", "key-alice"),))
    base = ctx(api, path)
    c = dataclasses.replace(
        base, options=dataclasses.replace(base.options, auth=AuthMaterial(credentials=both))
    )
    reqs = list(TokenInQueryAccepted().plan(operation(api, f"GET {path}"), c))
    assert [r.query for r in reqs] == (
        [((name, moved),) for name in ("access_token", "token", "api_key")] if moved else []
    )
    assert all(r.auth is AuthMode.CUSTOM and r.headers == () for r in reqs)


# --------------------------------------------------------------------------- SD201 + SD208


def test_unsafe_operations_are_probed_anonymously_with_invalid_input(api: ApiModel) -> None:
    post = operation(api, "POST /items")
    base = PlannedRequest("POST", "/items", headers=(("Content-Type", "application/json"),))
    c = ProbeContext(api, ProbeOptions(has_credentials=True), base, None)
    [req] = MissingCredentialsAccepted().plan(post, c)
    assert (req.auth, req.body, req.purpose) == (
        AuthMode.NONE,
        MALFORMED_JSON,
        "no-credentials-invalid-input",
    )
    delete = operation(api, "DELETE /users/{id}")
    base = PlannedRequest("DELETE", "/users/1")
    c = ProbeContext(api, ProbeOptions(has_credentials=True), base, None)
    invalid, absent = MissingCredentialsAccepted().plan(delete, c)
    assert (invalid.path, invalid.body, invalid.auth) == (
        "/users/specdiff-not-a-number",
        None,
        AuthMode.NONE,
    )
    # and once for an object that certainly does not exist (tests/probes/test_unsafe_probes.py)
    assert (absent.path, absent.auth, absent.purpose) == (
        "/users/999999999999",
        AuthMode.NONE,
        "no-credentials-absent-object",
    )


@pytest.mark.parametrize(
    ("status", "sd201", "sd208"),
    [
        (422, False, True),
        (400, False, True),
        (401, False, False),
        (404, False, False),
        (201, True, False),
    ],
)
def test_sd208_and_sd201_judge_the_invalid_anonymous_request(
    api: ApiModel, status: int, sd201: bool, sd208: bool
) -> None:
    op = operation(api, "POST /items")
    req = PlannedRequest(
        "POST",
        "/items",
        body=MALFORMED_JSON,
        auth=AuthMode.NONE,
        variant=variant("no-credentials-invalid-input"),
    )
    ex = sent(req, status, {"error": "x"})
    c = ProbeContext(api, ProbeOptions(has_credentials=True), req, None, (ex,))
    found_201 = list(MissingCredentialsAccepted().judge(op, c, [ex]))
    assert [f.severity for f in found_201] == ([Severity.CRITICAL] if sd201 else [])
    assert [f.rule for f in CheckedAfterValidation().judge(op, c, [ex])] == (
        ["SD208"] if sd208 else []
    )


def test_sd208_judges_only_requests_of_the_operation_itself(api: ApiModel) -> None:
    """SD501's anonymous PUT with an unreadable body to a path that declares no PUT gets 400
    from Express's body parser before any route: the operation never saw it."""
    op = operation(api, "POST /items")
    req = PlannedRequest(
        "PUT",
        "/items",
        body=MALFORMED_JSON,
        auth=AuthMode.NONE,
        variant=variant("undocumented-method"),
    )
    ex = sent(req, 400, {"error": "bad request"})
    c = ProbeContext(api, ProbeOptions(has_credentials=True), req, None, (ex,))
    assert list(CheckedAfterValidation().judge(op, c, [ex])) == []


# --------------------------------------------------------------------------- SD209


def _refusal(purpose: str, body: Any) -> Exchange:
    return exchange(401, body, request=PlannedRequest("GET", "/items", variant=variant(purpose)))


@pytest.mark.parametrize(
    ("bodies", "fires"),
    [
        ({"no-credentials": "unauthorized", "malformed-token": "Not enough segments"}, True),
        (
            {
                "no-credentials": "unauthorized",
                "flipped-signature": "Signature verification failed",
                "expired-token": "Signature has expired",
            },
            True,
        ),
        ({"no-credentials": "unauthorized", "malformed-token": "unauthorized"}, False),
        # only a request id and a timestamp change
        (
            {
                "no-credentials": "denied req 5f1c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a21 at 2024-01-01T10:00:00Z",
                "malformed-token": "denied req 0a6c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a22 at 2024-01-02T11:00:00Z",
            },
            False,
        ),
        # different, but naming no cause
        ({"no-credentials": "please log in", "malformed-token": "access denied"}, False),
        ({"malformed-token": "Not enough segments"}, False),  # one refusal: nothing to compare
    ],
)
def test_sd209_error_oracle(api: ApiModel, bodies: dict[str, str], fires: bool) -> None:
    earlier = tuple(_refusal(p, {"error": b}) for p, b in bodies.items())
    findings = list(ErrorOracle().judge(operation(api, "GET /items"), ctx(api, pool=earlier), []))
    assert [f.rule for f in findings] == (["SD209"] if fires else [])


# --------------------------------------------------------------------------- SD210


@pytest.mark.parametrize(
    ("status", "fires"), [(401, True), (403, True), (200, False), (404, False)]
)
def test_sd210_open_by_spec_refused_at_runtime(api: ApiModel, status: int, fires: bool) -> None:
    probe = UndocumentedRequirement()
    op = operation(api, "GET /open")
    [req] = probe.plan(op, ctx(api, "/open"))
    assert req.auth is AuthMode.NONE
    found = list(probe.judge(op, ctx(api, "/open"), [sent(req, status)]))
    assert [f.rule for f in found] == (["SD210"] if fires else [])
    assert list(probe.plan(operation(api, "GET /items"), ctx(api))) == []  # secured


def test_sd210_without_credentials_judges_the_baseline(api: ApiModel) -> None:
    op = operation(api, "GET /open")
    c = ctx(api, "/open", status=401, body={"error": "unauthorized"}, creds=False)
    assert [f.rule for f in UndocumentedRequirement().judge(op, c, [])] == ["SD210"]


# --------------------------------------------------------------------------- SD211


def _jwt(claims: str) -> str:
    """An HS256-looking JWT with ``claims`` (the signature is irrelevant here)."""
    header = base64.urlsafe_b64encode(b'{"alg":"HS256"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
    return f"{header}.{body}.c2ln"


@pytest.mark.parametrize(
    ("low_token", "plans", "confidence"),
    [
        (_jwt('{"sub":"bob","scope":"orders"}'), True, Confidence.FIRM),
        (_jwt('{"sub":"bob","scope":"orders admin"}'), False, None),  # holds the scope
        ("opaque-low-token", True, Confidence.TENTATIVE),
    ],
)
def test_sd211_scope(
    api: ApiModel, low_token: str, plans: bool, confidence: Confidence | None
) -> None:
    probe = ScopeNotEnforced()
    op = operation(api, "GET /admin")
    low = Credentials.build(token=low_token, identity="LOW")
    c = ctx(api, "/admin", identities=frozenset({"low"}), low=low)
    reqs = list(probe.plan(op, c))
    assert bool(reqs) is plans
    if plans:
        assert reqs[0].identity == "low" and reqs[0].auth is AuthMode.USER
        [f] = probe.judge(op, c, [sent(reqs[0], 200)])
        assert f.confidence is confidence
        assert list(probe.judge(op, c, [sent(reqs[0], 403)])) == []
    # no scope required, or no low identity: nothing
    assert list(probe.plan(operation(api, "GET /items"), c)) == []
    assert list(probe.plan(op, ctx(api, "/admin", low=low))) == []


# --------------------------------------------------------------------------- SD212

ALICE = {"id": 1, "email": "alice@example.com"}


@pytest.mark.parametrize(
    ("status", "body", "fires"),
    [
        (200, ALICE, True),
        (404, {"error": "no such user"}, False),
        (403, {"error": "forbidden"}, False),
        (200, {"id": 2, "email": "bob@example.org"}, False),  # B's own object
        (200, {"id": 1}, False),  # A's id, but none of A's personal values
    ],
)
def test_sd212_bola(api: ApiModel, status: int, body: Any, fires: bool) -> None:
    probe = BrokenObjectLevelAuthorization()
    op = operation(api, "GET /users/{id}")
    c = ctx(api, "/users/1", body=ALICE, identities=frozenset({"b"}))
    [req] = probe.plan(op, c)
    assert (req.identity, req.auth) == ("b", AuthMode.USER)
    found = list(probe.judge(op, c, [sent(req, status, body)]))
    assert [f.rule for f in found] == (["SD212"] if fires else [])
    if fires:
        assert (
            found[0].evidence is not None and "alice@example.com" not in found[0].evidence.snippet
        )


def test_sd212_silent_without_b_or_for_shared_objects(api: ApiModel) -> None:
    probe = BrokenObjectLevelAuthorization()
    op = operation(api, "GET /users/{id}")
    assert list(probe.plan(op, ctx(api, "/users/1", body=ALICE))) == []  # no B (or B == A)
    shared = ctx(api, "/users/1", body={"id": 1, "name": "Kettle"}, identities=frozenset({"b"}))
    [req] = probe.plan(op, shared)
    assert list(probe.judge(op, shared, [sent(req, 200, {"id": 1, "name": "Kettle"})])) == []


ORDER = {"id": 1, "status": "open", "total": 59.9}  # no personal value: ownership from lists


def listing(status: int, body: Any, *, truncated: bool = False) -> Listing:
    """B's answer to the listing (``GET /users``) whose items gave ``/users/{id}`` its id 1."""
    answer = exchange(status, body, request=PlannedRequest("GET", "/users", identity="b"))
    return Listing("id", 1, "GET /users", dataclasses.replace(answer, truncated=truncated))


@pytest.mark.parametrize(
    ("listing_b", "status", "body", "fires"),
    [
        # B's own listing shows other objects only: A's object, served to B
        (listing(200, {"items": [{"id": 2}, {"id": 3}]}), 200, ORDER, True),
        (listing(200, []), 200, ORDER, True),  # B owns nothing at all
        # shared: B's listing shows the object too (a catalogue entry everybody sees)
        (listing(200, {"items": [{"id": 2}, {"id": 1}]}), 200, ORDER, False),
        (listing(200, [{"ref": "1"}]), 200, ORDER, False),  # anywhere, as text too
        # no evidence: B's listing failed, is no JSON, or was cut short
        (listing(403, {"error": "forbidden"}), 200, ORDER, False),
        (listing(200, "<html>sign in</html>"), 200, ORDER, False),
        (listing(200, [{"id": 2}], truncated=True), 200, ORDER, False),
        # B is refused, or served another object
        (listing(200, [{"id": 2}]), 404, {"error": "no such order"}, False),
        (listing(200, [{"id": 2}]), 403, {"error": "forbidden"}, False),
        (listing(200, [{"id": 2}]), 200, {**ORDER, "id": 2}, False),
        (listing(200, [{"id": 2}]), 200, {"status": "open"}, False),  # no id: not comparable
    ],
)
def test_sd212_ownership_from_collection_visibility(
    api: ApiModel, listing_b: Listing, status: int, body: Any, fires: bool
) -> None:
    probe = BrokenObjectLevelAuthorization()
    op = operation(api, "GET /users/{id}")
    c = dataclasses.replace(
        ctx(api, "/users/1", body=ORDER, identities=frozenset({"b"})), listings=(listing_b,)
    )
    [req] = probe.plan(op, c)
    found = list(probe.judge(op, c, [sent(req, status, body)]))
    assert [(f.rule, f.confidence) for f in found] == (
        [("SD212", Confidence.FIRM)] if fires else []
    )
    if fires:
        assert found[0].evidence is not None
        assert found[0].evidence.snippet == (
            "B's own GET /users (200) did not list id=1, yet GET /users/{id} served it to B: 200"
        )


def test_sd212_ownership_needs_identity_b_distinct_from_a(api: ApiModel) -> None:
    probe = BrokenObjectLevelAuthorization()
    op = operation(api, "GET /users/{id}")
    c = dataclasses.replace(ctx(api, "/users/1", body=ORDER), listings=(listing(200, []),))
    assert list(probe.plan(op, c)) == []
    assert list(probe.judge(op, c, [sent(PlannedRequest("GET", "/users/1"), 200, ORDER)])) == []


# --------------------------------------------------------------------------- SD213


@pytest.mark.parametrize(
    ("first", "second", "fires"),
    [
        ({"access_token": "abc123"}, None, True),  # short
        ({"token": "0123456789abcdef0123456789abcdef"}, None, False),  # 128 bits of hex
        (
            {"api_key": "tok-" + "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8" + "-1041"},
            {"api_key": "tok-" + "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8" + "-1042"},
            True,
        ),
        ({"access_token": _jwt('{"sub":"a"}')}, None, False),  # a JWT: its signature counts
        ({"name": "abc"}, None, False),
    ],
)
def test_sd213_weak_issued_tokens(
    api: ApiModel, first: dict[str, str], second: dict[str, str] | None, fires: bool
) -> None:
    probe = WeakIssuedToken()
    op = operation(api, "GET /items")
    c = ctx(api, body=first)
    reqs = list(probe.plan(op, c))
    again = [sent(reqs[0], 200, second)] if reqs and second else []
    found = list(probe.judge(op, c, again))
    assert [f.rule for f in found] == (["SD213"] if fires else [])
    if fires:
        assert found[0].key == f"$.{next(iter(first))}"


def test_planning_never_mutates_the_baseline(api: ApiModel) -> None:
    c = ctx(api)
    before = dataclasses.replace(c.baseline) if c.baseline else None
    list(InvalidTokenAccepted().plan(operation(api, "GET /items"), c))
    assert c.baseline == before
