"""Transport rules (SD1xx): is the API reachable in clear, does the document promise it?"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from specdiff.config import is_loopback, origin
from specdiff.cookies import SetCookie, session_like, set_cookies
from specdiff.model import (
    ApiModel,
    AuthMode,
    Confidence,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    Severity,
)
from specdiff.mutate import invalid_request
from specdiff.probe import Probe, ProbeContext, body_snippet, evidence
from specdiff.variant import Variant, VariantKind

__all__ = [
    "PROBES",
    "HstsMissing",
    "HttpAccepted",
    "InsecureCookie",
    "InsecureRedirect",
    "SpecDeclaresHttp",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TLS_WORDS = ("https", "ssl", "tls")


class HttpAccepted(Probe):
    """SD101 transport.http-accepted: the API answers over plain HTTP.

    **Promise.** The document's servers are ``https://``; the API is meant to be used over TLS.

    **Probe.** Each operation's baseline request is sent to the plain-HTTP twin of the base URL
    (``--http-url``, or the same host on ``http://`` port 80) WITHOUT any credential: specdiff
    never sends a real credential over plain HTTP. Without ``--unsafe``, POST/PUT/PATCH/DELETE
    go so that nothing can change: with a body no parser accepts where the operation declares
    a body, else with path ids that violate their schema (none when it has neither).

    **Breach.** Any answer other than a redirect (301/302/303/307/308) to an ``https://`` URL.
    A refused connection is correct. Critical when the operation is secured: a client that follows
    the document's auth would send its token in clear.

    **Quiet when.** The connection is refused, the answer is a redirect to https, or the server
    refuses plain HTTP outright (426, or 400/403 whose body says HTTPS/TLS is required).

    **Remediation.** Do not listen on plain HTTP, or answer every plain-HTTP request with a
    308 redirect to https and send HSTS. With Flask behind a proxy, terminate TLS at the proxy and
    redirect port 80 there; in-app: ``@app.before_request`` returning
    ``redirect(request.url.replace("http://", "https://", 1), 308)`` when ``not request.is_secure``.
    """

    code = "SD101"
    confidence = Confidence.CERTAIN
    variants = frozenset({VariantKind.PLAIN_HTTP})
    remediation = (
        "Stop serving the API on plain HTTP: redirect every http:// request with 308 to https "
        "(at the proxy, or in Flask with a before_request hook that redirects when "
        "not request.is_secure) and send Strict-Transport-Security."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _plain_http_request(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            if ex.status is None or _refuses_plain_http(ex):
                continue
            secured = op.secured
            yield self.finding(
                f"{op.key} answered {ex.status} over plain HTTP ({origin(ex.url)})"
                + (
                    ": the operation is secured, so its credentials would travel in clear"
                    if secured
                    else ""
                ),
                key=origin(ex.url),
                evidence=evidence(
                    ex,
                    f"HTTP {ex.status} {ex.header('location') or ''}".strip()
                    + "\n"
                    + body_snippet(ex, 200),
                ),
                severity=Severity.CRITICAL if secured else None,
            )


def _plain_http_request(op: Operation, ctx: ProbeContext, code: str) -> list[PlannedRequest]:
    """The baseline sent to the plain-HTTP twin without credentials (SD101 and SD105 share it:
    the engine sends it once). Without ``--unsafe`` an unsafe operation's goes with input no
    server can act on (a body no parser accepts, or path ids no object has), or not at all."""
    if not ctx.options.http_twin or ctx.baseline is None:
        return []
    base = ctx.baseline if op.safe or ctx.options.unsafe else invalid_request(op, ctx.baseline)
    if base is None:
        return []
    return [
        dataclasses.replace(
            base,
            auth=AuthMode.NONE,
            target="http",
            probe=code,
            variant=Variant(VariantKind.PLAIN_HTTP),
        )
    ]


def _refuses_plain_http(ex: Exchange) -> bool:
    assert ex.status is not None
    if ex.status in _REDIRECTS:
        return urlsplit(ex.header("location") or "").scheme == "https"
    if ex.status == 426:
        return True
    if ex.status in (400, 403):
        text = ex.text[:2000].lower()
        return any(word in text for word in _TLS_WORDS)
    return False


class SpecDeclaresHttp(Probe):
    """SD103 transport.spec-declares-http: the document advertises a plain-HTTP server.

    **Promise checked.** Clients generated from the document, and people reading it, use the
    ``servers`` it lists (Swagger 2.0: ``schemes`` x ``host``).

    **Probe.** Static: no request. Every server URL with the ``http`` scheme is judged.

    **Breach.** An ``http://`` server whose host is not loopback (``localhost``, 127.0.0.0/8,
    ``::1``): clients will send credentials in clear.

    **Quiet when.** The URL is https, relative (``/v1``), or a loopback development server.

    **Remediation.** List only ``https://`` servers; keep local development servers on
    ``http://localhost`` if you must.
    """

    code = "SD103"
    confidence = Confidence.CERTAIN
    remediation = "Advertise only https:// servers in the document (servers / schemes)."

    def check_spec(self, api: ApiModel) -> Iterable[Finding]:
        for server in api.servers:
            if urlsplit(server.url).scheme != "http" or is_loopback(server.url):
                continue
            yield self.finding(
                f"the document advertises the plain-HTTP server {server.url}",
                key=server.url,
                location=server.location,
            )


HSTS_MIN_AGE = 15_552_000
"""180 days, in seconds: the least max-age RULES.md accepts (and hstspreload.org asks a year)."""


class HstsMissing(Probe):
    """SD102 transport.hsts-missing: HTTPS answers without a lasting Strict-Transport-Security.

    **Promise.** An HTTPS API tells browsers and clients to never try plain HTTP again.

    **Probe.** Passive: the baseline answers from the HTTPS base URL are read; no request of its
    own. Judged once per host.

    **Breach.** A response without ``Strict-Transport-Security``, or with a ``max-age`` under
    15552000 s (180 days).

    **Quiet when.** The base URL is plain HTTP (HSTS over HTTP is ignored by clients), or the
    baseline got no answer.

    **Remediation.** Send ``Strict-Transport-Security: max-age=31536000; includeSubDomains`` on
    every HTTPS response (at the proxy, or in Flask with an ``after_request`` hook).
    """

    code = "SD102"
    scope = "host"
    confidence = Confidence.CERTAIN
    remediation = (
        "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS "
        "response (at the proxy, or in Flask: an after_request hook setting the header)."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or ex.status is None or not ex.url.startswith("https://"):
            return
        header = ex.header("strict-transport-security")
        age = _max_age(header) if header is not None else None
        if header is not None and age is not None and age >= HSTS_MIN_AGE:
            return
        problem = (
            "sends no Strict-Transport-Security header"
            if header is None
            else f"sends Strict-Transport-Security with a max-age under {HSTS_MIN_AGE} s"
        )
        yield self.finding(
            f"{origin(ex.url)} {problem}",
            key=origin(ex.url),
            evidence=evidence(ex, f"Strict-Transport-Security: {header}" if header else ""),
        )


def _max_age(header: str) -> int | None:
    for directive in header.split(";"):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            try:
                return int(value.strip().strip('"'))
            except ValueError:
                return None
    return None


class InsecureCookie(Probe):
    """SD104 transport.insecure-cookie: a cookie may travel in clear or be read by scripts.

    **Promise.** Cookies set over HTTPS stay on HTTPS; session cookies are out of reach of page
    scripts and of cross-site requests.

    **Probe.** Passive: the ``Set-Cookie`` headers of the HTTPS baseline answers. One finding
    per cookie name (host-wide).

    **Breach.** A cookie without ``Secure``; or a session-like cookie (its name says session,
    sid, token, auth, jwt, remember, login) without ``HttpOnly`` (CWE-1004) or ``SameSite``.

    **Quiet when.** The response is plain HTTP; the header deletes the cookie (``Max-Age=0`` or
    an empty value with an expiry); a CSRF cookie lacks ``HttpOnly`` (the double-submit pattern
    needs script access).

    **Remediation.** Flask: ``SESSION_COOKIE_SECURE=True``, ``SESSION_COOKIE_HTTPONLY=True``,
    ``SESSION_COOKIE_SAMESITE="Lax"``; ``response.set_cookie(..., secure=True, httponly=True,
    samesite="Lax")`` for your own cookies.
    """

    code = "SD104"
    scope = "host"
    confidence = Confidence.CERTAIN
    remediation = (
        "Mark every cookie Secure, and session cookies HttpOnly and SameSite=Lax (Flask: "
        "SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE='Lax'; "
        "set_cookie(..., secure=True, httponly=True, samesite='Lax'))."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or ex.status is None or not ex.url.startswith("https://"):
            return
        for cookie in set_cookies(ex):
            missing = _missing_attributes(cookie)
            if cookie.deletes or not missing:
                continue
            yield self.finding(
                f"cookie {cookie.name!r} is set over HTTPS without {', '.join(missing)}",
                key=cookie.name,
                evidence=evidence(ex, f"Set-Cookie: {cookie.name}=… (no {', '.join(missing)})"),
            )


def _missing_attributes(cookie: SetCookie) -> list[str]:
    missing = [] if cookie.secure else ["Secure"]
    if session_like(cookie.name):
        if not cookie.http_only:
            missing.append("HttpOnly")
        if not cookie.same_site:
            missing.append("SameSite")
    return missing


_BODY_DROPPING = frozenset({301, 302})


class InsecureRedirect(Probe):
    """SD105 transport.insecure-redirect: the plain-HTTP twin redirects in an unsafe way.

    **Promise.** A redirect from plain HTTP leads to HTTPS and keeps the method and body.

    **Probe.** No request of its own: the plain-HTTP answer SD101 asked for (the engine sends
    that request once for both rules), unsafe methods included (without ``--unsafe``, with a
    body no parser accepts or path ids no object has).

    **Breach.** A 301/302 answer to an unsafe method (clients turn it into GET and may resend the
    body in clear), or any redirect whose ``Location`` is another ``http://`` URL.

    **Quiet when.** No HTTP twin is known, the twin refused the connection, or it answered
    307/308 to an ``https://`` URL (or 301/302 for a safe method).

    **Remediation.** Redirect plain HTTP with ``308 Permanent Redirect`` to the ``https://`` URL
    (307 for temporary), never to another http:// URL.
    """

    code = "SD105"
    confidence = Confidence.CERTAIN
    variants = frozenset({VariantKind.PLAIN_HTTP})
    remediation = (
        "Redirect every plain-HTTP request with 308 (or 307) straight to its https:// URL; "
        "never with 301/302 for unsafe methods, never to another http:// URL."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _plain_http_request(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            if ex.status not in _REDIRECTS:
                continue
            location = ex.header("location") or ""
            if urlsplit(location).scheme == "http":
                why = f"redirects to another plain-HTTP URL ({location})"
            elif ex.status in _BODY_DROPPING and not op.safe:
                why = f"redirects the unsafe {op.method} with {ex.status} (use 307/308)"
            else:
                continue
            yield self.finding(
                f"the plain-HTTP twin {why}",
                key=origin(ex.url),
                evidence=evidence(ex, f"HTTP {ex.status}\nLocation: {location}"),
            )


PROBES: tuple[type[Probe], ...] = (
    HttpAccepted,
    HstsMissing,
    SpecDeclaresHttp,
    InsecureCookie,
    InsecureRedirect,
)
