"""A valid, deterministic request for each operation.

Values come, in order of preference, from ``--param`` overrides, identifiers harvested from
identity A's token claims and from earlier 2xx answers (a listing's items, a ``/me`` answer,
nested objects: see :class:`IdHarvest`), the document's examples, defaults, enums and formats,
and finally the type. When the first choice reaches no object, :func:`baseline_attempts` gives
the next ones. The same document and answers give the same requests.
Credentials are never synthesized: parameters that carry a security scheme are left to the runner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from specdiff.jwtkit import parse_jwt
from specdiff.model import (
    ORIGIN_PARAM,
    ORIGIN_TOKEN,
    ApiModel,
    Operation,
    Parameter,
    PlannedRequest,
)
from specdiff.schema import Schema

__all__ = [
    "MULTIPART_BOUNDARY",
    "PARAM",
    "TOKEN",
    "Candidate",
    "Fed",
    "IdHarvest",
    "baseline_attempts",
    "baseline_request",
    "binary_fields",
    "harvested_params",
    "multipart_body",
    "same_principal",
    "sample_value",
    "words",
]

_MAX_DEPTH = 6
_FORMAT_SAMPLES: dict[str, Any] = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00Z",
    "email": "specdiff@example.com",
    "idn-email": "specdiff@example.com",
    "uri": "https://example.com/specdiff",
    "url": "https://example.com/specdiff",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "password": "Specdiff-Passw0rd!",
    "byte": "c3BlY2RpZmY=",
    "binary": "specdiff",
}


def sample_value(
    schema: Schema | None, *, for_request: bool = True, _depth: int = 0, _chain: int = 0
) -> Any:
    """A value valid for ``schema``: example, default, enum, const, then format and type."""
    if schema is None:
        return "specdiff"
    s = schema.resolved()
    node = s.node
    if not isinstance(node, Mapping) or _depth > _MAX_DEPTH or _chain > _MAX_DEPTH:
        return "specdiff" if node is not False else None
    for key in ("example", "default", "const"):
        if key in node and node[key] is not None:
            return node[key]
    examples = node.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    enum = node.get("enum")
    if isinstance(enum, list):
        for choice in enum:
            if choice is not None:
                return choice
    if s.all_of:
        merged: dict[str, Any] = {}
        other: Any = None
        for branch in s.all_of:
            # allOf parts are the same object: same depth, so optional top-level fields count
            value = sample_value(branch, for_request=for_request, _depth=_depth, _chain=_chain + 1)
            if isinstance(value, dict):
                merged.update(value)
            else:
                other = value
        own = _object_sample(s, for_request, _depth) if s.properties else {}
        merged.update(own)
        return merged if merged or other is None else other
    for branch in s.one_of or s.any_of:
        return sample_value(branch, for_request=for_request, _depth=_depth + 1)
    types = s.types - {"null"}
    kind = next(
        (t for t in ("object", "array", "string", "integer", "number", "boolean") if t in types),
        None,
    )
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    if kind == "object":
        return _object_sample(s, for_request, _depth)
    if kind == "array":
        item = (
            sample_value(s.items, for_request=for_request, _depth=_depth + 1)
            if s.items
            else "specdiff"
        )
        min_items = node.get("minItems")
        count = max(1, min_items) if isinstance(min_items, int) else 1
        return [item] * count
    if kind in ("integer", "number"):
        return _number_sample(node, integer=kind == "integer")
    if kind == "boolean":
        return True
    return _string_sample(node)


def _object_sample(s: Schema, for_request: bool, depth: int) -> dict[str, Any]:
    required = set(s.required)
    result: dict[str, Any] = {}
    for name, prop in s.properties.items():
        if for_request and prop.read_only:
            continue
        if not for_request and prop.write_only:
            continue
        # all fields at the top level, only required ones deeper: valid and small
        if name in required or depth == 0:
            result[name] = sample_value(prop, for_request=for_request, _depth=depth + 1)
    return result


def _number_sample(node: Mapping[str, Any], *, integer: bool) -> int | float:
    low = node.get("minimum")
    if not isinstance(low, (int, float)) or isinstance(low, bool):
        low = (
            node.get("exclusiveMinimum")
            if isinstance(node.get("exclusiveMinimum"), (int, float))
            else None
        )
        low = low + 1 if isinstance(low, (int, float)) and not isinstance(low, bool) else 1
    high = node.get("maximum")
    value: int | float = max(low, 1)
    if isinstance(high, (int, float)) and not isinstance(high, bool) and value > high:
        value = high
    multiple = node.get("multipleOf")
    if isinstance(multiple, (int, float)) and multiple > 0 and not isinstance(multiple, bool):
        value = multiple * max(1, round(value / multiple))
    return int(value) if integer else value


def _string_sample(node: Mapping[str, Any]) -> str:
    fmt = node.get("format")
    text = str(_FORMAT_SAMPLES.get(fmt, "specdiff")) if isinstance(fmt, str) else "specdiff"
    min_len = node.get("minLength")
    max_len = node.get("maxLength")
    if isinstance(min_len, int) and len(text) < min_len:
        text = text + "x" * (min_len - len(text))
    if isinstance(max_len, int) and 0 <= max_len < len(text):
        text = text[:max_len]
    return text


# --------------------------------------------------------------------------- harvested ids

_IDENT_WORDS = frozenset(
    {
        "id",
        "uuid",
        "guid",
        "slug",
        "key",
        "number",
        "code",
        "username",
        "login",
        "handle",
        "email",
        "sku",
        "ref",
        "name",
    }
)
"""Last words of field and parameter names that identify an object (``order_number``)."""
_SPECIFIC_WORDS = frozenset({"slug", "username", "login", "handle", "email", "sku"})
"""Identifiers whose name alone says what they are: a ``slug`` is a slug in any object, but an
``id`` is only the object's own id inside that object (a user's ``id`` is no note's id)."""
_COLLECTION_KEYS = ("items", "data", "results", "records", "content", "values", "entries")
_MAX_WALK = 2000
"""Scalars looked at per answer: a huge listing does not cost more than a few pages."""
_KEPT = 4
"""Values kept per (field, context): the baseline's, a spare object's, a few to retry with."""
_CLAIM_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sub": (("id",), ("username",)),
    "uid": (("id",),),
    "id": (("id",),),
    "user_id": (("user", "id"),),
    "userid": (("user", "id"),),
    "username": (("username",),),
    "preferred_username": (("username",),),
    "email": (("email",),),
}
"""Identity claims of a JWT, as the fields of a ``user`` object they stand for."""
_SELF_WORDS = frozenset({"me", "self", "whoami", "profile", "account", "current"})
"""Path segments of the caller's own user (``GET /me``, ``GET /account``)."""
TOKEN = ORIGIN_TOKEN
"""Origin of a value read from identity A's own token claims."""
PARAM = ORIGIN_PARAM
"""Origin of a value the user named with ``--param``: by the user's word, one of A's objects."""


def words(name: str) -> tuple[str, ...]:
    """``orderNumber``, ``order_number``, ``order-number`` -> ``("order", "number")``, each word
    singular and lower case."""
    found = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return tuple(_singular(w.lower()) for w in found)


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _scalar_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""


def _identifying(name: str) -> bool:
    parts = words(name)
    return bool(parts) and parts[-1] in _IDENT_WORDS


@dataclass(frozen=True, slots=True)
class _Seen:
    field: tuple[str, ...]
    """The field's name as :func:`words`."""
    context: frozenset[str]
    """Which objects the field sits in: the key that holds them (``documents`` -> document) or,
    at the top of an answer, the static segments of the operation's path."""
    value: str | int
    origin: str
    """The operation whose answer showed it, or :data:`TOKEN`."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A value for a parameter, and where it came from."""

    value: str | int
    origin: str | None
    """The operation whose answer showed the value as an object's own identifier (``GET
    /orders`` for an order's ``number``), :data:`TOKEN` for A's own token claims; None for a
    mere reference (an order's ``product_id`` says nothing about whose product it is)."""


class IdHarvest:
    """Identifiers seen in 2xx answers and in identity A's token, to reach real objects.

    Every 2xx JSON answer is walked at any depth; a field whose name identifies an object
    (``id``, ``slug``, ``orderNumber`` ...) is kept with the context it was seen in. A parameter
    is then matched by the usual conventions: ``userId`` <- ``user_id``, or ``id`` inside a
    ``users`` object or a ``/users/me`` answer; ``orderNumber`` <- ``number`` inside orders;
    ``{slug}`` <- ``slug``; ``{username}`` <- the token's ``username``/``sub`` claim.
    """

    def __init__(self) -> None:
        self._seen: dict[str, list[_Seen]] = {}
        """By the last word of the field's name (``number`` for ``orderNumber``): a parameter
        only ever matches fields that end like it."""
        self._known: set[tuple[tuple[str, ...], frozenset[str], str | int]] = set()
        self._count: dict[tuple[tuple[str, ...], frozenset[str]], int] = {}
        self._foreign: set[str] = set()
        """Identity values of B's token: a value both tokens carry is nobody's own."""
        self._linked: dict[tuple[str, str], list[tuple[str | int, str]]] = {}
        """(target operationId, parameter) -> (value, operation whose answer's OpenAPI link
        gave it), in the order seen."""

    def record(self, op: Operation, body: Any) -> None:
        """Remember the identifying fields of ``body`` (a 2xx JSON answer to ``op``)."""
        top = {_singular(seg.lower()) for seg in op.path.split("/") if seg and "{" not in seg}
        if top & _SELF_WORDS:  # /me, /profile, /account: the caller's own user object
            top.add("user")
        self._walk(body, frozenset(top), op.key, 0, [_MAX_WALK])
        self._follow_links(op, body)

    def _follow_links(self, op: Operation, body: Any) -> None:
        """The document's own word: a 2xx response's ``links`` say which value of the body
        fills which parameter of which operation (``$response.body#/id`` -> ``getUser.id``)."""
        for response in op.responses:
            if not response.status.startswith("2"):
                continue
            for link in response.links:
                for param, expression in link.parameters:
                    value = _pointer(body, expression.partition("#")[2])
                    seen = self._linked.setdefault((link.operation_id, param), [])
                    if (
                        _scalar_id(value)
                        and len(seen) < _KEPT
                        and value not in (v for v, _ in seen)
                    ):
                        seen.append((value, op.key))

    def record_token(self, token: str | None, token_b: str | None = None) -> None:
        """Remember the identity claims of A's JWT (``sub``, ``user_id``, ``uid``, ``id``,
        ``username``, ``email``) as a ``user`` object; B's claims mark the values both carry."""
        parsed_b = parse_jwt(token_b)
        if parsed_b is not None:
            self._foreign |= {str(v) for k, v in parsed_b.claims.items() if k in _CLAIM_FIELDS}
        parsed = parse_jwt(token)
        if parsed is None:
            return
        for claim, fields in _CLAIM_FIELDS.items():
            value = parsed.claims.get(claim)
            if isinstance(value, (str, int)) and _scalar_id(value):
                for field in fields:
                    self._add(_Seen(field, frozenset({"user"}), value, TOKEN))

    def _walk(
        self, body: Any, context: frozenset[str], origin: str, depth: int, budget: list[int]
    ) -> None:
        if depth > _MAX_DEPTH or budget[0] <= 0:
            return
        if isinstance(body, list):
            for item in body[:50]:
                self._walk(item, context, origin, depth + 1, budget)
            return
        if not isinstance(body, Mapping):
            return
        for key, value in body.items():
            budget[0] -= 1
            if budget[0] <= 0:
                return
            if not isinstance(key, str):
                continue
            if isinstance(value, (Mapping, list)):
                inner = context if key in _COLLECTION_KEYS else frozenset(words(key)[-1:])
                self._walk(value, inner, origin, depth + 1, budget)
            elif _scalar_id(value) and _identifying(key):
                self._add(_Seen(words(key), context, value, origin))

    def _add(self, seen: _Seen) -> None:
        known = (seen.field, seen.context, seen.value)
        group = (seen.field, seen.context)
        if known in self._known or self._count.get(group, 0) >= _KEPT:
            return
        self._known.add(known)
        self._count[group] = self._count.get(group, 0) + 1
        self._seen.setdefault(seen.field[-1], []).append(seen)

    def candidates(self, op: Operation, param: Parameter) -> list[Candidate]:
        """Harvested values for ``param`` of ``op``, best first: an object's own identifier
        (or A's identity claim) before a reference to one; at most a few."""
        wanted = words(param.name)
        if not wanted:
            return []
        resource = _resource(op, param)
        ranked: list[tuple[int, int, Candidate]] = []
        taken: set[str | int] = set()
        for order, (value, origin) in enumerate(
            self._linked.get((op.operation_id or "", param.name), [])
        ):
            if _fits(param.schema, value):
                taken.add(value)
                ranked.append((-1, order, Candidate(value, origin)))
        for order, seen in enumerate(self._seen.get(wanted[-1], ())):
            rank = _match(wanted, resource, seen)
            if rank is None or seen.value in taken or not _fits(param.schema, seen.value):
                continue
            if seen.origin == TOKEN:  # A's own identity names A's own objects
                rank = 0
            taken.add(seen.value)
            own = rank == 0 and not (seen.origin == TOKEN and str(seen.value) in self._foreign)
            ranked.append((rank, order, Candidate(seen.value, seen.origin if own else None)))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [c for _, _, c in ranked[:_KEPT]]

    def lookup(self, op: Operation, param: Parameter, pick: int = 0) -> Any:
        """A harvested value for ``param``; ``pick=1`` asks for a second object (None when only
        one was seen)."""
        found = self.candidates(op, param)
        return found[pick].value if pick < len(found) else None

    def origin(self, op: Operation, param: Parameter) -> str | None:
        """Where the value :meth:`lookup` gives ``param`` came from as an object's own
        identifier (see :attr:`Candidate.origin`)."""
        found = self.candidates(op, param)
        return found[0].origin if found else None


def _pointer(body: Any, pointer: str) -> Any:
    """The value at JSON pointer ``pointer`` (``/items/0/id``) of ``body``, or None."""
    node = body
    for raw in pointer.split("/")[1:] if pointer else ():
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _fits(schema: Schema | None, value: Any) -> bool:
    """A numeric parameter takes only numbers (a ``sub`` of ``alice`` is no ``userId``)."""
    types = schema.resolved().types if schema is not None else frozenset()
    if types & {"integer", "number"} and not types & {"string"}:
        return isinstance(value, int) or str(value).lstrip("-").isdigit()
    return True


def _resource(op: Operation, param: Parameter) -> str | None:
    """The collection a parameter names an object of: the static path segment before
    ``{param}`` (``/documents/{slug}`` -> document), or for a query parameter the last one."""
    segments = op.path.split("/")
    marker = "{" + param.name + "}"
    if marker in segments:
        segments = segments[: segments.index(marker)]
    static = [s for s in segments if s and "{" not in s]
    return _singular(static[-1].lower()) if static else None


def _match(wanted: tuple[str, ...], resource: str | None, seen: _Seen) -> int | None:
    """0: ``seen`` is the very object's identifier; 1: a reference to one; None: no match."""
    prefix = wanted[:-1]
    in_context = (resource is not None and resource in seen.context) or (
        bool(prefix) and prefix[-1] in seen.context
    )
    if seen.field == wanted:
        if in_context:
            return 0
        specific = wanted[-1] in _SPECIFIC_WORDS
        return 1 if specific or len(wanted) > 1 else None
    if prefix and seen.field == wanted[-1:] and prefix[-1] in seen.context:
        return 0
    return None


# --------------------------------------------------------------------------- requests


def _credential_params(api: ApiModel) -> set[tuple[str, str]]:
    """(location, lower name) of parameters that carry a declared security scheme."""
    creds = {("header", "authorization")}
    for scheme in api.security_schemes.values():
        if scheme.type == "apiKey" and scheme.param_name and scheme.param_location:
            creds.add((scheme.param_location, scheme.param_name.lower()))
    return creds


def _harvestable(param: Parameter) -> bool:
    """Path parameters, and query parameters named like an identifier (``?report_id=``)."""
    return param.location == "path" or (param.location == "query" and _identifying(param.name))


def _param_value(
    op: Operation,
    param: Parameter,
    overrides: Mapping[str, str],
    harvest: IdHarvest | None,
    pick: int = 0,
) -> Any:
    if param.name in overrides:
        return overrides[param.name]
    if _harvestable(param) and harvest is not None:
        harvested = harvest.lookup(op, param, pick)
        if harvested is None and pick:
            harvested = harvest.lookup(op, param)
        if harvested is not None:
            return harvested
    return _synthesized(param)


def _synthesized(param: Parameter) -> Any:
    if param.example is not None:
        return param.example
    return sample_value(param.schema)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


Fed = tuple[tuple[str, Any, str], ...]
"""``(parameter, value, origin)`` of a baseline's identifiers whose owner is known: harvested as
an object's own identifier from an answer to A (origin: that operation's key), read from A's
token (:data:`TOKEN`) or named by the user (:data:`PARAM`)."""


def baseline_request(
    api: ApiModel,
    op: Operation,
    *,
    overrides: Mapping[str, str] | None = None,
    harvest: IdHarvest | None = None,
    pick: int = 0,
) -> PlannedRequest:
    """The valid request for ``op`` that the user's credentials will carry.

    ``pick=1`` aims path parameters at the second harvested object where there is one.
    """
    overrides = overrides or {}
    values = {
        p.name: _param_value(op, p, overrides, harvest, pick)
        for p in op.parameters
        if p.required or p.name in overrides
    }
    return _request(api, op, values)


def baseline_attempts(
    api: ApiModel,
    op: Operation,
    *,
    overrides: Mapping[str, str] | None = None,
    harvest: IdHarvest,
    limit: int = 4,
) -> list[tuple[PlannedRequest, Fed]]:
    """The baseline, then (at most ``limit`` in all) the same request aimed at other harvested
    objects, then at the synthesized values: when the first answers "no such object" (a 404
    for a placeholder id), the engine tries the next. Each with its :data:`Fed` identifiers."""
    overrides = overrides or {}
    choices: dict[str, list[Candidate]] = {}
    for param in op.parameters:
        if param.name in overrides or not (param.required and _harvestable(param)):
            continue
        found = harvest.candidates(op, param)
        synthesized = _synthesized(param)
        if all(c.value != synthesized for c in found):
            found.append(Candidate(synthesized, None))
        choices[param.name] = found
    attempts: list[tuple[PlannedRequest, Fed]] = []
    rounds = max((len(c) for c in choices.values()), default=1)
    for i in range(min(rounds, limit)):
        values: dict[str, Any] = {}
        fed: list[tuple[str, Any, str]] = []
        for param in op.parameters:
            if param.name in overrides:
                values[param.name] = overrides[param.name]
                if _harvestable(param):
                    fed.append((param.name, overrides[param.name], PARAM))
            elif param.name in choices:
                picked = choices[param.name][min(i, len(choices[param.name]) - 1)]
                values[param.name] = picked.value
                if picked.origin is not None:
                    fed.append((param.name, picked.value, picked.origin))
            elif param.required:
                values[param.name] = _param_value(op, param, overrides, None)
        request = _request(api, op, values)
        if all(request != earlier for earlier, _ in attempts):
            attempts.append((request, tuple(fed)))
    return attempts


def _request(api: ApiModel, op: Operation, values: Mapping[str, Any]) -> PlannedRequest:
    skip = _credential_params(api)
    path = op.path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    for param in op.parameters:
        if (param.location, param.name.lower()) in skip or param.name not in values:
            continue
        text = _text(values[param.name])
        if param.location == "path":
            path = path.replace("{" + param.name + "}", quote(text, safe=""))
        elif param.location == "query":
            query.append((param.name, text))
        elif param.location == "header":
            headers.append((param.name, text))
        else:
            cookies.append(f"{param.name}={quote(text, safe='')}")
    if cookies:
        headers.append(("Cookie", "; ".join(cookies)))
    body: bytes | None = None
    if op.request_body is not None and op.request_body.content:
        media = _pick_media(op)
        value = media.example if media.example is not None else sample_value(media.schema)
        content_type, body = _encode(media.media_type, value, media.schema)
        headers.append(("Content-Type", content_type))
    headers.append(("Accept", "application/json, */*;q=0.5"))
    return PlannedRequest(op.method, path, tuple(query), tuple(headers), body)


def harvested_params(
    op: Operation, *, overrides: Mapping[str, str] | None = None, harvest: IdHarvest
) -> Fed:
    """The :data:`Fed` identifiers of ``op``'s first baseline attempt (SD212 asks each origin
    operation again as identity B, to learn whether B sees the object too)."""
    overrides = overrides or {}
    found: list[tuple[str, Any, str]] = []
    for param in op.parameters:
        if not _harvestable(param):
            continue
        if param.name in overrides:
            found.append((param.name, overrides[param.name], PARAM))
            continue
        if not param.required:
            continue
        candidates = harvest.candidates(op, param)
        if candidates and candidates[0].origin is not None:
            found.append((param.name, candidates[0].value, candidates[0].origin))
    return tuple(found)


def same_principal(token_a: str | None, token_b: str | None) -> bool:
    """Both JWTs name the same identity (equal ``sub``, ``user_id``, ``uid`` or ``username``):
    B is then no different principal, whatever its credentials look like."""
    a, b = parse_jwt(token_a), parse_jwt(token_b)
    if a is None or b is None:
        return False
    return any(
        claim in a.claims and a.claims[claim] == b.claims.get(claim)
        for claim in ("sub", "user_id", "uid", "username")
    )


def _pick_media(op: Operation) -> Any:
    assert op.request_body is not None
    content = op.request_body.content
    for wanted in ("application/json", "+json", "application/x-www-form-urlencoded"):
        for media in content:
            if media.media_type == wanted or media.media_type.endswith(wanted):
                return media
    return content[0]


MULTIPART_BOUNDARY = "specdiff-boundary-7d3f9a61c2e5"
"""The boundary of every multipart body specdiff builds (deterministic, never in a value)."""
FILE_CONTENT = b"specdiff test file\n"


def _encode(media_type: str, value: Any, schema: Schema | None = None) -> tuple[str, bytes]:
    """``(Content-Type, body)`` for ``value`` sent as ``media_type``: JSON, a form, or a real
    multipart form (a boundary, one part per field, a file part for binary fields)."""
    mt = media_type.split(";", 1)[0].strip().lower()
    if mt == "application/x-www-form-urlencoded" and isinstance(value, Mapping):
        return media_type, urlencode({k: _text(v) for k, v in value.items()}).encode()
    if mt == "multipart/form-data":
        fields = value if isinstance(value, Mapping) else {}
        return (
            f"multipart/form-data; boundary={MULTIPART_BOUNDARY}",
            multipart_body(fields, binary_fields(schema)),
        )
    if "json" in mt or isinstance(value, (dict, list)):
        return media_type, json.dumps(value, separators=(",", ":")).encode()
    return media_type, _text(value).encode()


def binary_fields(schema: Schema | None) -> frozenset[str]:
    """Properties of a form schema that carry a file (``format: binary``/``base64``, or a
    ``contentMediaType``), directly or as the items of an array."""
    if schema is None:
        return frozenset()
    found: set[str] = set()
    for name, prop in schema.resolved().properties.items():
        node = prop.resolved()
        if node.items is not None and "array" in node.types:
            node = node.items.resolved()
        if node.get("format") in ("binary", "base64") or node.get("contentMediaType"):
            found.add(name)
    return frozenset(found)


def multipart_body(fields: Mapping[str, Any], files: frozenset[str]) -> bytes:
    """A multipart/form-data body with :data:`MULTIPART_BOUNDARY`: a file part (a small text
    file) for each name in ``files``, a plain part for every other field."""
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
        if name in files:
            head += '; filename="specdiff.txt"\r\nContent-Type: text/plain'
            content = FILE_CONTENT
        else:
            content = _text(value[0] if isinstance(value, list) and value else value).encode()
        parts.append(head.encode() + b"\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + f"--{MULTIPART_BOUNDARY}--\r\n".encode()
