"""SD301-SD303 and SD309 on recorded exchanges: every schema keyword case fires and stays silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from probes.exposure import (
    SensitiveDataInText,
    UndocumentedField,
    UndocumentedPii,
    UndocumentedSecret,
)
from specdiff.model import Confidence, PlannedRequest
from specdiff.probe import Probe, ProbeContext, ProbeOptions
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

PROBES: tuple[Probe, ...] = (
    UndocumentedField(),
    UndocumentedPii(),
    UndocumentedSecret(),
    SensitiveDataInText(),
)
BCRYPT = "$2b$12$N9qo8uLOickgx2ZMRZoMyejcU/B70OZrmPM3zUvddCBrZe89WDigC"
GITHUB_PAT = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"

COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Cat": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}},
        },
        "Dog": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}, "barks": {"type": "boolean"}},
        },
        "Pet": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"},
            },
        },
        "Node": {  # recursive: a tree of nodes
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            },
        },
        "Account": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "password": {"type": "string", "writeOnly": True},
                "created": {"type": "string", "readOnly": True},
            },
        },
        "Base": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "Extended": {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "properties": {"note": {"type": "string"}}},
            ]
        },
        "Either": {
            "anyOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"b": {"type": "string"}}},
            ]
        },
        "Strict": {
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "additionalProperties": False,
        },
        "Open": {
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "additionalProperties": True,
        },
        "Labels": {
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "additionalProperties": {
                "type": "object",
                "properties": {"value": {"type": "string"}},
            },
        },
        "Nullable": {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}},
        },
        "Grid": {  # arrays of arrays of objects
            "type": "array",
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"x": {"type": "integer"}}},
            },
        },
        "Message": {
            "type": "object",
            "properties": {
                "completion": {"type": "string"},
                "email": {"type": "string"},
                "owner": {"type": "string"},
            },
        },
    }
}


def _doc(version: str = "3.0.3") -> dict[str, Any]:
    paths = {
        f"/{name.lower()}": {
            "get": {"responses": ok_json({"$ref": f"#/components/schemas/{name}"})}
        }
        for name in COMPONENTS["schemas"]
    }
    doc = minimal_doc(paths, components=COMPONENTS)
    doc["openapi"] = version
    return doc


DOC_31 = minimal_doc(
    {
        "/typed": {
            "get": {
                "responses": ok_json(
                    {
                        "type": ["object", "null"],
                        "properties": {"id": {"type": "integer"}},
                        "patternProperties": {"^x-": {"type": "string"}},
                    }
                )
            }
        },
        "/items": {
            "get": {
                "responses": ok_json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {
                                "type": ["array", "null"],
                                "items": {
                                    "type": "object",
                                    "properties": {"id": {"type": "integer"}},
                                },
                            }
                        },
                    }
                )
            }
        },
    }
)
DOC_31["openapi"] = "3.1.0"


def _judge(tmp_path: Path, doc: dict[str, Any], path: str, body: Any) -> set[tuple[str, str]]:
    api = api_of(tmp_path, doc)
    op = operation(api, f"GET {path}")
    base = PlannedRequest("GET", path)
    ctx = ProbeContext(api, ProbeOptions(has_credentials=True), base, exchange(200, body))
    return {(f.rule, f.key) for probe in PROBES for f in probe.judge(op, ctx, [])}


CASES = [
    # allOf: fields of every part are documented
    ("/extended", {"id": 1, "note": "n"}, set()),
    ("/extended", {"id": 1, "note": "n", "theme": "dark"}, {("SD301", "$.theme")}),
    # oneOf with a discriminator: a field of either branch is documented
    ("/pet", {"kind": "cat", "meows": True}, set()),
    ("/pet", {"kind": "dog", "barks": True}, set()),
    (
        "/pet",
        {"kind": "dog", "barks": True, "password_hash": BCRYPT},
        {("SD303", "$.password_hash")},
    ),
    # anyOf
    ("/either", {"a": "x", "b": "y"}, set()),
    ("/either", {"a": "x", "ssn": "536-22-8415"}, {("SD302", "$.ssn")}),
    # additionalProperties false / true / schema
    ("/strict", {"id": 1}, set()),
    ("/strict", {"id": 1, "api_key": GITHUB_PAT}, {("SD303", "$.api_key")}),
    ("/open", {"id": 1, "anything": "goes", "more": 2}, set()),
    ("/labels", {"id": 1, "team": {"value": "x"}}, set()),
    (
        "/labels",
        {"id": 1, "team": {"value": "x", "email": "ann@corp.example"}},
        {("SD302", "$.team.email")},
    ),
    # nullable object: null body and a documented body are fine; extra fields are not
    ("/nullable", None, set()),
    ("/nullable", {"id": None}, set()),
    ("/nullable", {"id": 1, "debug": True}, {("SD301", "$.debug")}),
    # readOnly fields are returned by design; writeOnly fields never
    ("/account", {"id": 1, "created": "2024-01-01"}, set()),
    ("/account", {"id": 1, "password": "hunter2-secret"}, {("SD303", "$.password")}),
    ("/account", {"id": 1, "password": None}, {("SD301", "$.password")}),
    # arrays of arrays
    ("/grid", [[{"x": 1}], [{"x": 2}]], set()),
    ("/grid", [[{"x": 1, "token": GITHUB_PAT}]], {("SD303", "$[*][*].token")}),
    ("/grid", [[{"x": 1, "y": 2}], [{"x": 2, "y": 3}]], {("SD301", "$[*][*].y")}),
    # recursive schemas: every depth is walked, the walk ends
    ("/node", {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}, set()),
    (
        "/node",
        {
            "name": "a",
            "children": [{"name": "b", "children": [{"name": "c", "secret_key": BCRYPT}]}],
        },
        {("SD303", "$.children[*].children[*].secret_key")},
    ),
    # sensitive fields nested inside an undocumented object get their own path
    (
        "/extended",
        {"id": 1, "meta": {"owner": {"email": "ann@corp.example"}}},
        {("SD302", "$.meta.owner.email")},
    ),
    # SD309: value signals inside documented text only
    ("/message", {"completion": f"Sure! Your key is {GITHUB_PAT}."}, {("SD309", "$.completion")}),
    (
        "/message",
        {"completion": "Write to ann@corp.example for a refund."},
        {("SD309", "$.completion")},
    ),
    ("/message", {"completion": "The token count was 42; see the docs."}, set()),
    ("/message", {"completion": "Contact support@example.com for help."}, set()),  # role mailbox
    ("/message", {"email": "ann@corp.example"}, set()),  # the field says what it holds
    ("/message", {"owner": "ann@corp.example"}, set()),  # a structured value, not prose
    ("/message", {"owner": GITHUB_PAT}, {("SD309", "$.owner")}),  # a secret anywhere is one
    (
        "/message",
        {"completion": "id 3fa85f64-5717-4562-b3fc-2c963f66afa6 at 2024-01-01T00:00:00Z"},
        set(),
    ),
]


@pytest.mark.parametrize(("path", "body", "expected"), CASES)
def test_fire_and_silent_per_schema_keyword(
    tmp_path: Path, path: str, body: Any, expected: set[tuple[str, str]]
) -> None:
    assert _judge(tmp_path, _doc(), path, body) == expected


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/typed", {"id": 1}, set()),
        ("/typed", None, set()),
        ("/typed", {"id": 1, "x-trace": "abc"}, set()),  # patternProperties
        ("/typed", {"id": 1, "trace": "abc"}, {("SD301", "$.trace")}),
        (
            "/typed",
            {"id": 1, "x-trace": "abc", "access_token": GITHUB_PAT},
            {("SD303", "$.access_token")},
        ),
        ("/items", {"items": None}, set()),
        ("/items", {"items": [{"id": 1}]}, set()),
        ("/items", {"items": [{"id": 1, "dob": "1990-04-12"}]}, {("SD302", "$.items[*].dob")}),
    ],
)
def test_openapi_31_type_arrays_and_pattern_properties(
    tmp_path: Path, path: str, body: Any, expected: set[tuple[str, str]]
) -> None:
    assert _judge(tmp_path, DOC_31, path, body) == expected


def test_silent_without_a_documented_schema_or_a_2xx_json_body(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    op = operation(api, "GET /strict")
    base = PlannedRequest("GET", "/strict")
    leaky = {"id": 1, "api_key": GITHUB_PAT}
    for ex in (
        exchange(500, leaky),  # not 2xx
        exchange(200, '{"id": 1, "api_key": "x"}', headers={"Content-Type": "text/plain"}),
        None,  # not sent
    ):
        ctx = ProbeContext(api, ProbeOptions(), base, ex)
        assert [f for p in PROBES for f in p.judge(op, ctx, [])] == []


def test_sd309_evidence_names_the_kind_and_never_the_value(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    op = operation(api, "GET /message")
    ex = exchange(200, {"completion": f"Your key: {GITHUB_PAT}"})
    ctx = ProbeContext(api, ProbeOptions(), PlannedRequest("GET", "/message"), ex)
    [f] = SensitiveDataInText().judge(op, ctx, [])
    assert f.confidence is Confidence.CERTAIN and "access_token: GitHub token" in f.message
    assert f.evidence is not None and GITHUB_PAT not in f.evidence.snippet + f.message
