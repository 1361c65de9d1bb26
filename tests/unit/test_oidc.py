"""OpenID Connect discovery of SD216's keys: URL rules (pure) and fetching (runner on a
MockTransport): only the base URL's origin, never credentials, every failure a note."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from specdiff.config import Credentials, parse_jwks
from specdiff.demo.tokens import issue_token, jwks, rsa_key
from specdiff.model import ApiModel
from specdiff.oidc import MAX_DOCUMENT_BYTES, discover_jwks, discovery_urls, jwks_uri, wants_jwks
from specdiff.runner import Runner, make_client
from tests.builders import api_of

KEYS = jwks(rsa_key())
RS_TOKEN = issue_token("alice", rsa_key())
HS_TOKEN = issue_token("alice", "x" * 32)


def _api(tmp_path: Path, *urls: str) -> ApiModel:
    schemes: dict[str, Any] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for n, url in enumerate(urls):
        schemes[f"oidc{n}"] = {"type": "openIdConnect", "openIdConnectUrl": url}
    return api_of(
        tmp_path,
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"securitySchemes": schemes},
        },
    )


def test_discovery_urls_resolve_against_the_base_url(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        "/.well-known/openid-configuration",
        "auth/openid",
        "https://idp.example/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
    )
    assert discovery_urls(api, "https://api.test/v1") == [
        "https://api.test/.well-known/openid-configuration",
        "https://api.test/v1/auth/openid",
        "https://idp.example/.well-known/openid-configuration",
    ]
    assert discovery_urls(_api(tmp_path), "https://api.test") == []


def test_jwks_uri_is_made_absolute() -> None:
    where = "https://api.test/.well-known/openid-configuration"
    assert jwks_uri({"jwks_uri": "/keys"}, where) == "https://api.test/keys"
    assert jwks_uri({"jwks_uri": "https://idp.example/k"}, where) == "https://idp.example/k"
    for doc in ({}, {"jwks_uri": ""}, {"jwks_uri": 3}, ["jwks_uri"], None):
        assert jwks_uri(doc, where) is None


def test_only_an_asymmetric_user_jwt_wants_keys() -> None:
    assert wants_jwks(Credentials.build(token=RS_TOKEN))
    assert not wants_jwks(Credentials.build(token=HS_TOKEN))
    assert not wants_jwks(Credentials.build(token="opaque-token"))
    assert not wants_jwks(Credentials())


def test_parse_jwks_takes_a_set_or_one_key() -> None:
    assert parse_jwks(KEYS) == tuple(KEYS["keys"])
    assert parse_jwks(KEYS["keys"][0]) == (KEYS["keys"][0],)
    for bad in ({"keys": [{"n": "x"}]}, {"keys": "x"}, [], "keys", None):
        assert parse_jwks(bad) is None


Handler = Callable[[httpx.Request], httpx.Response]


def _discover(
    api: ApiModel, handler: Handler, base: str = "https://api.test"
) -> tuple[tuple[dict[str, Any], ...], list[str], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def main() -> tuple[tuple[dict[str, Any], ...], list[str]]:
        async with make_client(transport=httpx.MockTransport(record)) as client:
            runner = Runner(client, base_url=base, credentials=Credentials.build(token=RS_TOKEN))
            return await discover_jwks(runner.fetch_public, api, base)

    keys, notes = asyncio.run(main())
    return keys, notes, seen


def _provider(jwks_uri: str, keys: Any = KEYS) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": "https://api.test", "jwks_uri": jwks_uri})
        if request.url.path == "/keys":
            return httpx.Response(200, json=keys)
        return httpx.Response(404, json={})

    return handle


def test_keys_come_from_discovery_without_credentials(tmp_path: Path) -> None:
    api = _api(tmp_path, "/.well-known/openid-configuration")
    keys, notes, seen = _discover(api, _provider("/keys"), base="https://api.test/v1")
    assert keys == tuple(KEYS["keys"]) and notes == []
    assert [str(r.url) for r in seen] == [
        "https://api.test/.well-known/openid-configuration",
        "https://api.test/keys",
    ]
    assert all("authorization" not in r.headers for r in seen)


def test_another_origin_is_never_fetched(tmp_path: Path) -> None:
    api = _api(tmp_path, "/.well-known/openid-configuration")
    keys, notes, seen = _discover(api, _provider("https://idp.example/keys"))
    assert keys == () and [r.url.path for r in seen] == ["/.well-known/openid-configuration"]
    assert notes == [
        "OpenID Connect discovery https://api.test/.well-known/openid-configuration: its "
        "jwks_uri https://idp.example/keys is not on the origin of https://api.test, not "
        "fetched; SD216 needs --jwks to run"
    ]
    elsewhere = _api(tmp_path, "https://idp.example/.well-known/openid-configuration")
    keys, notes, seen = _discover(elsewhere, _provider("/keys"))
    assert (keys, seen) == ((), [])
    assert "not on the origin of https://api.test, not fetched" in notes[0]


def test_nothing_is_fetched_over_plain_http_from_a_remote_host(tmp_path: Path) -> None:
    api = _api(tmp_path, "/.well-known/openid-configuration")
    keys, notes, seen = _discover(api, _provider("/keys"), base="http://api.test")
    assert (keys, seen) == ((), [])
    assert "only the base URL's origin, over HTTPS unless loopback" in notes[0]
    keys, notes, seen = _discover(api, _provider("/keys"), base="http://127.0.0.1:8000")
    assert keys == tuple(KEYS["keys"]) and len(seen) == 2


@pytest.mark.parametrize(
    ("handler", "why"),
    [
        (lambda r: httpx.Response(404, json={}), "HTTP 404"),
        (lambda r: httpx.Response(302, headers={"Location": "https://idp.example/"}), "HTTP 302"),
        (lambda r: httpx.Response(200, text="<html>"), "not JSON"),
        (
            lambda r: httpx.Response(200, json={"pad": "x" * MAX_DOCUMENT_BYTES}),
            "larger than 256 KiB",
        ),
        (lambda r: httpx.Response(200, json={"issuer": "x"}), "the document names no jwks_uri"),
        (_provider("/keys", {"keys": []}), "its JWKS https://api.test/keys: no keys"),
        (_provider("/nowhere"), "its JWKS https://api.test/nowhere: HTTP 404"),
    ],
)
def test_every_failure_is_one_note(tmp_path: Path, handler: Handler, why: str) -> None:
    api = _api(tmp_path, "/.well-known/openid-configuration")
    keys, notes, _ = _discover(api, handler)
    assert keys == ()
    assert notes == [
        f"OpenID Connect discovery https://api.test/.well-known/openid-configuration: {why}; "
        "SD216 needs --jwks to run"
    ]


def test_the_second_scheme_is_tried_when_the_first_fails(tmp_path: Path) -> None:
    api = _api(tmp_path, "/missing", "/.well-known/openid-configuration")
    keys, notes, seen = _discover(api, _provider("/keys"))
    assert keys == tuple(KEYS["keys"]) and notes == []
    assert [r.url.path for r in seen] == ["/missing", "/.well-known/openid-configuration", "/keys"]
