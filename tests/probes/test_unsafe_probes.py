"""Unsafe methods probed without changing anything (issue 12 section 7), on recorded exchanges.

SD201's request for an object that certainly does not exist, SD208's 404-versus-refusal
differential, the plain-HTTP twin's requests of POST/PUT/PATCH/DELETE (SD101, SD105), and
SD306/SD307 on the anonymous answers of unsafe operations: each fires on its breach, stays
silent on the correct answer, and every request it plans passes the safety policy of a run
without ``--unsafe``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from probes.auth import CheckedAfterValidation, MissingCredentialsAccepted
from probes.contract import ContentTypeMismatch, UndocumentedStatus
from probes.transport import HttpAccepted, InsecureRedirect
from specdiff.model import ApiModel, AuthMode, Confidence, Exchange, PlannedRequest, Severity
from specdiff.mutate import MALFORMED_JSON, absent_object_request
from specdiff.plan import Guard, PlanStage
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.safety import ABSENT_UUID, SafetyPolicy
from specdiff.variant import Variant, VariantKind
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

NOTE = {"type": "object", "properties": {"title": {"type": "string"}}}
JSON_BODY = {"content": {"application/json": {"schema": NOTE}}}
UNAUTHORIZED = {
    "description": "no",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def _path_param(schema: dict[str, Any], name: str = "id") -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": schema}]


DOC = minimal_doc(
    {
        "/notes/{id}": {
            "parameters": _path_param({"type": "string", "format": "uuid"}),
            "get": {"responses": {**ok_json(NOTE), "401": UNAUTHORIZED}},
            "delete": {"responses": {"204": {"description": "gone"}, "401": UNAUTHORIZED}},
            "patch": {"requestBody": JSON_BODY, "responses": {"200": {"description": "x"}}},
            "put": {"requestBody": JSON_BODY, "responses": {"200": {"description": "x"}}},
        },
        # no 401 documented, no GET beside it
        "/users/{id}": {
            "parameters": _path_param({"type": "integer"}),
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        # the path's GET is open by the document: its 404 says nothing about strangers
        "/pages/{slug}": {
            "parameters": _path_param({"type": "string"}, "slug"),
            "get": {"security": [], "responses": ok_json(NOTE)},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/docs/{slug}/share": {
            "parameters": _path_param({"type": "string"}, "slug"),
            "post": {"requestBody": JSON_BODY, "responses": {"201": {"description": "x"}}},
        },
        "/small/{id}": {
            "parameters": _path_param({"type": "integer", "maximum": 100}),
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/int32/{id}": {
            "parameters": _path_param({"type": "integer", "format": "int32"}),
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/codes/{id}": {
            "parameters": _path_param({"type": "string", "pattern": "^[0-9]+$"}),
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/session": {"delete": {"responses": {"204": {"description": "gone"}}}},
        "/login": {
            "post": {
                "security": [],
                "requestBody": JSON_BODY,
                "responses": {"200": {"description": "x"}},
            }
        },
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)
JSON = (("Accept", "application/json"), ("Content-Type", "application/json"))
REAL = "3f6c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a21"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("unsafe"), DOC)


def _baseline(method: str, path: str, body: bytes | None = None) -> PlannedRequest:
    """A synthesized baseline of an unsafe operation: never sent without ``--unsafe``."""
    return PlannedRequest(method, path, headers=JSON if body else JSON[:1], body=body)


def _ctx(
    api: ApiModel,
    base: PlannedRequest,
    pool: Sequence[Exchange] = (),
    *,
    twin: bool = False,
    unsafe: bool = False,
) -> ProbeContext:
    options = ProbeOptions(unsafe=unsafe, has_credentials=True, http_twin=twin)
    return ProbeContext(api, options, base, None, tuple(pool))


def _answer(req: PlannedRequest, status: int, body: Any = None, **headers: str) -> Exchange:
    return exchange(status, body, request=req, headers=headers or None)


def _absent(api: ApiModel, key: str, base: PlannedRequest) -> PlannedRequest:
    [absent] = [
        r
        for r in MissingCredentialsAccepted().plan(operation(api, key), _ctx(api, base))
        if r.variant.kind is VariantKind.ABSENT_OBJECT_ANONYMOUS
    ]
    return absent


def _rules(findings: Sequence[Any]) -> list[str]:
    return [f.rule for f in findings]


# --------------------------------------------------------------------------- the request


def test_absent_object_request_respects_the_schema_and_the_method(api: ApiModel) -> None:
    note = b'{"title": "hello"}'
    delete = absent_object_request(
        api, operation(api, "DELETE /notes/{id}"), _baseline("DELETE", f"/notes/{REAL}")
    )
    patch = absent_object_request(
        api, operation(api, "PATCH /notes/{id}"), _baseline("PATCH", f"/notes/{REAL}", note)
    )
    put = absent_object_request(
        api, operation(api, "PUT /notes/{id}"), _baseline("PUT", f"/notes/{REAL}", note)
    )
    post = absent_object_request(
        api, operation(api, "POST /docs/{slug}/share"), _baseline("POST", "/docs/x/share", note)
    )
    assert delete is not None and patch is not None and put is not None and post is not None
    assert (delete.path, delete.body, delete.auth) == (f"/notes/{ABSENT_UUID}", None, AuthMode.NONE)
    # PATCH acts only on an object that exists: its valid body goes, so the handler runs
    assert (patch.path, patch.body, patch.auth) == (f"/notes/{ABSENT_UUID}", note, AuthMode.NONE)
    # PUT may upsert and POST may add a child: their bodies are ones no parser accepts
    assert (put.path, put.body) == (f"/notes/{ABSENT_UUID}", MALFORMED_JSON)
    assert (post.path, post.body) == ("/docs/specdiff-absent-0000/share", MALFORMED_JSON)
    assert dict(post.headers)["Content-Type"] == "application/json"

    def aimed(key: str) -> str | None:
        op = operation(api, key)
        found = absent_object_request(api, op, _baseline("DELETE", op.path.replace("{id}", "1")))
        return None if found is None else found.path

    assert aimed("DELETE /users/{id}") == "/users/999999999999"
    assert aimed("DELETE /codes/{id}") == "/codes/999999999999"  # a numeric pattern
    # no value is certainly absent and valid: maximum 100, int32; a path without an id
    assert aimed("DELETE /small/{id}") is None
    assert aimed("DELETE /int32/{id}") is None
    assert aimed("DELETE /session") is None


@pytest.mark.parametrize(
    "key",
    ["DELETE /notes/{id}", "PATCH /notes/{id}", "PUT /notes/{id}", "POST /docs/{slug}/share"],
)
def test_every_planned_request_passes_the_safe_mode_policy(api: ApiModel, key: str) -> None:
    op = operation(api, key)
    body = b'{"title": "x"}' if op.request_body is not None else None
    base = _baseline(op.method, op.path.replace("{id}", REAL).replace("{slug}", "x"), body)
    policy = SafetyPolicy(api)
    planned = list(MissingCredentialsAccepted().plan(op, _ctx(api, base)))
    planned += HttpAccepted().plan(op, _ctx(api, base, twin=True))
    absent = [r for r in planned if r.variant.kind is VariantKind.ABSENT_OBJECT_ANONYMOUS]
    if op.method != "POST":
        # SD208's control after a 404: the path's GET, for the same absent object
        planned += CheckedAfterValidation().plan(op, _ctx(api, base, [_answer(absent[0], 404)]))
    kinds = {r.variant.kind for r in planned}
    assert VariantKind.ABSENT_OBJECT_ANONYMOUS in kinds and VariantKind.PLAIN_HTTP in kinds
    for req in planned:
        assert req.auth is AuthMode.NONE, req
        assert policy.refusal(dataclasses.replace(req, operation=op.key), op) is None, req


def test_the_baseline_itself_is_refused_without_unsafe(api: ApiModel) -> None:
    """The control of the test above: the policy does refuse the valid, credentialed PATCH."""
    op = operation(api, "PATCH /notes/{id}")
    base = _baseline("PATCH", f"/notes/{REAL}", b'{"title": "x"}')
    assert SafetyPolicy(api).refusal(dataclasses.replace(base, operation=op.key), op)


# --------------------------------------------------------------------------- SD201


@pytest.mark.parametrize(
    ("status", "fires"), [(204, True), (200, True), (404, False), (401, False), (400, False)]
)
def test_sd201_an_anonymous_request_for_an_absent_object_served(
    api: ApiModel, status: int, fires: bool
) -> None:
    op = operation(api, "DELETE /notes/{id}")
    base = _baseline("DELETE", f"/notes/{REAL}")
    ex = _answer(_absent(api, op.key, base), status)
    findings = list(MissingCredentialsAccepted().judge(op, _ctx(api, base, [ex]), [ex]))
    if not fires:
        assert findings == []
        return
    [finding] = findings
    assert (finding.severity, finding.confidence) == (Severity.CRITICAL, Confidence.CERTAIN)
    assert "for an object that does not exist" in finding.message
    assert finding.evidence is not None and ABSENT_UUID in finding.evidence.request


def test_sd201_reports_one_anonymous_write_once(api: ApiModel) -> None:
    op = operation(api, "PUT /notes/{id}")
    base = _baseline("PUT", f"/notes/{REAL}", b'{"title": "x"}')
    answers = [_answer(r, 200, {}) for r in MissingCredentialsAccepted().plan(op, _ctx(api, base))]
    assert len(answers) == 2  # the unreadable body, and the absent object
    found = MissingCredentialsAccepted().judge(op, _ctx(api, base, answers), answers)
    assert _rules(list(found)) == ["SD201"]


# --------------------------------------------------------------------------- SD208


def _sd208(
    api: ApiModel, key: str, answers: dict[str, tuple[int, dict[str, str]]]
) -> tuple[list[PlannedRequest], list[Any]]:
    """SD208's plan after the absent-object answer, and its judgement of the whole pool:
    ``answers`` maps ``absent``/``read``/``invalid``/``options`` to (status, headers)."""
    op = operation(api, key)
    base = _baseline(op.method, op.path.replace("{id}", REAL).replace("{slug}", "x"))
    planned = {r.variant.kind: r for r in MissingCredentialsAccepted().plan(op, _ctx(api, base))}
    pool: list[Exchange] = []
    if "invalid" in answers:
        status, headers = answers["invalid"]
        pool.append(_answer(planned[VariantKind.INVALID_INPUT_ANONYMOUS], status, {}, **headers))
    if "options" in answers:
        status, headers = answers["options"]
        options = PlannedRequest(
            "OPTIONS",
            base.path,
            auth=AuthMode.NONE,
            variant=Variant(VariantKind.UNDOCUMENTED_METHOD),
        )
        pool.append(_answer(options, status, "", **headers))
    status, headers = answers["absent"]
    pool.append(_answer(planned[VariantKind.ABSENT_OBJECT_ANONYMOUS], status, {}, **headers))
    probe = CheckedAfterValidation()
    reads = list(probe.plan(op, _ctx(api, base, pool)))
    if "read" in answers:
        status, headers = answers["read"]
        pool += [_answer(r, status, {"error": "unauthorized"}, **headers) for r in reads]
    c = _ctx(api, base, pool)
    return reads, list(probe.judge(op, c, pool))


def test_sd208_asks_the_paths_get_only_after_a_404(api: ApiModel) -> None:
    reads, _ = _sd208(api, "DELETE /notes/{id}", {"absent": (404, {})})
    [read] = reads
    assert (read.method, read.path, read.auth, read.body) == (
        "GET",
        f"/notes/{ABSENT_UUID}",
        AuthMode.NONE,
        None,
    )
    assert read.variant.kind is VariantKind.ABSENT_OBJECT_READ
    assert _sd208(api, "DELETE /notes/{id}", {"absent": (401, {})})[0] == []
    # no GET on the path, or an open one: nothing to compare with
    assert _sd208(api, "DELETE /users/{id}", {"absent": (404, {})})[0] == []
    assert _sd208(api, "DELETE /pages/{slug}", {"absent": (404, {})})[0] == []


@pytest.mark.parametrize(
    ("answers", "fires"),
    [
        # the handler looked the object up, where the path's GET refuses the same stranger
        ({"absent": (404, {}), "read": (401, {})}, True),
        ({"absent": (404, {}), "read": (403, {})}, True),
        # the GET answers 404 too: the server may hide objects from strangers
        ({"absent": (404, {}), "read": (404, {})}, False),
        # the path's OPTIONS says DELETE is not routed there: Express's 404 for any method
        (
            {"absent": (404, {}), "read": (401, {}), "options": (200, {"Allow": "GET,HEAD"})},
            False,
        ),
        (
            {
                "absent": (404, {}),
                "read": (401, {}),
                "options": (200, {"Allow": "GET,HEAD,DELETE"}),
            },
            True,
        ),
        ({"absent": (401, {})}, False),
        ({"absent": (422, {})}, True),
        ({"absent": (400, {})}, True),
        # one cause, one finding: served anonymously is SD201, not also SD208
        ({"absent": (204, {}), "invalid": (422, {})}, False),
    ],
)
def test_sd208_judges_the_absent_object_answer(
    api: ApiModel, answers: dict[str, tuple[int, dict[str, str]]], fires: bool
) -> None:
    _, findings = _sd208(api, "DELETE /notes/{id}", answers)
    assert _rules(findings) == (["SD208"] if fires else [])
    if fires and answers["absent"][0] == 404:
        [finding] = findings
        assert finding.confidence is Confidence.FIRM
        assert "where GET on the same path answered" in finding.message
        assert finding.evidence is not None and "(the same stranger, refused)" in (
            finding.evidence.snippet
        )


def test_sd208_a_404_without_a_get_beside_it_says_nothing(api: ApiModel) -> None:
    assert _sd208(api, "DELETE /users/{id}", {"absent": (404, {}), "read": (401, {})})[1] == []


# --------------------------------------------------------------------------- SD101, SD105


def test_the_plain_http_twin_gets_unsafe_operations_harmlessly(api: ApiModel) -> None:
    def twin(key: str, body: bytes | None = None) -> list[PlannedRequest]:
        op = operation(api, key)
        base = _baseline(op.method, op.path.replace("{id}", REAL), body)
        return list(HttpAccepted().plan(op, _ctx(api, base, twin=True)))

    [login] = twin("POST /login", b'{"title": "x"}')
    assert (login.target, login.auth, login.body) == ("http", AuthMode.NONE, MALFORMED_JSON)
    [delete] = twin("DELETE /notes/{id}")
    assert (delete.path, delete.body) == ("/notes/specdiff-invalid-0000", None)
    assert twin("DELETE /session") == []  # nothing it could send without changing data
    # with --unsafe the baseline itself goes, without credentials
    op = operation(api, "POST /login")
    base = _baseline("POST", "/login", b'{"title": "x"}')
    [valid] = HttpAccepted().plan(op, _ctx(api, base, twin=True, unsafe=True))
    assert valid.body == b'{"title": "x"}'


@pytest.mark.parametrize(
    ("key", "status", "location", "sd101", "sd105"),
    [
        ("POST /login", 401, "", Severity.HIGH, False),
        ("DELETE /notes/{id}", 404, "", Severity.CRITICAL, False),
        ("POST /login", 301, "https://api.test/login", None, True),
        ("DELETE /notes/{id}", 302, "https://api.test/notes/x", None, True),
        ("POST /login", 308, "https://api.test/login", None, False),
        ("DELETE /notes/{id}", 307, "https://api.test/notes/x", None, False),
    ],
)
def test_sd101_and_sd105_judge_unsafe_methods_over_plain_http(
    api: ApiModel, key: str, status: int, location: str, sd101: Severity | None, sd105: bool
) -> None:
    op = operation(api, key)
    body = b"{}" if op.request_body is not None else None
    base = _baseline(op.method, op.path.replace("{id}", REAL), body)
    [req] = HttpAccepted().plan(op, _ctx(api, base, twin=True))
    ex = _answer(req, status, {} if status < 300 or status >= 400 else "", Location=location)
    ex = dataclasses.replace(ex, url=f"http://api.test{req.path}")
    found = list(HttpAccepted().judge(op, _ctx(api, base), [ex]))
    assert [f.severity for f in found] == ([sd101] if sd101 else [])
    redirects = list(InsecureRedirect().judge(op, _ctx(api, base), [ex]))
    assert _rules(redirects) == (["SD105"] if sd105 else [])


# --------------------------------------------------------------------------- SD306, SD307


@pytest.mark.parametrize(
    ("key", "status", "media", "sd306", "sd307"),
    [
        # DELETE /users/{id} documents 204 only: its 401 to a stranger is undocumented
        ("DELETE /users/{id}", 401, "application/json", True, False),
        ("DELETE /users/{id}", 404, "application/json", False, False),  # a guessed id
        # DELETE /notes/{id} documents a JSON 401
        ("DELETE /notes/{id}", 401, "application/json", False, False),
        ("DELETE /notes/{id}", 401, "text/html", False, True),
        ("DELETE /notes/{id}", 401, "application/problem+json", False, True),
    ],
)
def test_sd306_sd307_judge_anonymous_refusals_of_unsafe_operations(
    api: ApiModel, key: str, status: int, media: str, sd306: bool, sd307: bool
) -> None:
    op = operation(api, key)
    base = _baseline("DELETE", op.path.replace("{id}", "7"))
    ex = _answer(_absent(api, key, base), status, '{"error": "no"}', **{"Content-Type": media})
    c = _ctx(api, base, [ex])
    assert _rules(list(UndocumentedStatus().judge(op, c, [ex]))) == (["SD306"] if sd306 else [])
    assert _rules(list(ContentTypeMismatch().judge(op, c, [ex]))) == (["SD307"] if sd307 else [])


def test_sd306_sd307_judge_only_the_operations_own_method(api: ApiModel) -> None:
    """SD208's GET for the absent object joins the DELETE's pool: its 401 is the GET's, not an
    answer the DELETE's responses must document."""
    op = operation(api, "DELETE /users/{id}")
    read = PlannedRequest(
        "GET",
        "/users/999999999999",
        auth=AuthMode.NONE,
        variant=Variant(VariantKind.ABSENT_OBJECT_READ),
    )
    ex = _answer(read, 401, "<html>no</html>", **{"Content-Type": "text/html"})
    c = _ctx(api, _baseline("DELETE", "/users/7"), [ex])
    assert list(UndocumentedStatus().judge(op, c, [ex])) == []
    assert list(ContentTypeMismatch().judge(op, c, [ex])) == []


# --------------------------------------------------------------------------- the plan stage


def test_the_plan_stage_asks_the_get_once_the_absent_object_got_404(api: ApiModel) -> None:
    """Through the one plan stage and its policy: SD201's harmless requests in the first level,
    SD208's GET in the next, each admitted, none with a credential."""
    op = operation(api, "DELETE /notes/{id}")
    base = _baseline("DELETE", f"/notes/{REAL}")
    probes = [MissingCredentialsAccepted(), CheckedAfterValidation(), HttpAccepted()]
    stage = PlanStage(probes, SafetyPolicy(api), Guard([], debug=True))
    levels: list[list[PlannedRequest]] = []

    async def answer(requests: Sequence[PlannedRequest]) -> list[Exchange]:
        levels.append(list(requests))
        return [_answer(r, 404 if r.method == "DELETE" else 401, {}) for r in requests]

    run = asyncio.run(stage.run(op, _ctx(api, base, twin=True), answer))
    assert run.refused == []
    assert [[(r.probe, r.variant.kind.value, r.target) for r in lv] for lv in levels] == [
        [
            ("SD201", "no-credentials-invalid-input", "primary"),
            ("SD201", "no-credentials-absent-object", "primary"),
            ("SD101", "plain-http", "http"),
        ],
        [("SD208", "no-credentials-absent-object-read", "primary")],
    ]
    assert all(r.auth is AuthMode.NONE and not r.changes_data for lv in levels for r in lv)
    findings = list(CheckedAfterValidation().judge(op, run.ctx, run.ctx.pool))
    assert _rules(findings) == ["SD208"]


def test_a_schema_that_cannot_be_evaluated_gives_no_absent_object(tmp_path: Path) -> None:
    broken = minimal_doc(
        {
            "/x/{id}": {
                "parameters": _path_param({"type": "string", "pattern": "["}),
                "delete": {"responses": {"204": {"description": "gone"}}},
            }
        },
        security=[{"bearer": []}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    api = api_of(tmp_path, broken)
    op = operation(api, "DELETE /x/{id}")
    assert absent_object_request(api, op, _baseline("DELETE", "/x/1")) is None
