"""Contract conformance of responses (SD305-SD307): is the answer the one the document promises?

All three judge the baseline: the one request per operation that specdiff built to be valid
(``tests/unit/test_contract.py`` proves the synthesized baselines valid with openapi-core) and sent
with the user's credentials. SD306 and SD307 also judge the anonymous refusal of a secured
operation (a 401/403 to a request without credentials, whichever rule sent it): the document
promises how strangers are turned away too. Answers to deliberately wrong requests (invalid
bodies, forged tokens) are other rules' evidence: judging them here would report every
error-provocation answer a document forgot, and cry wolf.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from specdiff.contract import violations
from specdiff.model import AuthMode, Confidence, Exchange, Finding, Operation
from specdiff.probe import Probe, ProbeContext, evidence
from specdiff.variant import VariantKind

__all__ = ["PROBES", "ContentTypeMismatch", "SchemaViolation", "UndocumentedStatus"]

_AUTH_REFUSALS = frozenset({401, 403})


def _judged(op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]) -> list[Exchange]:
    """The answers SD306/SD307 judge: the baseline's, and the anonymous refusals (401/403 to a
    request of the operation's own method without credentials, whichever rule sent it: SD201's
    requests of unsafe operations too) of a secured operation."""
    found: list[Exchange] = []
    for ex in exchanges:
        req = ex.request
        if ex.status is None:
            continue
        if req.variant.kind is VariantKind.BASELINE or (
            op.secured
            and req.auth is AuthMode.NONE
            and req.target == "primary"
            and req.method == op.method
            and ex.status in _AUTH_REFUSALS
        ):
            found.append(ex)
    return found


class SchemaViolation(Probe):
    """SD305 exposure.schema-violation: a 2xx body breaks its documented schema.

    **Promise.** The response schema documented for the status and media type describes the
    body: its types, required properties, enums and formats.

    **Probe.** No extra request: the baseline's 2xx JSON body is validated with the document's
    JSON Schema dialect (OpenAPI 3.0 ``nullable``/``readOnly``/``writeOnly`` and formats such as
    ``uuid``, ``date-time``, ``email``, ``int32``; 3.1 type arrays), one validator per response
    schema, built once, ``$ref``s followed lazily over the document.

    **Breach.** A ``type``, ``required``, ``enum``, ``format`` or ``const`` violation, once per
    operation and JSON path (``$.items[*].total``). A oneOf/anyOf that no branch satisfies is
    reported by its closest branch's violation.

    **Quiet when.** The body is not JSON, the status or media type is undocumented (SD306,
    SD307), an undeclared property appears (SD301's job, also under ``additionalProperties:
    false``), several oneOf branches match (a document ambiguity), or the violation is of
    another keyword (``minLength``, ``pattern`` ...).

    **Remediation.** Serialize through the documented schema (marshmallow, pydantic) so types
    and formats cannot drift, or correct the document.
    """

    code = "SD305"
    confidence = Confidence.CERTAIN
    remediation = (
        "Serialize responses through the documented schema (a marshmallow/pydantic output "
        "model) so types, required fields and enums cannot drift, or correct the document."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or not ex.ok or not ex.is_json or ex.status is None:
            return
        response = op.response_for(ex.status)
        media = response.media(ex.media_type) if response is not None else None
        body = ex.json()
        if media is None or media.schema is None or body is None:
            return
        by_path: dict[str, list[str]] = {}
        for v in violations(media.schema, body, ctx.api.openapi_version):
            by_path.setdefault(v.path, []).append(f"{v.message} ({v.keyword})")
        for path, problems in by_path.items():
            what = "; ".join(problems)
            yield self.finding(
                f"{op.key} answered {ex.status} with {path} that {what}",
                key=path,
                evidence=evidence(ex, f"{path} {what}"),
            )


class UndocumentedStatus(Probe):
    """SD306 exposure.undocumented-status: the operation answered a status it does not document.

    **Promise.** An operation's ``responses`` list the statuses a client must handle.

    **Probe.** No extra request: the status of the baseline, the valid request specdiff sent
    with the user's credentials, and of the anonymous refusal of a secured operation (a 401 or
    403 to a request of its method without credentials, whichever rule sent it: SD201's
    harmless requests of POST/PUT/PATCH/DELETE too), is looked up among the documented
    responses: exact code, then its range (``4XX``), then ``default``.

    **Breach.** No documented response covers the status (e.g. an undocumented ``500``, or a
    ``401`` the secured operation never mentions).

    **Quiet when.** The status is documented or covered by a range or ``default``; the answer
    is to a deliberately invalid request with credentials; 401/403 to an open operation's
    baseline when no credentials were given (SD210 judges that drift); 404 on a path with
    parameters (specdiff guessed the id); 429 (rate limiting is the infrastructure's, not the
    contract's); the operation documents no response at all; nothing came back.

    **Remediation.** Document every status the operation can return (a ``default`` response with
    the error schema covers the rest), and turn unexpected server errors into documented ones.
    """

    code = "SD306"
    confidence = Confidence.CERTAIN
    evidence = "pool"
    remediation = (
        "Document the status in the operation's responses (or a 4XX/5XX range or a default "
        "response with your error schema); for a 5xx, fix the crash behind it."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not op.responses:
            return
        reported: set[int] = set()
        for ex in _judged(op, ctx, exchanges):
            status = ex.status
            assert status is not None
            if op.response_for(status) is not None or status in (429, *reported):
                continue
            anonymous = ex.request.auth is AuthMode.NONE or not ctx.options.has_credentials
            if status in _AUTH_REFUSALS and anonymous and not op.secured:
                continue
            if status == 404 and "{" in op.path:
                continue
            reported.add(status)
            documented = ", ".join(r.status for r in op.responses)
            yield self.finding(
                f"{op.key} answered {status}, which it does not document (documented: "
                f"{documented})",
                key=str(status),
                evidence=evidence(ex, f"HTTP {status} {ex.media_type}".strip()),
            )


class ContentTypeMismatch(Probe):
    """SD307 exposure.content-type-mismatch: a media type the status does not document.

    **Promise.** A documented response's ``content`` lists the media types a client must parse.

    **Probe.** No extra request: the ``Content-Type`` of the baseline's answer, and of the
    anonymous refusal of a secured operation (401/403 to a request of its method without
    credentials, unsafe methods' harmless ones included), is matched against
    the media types documented for its status: the same type, or a wildcard such as
    ``application/*``.

    **Breach.** A non-empty body whose media type none of the documented ones covers, e.g. an
    HTML error page, or ``application/problem+json``, where only ``application/json`` is
    documented (a structured suffix is another media type: clients that dispatch on the
    documented one do not parse it).

    **Quiet when.** The status is undocumented (SD306), its response documents no content, the
    body is empty, the answer carries no ``Content-Type``, or the answer is to a deliberately
    invalid request with credentials (not judged).

    **Remediation.** Return the documented media type on every path, including errors (a Flask
    ``errorhandler`` returning JSON), or document the other type.
    """

    code = "SD307"
    confidence = Confidence.CERTAIN
    evidence = "pool"
    remediation = (
        "Answer with the documented media type on every path (in Flask, an errorhandler that "
        "returns jsonify(...) instead of an HTML page), or document the other media type."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        reported: set[str] = set()
        for ex in _judged(op, ctx, exchanges):
            if not ex.body or not ex.media_type or ex.media_type in reported:
                continue
            assert ex.status is not None
            response = op.response_for(ex.status)
            if response is None or not response.content:
                continue
            if response.media(ex.media_type, suffixes=False):
                continue
            reported.add(ex.media_type)
            documented = ", ".join(m.media_type for m in response.content)
            yield self.finding(
                f"{op.key} answered {ex.status} as {ex.media_type}; documented: {documented}",
                key=ex.media_type,
                evidence=evidence(
                    ex, f"HTTP {ex.status} Content-Type: {ex.header('content-type')}"
                ),
            )


PROBES: tuple[type[Probe], ...] = (SchemaViolation, UndocumentedStatus, ContentTypeMismatch)
