"""Request synthesis: valid, deterministic, overridable, fed by harvested ids."""

from __future__ import annotations

import json
from pathlib import Path

from specdiff.synth import IdHarvest, baseline_request, sample_value
from tests.builders import api_of, minimal_doc, ok_json, operation


def _doc() -> dict:  # type: ignore[type-arg]
    return minimal_doc(
        {
            "/users": {
                "get": {
                    "responses": ok_json(
                        {"type": "array", "items": {"$ref": "#/components/schemas/User"}}
                    )
                }
            },
            "/users/{userId}": {
                "get": {
                    "parameters": [
                        {
                            "name": "userId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {
                            "name": "fields",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "enum": ["short", "long"]},
                        },
                        {
                            "name": "X-Api-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "X-Trace",
                            "in": "header",
                            "required": True,
                            "example": "trace-1",
                            "schema": {"type": "string"},
                        },
                        {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": ok_json({"$ref": "#/components/schemas/User"}),
                }
            },
            "/users/{userId}/avatar": {
                "put": {
                    "parameters": [
                        {
                            "name": "userId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Avatar"}}
                        },
                    },
                    "responses": {"204": {"description": "ok"}},
                }
            },
        },
        components={
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "schemas": {
                "User": {
                    "type": "object",
                    "required": ["id", "email"],
                    "properties": {
                        "id": {"type": "integer", "readOnly": True},
                        "email": {"type": "string", "format": "email"},
                        "name": {"type": "string", "minLength": 12},
                        "tags": {"type": "array", "minItems": 2, "items": {"type": "string"}},
                        "parent": {"$ref": "#/components/schemas/User"},
                    },
                },
                "Avatar": {
                    "allOf": [
                        {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string", "format": "uri"}},
                        },
                        {
                            "type": "object",
                            "properties": {
                                "size": {
                                    "type": "integer",
                                    "minimum": 16,
                                    "maximum": 512,
                                    "multipleOf": 16,
                                }
                            },
                        },
                    ]
                },
            },
        },
    )


def test_every_required_parameter_is_filled_and_credentials_are_not(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    req = baseline_request(api, operation(api, "GET /users/{userId}"))
    assert req.path == "/users/1"
    assert req.query == (("fields", "short"),)  # enum first value; optional 'page' left out
    assert ("X-Trace", "trace-1") in req.headers  # example wins
    assert all(
        name != "X-Api-Key" for name, _ in req.headers
    )  # the scheme's header: the runner's job


def test_overrides_beat_harvested_ids_which_beat_samples(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    op = operation(api, "GET /users/{userId}")
    harvest = IdHarvest()
    harvest.record(operation(api, "GET /users"), [{"id": 42, "email": "a@b.c"}, {"id": 43}])
    assert baseline_request(api, op, harvest=harvest).path == "/users/42"
    assert baseline_request(api, op, harvest=harvest, overrides={"userId": "7"}).path == "/users/7"
    assert baseline_request(api, op, overrides={"page": "3"}).query == (
        ("fields", "short"),
        ("page", "3"),
    )


def test_body_is_valid_and_deterministic(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    op = operation(api, "PUT /users/{userId}/avatar")
    first = baseline_request(api, op)
    assert first == baseline_request(api, op)
    assert ("Content-Type", "application/json") in first.headers
    assert json.loads(first.body or b"") == {"url": "https://example.com/specdiff", "size": 16}


def test_recursive_schema_sample_terminates_and_skips_read_only(tmp_path: Path) -> None:
    api = api_of(tmp_path, _doc())
    schema = operation(api, "GET /users").responses[0].content[0].schema
    assert schema is not None and schema.items is not None
    value = sample_value(schema.items)
    assert "id" not in value  # readOnly is not sent
    assert value["email"] == "specdiff@example.com"
    assert value["name"] == "specdiffxxxx"  # minLength 12
    assert value["tags"] == ["specdiff", "specdiff"]  # minItems 2
    assert "id" not in value["parent"] and value["parent"]["email"] == "specdiff@example.com"


def test_harvest_prefers_parent_collection_and_item_aliases(tmp_path: Path) -> None:
    doc = minimal_doc(
        {
            "/orders": {"get": {"responses": ok_json({"type": "object"})}},
            "/orders/{order_id}": {
                "get": {
                    "parameters": [
                        {
                            "name": "order_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": ok_json({"type": "object"}),
                }
            },
        }
    )
    api = api_of(tmp_path, doc)
    harvest = IdHarvest()
    harvest.record(
        operation(api, "GET /orders"), {"items": [{"id": "o-1", "user_id": 5}], "next": None}
    )
    req = baseline_request(api, operation(api, "GET /orders/{order_id}"), harvest=harvest)
    assert req.path == "/orders/o-1"


def test_harvest_names_the_listing_that_revealed_an_id(tmp_path: Path) -> None:
    from specdiff.synth import harvested_params

    path_param = {"in": "path", "required": True, "schema": {"type": "string"}}
    doc = minimal_doc(
        {
            "/orders": {"get": {"responses": ok_json({"type": "object"})}},
            "/orders/{order_id}": {
                "get": {
                    "parameters": [{"name": "order_id", **path_param}],
                    "responses": ok_json({"type": "object"}),
                }
            },
            "/products/{product_id}": {
                "get": {
                    "parameters": [{"name": "product_id", **path_param}],
                    "responses": ok_json({"type": "object"}),
                }
            },
        }
    )
    api = api_of(tmp_path, doc)
    order, product = (
        operation(api, "GET /orders/{order_id}"),
        operation(api, "GET /products/{product_id}"),
    )
    harvest = IdHarvest()
    assert harvested_params(order, harvest=harvest) == ()
    harvest.record(operation(api, "GET /orders"), {"items": [{"id": "o-1", "product_id": "p-7"}]})
    assert harvested_params(order, harvest=harvest) == (("order_id", "o-1", "GET /orders"),)
    # a product an order merely refers to was not revealed by a product listing: no origin
    assert baseline_request(api, product, harvest=harvest).path == "/products/p-7"
    assert harvested_params(product, harvest=harvest) == ()
    # an override is the user's statement "one of my objects"
    assert harvested_params(order, overrides={"order_id": "x"}, harvest=harvest) == (
        ("order_id", "x", "--param"),
    )
