"""SD217 on recorded exchanges: the header credential moved into a cookie, fired and silenced."""

from __future__ import annotations

from typing import Any

import pytest

from probes.auth import CredentialInCookieAccepted
from specdiff.config import AuthMaterial, Credentials
from specdiff.model import ApiModel, AuthMode, Exchange, PlannedRequest
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.variant import Variant, VariantKind
from tests.builders import api_of, exchange, minimal_doc, ok_json

OBJ = ok_json({"type": "object"})
BEARER_NAMES = ["access_token", "token", "jwt", "auth"]
DOC = minimal_doc(
    {
        "/items": {"get": {"responses": OBJ}},
        "/header-keyed": {"get": {"security": [{"hkey": []}], "responses": OBJ}},
        "/query-keyed": {"get": {"security": [{"qkey": []}], "responses": OBJ}},
        "/cookie-keyed": {"get": {"security": [{"ckey": []}], "responses": OBJ}},
        # bearer, or the session cookie: the document accepts cookie authentication here
        "/either": {"get": {"security": [{"bearer": []}, {"ckey": []}], "responses": OBJ}},
        "/with-cookie-param": {
            "get": {
                "parameters": [{"name": "jwt", "in": "cookie", "schema": {"type": "string"}}],
                "responses": OBJ,
            }
        },
        "/open": {"get": {"security": [], "responses": OBJ}},
    },
    security=[{"bearer": []}],
    components={
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "hkey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "qkey": {"type": "apiKey", "in": "query", "name": "api_key"},
            # declared elsewhere in the document: the cookie named "token" is a known credential
            "ckey": {"type": "apiKey", "in": "cookie", "name": "Token"},
        }
    },
)
BOTH = Credentials.build(token="tok-alice-123", headers=(("X-API-Key", "key-alice"),))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("cookie"), DOC)


def ctx(
    api: ApiModel,
    path: str,
    *,
    status: int = 200,
    creds: Credentials = BOTH,
    pool: tuple[Exchange, ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
) -> ProbeContext:
    base = PlannedRequest("GET", path, headers=headers)
    options = ProbeOptions(has_credentials=True, auth=AuthMaterial(credentials=creds))
    baseline = exchange(status, {"id": 1}, request=base)
    return ProbeContext(api, options, base, baseline, pool=pool)


def op(api: ApiModel, path: str) -> Any:
    return next(o for o in api.operations if o.key == f"GET {path}")


def cookies(reqs: list[PlannedRequest]) -> list[str]:
    return [dict(r.headers)["Cookie"] for r in reqs]


def test_a_bearer_token_is_moved_into_each_common_cookie_name(api: ApiModel) -> None:
    reqs = list(CredentialInCookieAccepted().plan(op(api, "/items"), ctx(api, "/items")))
    # "token" is declared as a cookie credential by the document (scheme ckey): not tried
    assert cookies(reqs) == [
        "access_token=tok-alice-123",
        "jwt=tok-alice-123",
        "auth=tok-alice-123",
    ]
    assert [r.purpose for r in reqs] == ["access_token", "jwt", "auth"]
    # moved, not copied: no Authorization header, no API key header, nothing in the query
    assert all(r.auth is AuthMode.CUSTOM and len(r.headers) == 1 and r.query == () for r in reqs)


def test_an_api_key_header_is_moved_into_its_own_name_and_api_key(api: ApiModel) -> None:
    reqs = list(
        CredentialInCookieAccepted().plan(op(api, "/header-keyed"), ctx(api, "/header-keyed"))
    )
    assert cookies(reqs) == ["X-API-Key=key-alice", "api_key=key-alice"]


def test_an_existing_cookie_header_is_extended(api: ApiModel) -> None:
    c = ctx(api, "/items", headers=(("Accept", "application/json"), ("Cookie", "theme=dark")))
    [first, *_] = CredentialInCookieAccepted().plan(op(api, "/items"), c)
    assert first.headers == (
        ("Accept", "application/json"),
        ("Cookie", "theme=dark; access_token=tok-alice-123"),
    )


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/query-keyed", []),  # the key travels in the query: not a header credential
        ("/cookie-keyed", []),  # already a cookie by the document
        ("/either", []),  # the document accepts a cookie session on this operation
        ("/with-cookie-param", ["access_token", "auth"]),  # jwt is a documented cookie here
    ],
)
def test_quiet_where_the_document_declares_the_cookie(
    api: ApiModel, path: str, names: list[str]
) -> None:
    reqs = list(CredentialInCookieAccepted().plan(op(api, path), ctx(api, path)))
    assert [r.purpose for r in reqs] == names


@pytest.mark.parametrize(
    ("status", "body", "fires"),
    [
        (200, {"id": 1}, True),
        (204, {"id": 1}, True),
        (401, {"error": "unauthorized"}, False),
        (403, {"error": "forbidden"}, False),
        (200, "<html>login</html>", False),  # a login page is not the resource
    ],
)
def test_judging_against_the_baseline(api: ApiModel, status: int, body: Any, fires: bool) -> None:
    probe = CredentialInCookieAccepted()
    c = ctx(api, "/items")
    reqs = list(probe.plan(op(api, "/items"), c))
    answers = [exchange(status, body, request=reqs[0])] + [
        exchange(401, {"error": "unauthorized"}, request=r) for r in reqs[1:]
    ]
    found = list(probe.judge(op(api, "/items"), c, answers))
    assert [(f.rule, f.key) for f in found] == ([("SD217", "access_token")] if fires else [])
    if fires:
        assert found[0].message == (
            f"GET /items answered {status} to its credential in a cookie (access_token)"
        )
        assert found[0].evidence is not None
        assert "Cookie: access_token=tok-alice-123" in found[0].evidence.request


def test_silent_without_a_working_baseline_or_when_anonymous_gets_in(api: ApiModel) -> None:
    probe = CredentialInCookieAccepted()
    items = op(api, "/items")
    assert list(probe.plan(items, ctx(api, "/items", status=401))) == []
    anonymous = exchange(
        200,
        {"id": 1},
        request=PlannedRequest("GET", "/items", variant=Variant(VariantKind.NO_CREDENTIALS)),
    )
    c = ctx(api, "/items", pool=(anonymous,))
    assert list(probe.plan(items, c)) == []
    [req, *_] = probe.plan(items, ctx(api, "/items"))
    assert list(probe.judge(items, c, [exchange(200, {"id": 1}, request=req)])) == []
    assert list(probe.plan(op(api, "/open"), ctx(api, "/open"))) == []


def test_silent_without_a_header_credential(api: ApiModel) -> None:
    # only a query credential given: nothing of the header kind to move
    query_only = Credentials.build(query=(("api_key", "key-alice"),))
    c = ctx(api, "/items", creds=query_only)
    assert list(CredentialInCookieAccepted().plan(op(api, "/items"), c)) == []
