"""A valid, deterministic request for each operation.

Values come, in order of preference, from ``--param`` overrides, ids harvested from earlier 2xx
responses (a list endpoint's items feed the item endpoint's ``{id}``), the document's examples,
defaults, enums and formats, and finally the type. The same document gives the same requests.
Credentials are never synthesized: parameters that carry a security scheme are left to the runner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from specdiff.model import ApiModel, Operation, Parameter, PlannedRequest
from specdiff.schema import Schema

__all__ = ["IdHarvest", "baseline_request", "harvested_params", "sample_value"]

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

_ID_KEY = re.compile(r"(^|_)(id|uuid|slug|key)$|[a-z0-9](Id|Uuid)$")
_COLLECTION_KEYS = ("items", "data", "results", "records", "content", "values", "entries")


class IdHarvest:
    """Identifiers seen in 2xx responses, to reach real objects on item endpoints."""

    def __init__(self) -> None:
        self._by_path: dict[str, dict[str, list[Any]]] = {}
        self._global: dict[str, list[Any]] = {}
        self._origin: dict[tuple[str, str, Any], str] = {}
        """(path, field, value) -> key of the operation at that path whose answer revealed the
        value first."""

    def record(self, op: Operation, body: Any) -> None:
        """Remember the id-like fields of the objects in ``body``: the first two distinct values
        of each (the second is a spare object for destructive variants)."""
        found = self._by_path.setdefault(op.path, {})
        for obj in _objects(body):
            for key, value in obj.items():
                if (
                    _ID_KEY.search(key)
                    and isinstance(value, (str, int))
                    and not isinstance(value, bool)
                ):
                    for seen in (found.setdefault(key, []), self._global.setdefault(key, [])):
                        if len(seen) < _KEPT and value not in seen:
                            seen.append(value)
                    if value in found[key]:
                        self._origin.setdefault((op.path, key, value), op.key)

    def lookup(self, op: Operation, param: Parameter, pick: int = 0) -> Any:
        """A harvested value for a path parameter, from its parent collection first; ``pick=1``
        asks for a second object (None when only one was seen)."""
        return self._find(op, param, pick)[0]

    def origin(self, op: Operation, param: Parameter) -> str | None:
        """The key of the parent collection's operation (``GET /orders``) whose items revealed
        the value :meth:`lookup` gives ``param``; None when the value came from elsewhere (an
        id another object merely refers to, such as an order's ``product_id``)."""
        return self._find(op, param, 0)[1]

    def _find(self, op: Operation, param: Parameter, pick: int) -> tuple[Any, str | None]:
        template = op.path
        marker = "{" + param.name + "}"
        if marker in template:
            parent = template.split(marker, 1)[0].rstrip("/")
            seen = self._by_path.get(parent, {})
            if param.name in seen:
                return self._picked(parent, param.name, seen[param.name], pick)
            resource = parent.rsplit("/", 1)[-1]
            singular = resource[:-1] if resource.endswith("s") else resource
            aliases = {"id", f"{singular}_id", f"{singular}Id", f"{resource}_id"}
            if param.name in aliases and "id" in seen:
                return self._picked(parent, "id", seen["id"], pick)
        return self._picked(None, param.name, self._global.get(param.name, []), pick)

    def _picked(
        self, path: str | None, key: str, values: list[Any], pick: int
    ) -> tuple[Any, str | None]:
        """The ``pick``-th value, and its origin when it came from ``path`` (None: the global
        pool, whose values are any object's references)."""
        value = _nth(values, pick)
        if value is None or path is None:
            return value, None
        return value, self._origin.get((path, key, value))


_KEPT = 2


def _nth(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _objects(body: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(body, list):
        for item in body[:50]:
            if isinstance(item, Mapping):
                yield item
    elif isinstance(body, Mapping):
        yield body
        for key in _COLLECTION_KEYS:
            if isinstance(body.get(key), list):
                yield from _objects(body[key])


# --------------------------------------------------------------------------- requests


def _credential_params(api: ApiModel) -> set[tuple[str, str]]:
    """(location, lower name) of parameters that carry a declared security scheme."""
    creds = {("header", "authorization")}
    for scheme in api.security_schemes.values():
        if scheme.type == "apiKey" and scheme.param_name and scheme.param_location:
            creds.add((scheme.param_location, scheme.param_name.lower()))
    return creds


def _param_value(
    op: Operation,
    param: Parameter,
    overrides: Mapping[str, str],
    harvest: IdHarvest | None,
    pick: int = 0,
) -> Any:
    if param.name in overrides:
        return overrides[param.name]
    if param.location == "path" and harvest is not None:
        harvested = harvest.lookup(op, param, pick)
        if harvested is None and pick:
            harvested = harvest.lookup(op, param)
        if harvested is not None:
            return harvested
    if param.example is not None:
        return param.example
    return sample_value(param.schema)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


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
    skip = _credential_params(api)
    path = op.path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    for param in op.parameters:
        if (param.location, param.name.lower()) in skip:
            continue
        if not param.required and param.name not in overrides:
            continue
        text = _text(_param_value(op, param, overrides, harvest, pick))
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
        body = _encode(media.media_type, value)
        headers.append(("Content-Type", media.media_type))
    headers.append(("Accept", "application/json, */*;q=0.5"))
    return PlannedRequest(op.method, path, tuple(query), tuple(headers), body)


def harvested_params(
    op: Operation, *, overrides: Mapping[str, str] | None = None, harvest: IdHarvest
) -> tuple[tuple[str, Any, str], ...]:
    """``(parameter, value, origin)`` for each path parameter of ``op``'s baseline whose value
    was harvested, ``origin`` naming the operation whose answer revealed it (SD212 asks that
    operation again as identity B, to learn whether B sees the object too)."""
    overrides = overrides or {}
    found: list[tuple[str, Any, str]] = []
    for param in op.parameters:
        if param.location != "path" or param.name in overrides:
            continue
        value, origin = harvest.lookup(op, param), harvest.origin(op, param)
        if value is not None and origin is not None:
            found.append((param.name, value, origin))
    return tuple(found)


def _pick_media(op: Operation) -> Any:
    assert op.request_body is not None
    content = op.request_body.content
    for wanted in ("application/json", "+json", "application/x-www-form-urlencoded"):
        for media in content:
            if media.media_type == wanted or media.media_type.endswith(wanted):
                return media
    return content[0]


def _encode(media_type: str, value: Any) -> bytes:
    if media_type == "application/x-www-form-urlencoded" and isinstance(value, Mapping):
        return urlencode({k: _text(v) for k, v in value.items()}).encode()
    if "json" in media_type or isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":")).encode()
    return _text(value).encode()
