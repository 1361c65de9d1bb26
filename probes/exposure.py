"""Data exposure rules (SD3xx): what a 2xx response carries beyond its documented schema.

One pure walk (:func:`undocumented_fields`) compares a JSON body with its documented schema and
yields every property the schema does not declare, once per JSON path (``$.items[*].ssn``).
Each undocumented property is then reported under exactly one rule: SD303 when it is a secret,
SD302 when it is personal data, SD301 otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from specdiff.classify import Classification, classify_field, classify_value, name_signal
from specdiff.model import Confidence, Exchange, Finding, Operation
from specdiff.probe import Probe, ProbeContext, evidence
from specdiff.redact import mask_value
from specdiff.schema import Schema

__all__ = [
    "PROBES",
    "SensitiveDataInText",
    "UndocumentedField",
    "UndocumentedPii",
    "UndocumentedSecret",
    "sensitive_text",
    "undocumented_fields",
]


@dataclass(frozen=True, slots=True)
class Undocumented:
    """One undocumented property found in a body."""

    path: str
    """JSON path with ``[*]`` for array elements: ``$.items[*].card_number``."""
    name: str
    value: Any
    classification: Classification | None


@dataclass(slots=True)
class _Shape:
    """What an object schema (with its compositions) declares."""

    properties: dict[str, list[Schema]]
    patterns: list[tuple[re.Pattern[str], Schema]]
    extra: list[Schema]
    open: bool
    """Explicit ``additionalProperties: true`` (or a free-form object): anything goes."""


def _shape(schema: Schema, stack: frozenset[str]) -> _Shape:
    s = schema.resolved()
    shape = _Shape({}, [], [], False)
    if s.is_bool or s.where in stack:
        shape.open = s.node is True or s.where in stack
        return shape
    stack = stack | {s.where}
    for name, prop in s.properties.items():
        shape.properties.setdefault(name, []).append(prop)
    for pattern, prop in s.pattern_properties.items():
        try:
            shape.patterns.append((re.compile(pattern), prop))
        except re.error:
            shape.open = True
    node = s.node if isinstance(s.node, Mapping) else {}
    if "additionalProperties" in node:
        extra = s.additional_properties
        if extra is True:
            shape.open = True
        elif isinstance(extra, Schema):
            if extra.resolved().node in ({}, True):
                shape.open = True
            else:
                shape.extra.append(extra)
    # a field documented on one branch of oneOf/anyOf (or any allOf part) is documented
    for branch in (*s.all_of, *s.one_of, *s.any_of):
        sub = _shape(branch, stack)
        for name, props in sub.properties.items():
            shape.properties.setdefault(name, []).extend(props)
        shape.patterns += sub.patterns
        shape.extra += sub.extra
        shape.open = shape.open or sub.open
    return shape


def _declares_nothing(shape: _Shape) -> bool:
    return not shape.properties and not shape.patterns and not shape.extra


def undocumented_fields(schema: Schema, body: Any) -> list[Undocumented]:
    """Every property of ``body`` that ``schema`` does not declare, once per JSON path."""
    found: dict[str, Undocumented] = {}
    for item in _walk(schema, body, "$", frozenset()):
        found.setdefault(item.path, item)
    return list(found.values())


def _walk(
    schema: Schema, value: Any, path: str, stack: frozenset[tuple[str, str]]
) -> Iterator[Undocumented]:
    s = schema.resolved()
    if s.is_bool or (s.where, path) in stack:
        return
    stack = stack | {(s.where, path)}
    if isinstance(value, list):
        items = _items(s)
        if items:
            for element in value:
                for sub in items:
                    yield from _walk(sub, element, f"{path}[*]", stack)
        return
    if not isinstance(value, Mapping):
        return
    shape = _shape(s, frozenset())
    for key, child in value.items():
        name = str(key)
        child_path = f"{path}.{name}" if _plain(name) else f"{path}[{name!r}]"
        props = shape.properties.get(name)
        if props:
            if all(p.write_only for p in props):  # writeOnly: must never come back
                yield _classified(child_path, name, child)
                continue
            # nested fields undocumented under every candidate schema
            per_branch = [{u.path: u for u in _walk(p, child, child_path, stack)} for p in props]
            common = set(per_branch[0]).intersection(*per_branch[1:])
            for p in sorted(common):
                yield per_branch[0][p]
            continue
        matched = [p for pattern, p in shape.patterns if pattern.search(name)]
        if matched or shape.extra:
            for sub in matched or shape.extra:
                yield from _walk(sub, child, child_path, stack)
            continue
        if shape.open or _declares_nothing(shape):
            continue
        yield from _undocumented(child_path, name, child)


def _items(s: Schema) -> list[Schema]:
    items = s.items
    found = [items] if items is not None else []
    for branch in (*s.all_of, *s.one_of, *s.any_of):
        sub = branch.items
        if sub is not None:
            found.append(sub)
    return found


def _plain(name: str) -> bool:
    return name.isidentifier()


def _classified(path: str, name: str, value: Any) -> Undocumented:
    return Undocumented(path, name, value, classify_field(name, value))


def _undocumented(path: str, name: str, value: Any) -> Iterator[Undocumented]:
    """An undocumented property; sensitive fields nested in it are reported by their own path."""
    own = classify_field(name, value)
    if own is None and isinstance(value, (Mapping, list)):
        nested = list(_sensitive_inside(path, value, depth=0))
        if nested:
            yield from nested
            return
    yield Undocumented(path, name, value, own)


def _sensitive_inside(path: str, value: Any, depth: int) -> Iterator[Undocumented]:
    if depth > 6:
        return
    if isinstance(value, list):
        for element in value[:20]:
            yield from _sensitive_inside(f"{path}[*]", element, depth + 1)
        return
    if not isinstance(value, Mapping):
        return
    for key, child in value.items():
        name = str(key)
        child_path = f"{path}.{name}" if _plain(name) else f"{path}[{name!r}]"
        found = classify_field(name, child)
        if found is not None:
            yield Undocumented(child_path, name, child, found)
        elif isinstance(child, (Mapping, list)):
            yield from _sensitive_inside(child_path, child, depth + 1)


# --------------------------------------------------------------------------- probes


def _documented_schema(op: Operation, ex: Exchange) -> Schema | None:
    assert ex.status is not None
    response = op.response_for(ex.status)
    if response is None:
        return None
    media = response.media(ex.media_type)
    return media.schema if media is not None else None


class _ExposureProbe(Probe):
    """Shared judging of the baseline body; subclasses pick their category."""

    category: str | None = None

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or not ex.ok or not ex.is_json:
            return
        schema = _documented_schema(op, ex)
        body = ex.json()
        if schema is None or body is None:
            return
        for item in undocumented_fields(schema, body):
            category = item.classification.category if item.classification else None
            if category != self.category:
                continue
            yield self._finding(op, ex, item)

    def _finding(self, op: Operation, ex: Exchange, item: Undocumented) -> Finding:
        c = item.classification
        what = f" ({c.category} {c.kind}: {c.reason})" if c else ""
        proof = f"{item.path} = {mask_value(item.value)}{what}"
        return self.finding(
            f"{op.key} returned the undocumented property {item.path}{what}",
            key=item.path,
            evidence=evidence(ex, proof),
            confidence=_confidence(c),
        )


def _confidence(c: Classification | None) -> Confidence:
    return Confidence.CERTAIN if c is None else c.confidence


class UndocumentedField(_ExposureProbe):
    """SD301 exposure.undocumented-field: a 2xx JSON response carries an undeclared property.

    **Promise.** The documented response schema lists what the operation returns.

    **Probe.** No extra request: the baseline's 2xx JSON body is walked against the schema
    documented for its status and media type, following ``$ref``, ``allOf``/``oneOf``/``anyOf``
    (a field declared on any branch is documented), ``additionalProperties`` schemas,
    ``patternProperties``, nullable and arrays (of arrays).

    **Breach.** A property the schema does not declare, that is neither personal data (SD302)
    nor a secret (SD303). Reported once per operation and JSON path (``$.items[*].theme``).

    **Quiet when.** The schema is free-form (no properties) or says ``additionalProperties:
    true``; the status or media type is undocumented (other rules); the body is not JSON.

    **Remediation.** Serialize responses through an explicit schema (marshmallow, pydantic)
    instead of ``jsonify(model.__dict__)``, or document the field.
    """

    code = "SD301"
    confidence = Confidence.CERTAIN
    remediation = (
        "Serialize responses through an explicit output schema (marshmallow/pydantic) instead "
        "of dumping the model, or document the field in the response schema."
    )
    category = None


class UndocumentedPii(_ExposureProbe):
    """SD302 exposure.undocumented-pii: personal data the response schema never declared.

    **Promise.** The documented response schema lists what the operation returns; personal data
    it does not list is not meant to leave the service.

    **Probe.** As SD301, then each undocumented property is classified by name AND value: e-mail,
    phone, national id / SSN, date of birth, postal address, Luhn-valid card number, IBAN, IP
    address, geo position. Undocumented objects are searched for sensitive fields inside.

    **Breach.** An undocumented property classified as personal data.

    **Quiet when.** Decoys: UUIDs, timestamps, Luhn-valid order numbers under identifier names,
    counters (``email_count``), flags (``email_verified: true``), null or masked values.

    **Remediation.** Remove the field from the response (an explicit output schema), or, if it
    is meant to be returned, document it and protect the operation accordingly.
    """

    code = "SD302"
    remediation = (
        "Drop the personal data from the response with an explicit output schema (e.g. a "
        "marshmallow Schema with only the documented fields), or document it deliberately."
    )
    category = "pii"


class UndocumentedSecret(_ExposureProbe):
    """SD303 exposure.undocumented-secret: a secret the response schema never declared.

    **Promise.** The documented response schema lists what the operation returns.

    **Probe.** As SD301, then each undocumented property is classified: password or password hash
    (bcrypt, argon2, scrypt, pbkdf2), API key (AWS, GitHub, Stripe, Slack shapes), access or
    refresh token, JWT, private key, client secret, session id.

    **Breach.** An undocumented property classified as a secret.

    **Quiet when.** Metadata with secret-ish names: ``token_count``, ``password_policy``,
    ``api_key_id``, ``token_type``, null or masked values.

    **Remediation.** Never serialize credential material: exclude ``password_hash``, keys and
    tokens from the output schema (``load_only=True`` in marshmallow) and rotate what leaked.
    """

    code = "SD303"
    remediation = (
        "Exclude credential material from responses (e.g. marshmallow fields with "
        "load_only=True, or an explicit output schema) and rotate every secret that leaked."
    )
    category = "secret"


# --------------------------------------------------------------------------- SD309

_TEXT_LIMIT = 20_000
_MAX_STRINGS = 2_000


def _strings(value: Any, path: str, name: str | None) -> Iterator[tuple[str, str | None, str]]:
    """(JSON path, the property that holds it, text) for every string in a body."""
    stack: list[tuple[Any, str, str | None]] = [(value, path, name)]
    count = 0
    while stack and count < _MAX_STRINGS:
        current, where, holder = stack.pop()
        if isinstance(current, str):
            count += 1
            yield where, holder, current[:_TEXT_LIMIT]
        elif isinstance(current, Mapping):
            for key, child in reversed(list(current.items())):
                k = str(key)
                stack.append((child, f"{where}.{k}" if _plain(k) else f"{where}[{k!r}]", k))
        elif isinstance(current, list):
            stack.extend((child, f"{where}[*]", holder) for child in reversed(current))


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def sensitive_text(schema: Schema, body: Any) -> list[tuple[str, Classification]]:
    """(JSON path, what) for each documented string whose value holds a secret or, inside free
    text, personal data; once per path, undocumented properties left to SD301-SD303."""
    undocumented = [u.path for u in undocumented_fields(schema, body)]
    found: dict[str, Classification] = {}
    for path, holder, text in _strings(body, "$", None):
        if path in found or _under(path, undocumented):
            continue
        if holder is not None and name_signal(holder) is not None:
            continue  # ``email``, ``token``: the field says what it holds (SD304's business)
        c = classify_value(text)
        if c is None:
            continue
        # personal data counts inside prose; a whole value that is an address is a field's data
        if c.category == "pii" and not any(ch.isspace() for ch in text.strip()):
            continue
        found[path] = c
    return sorted(found.items())


class SensitiveDataInText(Probe):
    """SD309 exposure.sensitive-data-in-text: a documented text field carries a secret or PII.

    **Promise.** A documented free-text field (``message``, ``detail``, ``completion`` ...)
    carries prose, not credentials or someone's personal data. An LLM-backed endpoint whose
    generated text echoes an API key, or an error text that quotes a password, breaks it even
    though the field itself is documented.

    **Probe.** No extra request: every string of the baseline's 2xx JSON body is searched with
    the classifier's validated value signals only (JWT structure, PEM private keys, password
    hash formats, AWS/GitHub/Stripe/Slack/OpenAI key prefixes, credentials in URLs, Luhn card
    numbers, mod-97 IBANs, e-mail addresses). The field name never makes a finding.

    **Breach.** A documented string whose value holds a secret; or personal data inside text
    (a value with words around the match). Once per operation and JSON path.

    **Quiet when.** The field's name says what it holds (``email``, ``token``: a document that
    returns those on purpose is SD304's business); the property is undocumented (SD301-SD303);
    a whole value that is only an e-mail address (a structured field such as ``owner``); role
    mailboxes (``support@``), UUIDs, timestamps, masked values.

    **Remediation.** Filter generated and error text before it leaves the service (a secret
    scanner or a PII redactor on LLM output; never interpolate credentials into messages), and
    keep secrets out of the model's context.
    """

    code = "SD309"
    confidence = Confidence.FIRM
    remediation = (
        "Scrub generated and error text before returning it (run a secret/PII redactor over "
        "LLM output, never format credentials into messages) and keep secrets out of prompts."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        ex = ctx.baseline_exchange
        if ex is None or not ex.ok or not ex.is_json:
            return
        schema = _documented_schema(op, ex)
        body = ex.json()
        if schema is None or body is None:
            return
        for path, c in sensitive_text(schema, body):
            what = f"{c.category} ({c.kind}: {c.reason})"
            yield self.finding(
                f"{op.key} returned {what} inside the documented text {path}",
                key=path,
                evidence=evidence(ex, f"{path} holds {what}"),
                confidence=c.confidence,
            )


PROBES: tuple[type[Probe], ...] = (
    UndocumentedField,
    UndocumentedPii,
    UndocumentedSecret,
    SensitiveDataInText,
)
