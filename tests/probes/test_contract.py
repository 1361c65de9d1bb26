"""SD305-SD307 on recorded baselines: fire and stay silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from probes.contract import ContentTypeMismatch, SchemaViolation, UndocumentedStatus
from specdiff.model import AuthMode, Exchange, PlannedRequest
from specdiff.probe import Probe, ProbeContext, ProbeOptions
from tests.builders import api_of, exchange, minimal_doc, operation, variant

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
    pool = [ex] if ex is not None and probe.evidence == "pool" else []
    return {f.key for f in probe.judge(op, ctx, pool)}


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
        # an anonymous run: the baseline is the anonymous refusal, and 401 is undocumented
        ("GET /secured", 401, False, {"401"}),
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
        # a structured suffix is another media type: only application/json is documented
        ("GET /orders/{id}", 200, "application/problem+json", b"{}", {"application/problem+json"}),
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


def _anonymous(status: int, content_type: str = "application/json") -> Exchange:
    """A refusal to SD201's request without credentials (not the baseline)."""
    req = PlannedRequest("GET", "/secured", auth=AuthMode.NONE, variant=variant("no-credentials"))
    return exchange(status, {"error": "x"}, request=req, headers={"Content-Type": content_type})


def _judge_pool(
    tmp_path: Path, probe: Probe, doc: dict[str, Any], key: str, *pool: Exchange
) -> set[str]:
    api = api_of(tmp_path, doc)
    base = exchange(200, GOOD)
    ctx = ProbeContext(api, ProbeOptions(has_credentials=True), base.request, base)
    return {f.key for f in probe.judge(operation(api, key), ctx, [base, *pool])}


def _with_401(content: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = dict(DOC)
    secured = {
        "security": [{"bearer": []}],
        "responses": {
            "200": {"description": "ok", "content": JSON},
            "401": {"description": "no", "content": content},
        },
    }
    doc["paths"] = {**DOC["paths"], "/secured": {"get": secured}}
    return doc


def test_sd306_judges_the_anonymous_refusal_of_a_secured_operation(tmp_path: Path) -> None:
    # /secured documents no 401: the anonymous request's refusal breaks the contract
    assert _judge_pool(tmp_path, UndocumentedStatus(), DOC, "GET /secured", _anonymous(401)) == {
        "401"
    }
    documented = _with_401({"application/json": {}})
    assert (
        _judge_pool(tmp_path, UndocumentedStatus(), documented, "GET /secured", _anonymous(401))
        == set()
    )
    # not a refusal, or not anonymous, or not secured: other rules' evidence
    assert (
        _judge_pool(tmp_path, UndocumentedStatus(), DOC, "GET /secured", _anonymous(400)) == set()
    )
    made_up = variant("random-token")
    forged = exchange(
        401, {}, request=PlannedRequest("GET", "/secured", auth=AuthMode.CUSTOM, variant=made_up)
    )
    assert _judge_pool(tmp_path, UndocumentedStatus(), DOC, "GET /secured", forged) == set()
    assert (
        _judge_pool(tmp_path, UndocumentedStatus(), DOC, "GET /defaulted", _anonymous(401)) == set()
    )


@pytest.mark.parametrize(
    ("documented", "sent", "expected"),
    [
        ("application/json", "application/json", set()),
        ("application/json", "application/problem+json", {"application/problem+json"}),
        ("application/json", "text/html", {"text/html"}),
        ("application/problem+json", "application/problem+json", set()),
        ("application/*", "application/problem+json", set()),
    ],
)
def test_sd307_judges_the_anonymous_refusal_of_a_secured_operation(
    tmp_path: Path, documented: str, sent: str, expected: set[str]
) -> None:
    doc = _with_401({documented: {}})
    found = _judge_pool(tmp_path, ContentTypeMismatch(), doc, "GET /secured", _anonymous(401, sent))
    assert found == expected
