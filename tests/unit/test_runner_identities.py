"""The runner's identities (A, B, low), probe-placed credentials and the login step."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

import httpx
import jwt
import pytest

from specdiff.config import Credentials, ScanConfig, parse_login
from specdiff.errors import ConfigError, PreflightError
from specdiff.model import AuthMode, Exchange, PlannedRequest
from specdiff.runner import Runner, RunnerLimits, make_client

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


# --------------------------------------------------------------------------- run integrity

ME = PlannedRequest("GET", "/me", operation="GET /me")


def _worn_out_after(uses: int) -> Handler:
    """A's token works ``uses`` times; every other credential always works."""
    left = {"n": uses}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer tok-alice-1":
            return httpx.Response(200, json={"id": 2})
        left["n"] -= 1
        return httpx.Response(200 if left["n"] >= 0 else 401, json={})

    return handler


def test_credentials_that_stop_working_stop_the_identity() -> None:
    items = PlannedRequest("GET", "/items", operation="GET /items")
    forged = PlannedRequest(
        "GET", "/items", headers=(("Authorization", "Bearer x"),), auth=AuthMode.CUSTOM
    )
    reqs = [ME, ME, items, items, items, forged, PlannedRequest("GET", "/x", identity="b")]
    exchanges, seen, runner = _run(_worn_out_after(3), reqs, credentials=A, credentials_b=B)
    assert [e.status for e in exchanges] == [200, 200, 200, 401, None, None, 200]
    # the refusal was checked once (GET /me, the proven request, refused too); then nothing
    # more went out as A, nor with a credential that may derive from A's
    assert [r.url.path for r in seen] == ["/me", "/me", "/items", "/items", "/me", "/x"]
    assert exchanges[4].not_sent == exchanges[5].not_sent == "credentials"
    assert exchanges[4].error.startswith("not sent: identity A's credentials stopped working at")  # type: ignore[union-attr]
    [note] = runner.affected("GET /items")
    assert re.match(
        r"identity A's credentials stopped working at \d\d:\d\d:\d\d UTC \(1 requests refused\)$",
        note,
    )
    assert runner.affected("GET /me") == [] and runner.stopped("a") and not runner.stopped("b")
    a, b = runner.identity_uses()
    assert (a.ok, a.unauthorized, a.not_sent) == (3, 2, 2) and a.stopped.startswith("credentials")
    assert (b.identity, b.ok, b.stopped) == ("b", 1, "")


def test_genuine_refusals_are_checked_once_and_change_nothing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403 if request.url.path == "/admin" else 200, json={})

    admin = PlannedRequest("GET", "/admin", operation="GET /admin")
    seen: list[str] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return handler(request)

    async def main() -> tuple[list[Exchange], Runner]:
        async with make_client(transport=httpx.MockTransport(record)) as client:
            runner = Runner(client, base_url="https://api.test", credentials=A)
            first = await runner.send(ME)
            rest = await asyncio.gather(*(runner.send(admin) for _ in range(3)))
            return [first, *rest], runner

    exchanges, runner = asyncio.run(main())
    assert [e.status for e in exchanges] == [200, 403, 403, 403]
    assert seen.count("/me") == 2  # the proven request, and one check for all three refusals
    assert not runner.stopped("a") and runner.identity_uses()[0].forbidden == 3


def test_identity_b_refused_with_403_is_not_a_dead_credential() -> None:
    _exchanges, seen, runner = _run(
        lambda r: httpx.Response(403),
        [PlannedRequest("GET", "/x", identity="b")] * 2,
        credentials=A,
        credentials_b=B,
    )
    assert len(seen) == 2 and not runner.stopped("b")  # BOLA refusals are B's right answer


def test_a_jwt_whose_exp_passes_stops_its_identity_without_a_request() -> None:
    token = jwt.encode({"sub": "a", "exp": 2_000_000_000}, "k" * 32, algorithm="HS256")
    now = {"t": 1_900_000_000.0}
    creds = Credentials.build(token=token)
    reqs = [ME]

    async def main() -> tuple[list[Exchange], Runner]:
        async with make_client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as c:
            runner = Runner(
                c, base_url="https://api.test", credentials=creds, clock=lambda: now["t"]
            )
            first = await runner.send(ME)
            now["t"] = 2_000_000_001.0
            return [first, await runner.send(ME)], runner

    exchanges, runner = asyncio.run(main())
    assert [e.status for e in exchanges] == [200, None]
    assert exchanges[1].not_sent == "credentials"
    assert runner.identity_uses()[0].stopped.startswith(
        "credentials stopped working (the JWT expired) at"
    )
    assert reqs


def test_a_reset_connection_is_tried_once_more_and_only_once() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] in (1, 3, 4):
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200)

    exchanges, seen, _ = _run(flaky, [ME, ME], credentials=A)
    assert exchanges[0].status == 200  # the first attempt was reset, the retry answered
    assert exchanges[1].status is None and "disconnected" in (exchanges[1].error or "")
    assert len(seen) == 4
    # a request that may change data is never sent twice
    calls["n"] = 0
    write = PlannedRequest("POST", "/items", body=b"{}", changes_data=True)
    exchanges, seen, _ = _run(flaky, [write], credentials=A)
    assert exchanges[0].status is None and len(seen) == 1


def test_why_a_request_was_not_sent() -> None:
    exchanges, _, _ = _run(
        lambda r: httpx.Response(200),
        [ME, ME],
        credentials=A,
        limits=RunnerLimits(max_requests=1),
    )
    assert (exchanges[1].not_sent, exchanges[1].error) == ("budget", "request budget exhausted")
