"""Leakage rules (SD4xx): what error answers, cookies and headers give away.

Error provocation: SD401, SD402, SD403 (and SD502/SD503 in the conformance family) plan the same
invalid variants of each operation's baseline (:func:`specdiff.mutate.mutations`); the engine sends
each distinct request once. SD401, SD402, SD403 and SD404 then judge every answer of the
operation's evidence pool, whichever rule asked for it. Unsafe methods get only variants whose
body cannot be parsed unless ``--unsafe``. Host-wide requests (well-known paths, the absent-path
control) are planned for every operation and sent once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from specdiff.classify import Classification, classify_field
from specdiff.config import origin, parse_path_list
from specdiff.cookies import readable_content, set_cookies
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
from specdiff.mutate import canaries_sent, canary, canary_plan, provocations
from specdiff.probe import Probe, ProbeContext, asked, evidence, snippet
from specdiff.redact import mask_value
from specdiff.signatures import Match, database_error, debugger, readable_text, stack_trace
from specdiff.variant import PROVOCATIONS, Variant, VariantKind

__all__ = [
    "PROBES",
    "CacheableSensitiveResponse",
    "CredentialEcho",
    "DatabaseError",
    "DebuggerExposed",
    "SecretInCookie",
    "StackTrace",
    "UndocumentedEndpoint",
    "VersionBanner",
    "absent_path",
    "well_known_paths",
]

WELL_KNOWN_FILE = Path(__file__).with_name("well_known_paths.txt")
DEBUGGER_PATHS = ("/console", "/h2-console/")
"""Consoles SD401 asks for (GET only; nothing is ever executed in them)."""


@cache
def _built_in_paths() -> tuple[str, ...]:
    return parse_path_list(WELL_KNOWN_FILE.read_text(encoding="utf-8"), WELL_KNOWN_FILE.name)


def well_known_paths(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The built-in list (``well_known_paths.txt``) and the user's ``--extra-paths``, in order."""
    return tuple(dict.fromkeys((*_built_in_paths(), *extra)))


def absent_path() -> str:
    """A path no API serves: what a catch-all (SPA fallback, soft 404) answers for anything."""
    return "/specdiff-absent-" + canary("absent-path")[8:20]


def _host_get(path: str, code: str, kind: VariantKind) -> PlannedRequest:
    return PlannedRequest(
        "GET",
        path,
        headers=(("Accept", "application/json, text/html;q=0.9, */*;q=0.5"),),
        auth=AuthMode.NONE,
        probe=code,
        variant=Variant(kind),
    )


def _provocations(op: Operation, ctx: ProbeContext, code: str) -> list[PlannedRequest]:
    return provocations(op, ctx.baseline, unsafe=ctx.options.unsafe, probe=code)


def _first_of_each_family(
    exchanges: Sequence[Exchange], detect: Callable[[str], Match | None]
) -> Iterator[tuple[Exchange, Match]]:
    """The first error answer (4xx/5xx) in which ``detect`` finds each signature family."""
    seen: set[str] = set()
    for ex in exchanges:
        if ex.status is None or ex.status < 400:
            continue
        found = detect(readable_text(ex))
        if found is not None and found.family not in seen:
            seen.add(found.family)
            yield ex, found


class DebuggerExposed(Probe):
    """SD401 leak.debugger-exposed: an interactive debugger or debug console answers.

    **Promise.** Production code runs without a debugger that lets a visitor read source,
    variables and secrets, or run code.

    **Probe.** The error provocations of every operation (shared with SD402/SD403/SD502/SD503),
    plus, once per host, GET without credentials on the consoles ``/console`` (Werkzeug) and
    ``/h2-console/`` and on an absent path (Django's debug 404). Every answer of the run is
    judged, whichever rule asked for it. specdiff never sends anything to a console: no
    ``cmd``, no PIN, no ``__debugger__`` request.

    **Breach.** A body carrying the markers of Werkzeug's debugger or console (``__debugger__``
    with ``EVALEX``/``CONSOLE_MODE``), Django's technical 500/404 page (``DEBUG = True``), the
    Express errorhandler page, Rails' exception page or web console, Spring's H2 console or
    Whitelabel page with a trace, Whoops/Ignition, Symfony's debug exception page, ASP.NET
    Core's developer exception page. Each marker was checked on the page the framework really
    sends (``tests/fixtures/frameworks``).

    **Quiet when.** None of these markers is present; nothing specdiff sends contains them, so
    reflection cannot fake one.

    **Remediation.** Never run with the debugger in production: Flask ``app.run(debug=False)``,
    no ``DebuggedApplication`` around the WSGI app, ``FLASK_DEBUG`` unset; Django
    ``DEBUG = False``; Express ``NODE_ENV=production``.
    """

    code = "SD401"
    scope = "host"
    confidence = Confidence.CERTAIN
    evidence = "pool"
    variants = PROVOCATIONS | {VariantKind.DEBUGGER_PATH, VariantKind.ABSENT_PATH}
    remediation = (
        "Turn debug mode off in production: Flask without debug=True or DebuggedApplication "
        "(FLASK_DEBUG unset), Django DEBUG = False, Express NODE_ENV=production; remove consoles."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        yield from _provocations(op, ctx, self.code)
        for path in DEBUGGER_PATHS:
            yield _host_get(path, self.code, VariantKind.DEBUGGER_PATH)
        yield _host_get(absent_path(), self.code, VariantKind.ABSENT_PATH)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            found = debugger(ex.text) if ex.status is not None else None
            if found is None:
                continue
            console = ex.request.variant.kind is VariantKind.DEBUGGER_PATH
            where = ex.request.path if console else "error page"
            yield self.finding(
                f"a {found.family} debugger answers ({where}, HTTP {ex.status})",
                key=f"{found.family}:{where}",
                evidence=evidence(ex, found.proof),
            )


class StackTrace(Probe):
    """SD402 leak.stack-trace: an error answer carries a stack trace.

    **Promise.** Errors are reported to clients as documented error bodies, not as internals.

    **Probe.** A handful of invalid variants of the baseline: a wrong type, malformed JSON, a
    missing required field, a quote and backslash in a string, an overlong string, a wrong
    ``Content-Type`` (see ``specdiff.mutate``; unsafe methods get only unparseable bodies unless
    ``--unsafe``). Every answer of the operation's evidence pool is judged, whichever rule asked
    for it (the baseline, missing or forged credentials ...), each distinct request once.

    **Breach.** A 4xx/5xx answer whose text (JSON strings, or HTML without tags) holds a
    Python, Java/Kotlin, .NET, Node, Go, Ruby or PHP stack trace, or source file paths with line
    numbers in trace form.

    **Quiet when.** The answer is 2xx/3xx (documentation pages may legitimately show code), or
    only an exception's one-line message is shown (SD403 judges database messages).

    **Remediation.** Catch every exception at the edge and answer a generic error body; log the
    trace server-side. Flask: ``@app.errorhandler(Exception)`` returning ``{"error": "internal
    error"}`` with 500, and ``PROPAGATE_EXCEPTIONS`` off.
    """

    code = "SD402"
    evidence = "pool"
    variants = PROVOCATIONS
    remediation = (
        "Answer errors with a generic body and log the trace on the server. Flask: an "
        "@app.errorhandler(Exception) that returns {'error': 'internal error'}, 500."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _provocations(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex, found in _first_of_each_family(exchanges, stack_trace):
            yield self.finding(
                f"{asked(op, ex)} answered {ex.status} with a {found.family} stack trace "
                f"({ex.request.purpose})",
                key=found.family,
                evidence=evidence(ex, found.proof),
            )


class DatabaseError(Probe):
    """SD403 leak.database-error: an error answer carries database error text.

    **Promise.** The database behind the API stays invisible to clients.

    **Probe.** The same error provocations as SD402 (the engine sends them once); the quote and
    backslash variant is what breaks string-built SQL. Every answer of the operation's evidence
    pool is judged, whichever rule asked for it.

    **Breach.** A 4xx/5xx answer with driver or server error text: psycopg/psycopg2, asyncpg,
    PostgreSQL messages (``syntax error at or near``, ``SQLSTATE``), CockroachDB (``pq:``,
    ``at or near "…": syntax error``, retry errors), SQLite, MySQL/MariaDB, SQLAlchemy, Oracle
    ``ORA-nnnnn``, SQL Server. A quote that breaks the SQL hints at injection (CWE-89).

    **Quiet when.** The answer is 2xx/3xx, or the error body is the API's own message.

    **Remediation.** Use bound parameters (``cursor.execute("… WHERE name = %s", (name,))``),
    never string formatting; catch database exceptions and answer a generic error.
    """

    code = "SD403"
    evidence = "pool"
    variants = PROVOCATIONS
    remediation = (
        "Bind parameters instead of formatting SQL strings, and map database exceptions to a "
        "generic error body (log the driver's text server-side)."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _provocations(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex, found in _first_of_each_family(exchanges, database_error):
            quote = ex.request.variant.kind is VariantKind.QUOTE
            hint = " (a quote broke the SQL: injectable?)" if quote else ""
            yield self.finding(
                f"{asked(op, ex)} answered {ex.status} with {found.family} error text{hint}",
                key=found.family,
                evidence=evidence(ex, found.proof),
            )


class CredentialEcho(Probe):
    """SD404 leak.credential-echo: the credential sent comes back in the answer.

    **Promise.** A credential travels one way: clients send it, servers never repeat it (in
    error messages, debug headers, logs shown to the client).

    **Probe.** For each secured operation (safe methods, or any with ``--unsafe``), the baseline
    with a unique canary credential of the operation's scheme (``sdcanary…``) in place of the
    user's: the real credential is never needed. Every answer of the run to a request that
    carried a canary is judged, whichever rule sent it (SD202's made-up tokens and keys are
    canaries too).

    **Breach.** The canary a request carried appears in its response body or in a response
    header.

    **Quiet when.** It does not; the operation is open or its scheme cannot carry a value.

    **Remediation.** Never put request headers or credentials into responses; error messages
    name the problem (``invalid token``), not the value.
    """

    code = "SD404"
    confidence = Confidence.CERTAIN
    evidence = "pool"
    variants = frozenset({VariantKind.CANARY_CREDENTIAL})
    remediation = (
        "Never echo credentials: error bodies and headers say what is wrong ('invalid token'), "
        "never the token or the Authorization header."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return canary_plan(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            if ex.status is None:
                continue
            for value in sorted(canaries_sent(ex.sent_headers, ex.request.query)):
                where = _echo(ex, value)
                if where is None:
                    continue
                yield self.finding(
                    f"{op.key} returned the credential it was sent in its {where} "
                    f"(HTTP {ex.status}, {ex.request.purpose})",
                    key=where,
                    evidence=evidence(
                        ex, _around(ex.text if where == "body" else "", value) or where
                    ),
                )


def _echo(ex: Exchange, value: str) -> str | None:
    if value in ex.text:
        return "body"
    for name, header in ex.headers:
        if value in header:
            return f"header {name}"
    return None


def _around(text: str, value: str, width: int = 60) -> str:
    at = text.find(value)
    if at < 0:
        return ""
    return snippet(text[max(0, at - width) : at + len(value) + width], 300)


class SecretInCookie(Probe):
    """SD405 leak.secret-in-cookie: a cookie anyone can read carries a secret or personal data.

    **Promise.** What a server keeps in a cookie is either opaque (a random session id) or
    encrypted; a signature protects integrity, not secrecy.

    **Probe.** Passive: the ``Set-Cookie`` values of the baseline answers are decoded where no
    key is needed: JWT payloads, Flask/itsdangerous sessions (base64 JSON, zlib-compressed when
    the value starts with a dot), plain base64 JSON. Each field is classified with the same
    classifier as SD302/SD303. One finding per cookie name.

    **Breach.** A decoded field is a token, password, key or other secret, or personal data.

    **Quiet when.** The value is opaque (random id, encrypted), or what it holds is harmless
    (``{"theme": "dark"}``).

    **Remediation.** Keep sessions server-side (Flask-Session) and put only an opaque id in the
    cookie; never store tokens or personal data in Flask's client-side ``session``.
    """

    code = "SD405"
    scope = "host"
    remediation = (
        "Keep secrets out of client-side cookies: store the session server-side (e.g. "
        "Flask-Session) with only an opaque id in the cookie; never session['token'] = jwt."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or ex.status is None:
            return
        for cookie in set_cookies(ex):
            content = readable_content(cookie.value)
            hit = next(_classified(content), None) if content is not None else None
            if hit is None:
                continue
            path, value, found = hit
            yield self.finding(
                f"cookie {cookie.name!r} is readable without a key and holds {found.kind} "
                f"({found.category}) at {path}",
                key=cookie.name,
                evidence=evidence(ex, f"{cookie.name}: {path} = {mask_value(str(value))}"),
                severity=Severity.HIGH,
                confidence=found.confidence,
            )


def _classified(value: Any, path: str = "$") -> Iterator[tuple[str, Any, Classification]]:
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, (dict, list)):
                yield from _classified(item, f"{path}.{name}")
                continue
            found = classify_field(str(name), item)
            if found is not None:
                yield f"{path}.{name}", item, found
    elif isinstance(value, list):
        for item in value:
            yield from _classified(item, f"{path}[*]")


_BANNER_HEADERS = (
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-generator",
)
_VERSIONED = re.compile(r"[A-Za-z][\w.+-]*/v?\d+(?:\.\d+)+|\b\d+\.\d+(?:\.\d+)+\b")


class VersionBanner(Probe):
    """SD406 leak.version-banner: response headers name software and its version.

    **Promise.** Nothing tells an attacker which exact versions to look up in CVE lists.

    **Probe.** Passive: ``Server``, ``X-Powered-By``, ``X-AspNet-Version``,
    ``X-AspNetMvc-Version`` and ``X-Generator`` of the baseline answers. Once per host.

    **Breach.** A header value with a version number (``Werkzeug/3.0.1 Python/3.11.7``,
    ``nginx/1.25.3``, ``PHP/8.1.2``, ``4.0.30319``).

    **Quiet when.** The product is named without a version (``nginx``, ``Express``).

    **Remediation.** Remove or blank the headers: nginx ``server_tokens off``, Apache
    ``ServerTokens Prod``, Express ``app.disable("x-powered-by")``; with gunicorn/werkzeug set a
    fixed ``Server`` value at the proxy.
    """

    code = "SD406"
    scope = "host"
    confidence = Confidence.CERTAIN
    remediation = (
        "Do not advertise versions: nginx server_tokens off, Apache ServerTokens Prod, Express "
        "app.disable('x-powered-by'); set a fixed Server header at the proxy."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or ex.status is None:
            return
        banners = [
            f"{name}: {value}"
            for name, value in ex.headers
            if name.lower() in _BANNER_HEADERS and _VERSIONED.search(value)
        ]
        if banners:
            yield self.finding(
                f"{origin(ex.url)} names its software versions: {'; '.join(banners)}",
                key=origin(ex.url),
                evidence=evidence(ex, "\n".join(banners)),
            )


class UndocumentedEndpoint(Probe):
    """SD407 leak.undocumented-endpoint: a well-known debug, admin or metadata path answers.

    **Promise.** The document lists what the API serves; nothing else should answer.

    **Probe.** Once per host, GET without credentials on each path of a bounded built-in list
    (``well_known_paths.txt``: Werkzeug, Go, Spring Actuator, Prometheus, Apache, .NET, Rails,
    PHP, Laravel, ``.env``, ``.git``) plus the user's ``--extra-paths FILE``; and one absent
    path as a control.

    **Breach.** A 2xx answer with a non-empty body on a path the document does not declare.

    **Quiet when.** The document declares the path; the body is empty; the absent-path control
    got the same 2xx body (a catch-all such as an SPA fallback); the page is a debugger (SD401
    reports it, once).

    **Remediation.** Remove debug and admin endpoints from production builds, or put them
    behind authentication on an internal port (Spring: ``management.server.port``).
    """

    code = "SD407"
    scope = "host"
    variants = frozenset({VariantKind.WELL_KNOWN_PATH, VariantKind.ABSENT_PATH})
    remediation = (
        "Remove debug, admin and metadata endpoints from production, or serve them only on an "
        "internal port behind authentication (Spring Boot: management.server.port)."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        documented = _documented_paths(ctx)
        for path in well_known_paths(ctx.options.extra_paths):
            if not documented.match(path):
                yield _host_get(path, self.code, VariantKind.WELL_KNOWN_PATH)
        yield _host_get(absent_path(), self.code, VariantKind.ABSENT_PATH)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        absent = VariantKind.ABSENT_PATH
        control = next((ex for ex in exchanges if ex.request.variant.kind is absent), None)
        catch_all = control.body.strip() if control is not None and control.ok else None
        for ex in exchanges:
            if ex.request.variant.kind is not VariantKind.WELL_KNOWN_PATH or not ex.ok:
                continue
            body = ex.body.strip()
            if not body or body == catch_all or debugger(ex.text) is not None:
                continue
            yield self.finding(
                f"the undocumented {ex.request.path} answers {ex.status} "
                f"({ex.media_type or 'no content type'}, {len(ex.body)} bytes)",
                key=ex.request.path,
                evidence=evidence(ex, snippet(readable_text(ex), 300)),
            )


def _documented_paths(ctx: ProbeContext) -> re.Pattern[str]:
    """One pattern matching every documented path, built once per document (not per operation:
    on GitHub's 811 paths rebuilding it per operation took 20 s)."""
    cached = _DOCUMENTED.get(id(ctx.api))
    if cached is not None and cached[0] is ctx.api:
        return cached[1]
    templates = {op.path for op in ctx.api.operations}
    alternatives = [
        re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t.rstrip("/") or "/")) for t in templates
    ]
    pattern = re.compile("^(?:" + "|".join(alternatives or ["(?!)"]) + ")/?$")
    _DOCUMENTED.clear()  # one document per run: keep only the latest
    _DOCUMENTED[id(ctx.api)] = (ctx.api, pattern)
    return pattern


_DOCUMENTED: dict[int, tuple[ApiModel, re.Pattern[str]]] = {}


_NO_STORE = frozenset({"no-store", "private"})


class CacheableSensitiveResponse(Probe):
    """SD408 leak.cacheable-sensitive-response: a sensitive answer may be kept by caches.

    **Promise.** Answers that carry credentials, tokens or personal data are not stored by
    shared proxies or left in browser caches.

    **Probe.** Passive: the baseline answer. Sensitive means a secured operation's 2xx (sent
    with the user's credentials), or a 2xx body holding a token or other secret (a token issue).

    **Breach.** ``Cache-Control`` has neither ``no-store`` nor ``private``.

    **Quiet when.** The operation is open and its body holds no secret; the answer is not 2xx.

    **Remediation.** Send ``Cache-Control: no-store`` on authenticated and token answers (Flask:
    ``response.headers["Cache-Control"] = "no-store"`` in an ``after_request`` hook).
    """

    code = "SD408"
    confidence = Confidence.CERTAIN
    remediation = (
        "Send Cache-Control: no-store on every authenticated or token-bearing answer (Flask: an "
        "after_request hook setting response.headers['Cache-Control'] = 'no-store')."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or not ex.ok:
            return
        why = _sensitive(op, ctx, ex)
        if why is None:
            return
        directives = {
            d.strip().split("=", 1)[0].lower()
            for d in (ex.header("cache-control") or "").split(",")
        }
        if directives & _NO_STORE:
            return
        header = ex.header("cache-control")
        yield self.finding(
            f"{op.key} answers {why} without Cache-Control: no-store"
            + (f" (Cache-Control: {header})" if header else ""),
            evidence=evidence(ex, f"Cache-Control: {header}" if header else "no Cache-Control"),
        )


def _sensitive(op: Operation, ctx: ProbeContext, ex: Exchange) -> str | None:
    if op.secured and ctx.options.has_credentials:
        return "an authenticated request"
    body = ex.json() if ex.is_json else None
    hit = next((h for h in _classified(body) if h[2].category == "secret"), None)
    return f"a {hit[2].kind}" if hit is not None else None


PROBES: tuple[type[Probe], ...] = (
    DebuggerExposed,
    StackTrace,
    DatabaseError,
    CredentialEcho,
    SecretInCookie,
    VersionBanner,
    UndocumentedEndpoint,
    CacheableSensitiveResponse,
)
