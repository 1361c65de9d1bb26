"""Conformance and misconfiguration rules (SD5xx): methods, errors, input checks, CORS, 401s.

SD502 judges every answer of each operation's evidence pool; SD503 the error provocations it
shares with the leakage family (the engine sends each distinct request once); SD505 judges the
canary-credential request of SD404.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from specdiff.config import origin
from specdiff.model import (
    AuthMode,
    Confidence,
    Exchange,
    Finding,
    Operation,
    OperationRef,
    PlannedRequest,
    Severity,
)
from specdiff.mutate import MALFORMED_JSON, canary_plan, mutations, provocations
from specdiff.probe import Probe, ProbeContext, asked, body_snippet, evidence, snippet
from specdiff.safety import absent_id
from specdiff.variant import PROVOCATIONS, Variant, VariantKind

__all__ = [
    "PROBES",
    "CorsMisconfigured",
    "InvalidInputAccepted",
    "MissingWwwAuthenticate",
    "ServerError",
    "UndocumentedMethodAccepted",
]

PROBE_ORIGIN = "https://specdiff-probe.invalid"
"""An origin no site can have (``.invalid`` is reserved, RFC 2606)."""


def _provocations(op: Operation, ctx: ProbeContext, code: str) -> list[PlannedRequest]:
    return provocations(op, ctx.baseline, unsafe=ctx.options.unsafe, probe=code)


_HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


def _only_lists_methods(ex: Exchange) -> bool:
    """An OPTIONS answer that says which methods exist and nothing else: empty, or a body
    that is a list of method names (Express answers ``GET,HEAD``), as text or a JSON array."""
    text = ex.text.strip()
    if not text:
        return True
    value = ex.json() if ex.is_json else None
    words = (
        [str(v) for v in value]
        if isinstance(value, list)
        else [w for w in re.split(r"[\s,]+", text) if w]
    )
    return bool(words) and all(w.upper() in _HTTP_METHODS for w in words)


def _segments_match(template: str, path: str) -> bool:
    """``path`` (concrete) is one the server may route to ``template``: same number of
    segments, each equal or a whole ``{parameter}`` of the template."""
    ours, theirs = path.strip("/").split("/"), template.strip("/").split("/")
    return len(ours) == len(theirs) and all(
        t == o or (t.startswith("{") and t.endswith("}")) for t, o in zip(theirs, ours, strict=True)
    )


def _routed_elsewhere(ctx: ProbeContext, op: Operation, path: str, method: str) -> bool:
    """Another documented path template declares ``method`` and matches ``path``
    (``DELETE /users/login`` is ``DELETE /users/{id}``): that operation answers, by design."""
    return any(
        other.method == method and other.path != op.path and _segments_match(other.path, path)
        for other in ctx.api.operations
    )


class UndocumentedMethodAccepted(Probe):
    """SD501 conformance.undocumented-method-accepted: a path answers a method it does not declare.

    **Promise.** A documented path serves exactly the methods the document lists; others get
    405 (or 404).

    **Probe.** For each documented path (once, whatever number of operations it has), the
    methods it does not declare among OPTIONS, TRACE, PUT, PATCH and DELETE, all without
    credentials. OPTIONS and TRACE go to the operation's path. PUT, PATCH and DELETE (never an
    authenticated one, even with ``--unsafe``) go to the path with every parameter naming an
    object that certainly does not exist (a huge integer, a UUID no server issued), PUT and
    PATCH with a body that cannot be parsed (truncated JSON): nothing can be written or removed.
    A path without parameters gets PUT and PATCH only with ``--unsafe``, and no DELETE.
    A method that another documented template declares for the same concrete path
    (``DELETE /users/login`` is routed to ``DELETE /users/{id}``) is not asked: that operation
    answers it, and its own rules judge it.

    **Breach.** A 2xx answer (TRACE: the request echo that enables cross-site tracing).

    **Quiet when.** 405/404/401/403 or any non-2xx; an OPTIONS answer that only lists methods
    (empty, an ``Allow`` header, or a body such as Express's automatic ``GET,HEAD``; CORS
    preflights); a method some documented template routes that path to.

    **Remediation.** Register only the documented methods (Flask: ``methods=["GET"]``), disable
    TRACE at the server or proxy, and remove leftover handlers.
    """

    code = "SD501"
    confidence = Confidence.CERTAIN
    variants = frozenset({VariantKind.UNDOCUMENTED_METHOD})
    remediation = (
        "Route only the documented methods (Flask: methods=['GET']), disable TRACE at the server "
        "or proxy, and delete leftover handlers."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if ctx.baseline is None:
            return
        declared = {o.method for o in ctx.api.operations if o.path == op.path}
        base = dataclasses.replace(
            ctx.baseline,
            query=(),
            body=None,
            auth=AuthMode.NONE,
            probe=self.code,
            variant=Variant(VariantKind.UNDOCUMENTED_METHOD),
        )
        accept = tuple(h for h in base.headers if h[0].lower() == "accept")
        absent = _absent_path(op)
        for method in ("OPTIONS", "TRACE", "PUT", "PATCH", "DELETE"):
            if method in declared:
                continue
            if method in ("OPTIONS", "TRACE"):
                path = base.path
            elif absent is None and (method == "DELETE" or not ctx.options.unsafe):
                continue
            else:
                path = absent or base.path
            if _routed_elsewhere(ctx, op, path, method):
                continue
            if method in ("OPTIONS", "TRACE"):
                yield dataclasses.replace(base, method=method, headers=accept)
            elif method == "DELETE":
                yield dataclasses.replace(base, method=method, path=path, headers=accept)
            else:
                # anonymous, and a body no parser can turn into data: nothing can change
                headers = (*accept, ("Content-Type", "application/json"))
                yield dataclasses.replace(
                    base, method=method, path=path, headers=headers, body=MALFORMED_JSON
                )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            method = ex.request.method
            if not ex.ok or (method == "OPTIONS" and _only_lists_methods(ex)):
                continue
            yield dataclasses.replace(
                self.finding(
                    f"{op.path} does not declare {method} but answered {ex.status}",
                    evidence=evidence(ex, snippet(ex.text, 200)),
                    severity=Severity.HIGH if method in ("DELETE", "TRACE") else None,
                ),
                operation=OperationRef(method, op.path),
            )


def _absent_path(op: Operation) -> str | None:
    """``op``'s path with every parameter naming an object that certainly does not exist; None
    for a path without parameters."""
    if "{" not in op.path:
        return None
    schemas = {p.name: p.schema for p in op.parameters if p.location == "path"}
    path = op.path
    for name in schemas:
        path = path.replace("{" + name + "}", absent_id(schemas[name]))
    return path if "{" not in path else None


class ServerError(Probe):
    """SD502 conformance.server-error: a request makes the server fail.

    **Promise.** Invalid input is answered with a 4xx that says what is wrong; a 5xx means the
    server broke (an unhandled exception, often with a leak or a crash behind it).

    **Probe.** The error provocations shared with SD402/SD403 (wrong type, malformed JSON,
    missing field, quote and backslash, overlong value, wrong Content-Type); it judges every
    answer of the operation's evidence pool, whichever rule asked for it (the baseline, missing
    or forged credentials, the plain-HTTP twin ...), each distinct request once.

    **Breach.** Any 5xx answer. One finding per operation.

    **Quiet when.** Every answer is below 500; a 503 with ``Retry-After`` (overload or
    maintenance, already retried by the runner).

    **Remediation.** Validate input before using it and map validation errors to 400/422
    (Flask: catch ``ValueError``/``KeyError`` from parsing, or validate with a schema library).
    """

    code = "SD502"
    confidence = Confidence.CERTAIN
    evidence = "pool"
    variants = PROVOCATIONS
    remediation = (
        "Validate input before use and answer 400/422 for bad input; add a catch-all error "
        "handler so unexpected exceptions do not surface as bare 500s."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _provocations(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            if ex.status is None or ex.status < 500:
                continue
            if ex.status == 503 and ex.header("retry-after") is not None:
                continue
            yield self.finding(
                f"{asked(op, ex)} answered {ex.status} to a request "
                f"({ex.request.purpose}): the server failed instead of rejecting it",
                evidence=evidence(ex, snippet(ex.text, 200)),
            )
            return


class InvalidInputAccepted(Probe):
    """SD503 conformance.invalid-input-accepted: input the document forbids is accepted.

    **Promise.** The parameter and body schemas are enforced: a request outside them is
    rejected, so the code behind never sees what it was not written for.

    **Probe.** The error provocations shared with SD402/SD403; only the variants that certainly
    violate the document count: a wrong type, a missing required field, malformed JSON, an
    undeclared ``Content-Type``, a value outside an ``enum``, longer than ``maxLength`` or
    against a ``pattern``.

    **Breach.** Such a variant answered 2xx.

    **Quiet when.** Variants that the schema allows (a quote in a free string); any non-2xx; a
    2xx whose JSON body is an error object (``error``/``errors`` at the top).

    **Remediation.** Validate every request against the schema before the handler runs (e.g.
    openapi-core's Flask integration, pydantic models); reject with 400/422.
    """

    code = "SD503"
    variants = PROVOCATIONS
    remediation = (
        "Validate requests against the documented schemas before the handler runs (e.g. "
        "openapi-core's Flask decorator or pydantic models) and reject with 400/422."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return _provocations(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if ctx.baseline is None:
            return
        known = {
            m.variant: m
            for m in mutations(op, ctx.baseline, unsafe=ctx.options.unsafe, probe=self.code)
        }
        for ex in exchanges:
            mutation = known.get(ex.request.variant)
            if mutation is None or not mutation.invalid or not ex.ok or _error_body(ex):
                continue
            yield self.finding(
                f"{op.key} accepted ({ex.status}) a request with {mutation.kind} "
                f"in {mutation.target}",
                key=mutation.key,
                # an invalid request may be answered with anything, a secret too: masked
                evidence=evidence(ex, body_snippet(ex, 200)),
            )


def _error_body(ex: Exchange) -> bool:
    body = ex.json() if ex.is_json else None
    return isinstance(body, dict) and ("error" in body or "errors" in body)


class CorsMisconfigured(Probe):
    """SD504 conformance.cors-misconfigured: any site may read the API with the user's cookies.

    **Promise.** Browsers let only trusted origins read credentialed answers.

    **Probe.** The baseline of safe operations (any with ``--unsafe``) sent again with
    ``Origin: https://specdiff-probe.invalid`` and with ``Origin: null`` (sandboxed iframes,
    ``file:`` pages). Findings are host-wide, one per origin kind.

    **Breach.** ``Access-Control-Allow-Origin`` repeats the origin sent, together with
    ``Access-Control-Allow-Credentials: true``.

    **Quiet when.** No CORS headers, a fixed allow-list origin, or ``*`` (browsers refuse ``*``
    with credentials).

    **Remediation.** Allow an explicit list of origins, never reflect the request's ``Origin``
    and never allow ``null`` (flask-cors: ``CORS(app, origins=["https://app.example.com"],
    supports_credentials=True)``).
    """

    code = "SD504"
    scope = "host"
    variants = frozenset({VariantKind.CORS_ORIGIN})
    confidence = Confidence.CERTAIN
    remediation = (
        "Allow an explicit list of trusted origins, never reflect Origin or allow 'null' "
        "(flask-cors: CORS(app, origins=['https://app.example.com'], supports_credentials=True))."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if ctx.baseline is None or not (op.safe or ctx.options.unsafe):
            return
        for sent in (PROBE_ORIGIN, "null"):
            yield dataclasses.replace(
                ctx.baseline,
                headers=(*ctx.baseline.headers, ("Origin", sent)),
                probe=self.code,
                variant=Variant(VariantKind.CORS_ORIGIN, f"cors-origin:{sent}"),
            )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in exchanges:
            sent = ex.request.purpose.partition(":")[2]
            allowed = (ex.header("access-control-allow-origin") or "").strip()
            credentials = (ex.header("access-control-allow-credentials") or "").strip().lower()
            if not sent or allowed != sent or credentials != "true":
                continue
            yield self.finding(
                f"CORS lets the origin {sent!r} read credentialed answers (seen on {op.key})",
                key=sent,
                evidence=evidence(
                    ex,
                    f"Access-Control-Allow-Origin: {allowed}\n"
                    "Access-Control-Allow-Credentials: true",
                ),
            )


class MissingWwwAuthenticate(Probe):
    """SD505 conformance.missing-www-authenticate: a 401 does not say how to authenticate.

    **Promise.** Every 401 names the scheme to use in ``WWW-Authenticate`` (RFC 9110 §11.6.1,
    RFC 6750 §3), which clients rely on to refresh or prompt.

    **Probe.** The baseline answer, and the canary-credential request of SD404 (the engine sends
    it once for both rules). Once per host.

    **Breach.** A 401 answer without a ``WWW-Authenticate`` header.

    **Quiet when.** No 401 was seen, or the header is present.

    **Remediation.** Add the header to every 401 (Flask: ``response.headers["WWW-Authenticate"]
    = 'Bearer realm="api"'`` in the unauthorized handler).
    """

    code = "SD505"
    scope = "host"
    variants = frozenset({VariantKind.CANARY_CREDENTIAL})
    confidence = Confidence.CERTAIN
    remediation = (
        'Name the scheme on every 401: WWW-Authenticate: Bearer realm="api" (Flask: set it '
        "in the handler that answers unauthorized requests)."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        return canary_plan(op, ctx, self.code)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        for ex in ctx.answers(exchanges):
            if ex.status != 401 or ex.header("www-authenticate"):
                continue
            yield self.finding(
                f"{origin(ex.url)} answers 401 without WWW-Authenticate (seen on {op.key})",
                key=origin(ex.url),
                evidence=evidence(ex, "HTTP 401, no WWW-Authenticate header"),
            )
            return


PROBES: tuple[type[Probe], ...] = (
    UndocumentedMethodAccepted,
    ServerError,
    InvalidInputAccepted,
    CorsMisconfigured,
    MissingWwwAuthenticate,
)
