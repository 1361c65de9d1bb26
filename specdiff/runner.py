"""All network I/O of a scan: planned requests in, exchanges out.

One ``httpx.AsyncClient`` per target (the base URL, and its plain-HTTP twin), bounded concurrency,
a global request budget, bounded retry on 429/503 that honours ``Retry-After``, bodies read up to
a cap, redirects never followed (probes judge them). Network failures become exchanges with an
``error``; they never raise.

The runner is also where specdiff's own safety is enforced: the user's credentials are attached
only to requests for the base URL's origin, never to the plain-HTTP twin, and never over plain
HTTP unless the base URL itself is a loopback http:// URL. The same holds for every identity
(A, B, low) and for requests whose probe placed a credential itself (``AuthMode.CUSTOM``: a
mutated or moved token): those go only to the base URL's origin, never to the plain-HTTP twin.

With a login step, the runner obtains identity A's token before the run and once more when a
request of A's is refused with 401 mid-run (a token that expired), then retries that request.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.cookiejar
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx

from specdiff.config import Credentials, LoginStep, is_loopback
from specdiff.errors import PreflightError
from specdiff.model import AuthMode, Exchange, PlannedRequest

__all__ = ["Runner", "RunnerLimits", "make_client"]

_USER_AGENT = "specdiff"
_MAX_RELOGINS = 3


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
    """An AsyncClient that never follows redirects and sends no cookies it was given back."""
    return httpx.AsyncClient(
        verify=verify,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        transport=transport,
        headers={"User-Agent": _USER_AGENT},
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        trust_env=False,
    )


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
        credentials_b: Credentials | None = None,
        credentials_low: Credentials | None = None,
        login: LoginStep | None = None,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._http_client = http_client or client
        self._base = base_url.rstrip("/")
        self._http_base = http_url.rstrip("/") if http_url else None
        self._credentials = credentials or Credentials()
        self._identities = {
            "b": credentials_b or Credentials(),
            "low": credentials_low or Credentials(),
        }
        self._login = login
        self._on_secret = on_secret
        self._login_lock = asyncio.Lock()
        self._relogins = 0
        self._limits = limits or RunnerLimits()
        self._semaphore = asyncio.Semaphore(self._limits.concurrency)
        self._sent = 0
        self._on_request = on_request
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
        """Send ``req`` within the budget; never raises for network trouble."""
        if req.auth is AuthMode.USER and req.identity != "a" and not self._identities[req.identity]:
            return Exchange(req, "", (), None, error=f"no credentials for identity {req.identity}")
        if req.auth is AuthMode.CUSTOM and (
            req.target != "primary" or not self._credentials_allowed
        ):
            # a probe's own credential may be derived from the user's: same rules as the user's
            return Exchange(req, "", (), None, error="custom credentials only go to the base URL")
        exchange = await self._send(req)
        if exchange.status == 401 and self._login is not None and self._is_a(req):
            token = self._credentials.bearer_token
            async with self._login_lock:
                if token == self._credentials.bearer_token and self._relogins < _MAX_RELOGINS:
                    self._relogins += 1
                    await self.login()
            exchange = await self._send(req)
        return exchange

    def _is_a(self, req: PlannedRequest) -> bool:
        return req.auth is AuthMode.USER and req.identity == "a" and req.target == "primary"

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
            purpose="login",
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

    async def _send(self, req: PlannedRequest) -> Exchange:
        try:
            url = self.url_for(req)
        except ValueError as exc:
            return Exchange(req, "", (), None, error=str(exc))
        headers = list(req.headers)
        if self._attach_credentials(req):
            headers += list(self._credentials_for(req).headers)
        async with self._semaphore:
            attempt = 0
            while True:
                if self._sent >= self._limits.max_requests:
                    return Exchange(
                        req, url, tuple(headers), None, error="request budget exhausted"
                    )
                self._sent += 1
                if self._on_request is not None:
                    self._on_request()
                exchange = await self._send_once(req, url, headers)
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
        return wait if wait <= self._limits.max_retry_wait else None

    async def _send_once(
        self, req: PlannedRequest, url: str, headers: list[tuple[str, str]]
    ) -> Exchange:
        client = self._http_client if req.target == "http" else self._client
        started = time.perf_counter()
        sent_headers = tuple(headers)
        try:
            request = client.build_request(req.method, url, headers=headers, content=req.body)
            response = await client.send(request, stream=True)
            try:
                body, truncated = await self._read_capped(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return Exchange(
                req, url, sent_headers, None, error=f"timed out after {self._limits.timeout:g} s"
            )
        except httpx.ConnectError as exc:
            return Exchange(req, url, sent_headers, None, error=f"cannot connect: {_reason(exc)}")
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            return Exchange(
                req, url, sent_headers, None, error=f"{type(exc).__name__}: {_reason(exc)}"
            )
        return Exchange(
            request=req,
            url=url,
            sent_headers=sent_headers,
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=body,
            truncated=truncated,
            elapsed=time.perf_counter() - started,
        )

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, bool]:
        cap = self._limits.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"".join(chunks)[:cap], True
        return b"".join(chunks), False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
