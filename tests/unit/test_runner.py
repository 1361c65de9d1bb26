"""The runner on a MockTransport: credentials' safety, budget, retries, caps, errors."""

from __future__ import annotations

import asyncio

import httpx

from specdiff.config import Credentials
from specdiff.model import AuthMode, Exchange, PlannedRequest
from specdiff.runner import Runner, RunnerLimits, make_client

CREDS = Credentials.build(token="tok-secret-1", query=(("api_key", "qk-secret-2"),))


def _run(
    handler,
    req: PlannedRequest,
    *,
    base: str = "https://api.test/v1",
    limits: RunnerLimits | None = None,
    n: int = 1,
) -> tuple[list[Exchange], list[httpx.Request]]:  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def main() -> list[Exchange]:
        transport = httpx.MockTransport(record)
        async with make_client(transport=transport) as client:
            runner = Runner(
                client,
                base_url=base,
                http_url="http://api.test/v1",
                credentials=CREDS,
                limits=limits,
            )
            return [await runner.send(req) for _ in range(n)]

    return asyncio.run(main()), seen


def test_user_credentials_go_to_the_base_url_only() -> None:
    exchanges, seen = _run(
        lambda r: httpx.Response(200, json={}), PlannedRequest("GET", "/me", query=(("a", "1"),))
    )
    assert str(seen[0].url) == "https://api.test/v1/me?a=1&api_key=qk-secret-2"
    assert seen[0].headers["authorization"] == "Bearer tok-secret-1"
    assert exchanges[0].status == 200 and exchanges[0].url.startswith("https://api.test/v1/me")


def test_no_credentials_on_the_http_twin_or_in_none_mode() -> None:
    for req in (
        PlannedRequest("GET", "/me", target="http"),
        PlannedRequest("GET", "/me", auth=AuthMode.NONE),
    ):
        _, seen = _run(lambda r: httpx.Response(200), req)
        assert "authorization" not in seen[0].headers
        assert "qk-secret-2" not in str(seen[0].url)
    _, seen = _run(lambda r: httpx.Response(200), PlannedRequest("GET", "/me", target="http"))
    assert str(seen[0].url) == "http://api.test/v1/me"


def test_no_credentials_over_plain_http_to_a_remote_base_url_but_loopback_is_fine() -> None:
    _, seen = _run(
        lambda r: httpx.Response(200), PlannedRequest("GET", "/me"), base="http://api.test"
    )
    assert "authorization" not in seen[0].headers
    _, seen = _run(
        lambda r: httpx.Response(200), PlannedRequest("GET", "/me"), base="http://127.0.0.1:8000"
    )
    assert seen[0].headers["authorization"] == "Bearer tok-secret-1"


def test_budget_is_enforced() -> None:
    exchanges, seen = _run(
        lambda r: httpx.Response(200),
        PlannedRequest("GET", "/x"),
        limits=RunnerLimits(max_requests=2),
        n=3,
    )
    assert [e.status for e in exchanges] == [200, 200, None]
    assert exchanges[2].error == "request budget exhausted" and len(seen) == 2


def test_retry_after_is_honoured_within_bounds() -> None:
    calls = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200)])
    exchanges, seen = _run(lambda r: next(calls), PlannedRequest("GET", "/x"))
    assert exchanges[0].status == 200 and len(seen) == 2
    exchanges, seen = _run(
        lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), PlannedRequest("GET", "/x")
    )
    assert exchanges[0].status == 429 and len(seen) == 1  # an hour is not waited for


def test_body_is_capped_and_marked_truncated() -> None:
    exchanges, _ = _run(
        lambda r: httpx.Response(200, content=b"x" * 5000),
        PlannedRequest("GET", "/x"),
        limits=RunnerLimits(max_body_bytes=100),
    )
    assert exchanges[0].truncated and len(exchanges[0].body) == 100 and exchanges[0].json() is None


def test_redirects_are_not_followed_and_errors_become_exchanges() -> None:
    exchanges, seen = _run(
        lambda r: httpx.Response(308, headers={"Location": "https://elsewhere/"}),
        PlannedRequest("GET", "/x"),
    )
    assert exchanges[0].status == 308 and len(seen) == 1

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    exchanges, _ = _run(refuse, PlannedRequest("GET", "/x"))
    assert (
        exchanges[0].status is None
        and exchanges[0].error == "cannot connect: [Errno 111] Connection refused"
    )

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    exchanges, _ = _run(slow, PlannedRequest("GET", "/x"), limits=RunnerLimits(timeout=2))
    assert exchanges[0].error == "timed out after 2 s"


def test_cookies_set_by_the_target_are_never_sent_back() -> None:
    # a session cookie often is the credential: replaying it would authenticate "anonymous"
    # requests (false SD201) and carry identity A's session into identity B's requests
    async def main() -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        async def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, headers={"Set-Cookie": "session=eyJhbGciOi.secret; Path=/"})

        async with make_client(transport=httpx.MockTransport(handler)) as client:
            runner = Runner(client, base_url="https://api.test", credentials=CREDS)
            await runner.send(PlannedRequest("GET", "/login"))
            await runner.send(PlannedRequest("GET", "/me", auth=AuthMode.NONE))
        return seen

    seen = asyncio.run(main())
    assert "cookie" not in seen[1].headers
