"""The runner's identities (A, B, low), probe-placed credentials and the login step."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from specdiff.config import Credentials, ScanConfig, parse_login
from specdiff.errors import ConfigError, PreflightError
from specdiff.model import AuthMode, Exchange, PlannedRequest
from specdiff.runner import Runner, make_client

A = Credentials.build(token="tok-alice-1")
B = Credentials.build(token="tok-bob-2", identity="B")
LOW = Credentials.build(headers=(("X-Api-Key", "low-key-3"),), identity="LOW")
LOGIN = parse_login(
    "POST /auth/login", '{"username": "a", "password": "pw-secret"}', "$.data.token"
)

Handler = Callable[[httpx.Request], httpx.Response]


def _run(
    handler: Handler, reqs: list[PlannedRequest], *, base: str = "https://api.test", **kw: object
) -> tuple[list[Exchange], list[httpx.Request], Runner]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def main() -> tuple[list[Exchange], Runner]:
        async with make_client(transport=httpx.MockTransport(record)) as client:
            runner = Runner(client, base_url=base, http_url="http://api.test", **kw)  # type: ignore[arg-type]
            if kw.get("login"):
                await runner.login()
            return [await runner.send(r) for r in reqs], runner

    exchanges, runner = asyncio.run(main())
    return exchanges, seen, runner


def test_each_identity_attaches_its_own_credentials() -> None:
    reqs = [PlannedRequest("GET", "/x", identity=i) for i in ("a", "b", "low")]
    _, seen, _ = _run(
        lambda r: httpx.Response(200), reqs, credentials=A, credentials_b=B, credentials_low=LOW
    )
    assert [r.headers.get("authorization") for r in seen] == [
        "Bearer tok-alice-1",
        "Bearer tok-bob-2",
        None,
    ]
    assert seen[2].headers["x-api-key"] == "low-key-3"


def test_identities_never_go_to_the_http_twin_nor_unknown_identities_anywhere() -> None:
    reqs = [
        PlannedRequest("GET", "/x", identity="b", target="http"),
        PlannedRequest("GET", "/x", identity="low"),
    ]
    exchanges, seen, _ = _run(lambda r: httpx.Response(200), reqs, credentials=A, credentials_b=B)
    assert len(seen) == 1 and "authorization" not in seen[0].headers
    assert exchanges[1].error == "no credentials for identity low"


def test_probe_placed_credentials_only_go_to_the_https_base_url() -> None:
    custom = (("Authorization", "Bearer forged"),)
    reqs = [
        PlannedRequest("GET", "/x", headers=custom, auth=AuthMode.CUSTOM, target="http"),
        PlannedRequest("GET", "/x", headers=custom, auth=AuthMode.CUSTOM),
    ]
    exchanges, seen, _ = _run(lambda r: httpx.Response(200), reqs, credentials=A)
    assert exchanges[0].error == "custom credentials only go to the base URL"
    assert [r.headers["authorization"] for r in seen] == ["Bearer forged"]
    _, seen, _ = _run(lambda r: httpx.Response(200), reqs[1:], base="http://api.example.com")
    assert seen == []


def test_login_obtains_the_token_and_renews_it_on_401() -> None:
    issued = iter(["tok-1", "tok-2"])
    secrets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            assert json.loads(request.content) == {"username": "a", "password": "pw-secret"}
            return httpx.Response(200, json={"data": {"token": next(issued)}})
        ok = request.headers.get("authorization") == "Bearer tok-2"
        return httpx.Response(200 if ok else 401)

    exchanges, seen, runner = _run(
        handler, [PlannedRequest("GET", "/me")], login=LOGIN, on_secret=secrets.append
    )
    assert [r.url.path for r in seen] == ["/auth/login", "/me", "/auth/login", "/me"]
    assert exchanges[0].status == 200 and secrets == ["tok-1", "tok-2"]
    assert runner.credentials.bearer_token == "tok-2"


def test_a_failed_login_is_a_preflight_error() -> None:
    with pytest.raises(PreflightError, match=r"\$\.data\.token \(HTTP 401\)"):
        _run(lambda r: httpx.Response(401, json={}), [], login=LOGIN)
    with pytest.raises(PreflightError, match="in clear"):
        _run(lambda r: httpx.Response(200), [], base="http://api.example.com", login=LOGIN)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("GET", None, "$.t"), "--login must look like"),
        (("POST /login", None, "access_token"), "--token-path must look like"),
        (("POST /login", "@/nonexistent/creds.json", "$.t"), "--login-body @/nonexistent"),
    ],
)
def test_bad_login_options_are_config_errors(
    args: tuple[str, str | None, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_login(*args)


def test_every_identity_and_secret_is_redacted_with_its_own_variable() -> None:
    config = ScanConfig(
        spec="x.yaml",
        credentials=A,
        credentials_b=B,
        credentials_low=LOW,
        jwt_secret="jwt-secret-4",
        expired_token="old-token-5",
        login=LOGIN,
    )
    redactor = config.redactor()
    text = "tok-alice-1 tok-bob-2 low-key-3 jwt-secret-4 old-token-5 pw-secret"
    assert redactor.redact(text) == " ".join(["[REDACTED]"] * 6)
    curl = redactor.redact_curl('-H "Authorization: Bearer tok-bob-2" -H "X-Api-Key: low-key-3"')
    assert curl == (
        '-H "Authorization: Bearer ${SPECDIFF_TOKEN_B}" -H "X-Api-Key: ${SPECDIFF_HEADER_LOW_X_API_KEY}"'
    )
