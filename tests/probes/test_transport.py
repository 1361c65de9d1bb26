"""SD101 and SD103 on recorded exchanges: fire and stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.transport import HttpAccepted, SpecDeclaresHttp
from specdiff.model import AuthMode, PlannedRequest, Severity
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.variant import Variant, VariantKind
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

DOC = minimal_doc(
    {
        "/open": {"get": {"security": [], "responses": ok_json({"type": "object"})}},
        "/secured": {
            "get": {"responses": ok_json({"type": "object"})},
            "post": {"responses": {"201": {"description": "x"}}},
        },
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)


def _ctx(api, *, unsafe=False, twin=True):  # type: ignore[no-untyped-def]
    return ProbeContext(
        api,
        ProbeOptions(unsafe=unsafe, has_credentials=True, http_twin=twin),
        PlannedRequest("GET", "/secured"),
    )


def test_sd101_plans_one_credential_free_request_on_the_twin(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    probe = HttpAccepted()
    [req] = probe.plan(operation(api, "GET /secured"), _ctx(api))
    assert req.target == "http" and req.auth is AuthMode.NONE and req.probe == "SD101"
    assert (
        list(probe.plan(operation(api, "POST /secured"), _ctx(api))) == []
    )  # unsafe: not without --unsafe
    assert len(list(probe.plan(operation(api, "POST /secured"), _ctx(api, unsafe=True)))) == 1
    assert list(probe.plan(operation(api, "GET /secured"), _ctx(api, twin=False))) == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "fires"),
    [
        (200, {}, {"ok": True}, True),
        (401, {}, {"error": "unauthorized"}, True),  # answered in clear all the same
        (
            302,
            {"Location": "http://api.test/secured"},
            "",
            True,
        ),  # redirect to http is no protection
        (308, {"Location": "https://api.test/secured"}, "", False),
        (301, {"Location": "https://api.test/secured"}, "", False),
        (426, {}, "", False),
        (400, {}, "The plain HTTP request was sent to HTTPS port", False),
        (403, {}, "SSL required", False),
        (None, {}, None, False),  # connection refused
    ],
)
def test_sd101_judging(tmp_path: Path, status, headers, body, fires) -> None:  # type: ignore[no-untyped-def]
    api = api_of(tmp_path, DOC)
    op = operation(api, "GET /secured")
    req = PlannedRequest(
        "GET",
        "/secured",
        auth=AuthMode.NONE,
        target="http",
        probe="SD101",
        variant=Variant(VariantKind.PLAIN_HTTP),
    )
    ex = exchange(
        status,
        body,
        request=req,
        url="http://api.test/secured",
        headers=headers,
        error=None if status else "cannot connect",
    )
    findings = list(HttpAccepted().judge(op, _ctx(api), [ex]))
    assert len(findings) == (1 if fires else 0)
    if fires:
        assert (
            findings[0].rule == "SD101" and findings[0].severity is Severity.CRITICAL
        )  # secured op
        assert findings[0].key == "http://api.test"


def test_sd101_is_high_on_open_operations(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    req = PlannedRequest("GET", "/open", auth=AuthMode.NONE, target="http")
    [finding] = HttpAccepted().judge(
        operation(api, "GET /open"), _ctx(api), [exchange(200, {}, request=req)]
    )
    assert finding.severity is Severity.HIGH


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        (
            [{"url": "http://api.example.com/v1"}, {"url": "https://api.example.com/v1"}],
            ["http://api.example.com/v1"],
        ),
        ([{"url": "http://localhost:8080"}, {"url": "http://127.0.0.1"}, {"url": "/v1"}], []),
        ([{"url": "https://api.example.com"}], []),
        (
            [{"url": "{scheme}://api.example.com", "variables": {"scheme": {"default": "http"}}}],
            ["http://api.example.com"],
        ),
    ],
)
def test_sd103_static(tmp_path: Path, servers, expected) -> None:  # type: ignore[no-untyped-def]
    api = api_of(tmp_path, minimal_doc({}, servers=servers))
    findings = list(SpecDeclaresHttp().check_spec(api))
    assert [f.key for f in findings] == expected
    lines = (tmp_path / "openapi.yaml").read_text().splitlines()
    first_server_line = lines.index("servers:") + 2
    for f in findings:
        assert f.location is not None and f.location.pointer == "/servers/0"
        assert f.location.line == first_server_line


def test_sd103_swagger_schemes(tmp_path: Path) -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.example.com",
        "schemes": ["http"],
        "paths": {},
    }
    [finding] = SpecDeclaresHttp().check_spec(api_of(tmp_path, doc))
    assert finding.key == "http://api.example.com"
