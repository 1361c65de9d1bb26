"""SD305-SD307 on recorded baselines: fire and stay silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from probes.contract import ContentTypeMismatch, SchemaViolation, UndocumentedStatus
from specdiff.model import Exchange, PlannedRequest
from specdiff.probe import Probe, ProbeContext, ProbeOptions
from tests.builders import api_of, exchange, minimal_doc, operation

ORDER: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "total"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["open", "shipped"]},
        "total": {"type": "number"},
        "note": {"type": "string", "nullable": True},
        "kind": {"type": "string", "const": "order"},
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
        },
        "password": {"type": "string", "writeOnly": True},
        "pay": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["card"],
                    "properties": {"card": {"type": "string"}},
                },
                {
                    "type": "object",
                    "required": ["iban"],
                    "properties": {"iban": {"type": "string"}},
                },
            ]
        },
    },
    "additionalProperties": False,
}
JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}
DOC = minimal_doc(
    {
        "/orders/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok", "content": JSON}},
            }
        },
        "/ranged": {
            "get": {
                "responses": {
                    "2XX": {"description": "ok", "content": JSON},
                    "5XX": {"description": "down", "content": {"application/*": {}}},
                }
            }
        },
        "/defaulted": {
            "get": {
                "responses": {
                    "200": {"description": "ok", "content": JSON},
                    "default": {"description": "error"},
                }
            }
        },
        "/secured": {
            "get": {
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "ok", "content": JSON}},
            }
        },
    },
    components={
        "schemas": {"Order": ORDER},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
)
GOOD = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "status": "open", "total": 9.5}


def _judge(
    tmp_path: Path, probe: Probe, key: str, ex: Exchange | None, *, creds: bool = True
) -> set[str]:
    api = api_of(tmp_path, DOC)
    op = operation(api, key)
    ctx = ProbeContext(api, ProbeOptions(has_credentials=creds), PlannedRequest("GET", "/x"), ex)
    return {f.key for f in probe.judge(op, ctx, [])}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GOOD, set()),
        ({**GOOD, "note": None, "kind": "order", "lines": [{"qty": 2}]}, set()),
        ({**GOOD, "total": "9.50"}, {"$.total"}),  # type
        ({"id": GOOD["id"], "status": "open"}, {"$.total"}),  # required
        ({**GOOD, "status": "lost"}, {"$.status"}),  # enum
        ({**GOOD, "id": "42"}, {"$.id"}),  # format
        ({**GOOD, "kind": "invoice"}, set()),  # const is no OpenAPI 3.0 keyword
        ({**GOOD, "lines": [{"qty": 1}, {"qty": "2"}]}, {"$.lines[*].qty"}),  # inside arrays
        ({**GOOD, "pay": {"card": 4}}, {"$.pay.card"}),  # oneOf: the closest branch's violation
        ({**GOOD, "pay": {"card": "x", "iban": "y"}}, set()),  # both branches match: ambiguity
        ({**GOOD, "extra": 1}, set()),  # additionalProperties false: SD301's job
        ({**GOOD, "password": "x"}, set()),  # writeOnly in a response: SD301/SD303's job
        ({**GOOD, "note": 3}, {"$.note"}),
    ],
)
def test_sd305_schema_violations(tmp_path: Path, body: Any, expected: set[str]) -> None:
    assert _judge(tmp_path, SchemaViolation(), "GET /orders/{id}", exchange(200, body)) == expected


def test_sd305_quiet_on_non_json_errors_and_unsent_baselines(tmp_path: Path) -> None:
    bad = {**GOOD, "total": "x"}
    for ex in (
        exchange(404, bad),  # undocumented status: SD306
        exchange(200, "total=x", headers={"Content-Type": "text/plain"}),
        None,
    ):
        assert _judge(tmp_path, SchemaViolation(), "GET /orders/{id}", ex) == set()
    # a 2XX range covers the status for SD305 too
    assert _judge(tmp_path, SchemaViolation(), "GET /ranged", exchange(201, bad)) == {"$.total"}


@pytest.mark.parametrize(
    ("key", "status", "creds", "expected"),
    [
        ("GET /orders/{id}", 200, True, set()),
        ("GET /orders/{id}", 500, True, {"500"}),
        ("GET /orders/{id}", 400, True, {"400"}),
        ("GET /orders/{id}", 404, True, set()),  # specdiff guessed the id
        ("GET /orders/{id}", 429, True, set()),  # rate limiting
        ("GET /orders/{id}", None, True, set()),  # no answer
        ("GET /ranged", 204, True, set()),  # 2XX range
        ("GET /ranged", 503, True, set()),  # 5XX range
        ("GET /ranged", 404, True, {"404"}),  # no parameter: a 404 is not a guess
        ("GET /defaulted", 418, True, set()),  # default
        ("GET /secured", 401, False, set()),  # anonymous run: refusals are expected
        ("GET /secured", 401, True, {"401"}),
        ("GET /secured", 403, True, {"403"}),
    ],
)
def test_sd306_undocumented_status(
    tmp_path: Path, key: str, status: int | None, creds: bool, expected: set[str]
) -> None:
    ex = exchange(status, {"error": "x"}) if status else exchange(None, error="refused")
    assert _judge(tmp_path, UndocumentedStatus(), key, ex, creds=creds) == expected


@pytest.mark.parametrize(
    ("key", "status", "content_type", "body", "expected"),
    [
        ("GET /orders/{id}", 200, "application/json", b"{}", set()),
        ("GET /orders/{id}", 200, "application/json; charset=utf-8", b"{}", set()),
        ("GET /orders/{id}", 200, "application/problem+json", b"{}", set()),  # +json suffix
        ("GET /orders/{id}", 200, "text/html", b"<html></html>", {"text/html"}),
        ("GET /orders/{id}", 200, "text/html", b"", set()),  # nothing to parse
        ("GET /orders/{id}", 500, "text/html", b"<html></html>", set()),  # undocumented: SD306
        ("GET /ranged", 503, "application/xml", b"<x/>", set()),  # application/* covers it
        ("GET /ranged", 503, "text/plain", b"down", {"text/plain"}),
        ("GET /defaulted", 418, "text/plain", b"teapot", set()),  # default documents no content
    ],
)
def test_sd307_content_type_mismatch(
    tmp_path: Path, key: str, status: int, content_type: str, body: bytes, expected: set[str]
) -> None:
    ex = exchange(status, body, headers={"Content-Type": content_type})
    assert _judge(tmp_path, ContentTypeMismatch(), key, ex) == expected
