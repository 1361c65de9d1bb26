"""Run a demo twin on loopback over real HTTPS and plain HTTP (``specdiff demo`` and the tests).

Each twin gets a fresh test CA (``trustme``), an HTTPS port and a plain-HTTP port, both on an
ephemeral port chosen by the OS, each served by werkzeug in a daemon thread. The vulnerable
twin's HTTP port serves the very same app; the hardened twin's only redirects to HTTPS.
"""

from __future__ import annotations

import io
import logging
import secrets
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import trustme
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

from specdiff.config import is_loopback
from specdiff.demo import hardened, vulnerable
from specdiff.demo.capture import RequestLog
from specdiff.demo.tokens import JwtAlg, SigningKey, issue_api_key, issue_token, jwks, rsa_key

__all__ = ["SPEC_PATH", "RunningTwin", "TwinKind", "serve_twin"]

TwinKind = Literal["vulnerable", "hardened"]

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
"""The one OpenAPI document both twins implement."""

_POLL_INTERVAL = 0.05
"""How often ``serve_forever`` checks for shutdown: keeps stopping a twin well under a second."""


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler with Nagle off: its small header/body writes otherwise meet the
    client's delayed ACK on TLS 1.3 and every request costs tens of milliseconds."""

    disable_nagle_algorithm = True

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        # the debugger writes every traceback to wsgi.errors: the client sees them (that is the
        # sin), the terminal running `specdiff demo` should not
        environ["wsgi.errors"] = io.StringIO()
        return environ


class _QuietRequestHandler(_RequestHandler):
    """The hardened twin's handler: ``Server`` names no software versions (SD406)."""

    def version_string(self) -> str:
        return "specdiff-demo"


@dataclass(frozen=True)
class RunningTwin:
    """A twin being served; valid only inside its :func:`serve_twin` block."""

    kind: TwinKind
    https_url: str
    """The HTTPS origin, e.g. ``https://127.0.0.1:54321`` (no trailing slash)."""
    http_url: str
    """The plain-HTTP origin on the twin's other port, e.g. ``http://127.0.0.1:54322``."""
    ca_pem: Path
    """The test CA's certificate (PEM), for ``--ca-bundle``."""
    token: str
    """Alice's valid bearer JWT."""
    token_b: str
    """Bob's valid bearer JWT (for two-identity checks)."""
    token_low: str
    """A valid token lacking the ``admin`` scope (bob's, for SD211)."""
    api_key: str
    """The partner key the twin issued for ``X-API-Key`` (the ``partnerKey`` scheme)."""
    log: RequestLog
    """Every request the twin received, on both ports."""
    spec_path: Path
    """``specdiff/demo/openapi.yaml``."""
    secret: str = field(repr=False)
    """The twin's HS256 signing secret (lets tests mint expired or odd tokens); in RS256 mode
    it signs nothing but Flask's session."""
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    """The public JWK set the twin serves at ``/.well-known/jwks.json`` (empty for HS256)."""

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only this twin's test CA.

        Pass it as ``httpx.Client(verify=...)``: httpx 0.28 deprecates ``verify=<path str>``.
        """
        return ssl.create_default_context(cafile=str(self.ca_pem))


def _origin(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


@contextmanager
def _serving(server: BaseWSGIServer, name: str) -> Iterator[None]:
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _POLL_INTERVAL},
        name=name,
        daemon=True,
    )
    try:
        thread.start()
        yield
    finally:
        if thread.is_alive():
            server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_twin(
    kind: TwinKind,
    host: str = "127.0.0.1",
    *,
    database_url: str | None = None,
    jwt_alg: JwtAlg = "HS256",
) -> Iterator[RunningTwin]:
    """Serve the ``kind`` twin on ``host`` (HTTPS + plain HTTP) for the duration of the block.

    The vulnerable twin gets Werkzeug's interactive debugger only when ``host`` is loopback.
    ``database_url`` (``postgresql://...``) backs the search route with PostgreSQL, not SQLite.
    ``jwt_alg="RS256"`` signs user tokens with an RSA key made for this run (SD216's setting).
    """
    if kind not in ("vulnerable", "hardened"):
        raise ValueError(f"unknown twin {kind!r}: expected 'vulnerable' or 'hardened'")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    log = RequestLog()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="specdiff-demo-")))
        ca = trustme.CA()
        identities = dict.fromkeys(("127.0.0.1", "localhost", host))
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*identities).configure_cert(server_ctx)
        ca_pem = tmp / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_pem))

        secret = vulnerable.SECRET if kind == "vulnerable" else secrets.token_urlsafe(32)
        mint = vulnerable.issue if kind == "vulnerable" else issue_token
        key = rsa_key() if jwt_alg == "RS256" else None
        signing: SigningKey = key if key is not None else secret
        api_key = issue_api_key()
        app: Flask = (
            vulnerable.create_app(
                log,
                debugger=is_loopback(f"http://{host}"),
                database_url=database_url,
                rsa_key=key,
                partner_key=api_key,
            )
            if kind == "vulnerable"
            else hardened.create_app(
                log, secret, database_url=database_url, rsa_key=key, partner_key=api_key
            )
        )
        handler = _RequestHandler if kind == "vulnerable" else _QuietRequestHandler

        https_server = make_server(
            host, 0, app, threaded=True, request_handler=handler, ssl_context=server_ctx
        )
        stack.callback(https_server.server_close)
        https_url = _origin("https", host, https_server.port)

        http_app = (
            vulnerable.plain_http(app)
            if kind == "vulnerable"
            else hardened.create_redirect_app(log, https_url)
        )
        http_server = make_server(host, 0, http_app, threaded=True, request_handler=_RequestHandler)
        stack.callback(http_server.server_close)
        http_url = _origin("http", host, http_server.port)

        stack.enter_context(_serving(https_server, f"specdiff-demo-{kind}-https"))
        stack.enter_context(_serving(http_server, f"specdiff-demo-{kind}-http"))

        yield RunningTwin(
            kind=kind,
            https_url=https_url,
            http_url=http_url,
            ca_pem=ca_pem,
            token=mint("alice", signing),
            token_b=mint("bob", signing),
            token_low=mint("bob", signing),
            api_key=api_key,
            log=log,
            spec_path=SPEC_PATH,
            secret=secret,
            jwks=jwks(key),
        )
