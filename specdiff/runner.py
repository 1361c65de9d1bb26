"""All network I/O of a scan: planned requests in, exchanges out.

One ``httpx.AsyncClient`` per target (the base URL, and its plain-HTTP twin), bounded concurrency,
a global request budget, bounded retry on 429/503 that honours ``Retry-After``, bodies read up to
a cap, redirects never followed (probes judge them). Network failures become exchanges with an
``error``; they never raise.

Bounds hold against hostile servers: each exchange (connect, headers and body) has one wall-clock
limit (``timeout``), so a trickling or endless body ends; bodies are decompressed here, so the cap
bounds the DECOMPRESSED bytes (a gzip bomb stops at the cap); ``max_duration`` bounds the whole
run: after it, nothing more is sent and requests in flight are cut.

The transport is aiohttp's, under httpx's API (``httpx-aiohttp``): on loopback httpx sends about
4x more requests per second over it than over httpx's default async transport, and the runner,
which drives its aiohttp session directly, about 10x (see the README's performance section);
``transport=`` still replaces it (``httpx.MockTransport`` in unit tests).

The runner sends through the client's transport, not through ``AsyncClient.send``: it follows no
redirect, replays no cookie and keeps its own wall clock, so the client's machinery (auth flow,
hooks, cookie jar, redirect handling, URL merging) only cost CPU. On specdiff's own aiohttp
transport it speaks aiohttp directly, since httpx's Request and Response objects alone cost about
as much CPU as aiohttp's whole round trip; on any other transport (``MockTransport``, in-process
apps) it hands one ``httpx.Request`` to ``handle_async_request``. Both ways send the client's
default headers, merged as httpx merges them.

The runner is also where specdiff's own safety is enforced: the user's credentials are attached
only to requests for the base URL's origin, never to the plain-HTTP twin, and never over plain
HTTP unless the base URL itself is a loopback http:// URL. The same holds for every identity
(A, B, low) and for requests whose probe placed a credential itself (``AuthMode.CUSTOM``: a
mutated or moved token): those go only to the base URL's origin, never to the plain-HTTP twin.

The runner also enforces the run's safety policy (:mod:`specdiff.safety`) once more, whatever
planned the request: a request the policy refuses is never sent, and comes back as an exchange
that says so (``not_sent="policy"``).

Run integrity: per identity (A, B, low) the runner counts how its credentialed requests were
answered. When one is refused (401, or 403 for identity A) after the identity has had a safe
request answered 2xx, that proven request is asked again (one check shared by every refusal
answered before it started): a 2xx says the refusal was genuine; a refusal says the credentials
stopped working. Then, with a login step, identity A logs in again and the request is retried;
otherwise nothing more is sent as that identity (nor with a credential derived from A's), and
:meth:`Runner.affected` names the operations whose judgement depended on it. A JWT whose ``exp``
passes mid-run stops its identity the same way, without a request. A transient transport error
(connection reset, broken pipe while writing) is retried once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import errno
import http.cookiejar
import ssl
import sys
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, Protocol, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from specdiff.config import Credentials, LoginStep, is_loopback, origin
from specdiff.errors import PreflightError
from specdiff.jwtkit import parse_jwt
from specdiff.model import SAFE_METHODS, AuthMode, Exchange, IdentityUse, PlannedRequest
from specdiff.safety import SafetyPolicy
from specdiff.variant import Variant, VariantKind

__all__ = ["OUT_OF_TIME", "Runner", "RunnerLimits", "make_client"]

_USER_AGENT = "specdiff"
_HEADERS = (
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),  # only what the runner decompresses within its cap
    ("Connection", "keep-alive"),
    ("User-Agent", _USER_AGENT),
)
"""What every request carries unless it sets the header itself: httpx's defaults, our agent."""
_MAX_BLIND_RELOGINS = 3
_MAX_RETRIES_AFTER_LOGIN = 3
_CHECK_INTERVAL = 1.0
"""Seconds after a credential check during which refusals are not checked one by one (without
a login step): they wait for the next check, at the latest at the end of the run, and become
"not judged" if it fails. Legitimate refusals (an admin operation) cost one check a second."""
"""Times one request goes again after a login obtained a new token for it."""
"""Logins after a refusal before identity A had any request answered 2xx (nothing to check)."""

IdentityName = Literal["a", "b", "low"]


class _Identity:
    """One identity's credentials and what happened to its requests."""

    def __init__(self, name: IdentityName, credentials: Credentials, now: float) -> None:
        self.name = name
        self.credentials = credentials
        self.refusals = frozenset({401, 403}) if name == "a" else frozenset({401})
        """Answers that may mean the credentials stopped working (B and low are refused 403
        on purpose by the rules that use them)."""
        self.counts: Counter[str] = Counter()
        self.proven: PlannedRequest | None = None
        """A safe request of this identity that was answered 2xx: the credential check."""
        self.checked_until = float("-inf")
        """When the last credential check that passed was answered (monotonic): refusals
        answered before it were genuine."""
        self.stopped_at: str = ""
        self.stop_reason = ""
        self.refused = 0
        """Server refusals that came after the credentials stopped working."""
        self.not_sent = 0
        self.affected: Counter[str] = Counter()
        """Operation key -> requests refused or not sent after the credentials stopped."""
        self.unchecked: list[str] = []
        """Operations with a refusal no check has covered yet: before any request of this
        identity had been answered 2xx, or within :data:`_CHECK_INTERVAL` of the last check."""
        self.relogins = 0
        self.lock = asyncio.Lock()
        self.verdict: asyncio.Event | None = None
        """Set while a refusal of this identity is being judged (a credential check, a login):
        its requests waiting for their turn wait for the verdict too."""
        self.expires = _expiry(credentials, now)

    @contextlib.asynccontextmanager
    async def deciding(self) -> AsyncIterator[None]:
        """Hold the identity's lock while a refusal is judged, and make its waiting requests
        wait for the verdict."""
        async with self.lock:
            verdict = self.verdict = asyncio.Event()
            try:
                yield
            finally:
                self.verdict = None
                verdict.set()

    def count(self, exchange: Exchange) -> None:
        status = exchange.status
        key = {200: "ok", 401: "unauthorized", 403: "forbidden"}.get(
            200 if exchange.ok else status or 0, "other"
        )
        self.counts[key] += 1

    def use(self) -> IdentityUse:
        stopped = ""
        if self.stop_reason:
            stopped = f"{self.stop_reason} at {self.stopped_at} ({self.refused} requests refused)"
        return IdentityUse(
            identity=self.name,
            ok=self.counts["ok"],
            unauthorized=self.counts["unauthorized"],
            forbidden=self.counts["forbidden"],
            other=self.counts["other"],
            not_sent=self.not_sent,
            stopped=stopped,
            relogins=self.relogins,
        )


def _expiry(credentials: Credentials, now: float) -> float | None:
    """The ``exp`` of a bearer JWT that is still valid now (an already expired one is the
    user's choice: a server may not check it, so it is not enforced here)."""
    token = parse_jwt(credentials.bearer_token)
    exp = token.claims.get("exp") if token is not None else None
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp > now:
        return float(exp)
    return None


_Verdict = Literal["genuine", "retry", "stopped"]


@dataclass(frozen=True, slots=True)
class RunnerLimits:
    """Bounds on what a run may cost."""

    concurrency: int = 8
    timeout: float = 10.0
    max_requests: int = 5000
    max_body_bytes: int = 2_000_000
    retries: int = 2
    """Extra attempts after a 429/503."""
    max_retry_wait: float = 5.0
    """A longer ``Retry-After`` is not waited for: the 429/503 is what the run records."""
    max_duration: float | None = None
    """Seconds for the whole run (``--max-duration``); None: no limit."""


class _NoCookies(http.cookiejar.CookiePolicy):
    """Store no cookie, return none: every request carries exactly what was planned.

    A cookie jar would replay a session cookie (often the credential itself) on requests that
    must go without credentials, and across identities.
    """

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: urllib.request.Request) -> bool:
        return False

    def path_return_ok(self, path: str, request: urllib.request.Request) -> bool:
        return False


def make_client(
    *,
    verify: ssl.SSLContext | str | bool = True,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient that never follows redirects and sends no cookies it was given back.

    It runs on the aiohttp transport unless ``transport`` is given; only the encodings the runner
    can decompress within its cap are asked for.
    """
    return httpx.AsyncClient(
        verify=verify,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        transport=transport or _aiohttp_transport(verify),
        headers=_HEADERS,
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        trust_env=False,
    )


def _aiohttp_transport(verify: ssl.SSLContext | str | bool) -> httpx.AsyncBaseTransport:
    """httpx-aiohttp's transport on a session that keeps no cookies and trusts no environment."""
    # True/False use aiohttp's ready-made contexts: building one costs ~0.4 s of CPU
    context = _ssl_context(verify) if isinstance(verify, str) else verify

    def session(fresh: bool = False) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(ssl=context, limit=100, force_close=fresh)
        return aiohttp.ClientSession(
            connector=connector,
            headers=_HEADERS,  # merged with a request's own as httpx merges them
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,  # the runner decompresses, within its cap
            timeout=aiohttp.ClientTimeout(),  # the runner's wall clock bounds each exchange
        )

    # verify=False only spares httpx-aiohttp building a TLS context of its own that nothing uses
    # (~0.1 s of CPU per client): the session's connector above carries the TLS settings
    transport = _Transport(client=session, verify=False)
    transport.make_fresh = lambda: session(fresh=True)
    return transport


class _Transport(AiohttpTransport):
    """httpx-aiohttp's transport, whose aiohttp session the runner also uses directly.

    A second session, made on first use, opens a new connection for every request: the
    runner's way for requests that may change data. Those are never retried after a transport
    error, so they must not fail because the server closed a kept-alive connection just as it
    was reused (uvicorn does, after answering a request before reading all of its body)."""

    make_fresh: Callable[[], aiohttp.ClientSession] | None = None
    _fresh: aiohttp.ClientSession | None = None

    def session(self, *, fresh: bool = False) -> aiohttp.ClientSession:
        if fresh and self.make_fresh is not None:
            if self._fresh is None:
                self._fresh = self.make_fresh()
            return self._fresh
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        return self.client

    async def aclose(self) -> None:
        """Lets the event loop finish closing the sockets aiohttp shuts down on close."""
        if self._fresh is not None:
            await self._fresh.close()
        await super().aclose()
        await asyncio.sleep(0.01)


def _ssl_context(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


class Runner:
    """Sends :class:`PlannedRequest` values and records :class:`Exchange` values."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        http_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        credentials: Credentials | None = None,
        limits: RunnerLimits | None = None,
        on_request: Callable[[], None] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        credentials_b: Credentials | None = None,
        credentials_low: Credentials | None = None,
        login: LoginStep | None = None,
        on_secret: Callable[[str], None] | None = None,
        policy: SafetyPolicy | None = None,
        clock: Callable[[], float] = time.time,
        on_working_credential: Callable[[str], None] | None = None,
    ) -> None:
        self._wire = _Wire(client)
        self._http_wire = _Wire(http_client or client)
        self._base = base_url.rstrip("/")
        self._http_base = http_url.rstrip("/") if http_url else None
        self._credentials = credentials or Credentials()
        self._identities = {
            "b": credentials_b or Credentials(),
            "low": credentials_low or Credentials(),
        }
        self._login = login
        self._on_secret = on_secret
        self._policy = policy
        self._clock = clock
        now = clock()
        named: tuple[tuple[IdentityName, Credentials], ...] = (
            ("a", self._credentials),
            ("b", self._identities["b"]),
            ("low", self._identities["low"]),
        )
        self._who: dict[str, _Identity] = {
            name: _Identity(name, creds, now) for name, creds in named if creds
        }
        self._blind_relogins = 0
        self._on_working_credential = on_working_credential
        """Told every probe-placed credential (``PlannedRequest.credential``) the API accepted."""
        self._limits = limits or RunnerLimits()
        self._semaphore = asyncio.Semaphore(self._limits.concurrency)
        self._timer = _Clock()
        self._sent = 0
        self._on_request = on_request
        self._on_exchange = on_exchange
        """Sees every exchange that was sent, retries included (``--har``)."""
        self._deadline = (
            time.monotonic() + self._limits.max_duration
            if self._limits.max_duration is not None
            else None
        )
        # credentials may travel in clear only to a loopback http:// base URL the user chose
        base_scheme = urlsplit(self._base).scheme
        self._credentials_allowed = base_scheme == "https" or is_loopback(self._base)

    @property
    def requests_sent(self) -> int:
        return self._sent

    @property
    def credentials(self) -> Credentials:
        """Identity A as it is attached now (after a login step: the obtained token)."""
        return self._credentials

    @property
    def budget_left(self) -> int:
        return self._limits.max_requests - self._sent

    def url_for(self, req: PlannedRequest) -> str:
        base = self._http_base if req.target == "http" else self._base
        if base is None:
            raise ValueError("no plain-HTTP twin configured")
        query = list(req.query)
        if self._attach_credentials(req):
            query += list(self._credentials_for(req).query)
        url = base + (req.path if req.path.startswith("/") else "/" + req.path)
        return url + ("?" + urlencode(query) if query else "")

    def _credentials_for(self, req: PlannedRequest) -> Credentials:
        return self._identities[req.identity] if req.identity != "a" else self._credentials

    def _attach_credentials(self, req: PlannedRequest) -> bool:
        return (
            req.auth is AuthMode.USER
            and req.target == "primary"
            and self._credentials_allowed
            and bool(self._credentials_for(req))
        )

    async def send(self, req: PlannedRequest) -> Exchange:
        """Send ``req`` within the budget and the safety policy; never raises for network
        trouble. See the module docstring for what a refused credential sets off."""
        refusal = self._policy.refusal(req) if self._policy is not None else None
        if refusal is not None:
            return _unsent(req, f"refused by the safety policy: {refusal}", "policy")
        if req.auth is AuthMode.USER and req.identity != "a" and not self._identities[req.identity]:
            return _unsent(req, f"no credentials for identity {req.identity}", "config")
        if req.auth is AuthMode.CUSTOM and (
            req.target != "primary" or not self._credentials_allowed
        ):
            # a probe's own credential may be derived from the user's: same rules as the user's
            return _unsent(req, "custom credentials only go to the base URL", "config")
        who = self._identity_of(req)
        holder = who or (self._who.get("a") if req.auth is AuthMode.CUSTOM else None)
        if holder is not None and who is not None:
            await self._check_expiry(who)
        if holder is not None and holder.stop_reason:
            return self._not_sent_as(holder, req)
        if who is None:
            return self._working(req, await self._send(req, holder))
        for _ in range(_MAX_RETRIES_AFTER_LOGIN + 1):
            sent_with = who.credentials
            exchange = await self._send(req, who)
            answered = time.monotonic()
            self._observe(who, req, exchange)
            if exchange.status not in who.refusals:
                break
            verdict = await self._verify(who, sent_with, answered, req.operation)
            if verdict == "stopped":
                who.refused += 1
                who.affected[req.operation] += 1
            if verdict != "retry":
                break
        return self._working(req, exchange)

    @staticmethod
    def _not_sent_as(holder: _Identity, req: PlannedRequest) -> Exchange:
        """Nothing more as a dead identity, nor with a credential derived from A's."""
        holder.not_sent += 1
        holder.affected[req.operation] += 1
        why = f"not sent: {_whose(holder)} {holder.stop_reason} at {holder.stopped_at}"
        return _unsent(req, why, "credentials")

    def _working(self, req: PlannedRequest, exchange: Exchange) -> Exchange:
        """A credential a probe placed itself (a forgery, a canary, a moved token) that got in
        is a credential: told to ``on_working_credential``, which redacts it."""
        if req.credential and exchange.ok and self._on_working_credential is not None:
            self._on_working_credential(req.credential)
        return exchange

    def _identity_of(self, req: PlannedRequest) -> _Identity | None:
        """The identity whose credentials ``req`` carries, when the runner attaches them."""
        return self._who.get(req.identity) if self._attach_credentials(req) else None

    def _observe(self, who: _Identity, req: PlannedRequest, exchange: Exchange) -> None:
        who.count(exchange)
        if exchange.ok and who.proven is None and self._repeatable(req):
            who.proven = dataclasses.replace(
                req, probe="integrity", variant=Variant(VariantKind.CREDENTIAL_CHECK)
            )

    def _repeatable(self, req: PlannedRequest) -> bool:
        """Safe to ask again and again: a safe method, nothing destructive-looking."""
        if req.method not in SAFE_METHODS or req.target != "primary":
            return False
        return self._policy is None or self._policy.repeatable(req)

    async def _verify(
        self, who: _Identity, sent_with: Credentials, answered: float, operation: str
    ) -> _Verdict:
        """Was this refusal genuine, or have ``who``'s credentials stopped working?"""
        async with who.deciding():
            if who.credentials is not sent_with:
                return "retry"  # a login since: the request goes again with the new token
            if who.stop_reason:
                return "stopped"
            if who.checked_until >= answered:
                return "genuine"
            recently = time.monotonic() - who.checked_until < _CHECK_INTERVAL
            if who.proven is None or (recently and not self._can_login(who)):
                # settled by the next check (at the latest when the run ends: settle())
                blind = who.proven is None and self._blind_relogins < _MAX_BLIND_RELOGINS
                if blind and self._can_login(who):
                    self._blind_relogins += 1
                    if not await self._relogin(who):
                        return "stopped"
                    who.relogins += 1
                    return "retry"
                who.unchecked.append(operation)
                return "genuine"
            if await self._still_works(who):
                return "genuine"
            if self._can_login(who) and await self._relogin(who) and await self._still_works(who):
                who.relogins += 1
                return "retry"
            self._stop(who, "credentials stopped working")
            return "stopped"

    async def _still_works(self, who: _Identity) -> bool:
        """Ask the identity's proven request again; anything but a refusal says yes."""
        assert who.proven is not None
        check = await self._send(who.proven, queue=False)
        who.count(check)
        if check.status in who.refusals:
            return False
        who.checked_until = time.monotonic()
        who.unchecked.clear()  # refused before this check: genuine
        return True

    def _can_login(self, who: _Identity) -> bool:
        return who.name == "a" and self._login is not None

    async def _relogin(self, who: _Identity) -> bool:
        try:
            await self.login()
        except PreflightError as exc:
            self._stop(who, f"credentials stopped working and the login step failed ({exc})")
            return False
        return True

    async def _check_expiry(self, who: _Identity) -> None:
        if who.expires is None or self._clock() < who.expires or who.stop_reason:
            return
        async with who.lock:
            if who.expires is None or self._clock() < who.expires or who.stop_reason:
                return
            if self._can_login(who) and await self._relogin(who):
                who.relogins += 1
                return
            who.expires = None
            self._stop(who, "credentials stopped working (the JWT expired)")

    def _stop(self, who: _Identity, reason: str) -> None:
        if who.stop_reason:
            return
        who.stop_reason = reason
        who.stopped_at = datetime.fromtimestamp(self._clock(), timezone.utc).strftime(
            "%H:%M:%S UTC"
        )
        for op in who.unchecked:  # refusals no check covered: their judgement is void too
            who.refused += 1
            who.affected[op] += 1
        who.unchecked.clear()

    async def settle(self) -> set[str]:
        """Settle the refusals no check has covered yet (the first baselines', those within
        :data:`_CHECK_INTERVAL` of a check): one credential check per such identity. Returns
        the operations whose refused requests should be sent again because identity A logged
        in anew (the engine calls this after the baselines, and once more at the end)."""
        again: set[str] = set()
        for who in self._who.values():
            if not who.unchecked or who.proven is None or who.stop_reason:
                continue
            async with who.lock:
                ops = list(who.unchecked)
                if await self._still_works(who):
                    continue
                if self._can_login(who) and await self._relogin(who):
                    who.relogins += 1
                    who.unchecked.clear()
                    again.update(ops)
                    continue
                self._stop(who, "credentials stopped working")
        return again

    def stopped(self, identity: IdentityName) -> bool:
        """``identity``'s credentials stopped working: nothing more is sent with them."""
        who = self._who.get(identity)
        return who is not None and bool(who.stop_reason)

    def stop_note(self, identity: IdentityName) -> str:
        """``identity A's credentials stopped working at 14:02:11 UTC (12 requests refused)``."""
        who = self._who.get(identity)
        if who is None or not who.stop_reason:
            return ""
        return (
            f"{_whose(who)} {who.stop_reason} at {who.stopped_at} ({who.refused} requests refused)"
        )

    def affected(self, operation: str) -> list[str]:
        """Why ``operation``'s judgement is void: one line per identity whose credentials
        stopped working while its requests for it were sent or due."""
        return [
            self.stop_note(who.name) for who in self._who.values() if who.affected.get(operation)
        ]

    def identity_uses(self) -> tuple[IdentityUse, ...]:
        """How each identity with credentials fared, A first."""
        return tuple(self._who[name].use() for name in ("a", "b", "low") if name in self._who)

    async def login(self) -> None:
        """Obtain identity A's token with the login step; PreflightError when that fails."""
        step = self._login
        assert step is not None
        if not self._credentials_allowed:
            raise PreflightError(f"the login step would send credentials in clear to {self._base}")
        req = PlannedRequest(
            step.method,
            step.path,
            headers=(("Content-Type", step.content_type), ("Accept", "application/json")),
            body=step.body,
            auth=AuthMode.NONE,
            probe="login",
            variant=Variant(VariantKind.LOGIN),
        )
        ex = await self._send(req)
        token = step.token_in(ex.json()) if ex.ok else None
        if token is None:
            got = ex.error or f"HTTP {ex.status}"
            raise PreflightError(
                f"the login step {step.method} {step.path} did not yield a token at "
                f"$.{'.'.join(step.token_path)} ({got})"
            )
        if self._on_secret is not None:
            self._on_secret(token)
        others = tuple((n, v) for n, v in self._credentials.headers if n.lower() != "authorization")
        self._credentials = Credentials(
            headers=(*others, ("Authorization", f"Bearer {token}")),
            query=self._credentials.query,
            env_names=((token, "SPECDIFF_TOKEN"), *self._credentials.env_names),
        )
        who = self._who.get("a")
        if who is None:  # the first login of a run without a token of its own
            self._who["a"] = _Identity("a", self._credentials, self._clock())
        else:
            who.credentials = self._credentials
            who.expires = _expiry(self._credentials, self._clock())

    async def fetch_public(self, url: str, purpose: str) -> Exchange:
        """An anonymous GET of the absolute ``url`` (OpenID Connect discovery, a JWKS): within
        the budget and body cap, only on the base URL's origin, over HTTPS unless that is
        loopback, never with credentials, redirects not followed."""
        req = PlannedRequest(
            "GET",
            urlsplit(url).path or "/",
            headers=(("Accept", "application/json"),),
            auth=AuthMode.NONE,
            probe="discovery",
            variant=Variant(VariantKind.DISCOVERY, purpose),
        )
        if origin(url).lower() != origin(self._base).lower() or not self._credentials_allowed:
            error = "not fetched: only the base URL's origin, over HTTPS unless loopback"
            return Exchange(req, url, (), None, error=error, not_sent="config")
        if self._sent >= self._limits.max_requests:
            return Exchange(req, url, (), None, error=_NO_BUDGET, not_sent="budget")
        async with self._semaphore:
            self._sent += 1
            exchange, _ = await self._send_once(req, url, list(req.headers))
        if self._on_exchange is not None:
            self._on_exchange(exchange)
        return exchange

    async def _send(
        self, req: PlannedRequest, holder: _Identity | None = None, *, queue: bool = True
    ) -> Exchange:
        """One request within the budget and the time left. ``holder``, the identity whose
        credentials it carries, is asked again once the request's turn has come: requests
        queued behind the concurrency limit wait while a refusal of that identity is judged,
        and are not sent once it stopped. A credential check does not ``queue``: it goes at
        once, so the requests waiting behind the limit learn its verdict before they go."""
        try:
            url = self.url_for(req)
        except ValueError as exc:
            return _unsent(req, str(exc), "config")
        headers = list(req.headers)
        if self._attach_credentials(req):
            headers += list(self._credentials_for(req).headers)
        if not queue:
            return await self._deliver(req, url, headers)
        while True:
            if holder is not None and holder.verdict is not None:
                await holder.verdict.wait()
                continue
            async with self._semaphore:
                if holder is not None and holder.verdict is not None:
                    continue  # a refusal is being judged: wait for it outside the limit
                if holder is not None and holder.stop_reason:
                    return self._not_sent_as(holder, req)
                return await self._deliver(req, url, headers)

    async def _deliver(
        self, req: PlannedRequest, url: str, headers: list[tuple[str, str]]
    ) -> Exchange:
        """Send, once more after a transient failure, and again after 429/503 as allowed."""
        attempt = 0
        transient_retried = False
        while True:
            if self._sent >= self._limits.max_requests:
                return Exchange(req, url, tuple(headers), None, error=_NO_BUDGET, not_sent="budget")
            if self._time_left() <= 0:
                return Exchange(req, url, tuple(headers), None, error=OUT_OF_TIME, not_sent="time")
            self._sent += 1
            if self._on_request is not None:
                self._on_request()
            exchange, transient = await self._send_once(req, url, headers)
            if self._on_exchange is not None:
                self._on_exchange(exchange)
            if transient and not transient_retried and not req.changes_data:
                transient_retried = True  # a reset or a broken pipe: once more
                continue
            wait = self._retry_wait(exchange)
            if wait is None or attempt >= self._limits.retries:
                return exchange
            attempt += 1
            await asyncio.sleep(wait)

    def _retry_wait(self, exchange: Exchange) -> float | None:
        if exchange.status not in (429, 503):
            return None
        raw = exchange.header("retry-after")
        if raw is None:
            return 1.0
        try:
            wait = float(raw)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            wait = parsed.timestamp() - time.time() if parsed else 1.0
        wait = max(0.0, wait)
        return wait if wait <= min(self._limits.max_retry_wait, self._time_left()) else None

    def _time_left(self) -> float:
        return float("inf") if self._deadline is None else self._deadline - time.monotonic()

    async def _send_once(
        self, req: PlannedRequest, url: str, headers: list[tuple[str, str]]
    ) -> tuple[Exchange, bool]:
        """One round trip; True beside it when it failed in a way worth one more try."""
        wire = self._http_wire if req.target == "http" else self._wire
        started = time.perf_counter()
        sent_headers = tuple(headers)
        time_left = self._time_left()
        try:
            status, received, body, truncated = await self._timer.within(
                min(self._limits.timeout, time_left),
                wire.fetch(
                    req.method,
                    url,
                    headers,
                    req.body,
                    self._limits.max_body_bytes,
                    fresh=req.changes_data,  # never retried: not on a connection gone stale
                ),
            )
        except asyncio.TimeoutError:
            error = OUT_OF_TIME if time_left < self._limits.timeout else self._timed_out()
            return Exchange(req, url, sent_headers, None, error=error), False
        except _NETWORK_ERRORS as exc:
            return Exchange(req, url, sent_headers, None, error=self._failure(exc)), _transient(exc)
        return Exchange(
            request=req,
            url=url,
            sent_headers=sent_headers,
            status=status,
            headers=received,
            body=body,
            truncated=truncated,
            elapsed=time.perf_counter() - started,
        ), False

    def _timed_out(self) -> str:
        return f"timed out after {self._limits.timeout:g} s"

    def _failure(self, exc: BaseException) -> str:
        """One line saying what went wrong, from the transport's original error when it has one."""
        # httpx transports wrap the original error; aiohttp's own say more than their causes
        wrapped = exc.__cause__ if isinstance(exc, httpx.HTTPError) else None
        cause = wrapped if isinstance(wrapped, Exception) else exc
        if isinstance(cause, asyncio.TimeoutError | httpx.TimeoutException):
            return self._timed_out()
        if _untrusted_certificate(cause):
            return (
                f"TLS certificate not trusted ({_reason(cause)}): pass --ca-bundle FILE with the "
                "CA that signed it (or --insecure for a throwaway target)"
            )
        if isinstance(cause, httpx.ConnectError | aiohttp.ClientConnectorError):
            return f"cannot connect: {_reason(cause)}"
        if isinstance(cause, aiohttp.ClientPayloadError):
            return f"response cut short by the server: {_reason(cause)}"
        if isinstance(cause, aiohttp.ServerDisconnectedError | ConnectionResetError):
            return f"connection closed by the server: {_reason(cause)}"
        return f"{type(cause).__name__}: {_reason(cause)}"


OUT_OF_TIME = "run time budget (--max-duration) exhausted"
_NO_BUDGET = "request budget exhausted"


def _unsent(
    req: PlannedRequest, why: str, reason: Literal["policy", "config", "credentials"]
) -> Exchange:
    return Exchange(req, "", (), None, error=why, not_sent=reason)


def _whose(who: _Identity) -> str:
    return "identity A's" if who.name == "a" else f"identity {who.name.upper()}'s"


_TRANSIENT_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})


def _transient(exc: BaseException) -> bool:
    """A connection the server closed under the request (reset, broken pipe while writing the
    body, disconnected before answering): another connection may well succeed. Timeouts and
    refused connections are not transient: they would only cost the same again."""
    seen: BaseException | None = exc
    for _ in range(4):  # httpx and aiohttp wrap the OS error a level or two down
        if seen is None:
            return False
        if isinstance(seen, aiohttp.ServerDisconnectedError | ConnectionResetError):
            return True
        if isinstance(seen, BrokenPipeError | httpx.RemoteProtocolError | httpx.WriteError):
            return True
        if isinstance(seen, OSError) and seen.errno in _TRANSIENT_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_T = TypeVar("_T")


class _Deadline(Protocol):
    """What the clock needs of ``asyncio.Timeout`` (Python 3.11+)."""

    def reschedule(self, when: float | None) -> None: ...


class _Clock:
    """Wall-clock limits on many exchanges with one timer, ticking while any exchange is open.

    ``asyncio.timeout(seconds)`` schedules and cancels an event-loop timer per exchange, about a
    tenth of the runner's CPU per request on the bench. Here each exchange runs under
    ``asyncio.timeout(None)``, which schedules nothing, and a tick every ``TICK`` seconds moves the
    overdue ones' deadline to now: asyncio then cancels them and raises TimeoutError as usual.
    Limits end at most ``TICK`` late; shorter ones get a timer of their own.
    """

    TICK = 0.05

    def __init__(self) -> None:
        self._open: dict[_Deadline, float] = {}
        self._ticking = False

    async def within(self, seconds: float, work: Awaitable[_T]) -> _T:
        """``work``, cancelled with TimeoutError after ``seconds``."""
        if sys.version_info < (3, 11):
            return await asyncio.wait_for(work, seconds)
        if seconds <= self.TICK:
            async with asyncio.timeout(seconds):
                return await work
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as deadline:
            self._open[deadline] = loop.time() + seconds
            if not self._ticking:
                self._ticking = True
                loop.call_later(self.TICK, self._tick, loop)
            try:
                return await work
            finally:
                self._open.pop(deadline, None)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for deadline, due in list(self._open.items()):
            if due <= now:
                del self._open[deadline]
                deadline.reschedule(now)
        self._ticking = bool(self._open)
        if self._ticking:
            loop.call_later(self.TICK, self._tick, loop)


_NETWORK_ERRORS = (
    httpx.HTTPError,
    httpx.InvalidURL,
    aiohttp.ClientError,
    ssl.SSLError,
    OSError,
    ValueError,  # a malformed URL or header the transport rejects
    zlib.error,
)


_Answer = tuple[int, tuple[tuple[str, str], ...], bytes, bool]
"""Status, response headers (names in lower case), body decompressed and capped, cut or not."""


class _Wire:
    """One client's transport, as the runner sends through it (see the module docstring)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        # httpx has no public accessor for the transport make_client (or a test) gave the client
        self._transport: httpx.AsyncBaseTransport = client._transport
        self._defaults = tuple(
            (name.decode("latin-1").lower(), name.decode("latin-1"), value.decode("latin-1"))
            for name, value in client.headers.raw
        )
        self._extensions = {"timeout": client.timeout.as_dict()}

    async def fetch(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        cap: int,
        *,
        fresh: bool = False,
    ) -> _Answer:
        """One round trip; the body read to ``cap`` decompressed bytes at most; on a connection
        of its own when ``fresh`` (see :class:`_Transport`)."""
        if isinstance(self._transport, _Transport):  # its session holds the default headers
            session = self._transport.session(fresh=fresh)
            return await _fetch_aiohttp(session, method, url, headers, body, cap)
        named = {name.lower() for name, _ in headers}
        merged = [(name, value) for low, name, value in self._defaults if low not in named]
        return await self._fetch_httpx(method, url, merged + headers, body, cap)

    async def _fetch_httpx(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, cap: int
    ) -> _Answer:
        request = httpx.Request(
            method, url, headers=headers, content=body, extensions=self._extensions
        )
        response = await self._transport.handle_async_request(request)
        try:
            if response.is_stream_consumed:  # built in memory (MockTransport): already decoded
                decoder = _BoundedDecoder("", cap)
                decoder.feed(response.content)
            else:
                decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), cap)
                async for chunk in response.aiter_raw():
                    if decoder.feed(chunk):
                        break
        finally:
            await response.aclose()
        return (response.status_code, _text_headers(response.headers.raw), *decoder.result())


async def _fetch_aiohttp(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    cap: int,
) -> _Answer:
    """The same round trip on aiohttp itself; leaving the block early closes the connection."""
    data = body or None
    # aiohttp would add a Content-Type nobody planned (application/octet-stream) to a body or a
    # POST, PUT or PATCH; skipping it costs a little, so GET and HEAD without a body do not ask
    bare = data is None and method in ("GET", "HEAD")
    async with session.request(
        method,
        url,
        headers=headers or None,
        data=data,
        allow_redirects=False,
        skip_auto_headers=None if bare else ("Content-Type",),
    ) as response:
        decoder = _BoundedDecoder(response.headers.get("Content-Encoding", ""), cap)
        while chunk := await response.content.readany():
            if decoder.feed(chunk):
                break
        return (response.status, _text_headers(response.raw_headers), *decoder.result())


def _text_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """Header pairs as text, as httpx decodes them: names in lower case; ASCII, else UTF-8,
    else Latin-1 for all of them."""
    pairs = tuple(raw)
    for encoding in ("ascii", "utf-8"):
        try:
            return tuple(
                [(name.lower().decode(encoding), value.decode(encoding)) for name, value in pairs]
            )
        except UnicodeDecodeError:
            continue
    return tuple(
        [(name.lower().decode("latin-1"), value.decode("latin-1")) for name, value in pairs]
    )


class _BoundedDecoder:
    """Decompresses gzip/deflate bodies into at most ``cap`` bytes: a gzip bomb stops at the cap.

    Other (or no) content encodings are kept as received, still capped.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        encoding = encoding.strip().lower()
        self._zlib: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header
        self._cap = cap
        self._chunks: list[bytes] = []
        self._size = 0
        self.truncated = False

    def feed(self, data: bytes) -> bool:
        """Take one raw chunk; True once the cap is reached (stop reading)."""
        room = self._cap - self._size
        if self._zlib is not None:
            out = self._zlib.decompress(data, room + 1)
            overflow = len(out) > room or bool(self._zlib.unconsumed_tail)
        else:
            out, overflow = data, len(data) > room
        out = out[:room]
        self._chunks.append(out)
        self._size += len(out)
        self.truncated = overflow
        return overflow

    def result(self) -> tuple[bytes, bool]:
        return b"".join(self._chunks), self.truncated


def _untrusted_certificate(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a failed TLS certificate verification."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError | aiohttp.ClientConnectorCertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
