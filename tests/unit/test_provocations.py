"""Provocations real frameworks fail on (issue 12.4): required query and header parameters left
out, values violating a declared format, numeric edges, and form bodies invalid only where the
variant says; and SD502/SD503 judging their answers."""

from __future__ import annotations

from typing import Any

import pytest

from probes.conformance import InvalidInputAccepted, ServerError
from specdiff.model import ApiModel
from specdiff.mutate import HUGE, OVERFLOW, Mutation, mutations
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.synth import MULTIPART_BOUNDARY, baseline_request
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation


def _q(name: str, schema: dict[str, Any], where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, "schema": schema}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    form = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}},
    }
    doc = minimal_doc(
        {
            "/search": {
                "get": {
                    "parameters": [
                        _q("q", {"type": "string"}),
                        _q("X-Tenant", {"type": "string"}, "header"),
                        _q("day", {"type": "string", "format": "date"}),
                    ],
                    "responses": ok_json({"type": "array"}),
                }
            },
            "/codes": {
                "get": {
                    "parameters": [_q("length", {"type": "integer", "minimum": 8, "maximum": 64})],
                    "responses": ok_json({"type": "object"}),
                }
            },
            "/products/{id}": {
                "get": {
                    "parameters": [_q("id", {"type": "integer", "format": "int64"}, "path")],
                    "responses": ok_json({"type": "object"}),
                }
            },
            "/upload": {
                "post": {
                    "requestBody": {"content": {"multipart/form-data": {"schema": form}}},
                    "responses": {"201": {"description": "stored"}},
                }
            },
        }
    )
    return api_of(tmp_path_factory.mktemp("provoke"), doc)


def _mutations(api: ApiModel, key: str, *, unsafe: bool = False) -> dict[str, Mutation]:
    op = operation(api, key)
    found = mutations(op, baseline_request(api, op), unsafe=unsafe, probe="SD502")
    return {m.purpose: m for m in found}


def test_required_query_and_header_left_out(api: ApiModel) -> None:
    found = _mutations(api, "GET /search")
    query = found["missing-required:query.q"].request
    assert [n for n, _ in query.query] == ["day"] and ("X-Tenant", "specdiff") in query.headers
    header = found["missing-required:header.X-Tenant"].request
    assert [n for n, _ in header.query] == ["q", "day"]
    assert all(n != "X-Tenant" for n, _ in header.headers)
    assert found["missing-required:query.q"].invalid


def test_a_value_violating_the_declared_format(api: ApiModel) -> None:
    bad = _mutations(api, "GET /search")["bad-format:query.day"]
    assert dict(bad.request.query)["day"] == "2024-13-45"
    assert not bad.invalid  # format is a hint to many validators: SD503 does not count it


def test_numeric_edges_and_which_ones_the_schema_forbids(api: ApiModel) -> None:
    edges = {
        m.target: m.invalid
        for m in _mutations(api, "GET /codes").values()
        if m.kind == "number-edge"
    }
    assert edges == {
        f"query.length={OVERFLOW}": True,  # above maximum 64
        f"query.length={HUGE}": True,
        "query.length=7": True,  # below minimum
        "query.length=0": True,
        "query.length=65": True,
        "query.length=1.5": True,  # not an integer
    }
    unbounded = {
        m.target: m.invalid
        for m in _mutations(api, "GET /products/{id}").values()
        if m.kind == "number-edge"
    }
    assert unbounded == {
        f"path.id={OVERFLOW}": True,  # past int64
        f"path.id={HUGE}": True,
        "path.id=-1": False,  # nothing forbids a negative id
        "path.id=0": False,
        "path.id=1.5": True,
    }
    [path] = [
        m.request.path
        for m in _mutations(api, "GET /products/{id}").values()
        if m.target == f"path.id={OVERFLOW}"
    ]
    assert path == f"/products/{OVERFLOW}"


def test_a_multipart_body_valid_but_for_the_missing_file(api: ApiModel) -> None:
    found = _mutations(api, "POST /upload", unsafe=True)
    missing = found["missing-required:body.file"].request
    assert missing.body is not None and b'name="note"' in missing.body
    assert b'name="file"' not in missing.body
    assert missing.body.endswith(f"--{MULTIPART_BOUNDARY}--\r\n".encode())
    # without --unsafe an unsafe method gets no parameter or form variant that could write
    safe = _mutations(api, "POST /upload")
    assert "missing-required:body.file" not in safe


def _judged(api: ApiModel, key: str, purpose: str, status: int, body: Any) -> list[tuple[str, str]]:
    op = operation(api, key)
    base = baseline_request(api, op)
    ctx = ProbeContext(api, ProbeOptions(), base, exchange(200, [], request=base))
    out: list[tuple[str, str]] = []
    for probe in (ServerError(), InvalidInputAccepted()):
        [req] = [r for r in probe.plan(op, ctx) if r.purpose == purpose]
        out += [
            (f.rule, f.key) for f in probe.judge(op, ctx, [exchange(status, body, request=req)])
        ]
    return out


@pytest.mark.parametrize(
    ("key", "purpose", "status", "body", "expected"),
    [
        ("GET /search", "missing-required:query.q", 500, "TypeError", [("SD502", "")]),
        ("GET /search", "missing-required:query.q", 400, {"error": "q"}, []),
        (
            "GET /search",
            "missing-required:header.X-Tenant",
            200,
            [],
            [("SD503", "header.X-Tenant")],
        ),
        ("GET /search", "bad-format:query.day", 500, "ValueError", [("SD502", "")]),
        ("GET /search", "bad-format:query.day", 200, [], []),  # a hint, not a promise
        (
            "GET /codes",
            "number-edge:query.length=65",
            200,
            {"code": "x"},
            [("SD503", "query.length")],
        ),
        ("GET /codes", f"number-edge:query.length={HUGE}", 500, "RangeError", [("SD502", "")]),
        ("GET /codes", "number-edge:query.length=65", 400, {"error": "bounds"}, []),
    ],
)
def test_sd502_and_sd503_judge_the_provocations(
    api: ApiModel, key: str, purpose: str, status: int, body: Any, expected: list[tuple[str, str]]
) -> None:
    assert _judged(api, key, purpose, status, body) == expected


def test_one_operation_stays_within_a_few_provocations(api: ApiModel) -> None:
    for key in ("GET /search", "GET /codes", "GET /products/{id}"):
        assert len(_mutations(api, key)) <= 12, key


def test_every_provocation_has_its_own_purpose(api: ApiModel) -> None:
    purposes = list(_mutations(api, "GET /codes"))
    assert len(purposes) == len(set(purposes))  # each variant has its own purpose
