"""SD501 without its real-world noise: Express's automatic OPTIONS answer (captured from Express 4
and 5), OPTIONS answers that only list methods, and concrete paths a documented template routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.conformance import UndocumentedMethodAccepted
from specdiff.model import ApiModel, AuthMode, Exchange, PlannedRequest
from specdiff.mutate import MALFORMED_JSON
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.safety import ABSENT_STRING_ID
from tests.builders import api_of, minimal_doc, ok_json, operation

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frameworks"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
OBJ = ok_json({"type": "object"})
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
DOC = minimal_doc(
    {
        "/users/login": {"post": {"responses": OBJ, "security": []}},
        "/users/{id}": {
            "parameters": ID,
            "get": {"responses": OBJ},
            "put": {"responses": OBJ},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/health": {"get": {"responses": OBJ, "security": []}},
        "/notes/{id}": {"parameters": ID, "get": {"responses": OBJ}},
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("sd501"), DOC)


def ctx(api: ApiModel, method: str, path: str, *, unsafe: bool = False) -> ProbeContext:
    base = PlannedRequest(method, path, headers=(("Accept", "application/json"),))
    options = ProbeOptions(has_credentials=True, unsafe=unsafe)
    return ProbeContext(api, options, base, None)


def test_a_template_that_routes_the_concrete_path_is_not_an_undeclared_method(
    api: ApiModel,
) -> None:
    # /users/login declares only POST; PUT and DELETE of /users/login go to /users/{id}
    probe = UndocumentedMethodAccepted()
    login = operation(api, "POST /users/login")
    # (a path without parameters gets PUT and PATCH only with --unsafe, and never a DELETE)
    safe = [r.method for r in probe.plan(login, ctx(api, "POST", "/users/login"))]
    assert safe == ["OPTIONS", "TRACE"]
    unsafe = [r.method for r in probe.plan(login, ctx(api, "POST", "/users/login", unsafe=True))]
    assert unsafe == ["OPTIONS", "TRACE", "PATCH"]  # PUT /users/{id} answers that PUT
    # a path no template shadows keeps every undeclared method it may be asked
    health = operation(api, "GET /health")
    every = [r.method for r in probe.plan(health, ctx(api, "GET", "/health", unsafe=True))]
    assert every == ["OPTIONS", "TRACE", "PUT", "PATCH"]
    note = operation(api, "GET /notes/{id}")
    every = [r.method for r in probe.plan(note, ctx(api, "GET", "/notes/7"))]
    assert every == ["OPTIONS", "TRACE", "PUT", "PATCH", "DELETE"]


def test_never_an_authenticated_or_parseable_destructive_request(api: ApiModel) -> None:
    probe = UndocumentedMethodAccepted()
    health = operation(api, "GET /health")
    for req in probe.plan(health, ctx(api, "GET", "/health", unsafe=True)):
        assert req.auth is AuthMode.NONE, req.method
        if req.method in ("PUT", "PATCH"):
            assert req.body == MALFORMED_JSON and req.query == (), req.method
    # a path with parameters: every destructive method names an object that cannot exist
    note = operation(api, "GET /notes/{id}")
    for req in probe.plan(note, ctx(api, "GET", "/notes/7", unsafe=True)):
        assert req.auth is AuthMode.NONE, req.method
        if req.method in ("PUT", "PATCH", "DELETE"):
            assert req.path == f"/notes/{ABSENT_STRING_ID}", req.method
            assert req.body == (None if req.method == "DELETE" else MALFORMED_JSON), req.method


def answer(api: ApiModel, method: str, status: int, body: bytes, ctype: str = "") -> Exchange:
    [req] = [
        r
        for r in UndocumentedMethodAccepted().plan(
            operation(api, "GET /notes/{id}"), ctx(api, "GET", "/notes/7", unsafe=True)
        )
        if r.method == method
    ]
    headers = (("Content-Type", ctype),) if ctype else ()
    return Exchange(req, f"https://api.test{req.path}", (), status, headers, body)


@pytest.mark.parametrize("page", ["express4-options", "express5-options"])
def test_expresss_automatic_options_answer_is_quiet(api: ApiModel, page: str) -> None:
    entry = MANIFEST[page]
    assert entry["status"] == 200
    assert dict(entry["headers"])["Allow"] in ("GET,HEAD", "GET, HEAD")
    body = (FIXTURES / "pages" / entry["file"]).read_bytes()
    assert body in (b"GET,HEAD", b"GET, HEAD")
    headers = tuple((k, v) for k, v in entry["headers"])
    ex = Exchange(answer(api, "OPTIONS", 200, b"").request, "", (), 200, headers, body)
    found = UndocumentedMethodAccepted().judge(
        operation(api, "GET /health"), ctx(api, "GET", "/health"), [ex]
    )
    assert list(found) == []


@pytest.mark.parametrize(
    ("method", "status", "body", "ctype", "fires"),
    [
        ("OPTIONS", 204, b"", "", False),
        ("OPTIONS", 200, b'["GET", "HEAD", "OPTIONS"]', "application/json", False),
        ("OPTIONS", 200, b"get, head", "text/plain", False),
        ("OPTIONS", 200, b'{"status": "ok"}', "application/json", True),  # the resource itself
        ("OPTIONS", 200, b"GET,HEAD,<script>", "text/html", True),
        ("TRACE", 200, b"TRACE /health HTTP/1.1", "message/http", True),
        ("PUT", 200, b"{}", "application/json", True),
        ("PUT", 405, b"", "", False),
        ("DELETE", 404, b"", "", False),
    ],
)
def test_judging(
    api: ApiModel, method: str, status: int, body: bytes, ctype: str, fires: bool
) -> None:
    ex = answer(api, method, status, body, ctype)
    found = list(
        UndocumentedMethodAccepted().judge(
            operation(api, "GET /health"), ctx(api, "GET", "/health"), [ex]
        )
    )
    assert [(f.rule, f.operation.method if f.operation else "") for f in found] == (
        [("SD501", method)] if fires else []
    )
