"""The runner on real loopback sockets: its direct aiohttp path behaves like the httpx path.

The runner speaks aiohttp directly on specdiff's own transport and goes through
``handle_async_request`` on any other (see ``specdiff.runner``). Here one aiohttp server answers
both: httpx's own socket transport (httpcore) stands for "any other transport", so the two paths
must record the same exchanges and put the same request on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import trustme
from aiohttp import web

from specdiff.config import Credentials
from specdiff.model import AuthMode, Exchange, PlannedRequest
from specdiff.runner import Runner, RunnerLimits, _Clock, make_client

CREDS = Credentials.build(token="tok-secret-1")
BOMB = gzip.compress(b"\0" * 5_000_000)  # 5 KB on the wire, 50 times the cap inflated
Seen = list[tuple[str, str, tuple[tuple[str, str], ...], bytes]]


def _app(seen: Seen) -> web.Application:
    async def record(request: web.Request) -> None:
        headers = tuple(sorted((k.lower(), v) for k, v in request.headers.items()))
        seen.append((request.method, request.path_qs, headers, await request.read()))

    async def echo(request: web.Request) -> web.Response:
        await record(request)
        response = web.json_response({"id": 1}, headers={"X-Many": "1"})
        response.headers.add("X-Many", "2")
        response.set_cookie("session", "eyJhbGciOi.secret")
        return response

    async def redirect(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("https://elsewhere.test/")

    async def bomb(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(body=BOMB, headers={"Content-Encoding": "gzip"})

    async def trickle(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):  # 20 s in all: never within the runner's timeout
            await response.write(b"x")
            await asyncio.sleep(0.2)
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/trickle", trickle)
    return app


@asynccontextmanager
async def _serve(seen: Seen, context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    runner = web.AppRunner(_app(seen), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


Plan = Callable[[Runner], Awaitable[list[Exchange]]]


def _both(plan: Plan, limits: RunnerLimits | None = None) -> dict[str, tuple[list[Exchange], Seen]]:
    """``plan`` through the direct aiohttp path and through httpx's own socket transport."""

    async def one(transport: httpx.AsyncBaseTransport | None) -> tuple[list[Exchange], Seen]:
        seen: Seen = []
        async with _serve(seen) as base, make_client(transport=transport) as client:
            runner = Runner(client, base_url=base, credentials=CREDS, limits=limits)
            return await plan(runner), seen

    return {
        "aiohttp": asyncio.run(one(None)),
        "httpx": asyncio.run(one(httpx.AsyncHTTPTransport())),
    }


def _comparable(exchange: Exchange) -> tuple[object, ...]:
    headers = tuple(h for h in exchange.headers if h[0] != "date")
    url = exchange.url.split("/", 3)[-1]  # each run has its own port
    return (exchange.status, headers, exchange.body, exchange.truncated, exchange.error, url)


def _without_host(seen: tuple[str, str, tuple[tuple[str, str], ...], bytes]) -> object:
    method, _, headers, body = seen
    return method, tuple(h for h in headers if h[0] != "host"), body


def test_both_paths_send_the_same_request_and_record_the_same_exchange() -> None:
    async def plan(runner: Runner) -> list[Exchange]:
        return [
            await runner.send(PlannedRequest("GET", "/echo", query=(("q", "a b/ü"),))),
            await runner.send(
                PlannedRequest(
                    "POST",
                    "/echo",
                    headers=(("Content-Type", "application/json"), ("Accept", "application/xml")),
                    body=b'{"name": "x"}',
                    auth=AuthMode.NONE,
                )
            ),
            await runner.send(PlannedRequest("PUT", "/echo", body=b"raw", auth=AuthMode.NONE)),
            await runner.send(PlannedRequest("POST", "/echo", auth=AuthMode.NONE)),
        ]

    results = _both(plan)
    (direct, direct_seen), (via_httpx, httpx_seen) = results["aiohttp"], results["httpx"]
    assert [_comparable(e) for e in direct] == [_comparable(e) for e in via_httpx]
    assert [s[1] for s in httpx_seen] == ["/echo?q=a+b%2F%C3%BC", "/echo", "/echo", "/echo"]
    # aiohttp's URL parser (yarl) unescapes a '/' in the query, as it did under httpx-aiohttp
    assert [s[1] for s in direct_seen] == ["/echo?q=a+b/%C3%BC", "/echo", "/echo", "/echo"]
    assert [_without_host(s) for s in direct_seen] == [_without_host(s) for s in httpx_seen]
    get, post, put, empty = direct_seen
    assert dict(get[2])["authorization"] == "Bearer tok-secret-1"
    assert dict(get[2])["user-agent"] == "specdiff"
    assert dict(get[2])["accept-encoding"] == "gzip, deflate"
    assert "authorization" not in dict(post[2]) and dict(post[2])["accept"] == "application/xml"
    assert post[3] == b'{"name": "x"}'
    # only the headers planned: no Content-Type nobody asked for
    assert "content-type" not in dict(put[2]) and put[3] == b"raw"
    assert "content-type" not in dict(empty[2]) and dict(empty[2])["content-length"] == "0"
    first = direct[0]
    assert first.status == 200 and first.json() == {"id": 1}
    assert [v for k, v in first.headers if k == "x-many"] == ["1", "2"]  # names in lower case
    assert first.sent_headers == (("Authorization", "Bearer tok-secret-1"),)


def test_no_cookie_replayed_no_redirect_followed_on_either_path() -> None:
    async def plan(runner: Runner) -> list[Exchange]:
        return [
            await runner.send(PlannedRequest("GET", "/echo")),
            await runner.send(PlannedRequest("GET", "/redirect")),
            await runner.send(PlannedRequest("GET", "/echo", auth=AuthMode.NONE)),
        ]

    for exchanges, seen in _both(plan).values():
        assert [e.status for e in exchanges] == [200, 302, 200]
        assert exchanges[1].header("location") == "https://elsewhere.test/"
        assert [s[1] for s in seen] == ["/echo", "/redirect", "/echo"]  # not the Location
        assert "cookie" not in dict(seen[2][2]) and "authorization" not in dict(seen[2][2])


def test_gzip_bomb_stops_at_the_cap_and_a_trickle_at_the_timeout() -> None:
    async def plan(runner: Runner) -> list[Exchange]:
        return [
            await runner.send(PlannedRequest("GET", "/bomb")),
            await runner.send(PlannedRequest("GET", "/trickle")),
        ]

    limits = RunnerLimits(timeout=0.5, max_body_bytes=100_000)
    for exchanges, _ in _both(plan, limits).values():
        bomb, trickle = exchanges
        assert bomb.truncated and bomb.body == b"\0" * 100_000
        assert trickle.status is None and trickle.error == "timed out after 0.5 s"


def test_tls_is_verified_on_the_direct_path() -> None:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)

    async def main() -> list[Exchange]:
        exchanges = []
        async with _serve([], server) as base:
            for verify in (True, trusted):
                async with make_client(verify=verify) as client:
                    runner = Runner(client, base_url=base, credentials=CREDS)
                    exchanges.append(await runner.send(PlannedRequest("GET", "/echo")))
        return exchanges

    started = time.monotonic()
    untrusted, trusted_exchange = asyncio.run(main())
    assert untrusted.status is None and untrusted.error is not None
    assert untrusted.error.startswith("TLS certificate not trusted (") and (
        "CERTIFICATE_VERIFY_FAILED" in untrusted.error
    )
    assert untrusted.error.endswith(
        "pass --ca-bundle FILE with the CA that signed it (or --insecure for a throwaway target)"
    )
    assert trusted_exchange.status == 200
    assert time.monotonic() - started < 5


def test_one_clock_ends_each_overdue_exchange_and_only_those() -> None:
    # the runner's wall clock: one timer for all exchanges, each limit kept to within a tick
    clock = _Clock()

    async def work(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    async def timed(limit: float, takes: float) -> tuple[str, float]:
        started = time.monotonic()
        try:
            result = await clock.within(limit, work(takes))
        except asyncio.TimeoutError:
            result = "timeout"
        await asyncio.sleep(0.01)  # no cancellation left behind for the task's next await
        return result, time.monotonic() - started

    async def main() -> list[tuple[str, float]]:
        jobs = [timed(0.3, 0.05), timed(0.3, 5), timed(0.6, 5), timed(0.02, 5), timed(1, 0.1)]
        return await asyncio.gather(*jobs)

    results = asyncio.run(main())
    assert [r for r, _ in results] == ["done", "timeout", "timeout", "timeout", "done"]
    fast, first, second, short, _ = (t for _, t in results)
    slack = _Clock.TICK + 0.5  # a busy machine's event-loop latency
    assert fast < slack and short < slack
    assert 0.3 <= first < 0.3 + slack and 0.6 <= second < 0.6 + slack


def test_a_request_that_may_change_data_goes_on_a_connection_of_its_own() -> None:
    """Never retried after a transport error, such a request must not be sent on a kept-alive
    connection the server may just have closed (uvicorn does, after answering a request before
    reading its body): each gets a new connection; other requests keep theirs alive."""
    peers: list[tuple[str, int]] = []

    async def peer(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        peers.append((request.method, request.transport.get_extra_info("peername")[1]))
        return web.json_response({})

    async def run() -> None:
        app = web.Application()
        app.router.add_route("*", "/peer", peer)
        server = web.AppRunner(app, access_log=None)
        await server.setup()
        site = web.TCPSite(server, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{server.addresses[0][1]}"
        try:
            async with make_client() as client:
                runner = Runner(client, base_url=base)
                for changes in (False, False, True, True):
                    req = PlannedRequest("POST", "/peer", body=b"{}", changes_data=changes)
                    assert (await runner.send(req)).status == 200
        finally:
            await server.cleanup()

    asyncio.run(run())
    (_, kept), (_, again), (_, first), (_, second) = peers
    assert kept == again  # one connection, kept alive
    assert len({kept, first, second}) == 3  # a new one for each request that may change data
