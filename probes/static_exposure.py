"""What the document itself exposes (SD304, SD308): static rules, no request needed.

Both judge names only, through :func:`specdiff.classify.name_signal`, which is deliberately
conservative: it flags names that are sensitive on their own (``password``, ``client_secret``,
``refresh_token``, ``ssn``, ``email``) and stays quiet on metadata about them (``token_type``,
``password_changed_at``, ``api_key_id``, ``max_tokens``) and on names that need a value to tell
(``key``, ``session``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from specdiff.classify import name_signal
from specdiff.model import ApiModel, Confidence, Finding, Location, Operation
from specdiff.probe import Probe
from specdiff.schema import Schema

__all__ = ["PROBES", "DocumentedSensitiveField", "SensitiveDataInUrl", "response_properties"]


@dataclass(frozen=True, slots=True)
class _Property:
    name: str
    schema: Schema
    path: str
    """Where it sits in the response body: ``$.items[*].token``."""
    siblings: frozenset[str]
    """The other property names of the schema that declares it."""


def response_properties(
    roots: Iterable[tuple[Operation, str, Schema]],
) -> Iterator[tuple[Operation, str, _Property]]:
    """Every property the response schemas declare, each schema node visited once.

    Breadth-first from every (operation, status, schema) at once, so a component shared by a
    thousand operations is walked once and reported where it is closest to a body's top level
    (``$.data[*].client_secret`` on the list endpoint, not ten levels down an expansion), and
    recursive schemas end.
    """
    seen: set[str] = set()
    queue: deque[tuple[Operation, str, Schema, str]] = deque(
        (op, status, schema, "$") for op, status, schema in roots
    )
    while queue:
        op, status, current, path = queue.popleft()
        s = current.resolved()
        if s.where in seen or s.is_bool:
            continue
        seen.add(s.where)
        props = s.properties
        for name, prop in props.items():
            child = f"{path}.{name}" if name.isidentifier() else f"{path}[{name!r}]"
            yield op, status, _Property(name, prop, child, frozenset(props))
            queue.append((op, status, prop, child))
        for branch in (*s.all_of, *s.one_of, *s.any_of):
            queue.append((op, status, branch, path))
        for sub in s.pattern_properties.values():
            queue.append((op, status, sub, f"{path}[*]"))
        extra = s.additional_properties
        if isinstance(extra, Schema):
            queue.append((op, status, extra, f"{path}[*]"))
        if s.items is not None:
            queue.append((op, status, s.items, f"{path}[*]"))


def _token_response(prop: _Property) -> bool:
    """An OAuth 2 token response (RFC 6749 5.1: ``access_token`` with ``token_type``) at the
    top of the body: issuing the token is the operation's purpose."""
    return prop.path.count(".") == 1 and "[" not in prop.path and "token_type" in prop.siblings


def _may_be_text(schema: Schema) -> bool:
    """Could the property hold a secret string? Not an object (``volume.secret`` refers to one)."""
    s = schema.resolved()
    if s.is_bool:
        return False
    types = s.types - {"null"}
    if types:
        return "string" in types
    return not (s.properties or s.items is not None)


class DocumentedSensitiveField(Probe):
    """SD304 exposure.documented-sensitive-field: the document returns a secret on purpose.

    **Promise checked.** Response schemas say what leaves the service; a secret among them
    (a password, a password hash, an API key, a token, a private key, a client secret) is sent
    to every client, logged by proxies and kept in caches.

    **Probe.** Static: no request. Every response schema of every operation is walked (``$ref``,
    ``allOf``/``oneOf``/``anyOf``, items, ``additionalProperties``, ``patternProperties``; each
    schema once, recursion-safe) and each property name is classified by name alone.

    **Breach.** A property whose name is a secret (SD303's classes), that may hold a string
    and is not ``writeOnly``.
    Reported once per schema location (a shared component once), on the first operation that
    returns it.

    **Quiet when.** The operation issues the token: an OAuth 2 token response (``access_token``
    next to ``token_type``, RFC 6749 section 5.1) at the top of the body, as a login returns.
    The property is ``writeOnly`` (documented as never returned), or its name is
    metadata about a secret (``token_type``, ``expires_in``, ``password_policy``, ``api_key_id``,
    ``token_count``) or needs its value to tell (``key``, ``session``); the property is an
    object or array (Kubernetes' ``volume.secret`` names a secret, it does not hold one). Personal data in a
    response is often the point of the operation and is not reported here.

    **Remediation.** Return secrets only where that is the operation's purpose (a token
    endpoint, a one-time key display), mark request-only fields ``writeOnly: true``, and never
    return password hashes.
    """

    code = "SD304"
    confidence = Confidence.FIRM
    remediation = (
        "Remove the secret from the response schema (mark request-only fields writeOnly: true), "
        "or keep it only on the one operation whose purpose is to issue it, with no-store caching."
    )

    def check_spec(self, api: ApiModel) -> Iterable[Finding]:
        roots = [
            (op, response.status, media.schema)
            for op in api.operations
            for response in op.responses
            for media in response.content
            if media.schema is not None
        ]
        for op, status, prop in response_properties(roots):
            signal = name_signal(prop.name)
            if signal is None or signal[0] != "secret" or prop.schema.write_only:
                continue
            if _may_be_text(prop.schema) and not _token_response(prop):
                yield self._finding(api, op, status, prop, signal[1])

    def _finding(
        self, api: ApiModel, op: Operation, status: str, prop: _Property, kind: str
    ) -> Finding:
        where = prop.schema.where
        doc, _, pointer = where.partition("#")
        finding = self.finding(
            f"{op.key} documents the secret property {prop.path} ({kind}) in its {status} response",
            key=f"{doc}#{pointer}",
            location=Location(doc or api.source, prop.schema.line, pointer),
        )
        return _on(finding, op)


class SensitiveDataInUrl(Probe):
    """SD308 exposure.sensitive-data-in-url: personal data or a secret travels in the URL.

    **Promise checked.** URLs end up in server and proxy logs, browser histories and
    ``Referer`` headers; what the document puts in them is not confidential.

    **Probe.** Static: no request. Every query and path parameter name is classified by name
    alone; every ``apiKey`` security scheme sent ``in: query`` is a secret in the URL.

    **Breach.** A query or path parameter named as personal data or a secret (``?email=``,
    ``?api_key=``, ``/reset/{password}``), or an API key scheme carried in the query string.

    **Quiet when.** The parameter travels in a header, a cookie or the body; the name is
    metadata (``email_verified``, ``token_type``, ``page_token``) or needs a value to tell.

    **Remediation.** Move the value to a header or the request body (``POST /users/search``
    with ``{"email": ...}``), and send API keys in a header (``in: header``).
    """

    code = "SD308"
    confidence = Confidence.FIRM
    remediation = (
        "Move personal data and secrets out of the URL: into the request body (a POST search) "
        "or a header; declare API keys in: header."
    )

    def check_spec(self, api: ApiModel) -> Iterable[Finding]:
        for op in api.operations:
            for param in op.parameters:
                if param.location not in ("query", "path"):
                    continue
                signal = name_signal(param.name)
                if signal is None:
                    continue
                category, kind = signal
                what = "a secret" if category == "secret" else "personal data"
                finding = self.finding(
                    f"{op.key} takes {what} ({kind}) in its URL: {param.location} parameter "
                    f"{param.name!r}",
                    key=f"{param.location}:{param.name}",
                )
                yield _on(finding, op)
        for scheme in api.security_schemes.values():
            if scheme.type == "apiKey" and scheme.param_location == "query":
                yield self.finding(
                    f"the security scheme {scheme.name!r} sends its API key in the query "
                    f"parameter {scheme.param_name!r}",
                    key=f"scheme:{scheme.name}",
                    location=scheme.location,
                )


def _on(finding: Finding, op: Operation) -> Finding:
    """``finding`` about ``op`` (static findings have no engine to add it)."""
    return replace(finding, operation=op.ref, location=finding.location or op.location)


PROBES: tuple[type[Probe], ...] = (DocumentedSensitiveField, SensitiveDataInUrl)
