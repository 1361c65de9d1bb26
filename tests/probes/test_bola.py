"""SD212 on every shape of object (issue 12.2), on recorded exchanges: lists, objects without
personal data, ownership from A's token, ``--param`` and answers B's own answer does not repeat;
quiet on shared objects, other objects, empty or constant answers, and open operations."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from probes.auth import BrokenObjectLevelAuthorization, carries_object, ownership, shown_to_b
from specdiff.config import AuthMaterial, Credentials
from specdiff.model import ApiModel, PlannedRequest
from specdiff.probe import Listing, ProbeContext, ProbeOptions
from specdiff.synth import PARAM, TOKEN
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

ITEM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
DOC = minimal_doc(
    {
        "/orders/{id}": {"get": {"parameters": [ITEM], "responses": ok_json({"type": "object"})}},
        "/users/{id}/addresses": {
            "get": {"parameters": [ITEM], "responses": ok_json({"type": "array"})}
        },
        "/open/{id}": {"get": {"security": [], "parameters": [ITEM], "responses": ok_json({})}},
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)
ORDER = {"number": "SO-7F3K2", "total": 84.5, "status": "shipped"}  # nothing personal
ADDRESSES = [{"label": "home", "city": "Lyon"}, {"label": "work", "city": "Paris"}]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("bola"), DOC)


def _ctx(api: ApiModel, path: str, body: Any, *listings: Listing) -> ProbeContext:
    base = PlannedRequest("GET", path)
    options = ProbeOptions(
        has_credentials=True,
        identities=frozenset({"b"}),
        auth=AuthMaterial(credentials=Credentials.build(token="tok-a")),
    )
    return ProbeContext(api, options, base, exchange(200, body, request=base), listings=listings)


def _b_answer(path: str, status: int, body: Any) -> Listing:
    answer = exchange(status, body, request=PlannedRequest("GET", path, identity="b"))
    return Listing("id", "SO-7F3K2", "GET /orders", answer)


def _judge(api: ApiModel, key: str, c: ProbeContext, status: int, body: Any) -> list[str]:
    probe = BrokenObjectLevelAuthorization()
    op = operation(api, key)
    [req] = probe.plan(op, c)
    return [f.evidence.snippet for f in probe.judge(op, c, [exchange(status, body, request=req)])]


FROM_TOKEN = Listing("id", "31", TOKEN)
FROM_PARAM = Listing("id", "SO-7F3K2", PARAM)
UNLISTED = _b_answer("/orders", 200, [{"number": "SO-2B7X1"}])
SHARED = _b_answer("/orders", 200, [{"number": "SO-2B7X1"}, {"number": "SO-7F3K2"}])
WITHIN = dataclasses.replace(
    Listing("id", "SO-7F3K2", "GET /users/{userId}/orders"), within=("userId", 7, TOKEN)
)


@pytest.mark.parametrize(
    ("listing", "status", "body", "proof"),
    [
        (UNLISTED, 200, ORDER, "B's own GET /orders (200) did not list id=SO-7F3K2"),
        (FROM_PARAM, 200, ORDER, "the user named id=SO-7F3K2 as one of A's objects (--param)"),
        (WITHIN, 200, ORDER, "A's GET /users/{userId}/orders for A's own userId=7 (from A's"),
        # quiet: B's own answer shows it too (shared), B refused, another object, an empty body
        (SHARED, 200, ORDER, None),
        (UNLISTED, 404, {"detail": "Not Found"}, None),
        (UNLISTED, 200, {**ORDER, "number": "SO-2B7X1"}, None),
        (UNLISTED, 200, {}, None),
        (UNLISTED, 200, {"total": 84.5}, None),  # no identifier: not comparable
        # no owner known: B's answer failed or was cut short
        (_b_answer("/orders", 403, {"error": "no"}), 200, ORDER, None),
        (dataclasses.replace(UNLISTED, answer_b=None), 200, ORDER, None),
    ],
)
def test_object_without_personal_data(
    api: ApiModel, listing: Listing, status: int, body: Any, proof: str | None
) -> None:
    c = _ctx(api, "/orders/SO-7F3K2", ORDER, listing)
    found = _judge(api, "GET /orders/{id}", c, status, body)
    if proof is None:
        assert found == []
    else:
        [snippet] = found
        assert snippet.startswith(proof) and snippet.endswith("served it to B: 200")


@pytest.mark.parametrize(
    ("body_b", "fires"),
    [
        (ADDRESSES, True),  # B is served A's list, the same body
        (list(reversed(ADDRESSES)), False),  # not the same body, and no identifiers to compare
        ([{"label": "home", "city": "Bristol"}], False),  # B's own list
        ([], False),
    ],
)
def test_lists(api: ApiModel, body_b: Any, fires: bool) -> None:
    c = _ctx(api, "/users/31/addresses", ADDRESSES, FROM_TOKEN)
    found = _judge(api, "GET /users/{id}/addresses", c, 200, body_b)
    assert found == (
        [
            "A's token claims carry id=31 and B's do not, yet GET /users/{id}/addresses "
            "served it to B: 200"
        ]
        if fires
        else []
    )


def test_lists_of_identified_items_compare_by_identifier(api: ApiModel) -> None:
    a_list = [{"number": "SO-1", "total": 3}, {"number": "SO-2", "total": 4}]
    c = _ctx(api, "/users/31/addresses", a_list, FROM_TOKEN)
    assert _judge(api, "GET /users/{id}/addresses", c, 200, [*reversed(a_list), {"number": "X"}])
    assert not _judge(api, "GET /users/{id}/addresses", c, 200, [{"number": "SO-1"}])


def test_personal_values_in_a_list_are_evidence_by_themselves(api: ApiModel) -> None:
    people = [{"email": "alice.moreau@shop.test", "city": "Lyon"}]
    c = _ctx(api, "/users/31/addresses", people)  # no listing at all
    [snippet] = _judge(api, "GET /users/{id}/addresses", c, 200, people)
    assert snippet.startswith("$[0].email = al") and "alice.moreau" not in snippet


def test_open_operations_and_missing_b_are_never_judged(api: ApiModel) -> None:
    probe = BrokenObjectLevelAuthorization()
    c = _ctx(api, "/open/SO-7F3K2", ORDER, FROM_PARAM)
    assert list(probe.plan(operation(api, "GET /open/{id}"), c)) == []
    alone = dataclasses.replace(c, options=ProbeOptions(has_credentials=True))
    assert list(probe.plan(operation(api, "GET /orders/{id}"), alone)) == []


def test_the_pure_parts() -> None:
    assert carries_object({"id": 1, "x": 2}, {"id": 1, "x": 3})
    assert not carries_object({"id": 1}, {"id": 2})
    assert carries_object({"a": "same"}, {"a": "same"}) and not carries_object({}, {})
    assert not carries_object([], []) and not carries_object("ok", "ok")
    assert shown_to_b(SHARED) and not shown_to_b(UNLISTED) and not shown_to_b(FROM_TOKEN)
    assert ownership(SHARED) is None
    assert ownership(FROM_TOKEN) == "A's token claims carry id=31 and B's do not"
