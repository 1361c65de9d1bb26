"""The safety policy on planned requests: what cannot change data, what a run may send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from specdiff.model import AuthMode, PlannedRequest
from specdiff.mutate import MALFORMED_JSON
from specdiff.safety import (
    ABSENT_INTEGER_ID,
    ABSENT_UUID,
    INVALID_STRING_ID,
    SafetyPolicy,
    absent_id,
    looks_destructive,
    path_values,
    unparseable,
)
from tests.builders import api_of, minimal_doc, ok_json, operation

BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
DOC = minimal_doc(
    {
        "/items": {
            "get": {"responses": ok_json({"type": "array"})},
            "post": {"requestBody": BODY, "responses": {"201": {"description": "made"}}},
        },
        "/items/{id}": {
            "parameters": ID,
            "get": {"responses": ok_json({"type": "object"})},
            "put": {"requestBody": BODY, "responses": {"200": {"description": "ok"}}},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/session": {"delete": {"responses": {"204": {"description": "out"}}}},
        "/items/{id}/touch": {
            "parameters": ID,
            "post": {"responses": {"204": {"description": "touched"}}},
        },
        "/admin/reset-db": {
            "get": {
                "summary": "Drops and re-seeds the database.",
                "responses": ok_json({"type": "object"}),
            }
        },
        "/users/{id}/created-at": {
            "parameters": ID,
            "get": {"summary": "When the user was created.", "responses": ok_json({})},
        },
    }
)


@pytest.fixture
def api(tmp_path: Path) -> Any:
    return api_of(tmp_path, DOC)


def _req(method: str, path: str, key: str, **kw: Any) -> PlannedRequest:
    return PlannedRequest(method, path, operation=key, **kw)


ANON = AuthMode.NONE


@pytest.mark.parametrize(
    ("request_", "safe"),
    [
        # safe methods, unless the operation or the path looks destructive
        (_req("GET", "/items/7", "GET /items/{id}"), True),
        (_req("GET", "/admin/reset-db", "GET /admin/reset-db"), False),
        (_req("OPTIONS", "/admin/reset-db", "GET /items"), False),  # the path alone says it
        (_req("GET", "/users/1/created-at", "GET /users/{id}/created-at"), True),  # decoy
        # anonymous + a body no parser accepts, where the operation declares a body
        (_req("POST", "/items", "POST /items", auth=ANON, body=MALFORMED_JSON), True),
        (_req("POST", "/items", "POST /items", body=MALFORMED_JSON), False),  # authenticated
        (_req("POST", "/items", "POST /items", auth=ANON, body=b'{"name":"x"}'), False),
        (_req("POST", "/items", "POST /items", auth=ANON, body=b"[]"), False),  # parseable
        # a handler without a declared body is not protected by an unparseable one
        (
            _req(
                "POST", "/items/7/touch", "POST /items/{id}/touch", auth=ANON, body=MALFORMED_JSON
            ),
            False,
        ),
        (_req("DELETE", "/session", "DELETE /session", auth=ANON, body=MALFORMED_JSON), False),
        # anonymous + identifiers that certainly name nothing
        (_req("DELETE", f"/items/{ABSENT_INTEGER_ID}", "DELETE /items/{id}", auth=ANON), True),
        (_req("DELETE", f"/items/{INVALID_STRING_ID}", "DELETE /items/{id}", auth=ANON), True),
        (_req("DELETE", "/items/7", "DELETE /items/{id}", auth=ANON), False),  # a real id
        (_req("DELETE", f"/items/{ABSENT_INTEGER_ID}", "DELETE /items/{id}"), False),  # with creds
        (
            _req(
                "DELETE", f"/items/{ABSENT_INTEGER_ID}", "DELETE /items/{id}", auth=AuthMode.CUSTOM
            ),
            False,
        ),
        # an undeclared method on the item path: the template still says which part is an id
        (
            _req(
                "PATCH",
                f"/items/{ABSENT_INTEGER_ID}",
                "GET /items/{id}",
                auth=ANON,
                body=MALFORMED_JSON,
            ),
            True,
        ),
        # a probe's own claim that a request writes is believed; a claim that it does not, never
        (_req("GET", "/items/7", "GET /items/{id}", changes_data=True), False),
        (_req("DELETE", "/items/7", "DELETE /items/{id}", changes_data=False), False),
    ],
)
def test_cannot_change_data(api: Any, request_: PlannedRequest, safe: bool) -> None:
    policy = SafetyPolicy(api)
    assert policy.cannot_change(request_) is safe
    assert (policy.refusal(request_) is None) is safe  # safe mode sends exactly those


def test_unsafe_mode_touches_only_objects_specdiff_created(api: Any) -> None:
    created = {"/items/100"}
    policy = SafetyPolicy(api, unsafe=True, created=lambda path: path in created)
    allowed = [
        _req("POST", "/items", "POST /items", body=b'{"name":"x"}'),
        _req("DELETE", "/items/100", "DELETE /items/{id}"),
        _req("PUT", "/items/100", "PUT /items/{id}", body=b"{}"),
        _req("DELETE", "/items/100", "DELETE /items/{id}", auth=ANON),
        _req("GET", "/admin/reset-db", "GET /admin/reset-db"),  # run last and alone
        _req("POST", "/items/7/touch", "POST /items/{id}/touch"),
    ]
    assert [r for r in allowed if policy.refusal(r)] == []
    refused = {
        _req(
            "DELETE", "/items/7", "DELETE /items/{id}"
        ): "aims at an object specdiff did not create",
        _req("DELETE", "/items/7", "DELETE /items/{id}", auth=ANON): "did not create",
        _req("PUT", "/items/7", "PUT /items/{id}", body=b"{}"): "did not create",
        _req("DELETE", "/session", "DELETE /session"): "did not create",
        # SD501's rule: never an authenticated destructive method the document does not declare
        _req("PATCH", "/items/100", "GET /items/{id}", body=MALFORMED_JSON): "does not declare",
        _req("DELETE", "/elsewhere/1", "GET /items"): "not a documented path",
    }
    for req, why in refused.items():
        assert why in (policy.refusal(req) or ""), req


def test_include_op_lets_one_destructive_looking_get_through(api: Any) -> None:
    reset = _req("GET", "/admin/reset-db", "GET /admin/reset-db")
    assert SafetyPolicy(api).refusal(reset) == (
        "looks destructive: GET /admin/reset-db; pass --include-op to probe it"
    )
    policy = SafetyPolicy(api, include=["GET /admin/reset-db"])
    assert policy.refusal(reset) is None
    assert not policy.repeatable(reset)  # never a credential check, included or not
    op = operation(api, "GET /admin/reset-db")
    assert SafetyPolicy(api).skips(op) and not policy.skips(op)
    assert not SafetyPolicy(api, unsafe=True).skips(op)


@pytest.mark.parametrize(
    ("path", "operation_id", "summary", "destructive"),
    [
        ("/admin/reset-db", None, None, True),
        ("/createdb", None, None, True),
        ("/api/seed", None, None, True),
        ("/auth/log-out", None, None, True),
        ("/logout", None, None, True),
        ("/tables/{name}/truncate", None, None, True),
        ("/x", "initDatabase", None, True),
        ("/x", "purgeCache", None, True),
        ("/x", None, "Drops and re-seeds the database.", True),
        ("/x", None, "Reset the demo data", True),
        ("/x", None, "Logs the user out.", True),
        ("/x", None, "Creates a download link", True),
        # decoys: participles, nouns, prose that merely mentions the word
        ("/users/{id}/created-at", "getUserCreatedAt", "When the user was created.", False),
        ("/items/deleted", "listDeletedItems", "Items deleted this week.", False),
        ("/seeds", "listSeeds", "The torrent's seeds.", False),
        ("/drops", None, "Upcoming product drops.", False),
        ("/audit", None, "Who created or deleted what, and when.", False),
    ],
)
def test_destructive_vocabulary(
    tmp_path: Path, path: str, operation_id: str | None, summary: str | None, destructive: bool
) -> None:
    get: dict[str, Any] = {"responses": ok_json({})}
    if operation_id:
        get["operationId"] = operation_id
    if summary:
        get["summary"] = summary
    params = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    if "{" in path:
        get["parameters"] = params
    op = operation(api_of(tmp_path, minimal_doc({path: {"get": get}})), f"GET {path}")
    assert looks_destructive(op) is destructive


def test_creating_is_what_a_post_is_for(tmp_path: Path) -> None:
    doc = minimal_doc({"/users": {"post": {"summary": "Create a user.", "responses": ok_json({})}}})
    op = operation(api_of(tmp_path, doc), "POST /users")
    assert looks_destructive(op) and not looks_destructive(op, creating=False)


def test_identifiers_that_name_nothing(tmp_path: Path) -> None:
    params = [
        {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}},
        {
            "name": "u",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        },
    ]
    doc = minimal_doc({"/a/{n}/{u}": {"get": {"parameters": params, "responses": ok_json({})}}})
    number, uuid = (p.schema for p in operation(api_of(tmp_path, doc), "GET /a/{n}/{u}").parameters)
    assert absent_id(number) == ABSENT_INTEGER_ID and absent_id(uuid) == ABSENT_UUID
    assert path_values("/a/{x}/b/{y}", "/a/1/b/two") == {"x": "1", "y": "two"}
    assert path_values("/a/{x}", "/a/1/b") is None
    assert path_values("/plain", "/plain") == {}
    assert unparseable(MALFORMED_JSON) and not unparseable(b"[]") and not unparseable(b"")
