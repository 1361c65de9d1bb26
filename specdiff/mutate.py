"""Deliberately invalid or hostile variants of a baseline request, and canary credentials.

Pure and deterministic: the same operation and baseline give the same variants, so a probe can
plan them and, when judging, rebuild them to know what each exchange was (by its variant's
label, ``wrong-type:query.limit``). Several probes plan the same variants; the engine sends each
distinct request once.

Safety: for an unsafe method (POST/PUT/PATCH/DELETE) without ``--unsafe`` only variants whose
body cannot be parsed at all are made (nothing can be written from them); an operation without a
request body gets none then.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

from specdiff.contract import conforms
from specdiff.model import (
    ApiModel,
    AuthMode,
    Operation,
    Parameter,
    PlannedRequest,
    SecurityScheme,
)
from specdiff.safety import (
    ABSENT_INTEGER_ID,
    ABSENT_STRING_ID,
    ABSENT_UUID,
    absent_id,
    invalid_id,
)
from specdiff.schema import Schema
from specdiff.synth import binary_fields, multipart_body, sample_value
from specdiff.variant import Variant, VariantKind

if TYPE_CHECKING:
    from specdiff.probe import ProbeContext

__all__ = [
    "HOSTILE_STRING",
    "MALFORMED_JSON",
    "Mutation",
    "MutationKind",
    "absent_object_request",
    "canaries_sent",
    "canary",
    "canary_plan",
    "canary_request",
    "invalid_request",
    "mutations",
    "provocations",
]

MutationKind = Literal[
    "wrong-type",
    "malformed-json",
    "missing-required",
    "quote",
    "overlong",
    "bad-content-type",
    "bad-format",
    "number-edge",
]

HOSTILE_STRING = "specdiff'\"\\"
"""A single quote, a double quote and a backslash: what breaks string-built SQL and shell lines."""
OVERLONG_LENGTH = 4096
MALFORMED_JSON = b'{"specdiff": '
"""Truncated JSON: no parser turns it into data, so it is safe to send on unsafe methods."""
WRONG_TYPE_STRING = "specdiff"
WRONG_TYPE_NUMBER = 12345


@dataclass(frozen=True, slots=True)
class Mutation:
    """One variant: the request, what was changed, and whether the document forbids it."""

    request: PlannedRequest
    kind: MutationKind
    target: str
    """What was changed: ``query.limit``, ``path.id``, ``body.email``, ``body``."""
    invalid: bool
    """The variant certainly violates the document (type, required, enum, maxLength, media
    type, JSON syntax): a 2xx answer means invalid input was accepted (SD503)."""

    @property
    def purpose(self) -> str:
        """The variant's label: ``wrong-type:query.limit``."""
        return str(self.variant)

    @property
    def variant(self) -> Variant:
        """Its variant: the kind, labelled ``kind:target`` (``wrong-type:query.limit``)."""
        return Variant(VariantKind(self.kind), f"{self.kind}:{self.target}")

    @property
    def key(self) -> str:
        """What was changed, without the value tried (``query.limit``): the numeric edges of
        one parameter are one finding."""
        return self.target.split("=", 1)[0]


def mutations(
    op: Operation, baseline: PlannedRequest, *, unsafe: bool, probe: str
) -> tuple[Mutation, ...]:
    """The invalid variants of ``baseline`` for ``op`` (a handful; none that can write data)."""
    found: list[Mutation] = []
    writes_possible = not op.safe and not unsafe
    if not writes_possible:
        # a destructive method acts on the object its path names: only specdiff's own (an
        # invalid id there is not one), so its path stays as it is
        keep_path = op.method in ("DELETE", "PUT", "PATCH")
        found += _parameter_mutations(op, baseline, keep_path=keep_path)
        found += _missing_parameters(op, baseline)
        found += _format_mutations(op, baseline, keep_path=keep_path)
        found += _number_edges(op, baseline, keep_path=keep_path)
        found += _form_mutations(op, baseline)
    media, schema, value = _json_body(op, baseline)
    if media is not None:
        found.append(
            _mutation(baseline, "malformed-json", "body", True, body=MALFORMED_JSON, media=media)
        )
        if not writes_possible:
            found += _body_mutations(baseline, media, schema, value)
        body = MALFORMED_JSON if writes_possible else baseline.body
        found.append(
            _mutation(baseline, "bad-content-type", "body", True, body=body, media="text/plain")
        )
    stamped = tuple(dataclasses.replace(m, request=_stamp(m, probe)) for m in found)
    if writes_possible:  # without --unsafe an unsafe method goes anonymously, body unreadable
        return tuple(
            dataclasses.replace(m, request=dataclasses.replace(m.request, auth=AuthMode.NONE))
            for m in stamped
        )
    return stamped


def provocations(
    op: Operation, baseline: PlannedRequest | None, *, unsafe: bool, probe: str
) -> list[PlannedRequest]:
    """Just the requests of :func:`mutations` (none without a baseline)."""
    if baseline is None:
        return []
    return [m.request for m in mutations(op, baseline, unsafe=unsafe, probe=probe)]


# --------------------------------------------------------------------------- harmless, anonymous


def _unreadable_body(baseline: PlannedRequest) -> PlannedRequest:
    """``baseline`` with a JSON body no parser accepts (:data:`MALFORMED_JSON`)."""
    headers = tuple((n, v) for n, v in baseline.headers if n.lower() != "content-type")
    return dataclasses.replace(
        baseline, body=MALFORMED_JSON, headers=(*headers, ("Content-Type", "application/json"))
    )


def _declares_body(op: Operation) -> bool:
    return op.request_body is not None and bool(op.request_body.content)


def invalid_request(op: Operation, baseline: PlannedRequest) -> PlannedRequest | None:
    """An anonymous copy of ``baseline`` that no server can act on (the safety policy's own
    terms, :mod:`specdiff.safety`).

    With a documented request body: JSON no parser accepts. Without one: every path parameter
    replaced by a value violating its schema, which no object can have. None when neither is
    possible (an unsafe operation with no body and no path parameter).
    """
    if _declares_body(op):
        return dataclasses.replace(_unreadable_body(baseline), auth=AuthMode.NONE)
    params = [p for p in op.parameters if p.location == "path"]
    if not params:
        return None
    path = op.path
    for param in params:
        path = path.replace("{" + param.name + "}", invalid_id(param.schema))
    return dataclasses.replace(baseline, path=path, body=None, auth=AuthMode.NONE)


def _absent_value(api: ApiModel, schema: Schema | None) -> str | None:
    """The first identifier that certainly names nothing and that ``schema`` accepts: its own
    kind first (:func:`specdiff.safety.absent_id`), then the other sentinels as strings (a
    numeric ``pattern`` takes the huge integer)."""
    first = absent_id(schema)
    if schema is None:
        return first
    if schema.resolved().types & {"integer", "number"}:
        candidates: list[str | int] = [int(ABSENT_INTEGER_ID)]
    else:
        candidates = list(dict.fromkeys([first, ABSENT_STRING_ID, ABSENT_UUID, ABSENT_INTEGER_ID]))
    found = next((c for c in candidates if conforms(schema, c, api.openapi_version)), None)
    return None if found is None else str(found)


_MAY_CREATE = frozenset({"PUT", "POST"})
"""Methods that may create what their path names: a PUT that upserts, a POST that adds a child."""


def absent_object_request(
    api: ApiModel, op: Operation, baseline: PlannedRequest
) -> PlannedRequest | None:
    """An anonymous copy of ``baseline`` aimed at an object that certainly does not exist, and
    otherwise valid, so that it reaches what the handler does first.

    Every path parameter becomes a well-formed value of its schema that no server issued
    (:func:`specdiff.safety.absent_id`: a huge integer, a UUID); a parameter whose schema
    rejects it (``maximum: 100``, ``format: int32``, a ``pattern``) has no such value, and then
    there is no request. DELETE and PATCH keep the baseline's valid body: they act only on an
    object that exists. PUT and POST may create what their path names (an upsert, a child of the
    named object), so where they declare a body it is one no parser accepts. None for a path
    without parameters.
    """
    params = [p for p in op.parameters if p.location == "path"]
    if not params:
        return None
    path = op.path
    for param in params:
        value = _absent_value(api, param.schema)
        if value is None:
            return None
        path = path.replace("{" + param.name + "}", value)
    if "{" in path:
        return None
    aimed = dataclasses.replace(baseline, path=path, auth=AuthMode.NONE)
    if op.method in _MAY_CREATE and _declares_body(op):
        return _unreadable_body(aimed)
    return aimed


def _stamp(m: Mutation, probe: str) -> PlannedRequest:
    return dataclasses.replace(m.request, probe=probe, variant=m.variant)


def _mutation(
    base: PlannedRequest,
    kind: MutationKind,
    target: str,
    invalid: bool,
    *,
    body: bytes | None = None,
    media: str | None = None,
    path: str | None = None,
    query: tuple[tuple[str, str], ...] | None = None,
) -> Mutation:
    headers = base.headers
    if media is not None:
        headers = tuple(h for h in headers if h[0].lower() != "content-type")
        headers += (("Content-Type", media),)
    request = dataclasses.replace(
        base,
        path=path if path is not None else base.path,
        query=query if query is not None else base.query,
        headers=headers,
        body=body if body is not None else base.body,
    )
    return Mutation(request, kind, target, invalid)


# --------------------------------------------------------------------------- parameters


def _parameter_mutations(
    op: Operation, base: PlannedRequest, *, keep_path: bool = False
) -> Iterator[Mutation]:
    """Wrong type, hostile string, overlong string: one of each, on query and path params
    (query params only with ``keep_path``)."""
    where = ("query",) if keep_path else ("query", "path")
    params = [p for p in op.parameters if p.location in where]
    typed = next((p for p in params if _scalar_type(p.schema) in ("integer", "number")), None)
    if typed is not None:
        yield _with_param(op, base, typed, WRONG_TYPE_STRING, "wrong-type", invalid=True)
    strings = [p for p in params if _scalar_type(p.schema) == "string"]
    if strings:
        target = strings[0]
        yield _with_param(
            op,
            base,
            target,
            HOSTILE_STRING,
            "quote",
            invalid=_forbids(target.schema, HOSTILE_STRING),
        )
        long = "a" * OVERLONG_LENGTH
        yield _with_param(op, base, target, long, "overlong", invalid=_forbids(target.schema, long))


def _missing_parameters(op: Operation, base: PlannedRequest) -> Iterator[Mutation]:
    """A required query parameter left out, and a required header left out (one of each):
    frameworks that read them by hand (``request.headers["X-Tenant"]``, ``req.query.q.trim()``)
    answer 500 instead of 400."""
    for location in ("query", "header"):
        param = next(
            (
                p
                for p in op.parameters
                if p.location == location
                and p.required
                and any(_named(p.name, n) for n in _sent_names(base, location))
            ),
            None,
        )
        if param is None:
            continue
        target = f"{location}.{param.name}"
        if location == "query":
            query = tuple(q for q in base.query if q[0] != param.name)
            yield _mutation(base, "missing-required", target, True, query=query)
        else:
            headers = tuple(h for h in base.headers if not _named(h[0], param.name))
            yield Mutation(
                dataclasses.replace(base, headers=headers), "missing-required", target, True
            )


def _sent_names(base: PlannedRequest, location: str) -> list[str]:
    return [n for n, _ in (base.query if location == "query" else base.headers)]


def _named(a: str, b: str) -> bool:
    return a.lower() == b.lower()


_BAD_FORMAT: dict[str, str] = {
    "email": "specdiff-not-an-email",
    "uuid": "specdiff-not-a-uuid",
    "date": "2024-13-45",
    "date-time": "not-a-date-time",
    "uri": "not a uri",
    "ipv4": "999.999.999.999",
}
"""A value violating each format that real frameworks parse by hand (``date.fromisoformat``,
``uuid.UUID``, ``new URL``): a 500 where a 400 was due."""


def _format_mutations(
    op: Operation, base: PlannedRequest, *, keep_path: bool = False
) -> Iterator[Mutation]:
    """The first parameter sent with one of :data:`_BAD_FORMAT`'s formats gets a value that
    violates it (not counted by SD503: many servers rightly treat ``format`` as a hint)."""
    for param in _sent_params(op, base, keep_path=keep_path):
        fmt = _format(param.schema)
        if fmt in _BAD_FORMAT:
            yield _with_param(op, base, param, _BAD_FORMAT[fmt], "bad-format", invalid=False)
            return


def _sent_params(
    op: Operation, base: PlannedRequest, *, keep_path: bool = False
) -> list[Parameter]:
    """The query and path parameters the baseline carries (query only with ``keep_path``)."""
    sent = {n for n, _ in base.query}
    return [
        p
        for p in op.parameters
        if (p.location == "path" and not keep_path) or (p.location == "query" and p.name in sent)
    ]


def _format(schema: Schema | None) -> str | None:
    if schema is None:
        return None
    fmt = schema.resolved().get("format")
    return fmt if isinstance(fmt, str) else None


OVERFLOW = 2**63
"""One past the largest signed 64-bit integer: the classic database-layer overflow."""
HUGE = 10**30


def _number_edges(
    op: Operation, base: PlannedRequest, *, keep_path: bool = False
) -> Iterator[Mutation]:
    """Numeric edges on the first integer or number parameter sent: 2^63 and 10^30 (overflow
    in the database or runtime layer), below ``minimum`` (or negative), zero, above
    ``maximum``, and a fraction for an integer. SD503 counts those the schema forbids."""
    param = next(
        (
            p
            for p in _sent_params(op, base, keep_path=keep_path)
            if _scalar_type(p.schema) in ("integer", "number")
        ),
        None,
    )
    if param is None or param.schema is None:
        return
    node = param.schema.resolved()
    integer = _scalar_type(param.schema) == "integer"
    low, high = _bound(node.get("minimum")), _bound(node.get("maximum"))
    values: list[int | float] = [OVERFLOW, HUGE]
    values.append(low - 1 if low is not None else -1)
    if low is None or low - 1 != 0:
        values.append(0)
    if high is not None:
        values.append(high + 1)
    if integer:
        values.append(1.5)
    for value in dict.fromkeys(values):
        yield _with_param(
            op,
            base,
            param,
            _number_text(value),
            "number-edge",
            invalid=_forbids_number(node, value, integer=integer),
            label=_number_text(value),
        )


def _bound(value: Any) -> int | float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _number_text(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


_FORMAT_LIMITS = {"int32": 2**31 - 1, "int64": 2**63 - 1}


def _forbids_number(node: Schema, value: int | float, *, integer: bool) -> bool:
    """The schema certainly rejects ``value``: outside minimum/maximum (exclusive ones too),
    outside the range of an ``int32``/``int64`` format, or a fraction for an integer."""
    if integer and not float(value).is_integer():
        return True
    low, high = _bound(node.get("minimum")), _bound(node.get("maximum"))
    if (low is not None and value < low) or (high is not None and value > high):
        return True
    ex_low, ex_high = _bound(node.get("exclusiveMinimum")), _bound(node.get("exclusiveMaximum"))
    if (ex_low is not None and value <= ex_low) or (ex_high is not None and value >= ex_high):
        return True
    limit = _FORMAT_LIMITS.get(str(node.get("format")))
    return limit is not None and abs(value) > limit


def _form_mutations(op: Operation, base: PlannedRequest) -> Iterator[Mutation]:
    """A form or multipart body built correctly but for one required field left out (a file
    part, typically): the request is invalid only where the variant says."""
    if op.request_body is None or base.body is None:
        return
    sent = next((v for k, v in base.headers if k.lower() == "content-type"), "")
    mt = sent.split(";", 1)[0].strip().lower()
    media = next(
        (m for m in op.request_body.content if m.media_type.split(";")[0].strip().lower() == mt),
        None,
    )
    if media is None or media.schema is None:
        return
    if mt not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return
    value = sample_value(media.schema)
    required = [n for n in _object_required(media.schema) if isinstance(value, dict) and n in value]
    if not required:
        return
    rest = {k: v for k, v in value.items() if k != required[0]}
    if mt == "multipart/form-data":
        body = multipart_body(rest, binary_fields(media.schema))
    else:
        body = urlencode({k: str(v) for k, v in rest.items()}).encode()
    yield _mutation(base, "missing-required", f"body.{required[0]}", True, body=body)


def _with_param(
    op: Operation,
    base: PlannedRequest,
    param: Parameter,
    value: str,
    kind: MutationKind,
    *,
    invalid: bool,
    label: str = "",
) -> Mutation:
    target = f"{param.location}.{param.name}" + (f"={label}" if label else "")
    if param.location == "query":
        query = (*(q for q in base.query if q[0] != param.name), (param.name, value))
        return _mutation(base, kind, target, invalid, query=query)
    return _mutation(
        base, kind, target, invalid, path=_replace_path_value(op.path, base.path, param.name, value)
    )


def _replace_path_value(template: str, concrete: str, name: str, value: str) -> str:
    """``/users/{id}`` filled as ``/users/7`` -> the same path with ``{id}`` = ``value``."""
    names = re.findall(r"\{([^}]+)\}", template)
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]*)", re.escape(template)) + "$"
    match = re.match(pattern, concrete)
    values = dict(zip(names, match.groups(), strict=True)) if match else {}
    values[name] = quote(value, safe="")
    path = template
    for n in names:
        path = path.replace("{" + n + "}", values.get(n, WRONG_TYPE_STRING))
    return path


def _scalar_type(schema: Schema | None) -> str | None:
    if schema is None:
        return None
    types = schema.resolved().types - {"null"}
    return next(iter(types)) if len(types) == 1 else None


def _forbids(schema: Schema | None, value: str) -> bool:
    """The schema certainly rejects the string ``value`` (enum, maxLength, pattern)."""
    if schema is None:
        return False
    s = schema.resolved()
    enum = s.get("enum")
    if isinstance(enum, list) and value not in enum:
        return True
    max_length = s.get("maxLength")
    if isinstance(max_length, int) and len(value) > max_length:
        return True
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        try:
            return re.search(pattern, value) is None
        except re.error:
            return False
    return False


# --------------------------------------------------------------------------- bodies


def _json_body(op: Operation, base: PlannedRequest) -> tuple[str | None, Schema | None, Any]:
    """The JSON media type, schema and baseline value of the operation's body, if it has one."""
    if op.request_body is None or base.body is None:
        return None, None, None
    sent = next((v for k, v in base.headers if k.lower() == "content-type"), "")
    for media in op.request_body.content:
        mt = media.media_type.split(";", 1)[0].strip().lower()
        if mt == sent.split(";", 1)[0].strip().lower() and (
            mt == "application/json" or mt.endswith("+json")
        ):
            try:
                return media.media_type, media.schema, json.loads(base.body)
            except ValueError:
                return media.media_type, media.schema, None
    return None, None, None


def _body_mutations(
    base: PlannedRequest, media: str, schema: Schema | None, value: Any
) -> Iterator[Mutation]:
    if schema is None or not isinstance(value, dict):
        return
    props = _object_properties(schema)
    required = _object_required(schema)
    present = [name for name in value if name in props]
    typed = next(
        (n for n in present if _scalar_type(props[n]) in ("integer", "number", "boolean")), None
    )
    strings = [n for n in present if _scalar_type(props[n]) == "string"]
    if typed is not None:
        yield _body(
            base, media, "wrong-type", f"body.{typed}", {**value, typed: WRONG_TYPE_STRING}, True
        )
    elif strings:
        name = strings[0]
        yield _body(
            base, media, "wrong-type", f"body.{name}", {**value, name: WRONG_TYPE_NUMBER}, True
        )
    if strings:
        name = strings[0]
        yield _body(
            base,
            media,
            "quote",
            f"body.{name}",
            {**value, name: HOSTILE_STRING},
            _forbids(props[name], HOSTILE_STRING),
        )
    missing = next((n for n in required if n in value), None)
    if missing is not None:
        rest = {k: v for k, v in value.items() if k != missing}
        yield _body(base, media, "missing-required", f"body.{missing}", rest, True)


def _body(
    base: PlannedRequest, media: str, kind: MutationKind, target: str, value: Any, invalid: bool
) -> Mutation:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return _mutation(base, kind, target, invalid, body=raw, media=media)


def _object_properties(schema: Schema) -> dict[str, Schema]:
    s = schema.resolved()
    props = dict(s.properties)
    for branch in s.all_of:
        props.update(_object_properties(branch))
    return props


def _object_required(schema: Schema) -> tuple[str, ...]:
    s = schema.resolved()
    names = list(s.required)
    for branch in s.all_of:
        names += [n for n in _object_required(branch) if n not in names]
    return tuple(names)


# --------------------------------------------------------------------------- canaries


def canary(*parts: str) -> str:
    """A unique, recognisable fake credential: ``sdcanary`` and 24 hex digits from ``parts``."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    return f"sdcanary{digest}"


_CANARY = re.compile(r"sdcanary[0-9a-f]{24}")


def canaries_sent(headers: Sequence[tuple[str, str]], query: Sequence[tuple[str, str]]) -> set[str]:
    """Every canary value in a request's headers and query (Basic pairs decoded too)."""
    found: set[str] = set()
    for name, value in (*headers, *query):
        found.update(_CANARY.findall(value))
        if name.lower() == "authorization" and value[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(value[6:].strip(), validate=True).decode("latin-1")
            except ValueError:
                continue
            found.update(_CANARY.findall(decoded))
    return found


def canary_request(
    api: ApiModel, op: Operation, baseline: PlannedRequest, *, probe: str
) -> tuple[PlannedRequest, str] | None:
    """``baseline`` carrying a canary credential of the operation's first scheme, and the canary.

    None when the operation is not secured or its scheme cannot carry a fake credential
    (mutual TLS). The user's own credentials are never attached (``AuthMode.CUSTOM``).
    """
    if not op.secured:
        return None
    for name, _scopes in op.security[0]:
        scheme = api.security_schemes.get(name)
        if scheme is None:
            continue
        value = canary(op.key, name)
        placed = _place_credential(baseline, scheme, value)
        if placed is not None:
            return dataclasses.replace(
                placed,
                auth=AuthMode.CUSTOM,
                probe=probe,
                variant=Variant(VariantKind.CANARY_CREDENTIAL),
                credential=value,
            ), value
    return None


def _place_credential(
    base: PlannedRequest, scheme: SecurityScheme, value: str
) -> PlannedRequest | None:
    if scheme.type == "http" and scheme.scheme == "basic":
        pair = base64.b64encode(f"{value}:{value}".encode()).decode()
        return dataclasses.replace(
            base, headers=(*base.headers, ("Authorization", f"Basic {pair}"))
        )
    if scheme.type in ("http", "oauth2", "openIdConnect"):
        return dataclasses.replace(
            base, headers=(*base.headers, ("Authorization", f"Bearer {value}"))
        )
    if scheme.type == "apiKey" and scheme.param_name:
        if scheme.param_location == "query":
            return dataclasses.replace(base, query=(*base.query, (scheme.param_name, value)))
        if scheme.param_location == "cookie":
            return dataclasses.replace(
                base, headers=(*base.headers, ("Cookie", f"{scheme.param_name}={value}"))
            )
        return dataclasses.replace(base, headers=(*base.headers, (scheme.param_name, value)))
    return None


def canary_plan(op: Operation, ctx: ProbeContext, code: str) -> tuple[PlannedRequest, ...]:
    """The one canary-credential request SD404 and SD505 share (sent once, judged by both)."""
    if ctx.baseline is None or not (op.safe or ctx.options.unsafe):
        return ()
    planned = canary_request(ctx.api, op, ctx.baseline, probe=code)
    return (planned[0],) if planned is not None else ()
