"""Contract validation: does a JSON value obey the schema its document gives it?

openapi-core validates a whole response (it finds the path, the operation, the status and the
media type, then the body) but pays that search on every call: on GitHub's description about
20 ms per response and 60 ms per request once warm, and half a second for the first one (see
``bench/validation.py``). specdiff already knows the operation, status and media type of each
exchange, so the body check is done here with the same JSON Schema dialect openapi-core uses
(``openapi-schema-validator``: OAS 3.0 ``nullable``, ``readOnly``/``writeOnly``, OAS formats),
one validator per documented schema, built once, with ``$ref`` resolved lazily over the loaded
document through a :mod:`referencing` registry. openapi-core itself serves where its whole-request
view pays: proving synthesized requests valid (:func:`request_problems`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jsonschema.exceptions import SchemaError, ValidationError
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4, DRAFT202012

from specdiff._lines import one_line
from specdiff.model import PlannedRequest
from specdiff.schema import Resolver, Schema
from specdiff.spec import Spec

__all__ = ["REPORTED_KEYWORDS", "RequestContract", "Violation", "conforms", "violations"]

REPORTED_KEYWORDS = frozenset({"type", "required", "enum", "format", "const"})
"""What SD305 reports. Other keywords (``additionalProperties``: SD301's job; ``minLength``,
``pattern`` ...) are left out: the catalogue names these four (and ``const``, a one-value enum)."""

# Documents are addressed by a fake, deep file URL so that relative ``$ref``s between files
# (``schemas.yaml#/X``, ``../common.yaml#/Y``, up to eight levels up) map back to the loader's
# document ids, whatever the real paths are.
_BASE_DIR = "/specdiff" + "/d" * 8 + "/"
_ROOT_URI = "file://" + _BASE_DIR + "__root__"


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a value breaks its schema."""

    path: str
    """JSON path of the offending value, ``[*]`` for array elements: ``$.items[*].total``."""
    keyword: str
    """The schema keyword that failed: ``type``, ``required``, ``enum``, ``format``, ``const``."""
    message: str


def violations(schema: Schema, value: Any, openapi_version: str) -> list[Violation]:
    """Every reported violation of ``value`` against ``schema``, once per (path, keyword)."""
    resolver: Any = schema.resolver  # a Spec: hashable by identity
    validator = _validators(resolver, _dialect(openapi_version)).get(schema.where)
    found: dict[tuple[str, str], Violation] = {}
    for error in validator.iter_errors(value):
        leaf = _leaf(error)
        if leaf is None or leaf.validator not in REPORTED_KEYWORDS:
            continue
        v = Violation(_json_path(leaf), str(leaf.validator), _message(leaf))
        found.setdefault((v.path, v.keyword), v)
    return sorted(found.values(), key=lambda v: (v.path, v.keyword))


def conforms(schema: Schema, value: Any, openapi_version: str) -> bool:
    """``value`` satisfies every keyword of ``schema`` (``maximum``, ``pattern``, formats such
    as ``int32`` and ``uuid`` too, not only the reported ones). A schema that cannot be
    evaluated (a broken ``pattern``, a keyword of the wrong type) certainly accepts nothing."""
    resolver: Any = schema.resolver  # a Spec: hashable by identity
    validator = _validators(resolver, _dialect(openapi_version)).get(schema.where)
    try:
        return next(iter(validator.iter_errors(value)), None) is None
    except (SchemaError, re.error, TypeError):
        return False


def _leaf(error: ValidationError) -> ValidationError | None:
    """The error to report; a oneOf/anyOf that no branch satisfies reports its closest branch
    (fewest errors, then the deepest one: ``$.pay.card`` is a wrong type, not a missing iban)."""
    if error.validator in ("oneOf", "anyOf"):
        if not error.context or "valid under each of" in error.message:
            return None  # several branches match: a document ambiguity, not a runtime breach
        branches: dict[object, list[ValidationError]] = {}
        for inner in error.context:
            branches.setdefault(inner.relative_schema_path[0], []).append(inner)
        closest = min(
            branches.values(),
            key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)),
        )
        return _leaf(max(closest, key=lambda e: len(e.absolute_path)))
    return error


def _json_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        if isinstance(part, int):
            path += "[*]"
        elif str(part).isidentifier():
            path += f".{part}"
        else:
            path += f"[{str(part)!r}]"
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [str(n) for n in error.validator_value or () if n not in error.instance]
        if missing:
            name = missing[0]
            path += f".{name}" if name.isidentifier() else f"[{name!r}]"
    return path


def _message(error: ValidationError) -> str:
    """The validator's message without the offending value (evidence masks values itself)."""
    if error.validator == "type":
        return f"is {_json_type(error.instance)}, the schema says {error.validator_value}"
    if error.validator == "required":
        return "is required by the schema and missing"
    if error.validator == "enum":
        return f"is not one of the documented values {error.validator_value}"[:200]
    if error.validator == "const":
        return "is not the documented constant"
    return f"is not a valid {error.validator_value!r}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


# --------------------------------------------------------------------------- validators


def _dialect(openapi_version: str) -> str:
    return "3.1" if openapi_version.startswith("3.1") else "3.0"


class _Validators:
    """One document's validators, one per schema location, built on first use."""

    def __init__(self, resolver: Resolver, dialect: str) -> None:
        self._resolver = resolver
        self._spec = DRAFT202012 if dialect == "3.1" else DRAFT4
        self._cls: Any = OAS31Validator if dialect == "3.1" else OAS30ReadValidator
        self._format_checker = oas31_format_checker if dialect == "3.1" else oas30_format_checker
        root = self._resource("")
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(_ROOT_URI, root)
        self._built: dict[str, Any] = {}

    def get(self, where: str) -> Any:
        validator = self._built.get(where)
        if validator is None:
            doc_id, _, pointer = where.partition("#")
            ref = _uri(doc_id) + "#" + quote(pointer, safe="/~:@!$&'()*+,;=-._")
            validator = self._cls(
                {"$ref": ref}, registry=self._registry, format_checker=self._format_checker
            )
            self._built[where] = validator
        return validator

    def _resource(self, doc_id: str) -> Resource[Any]:
        data, _ = self._resolver.deref({"$ref": "#"}, f"{doc_id}#")
        return self._spec.create_resource(data)

    def _retrieve(self, uri: str) -> Resource[Any]:
        parts = urlsplit(uri)
        if parts.scheme != "file":
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        doc_id = posixpath.relpath(unquote(parts.path), _BASE_DIR)
        try:
            return self._resource("" if doc_id == "__root__" else doc_id)
        except Exception:
            raise NoSuchResource(ref=uri) from None  # type: ignore[call-arg]


def _uri(doc_id: str) -> str:
    if not doc_id:
        return _ROOT_URI
    return "file://" + quote(posixpath.normpath(_BASE_DIR + doc_id))


@lru_cache(maxsize=4)
def _validators(resolver: Any, dialect: str) -> _Validators:
    """Validators of the few documents a process checks (a scan, a test session)."""
    return _Validators(resolver, dialect)


# --------------------------------------------------------------------------- requests


class RequestContract:
    """openapi-core's request validators for one document, built once (the document itself is
    not re-validated).

    Used to prove a synthesized request valid (every baseline should be) or invalid (every
    deliberately broken variant must be): its parameters and body. Credentials are the runner's
    business, not the planned request's, so security is not judged here.
    """

    def __init__(self, spec: Spec) -> None:
        from jsonschema_path import SchemaPath
        from openapi_core.validation.request import validators

        server = urlsplit(_first_server(spec))
        self._host = f"{server.scheme}://{server.netloc}"
        self._base_path = server.path.rstrip("/")
        path = SchemaPath.from_dict(dict(spec.data), base_uri=spec.path.as_uri())
        v31 = spec.version.startswith("3.1")
        # the parameter and body validators: the security one would stop at the missing token
        self._validators = [
            cls(path)
            for cls in (
                validators.V31RequestParametersValidator
                if v31
                else validators.V30RequestParametersValidator,
                validators.V31RequestBodyValidator if v31 else validators.V30RequestBodyValidator,
            )
        ]

    def problems(self, planned: PlannedRequest) -> list[str]:
        """Why ``planned`` violates the document (one line each); [] when it is valid."""
        from openapi_core.testing import MockRequest

        headers = dict(planned.headers)
        cookies = dict(
            pair.strip().split("=", 1)
            for pair in headers.pop("Cookie", "").split(";")
            if "=" in pair
        )
        request = MockRequest(
            self._host,
            planned.method.lower(),
            self._base_path + planned.path,
            args=dict(planned.query),
            headers=headers,
            cookies=cookies,
            data=planned.body,
            content_type=headers.get("Content-Type", "application/json"),
        )
        found: list[str] = []
        errors = [e for v in self._validators for e in v.iter_errors(request)]
        for error in errors:
            cause = error.__cause__
            detail = f" ({one_line(str(cause))[:200]})" if cause is not None else ""
            found.append(f"{type(error).__name__}: {one_line(str(error))[:200]}{detail}")
        return found


def _first_server(spec: Spec) -> str:
    """The base URL openapi-core matches request paths against (the first server, or /)."""
    servers = spec.data.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], Mapping):
        url = servers[0].get("url")
        if isinstance(url, str) and "{" not in url:
            return url if urlsplit(url).scheme else "https://specdiff.invalid" + url
    if spec.version.startswith("2"):
        base = spec.data.get("basePath")
        return "https://specdiff.invalid" + (base if isinstance(base, str) else "")
    return "https://specdiff.invalid"
