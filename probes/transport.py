"""Transport rules (SD1xx): is the API reachable in clear, does the document promise it?"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from specdiff.config import is_loopback
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
from specdiff.probe import Probe, ProbeContext, body_snippet, evidence

__all__ = ["PROBES", "HttpAccepted", "SpecDeclaresHttp"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TLS_WORDS = ("https", "ssl", "tls")


class HttpAccepted(Probe):
    """SD101 transport.http-accepted: the API answers over plain HTTP.

    **Promise.** The document's servers are ``https://``; the API is meant to be used over TLS.

    **Probe.** Each operation's baseline request is sent to the plain-HTTP twin of the base URL
    (``--http-url``, or the same host on ``http://`` port 80) WITHOUT any credential: specdiff
    never sends a real credential over plain HTTP. Safe methods only, unless ``--unsafe``.

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
    remediation = (
        "Stop serving the API on plain HTTP: redirect every http:// request with 308 to https "
        "(at the proxy, or in Flask with a before_request hook that redirects when "
        "not request.is_secure) and send Strict-Transport-Security."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.options.http_twin or ctx.baseline is None:
            return
        if not (op.safe or ctx.options.unsafe):
            return
        yield dataclasses.replace(
            ctx.baseline, auth=AuthMode.NONE, target="http", probe=self.code, purpose="plain-http"
        )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            if ex.status is None or _refuses_plain_http(ex):
                continue
            secured = op.secured
            yield self.finding(
                f"{op.key} answered {ex.status} over plain HTTP ({_origin(ex.url)})"
                + (
                    ": the operation is secured, so its credentials would travel in clear"
                    if secured
                    else ""
                ),
                key=_origin(ex.url),
                evidence=evidence(
                    ex,
                    f"HTTP {ex.status} {ex.header('location') or ''}".strip()
                    + "\n"
                    + body_snippet(ex, 200),
                ),
                severity=Severity.CRITICAL if secured else None,
            )


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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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


PROBES: tuple[type[Probe], ...] = (HttpAccepted, SpecDeclaresHttp)
