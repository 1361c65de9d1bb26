"""Identifiers from everywhere (issue 12.1): answers at any depth, A's token, conventions,
retries with other candidates, and multipart bodies built correctly."""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path
from typing import Any

import jwt
import pytest

from specdiff.model import ApiModel
from specdiff.synth import (
    MULTIPART_BOUNDARY,
    PARAM,
    TOKEN,
    IdHarvest,
    baseline_attempts,
    baseline_request,
    harvested_params,
    words,
)
from tests.builders import api_of, minimal_doc, ok_json, operation


def _param(name: str, kind: str = "string", where: str = "path") -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, "schema": {"type": kind}}


def _get(*params: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"parameters": list(params), "responses": ok_json({"type": "object"})}}


@pytest.fixture
def api(tmp_path: Path) -> ApiModel:
    return api_of(
        tmp_path,
        minimal_doc(
            {
                "/me": _get(),
                "/orders": _get(),
                "/users/{userId}": _get(_param("userId", "integer")),
                "/users/{user_id}/addresses": _get(_param("user_id", "integer")),
                "/orders/{orderNumber}": _get(_param("orderNumber")),
                "/documents/{slug}": _get(_param("slug")),
                "/passphrase/{username}": _get(_param("username")),
                "/notes/{id}": _get(_param("id")),
                "/products/{product_id}": _get(_param("product_id")),
                "/reports": _get(_param("report_id", where="query")),
            }
        ),
    )


def _token(**claims: Any) -> str:
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


def test_words_split_every_naming_convention() -> None:
    assert words("orderNumber") == words("order_number") == words("order-number")
    assert words("order_numbers") == ("order", "number")
    assert words("userID") == ("user", "id")
    assert words("addresses") == ("address",) and words("categories") == ("category",)


def test_ids_from_a_me_answer_nested_at_any_depth(api: ApiModel) -> None:
    harvest = IdHarvest()
    me = {"id": 31, "profile": {"documents": [{"slug": "tax-2023", "id": 900}]}}
    harvest.record(operation(api, "GET /me"), me)
    user = operation(api, "GET /users/{userId}")
    assert baseline_request(api, user, harvest=harvest).path == "/users/31"
    doc = operation(api, "GET /documents/{slug}")
    assert baseline_request(api, doc, harvest=harvest).path == "/documents/tax-2023"
    assert harvested_params(doc, harvest=harvest) == (("slug", "tax-2023", "GET /me"),)
    # a document's id is no note's id, and a user's id is no note's id either
    note = operation(api, "GET /notes/{id}")
    assert harvest.candidates(note, note.parameters[0]) == []


def test_conventions_number_inside_orders_and_query_identifiers(api: ApiModel) -> None:
    harvest = IdHarvest()
    harvest.record(operation(api, "GET /orders"), {"data": [{"number": "SO-1", "total": 3}]})
    harvest.record(operation(api, "GET /me"), {"latest": {"report_id": "r-9"}})
    order = operation(api, "GET /orders/{orderNumber}")
    assert baseline_request(api, order, harvest=harvest).path == "/orders/SO-1"
    assert harvested_params(order, harvest=harvest) == (("orderNumber", "SO-1", "GET /orders"),)
    reports = operation(api, "GET /reports")
    assert baseline_request(api, reports, harvest=harvest).query == (("report_id", "r-9"),)


def test_token_claims_name_a_s_own_objects(api: ApiModel) -> None:
    harvest = IdHarvest()
    harvest.record_token(_token(sub="alice", uid=31, org="acme"), _token(sub="bob", uid=57))
    for key, path in (
        ("GET /users/{userId}", "/users/31"),
        ("GET /users/{user_id}/addresses", "/users/31/addresses"),
        ("GET /passphrase/{username}", "/passphrase/alice"),
    ):
        op = operation(api, key)
        assert baseline_request(api, op, harvest=harvest).path == path
        assert [origin for _, _, origin in harvested_params(op, harvest=harvest)] == [TOKEN]
    note = operation(api, "GET /notes/{id}")
    assert harvest.candidates(note, note.parameters[0]) == []  # a user's id is no note's


def test_a_claim_both_tokens_carry_is_nobody_s_own(api: ApiModel) -> None:
    harvest = IdHarvest()
    harvest.record_token(_token(username="shared", uid=1), _token(username="shared", uid=2))
    op = operation(api, "GET /passphrase/{username}")
    assert baseline_request(api, op, harvest=harvest).path == "/passphrase/shared"
    assert harvested_params(op, harvest=harvest) == ()


def test_a_reference_reaches_an_object_but_says_nothing_of_its_owner(api: ApiModel) -> None:
    harvest = IdHarvest()
    harvest.record(operation(api, "GET /orders"), [{"number": "SO-1", "product_id": "p-7"}])
    product = operation(api, "GET /products/{product_id}")
    assert baseline_request(api, product, harvest=harvest).path == "/products/p-7"
    assert harvested_params(product, harvest=harvest) == ()


def test_attempts_try_other_candidates_then_the_synthesized_value(api: ApiModel) -> None:
    harvest = IdHarvest()
    harvest.record(operation(api, "GET /orders"), [{"number": n} for n in "ABCDEF"])
    op = operation(api, "GET /orders/{orderNumber}")
    attempts = baseline_attempts(api, op, harvest=harvest)
    assert [r.path for r, _ in attempts] == ["/orders/A", "/orders/B", "/orders/C", "/orders/D"]
    assert attempts[1][1] == (("orderNumber", "B", "GET /orders"),)
    lone = IdHarvest()
    lone.record(operation(api, "GET /orders"), [{"number": "A"}])
    paths = [r.path for r, _ in baseline_attempts(api, op, harvest=lone)]
    assert paths == ["/orders/A", "/orders/specdiff"]  # the placeholder comes last
    given = baseline_attempts(api, op, harvest=harvest, overrides={"orderNumber": "Z"})
    assert [(r.path, fed) for r, fed in given] == [("/orders/Z", (("orderNumber", "Z", PARAM),))]


def test_multipart_bodies_have_a_boundary_and_a_file_part(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string"}},
    }
    doc = minimal_doc(
        {
            "/avatar": {
                "post": {
                    "requestBody": {"content": {"multipart/form-data": {"schema": schema}}},
                    "responses": {"201": {"description": "stored"}},
                }
            }
        }
    )
    api = api_of(tmp_path, doc)
    req = baseline_request(api, operation(api, "POST /avatar"))
    content_type = dict(req.headers)["Content-Type"]
    assert content_type == f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + (req.body or b"")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert set(parts) == {"file", "title"}
    assert parts["file"].get_filename() == "specdiff.txt"
    assert parts["title"].get_content().strip() == "specdiff"


def test_openapi_links_say_which_value_feeds_which_parameter(tmp_path: Path) -> None:
    created = {
        "description": "created",
        "content": {"application/json": {"schema": {"type": "object"}}},
        "links": {
            "GetInvoice": {
                "operationId": "getInvoice",
                "parameters": {"path.ref": "$response.body#/data/0/reference"},
            },
            "ByRef": {"operationRef": "#/paths/~1x/get", "parameters": {"y": "$response.body"}},
        },
    }
    doc = minimal_doc(
        {
            "/billing": {"get": {"responses": {"200": created}}},
            "/invoices/{ref}": {"get": {"operationId": "getInvoice", **_get(_param("ref"))["get"]}},
        }
    )
    api = api_of(tmp_path, doc)
    [response] = operation(api, "GET /billing").responses
    assert [(link.operation_id, link.parameters) for link in response.links] == [
        ("getInvoice", (("ref", "$response.body#/data/0/reference"),))
    ]
    harvest = IdHarvest()
    harvest.record(operation(api, "GET /billing"), {"data": [{"reference": "INV-7"}]})
    invoice = operation(api, "GET /invoices/{ref}")
    assert baseline_request(api, invoice, harvest=harvest).path == "/invoices/INV-7"
    assert harvested_params(invoice, harvest=harvest) == (("ref", "INV-7", "GET /billing"),)


def test_the_engine_retries_an_item_baseline_with_the_next_candidate(tmp_path: Path) -> None:
    """Unit test of the engine's one retry function on a mock transport: the first harvested id
    answers 404, the second reaches the object; nothing else is retried."""
    import httpx

    from specdiff.config import Credentials, ScanConfig
    from specdiff.engine import scan
    from tests.builders import write_spec

    doc = minimal_doc(
        {"/things": _get(), "/things/{thingId}": _get(_param("thingId"))},
        security=[{"bearer": []}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/things":
            return httpx.Response(200, json=[{"id": "gone"}, {"id": "t-2"}])
        if request.url.path == "/things/t-2" and request.headers.get("authorization"):
            return httpx.Response(200, json={"id": "t-2"})
        return httpx.Response(404 if request.headers.get("authorization") else 401, json={})

    config = ScanConfig(
        spec=str(write_spec(tmp_path, doc)),
        base_url="https://api.test",
        credentials=Credentials.build(token="tok-a"),
    )
    report = scan(config, transport=httpx.MockTransport(handler))
    item = next(c for c in report.coverage if c.operation.path == "/things/{thingId}")
    assert (item.status, item.baseline_status) == ("probed", 200)
    assert paths[:3] == ["/things", "/things/gone", "/things/t-2"]
    assert paths.count("/things/gone") == 1  # each attempt once per run
