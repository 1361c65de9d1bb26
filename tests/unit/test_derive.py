"""Derivation: operations, effective security, parameters, bodies, responses, servers."""

from __future__ import annotations

import json
from pathlib import Path

from specdiff.derive import derive
from specdiff.spec import load_spec
from tests.builders import api_of, minimal_doc, ok_json, operation

DEMO = Path(__file__).parents[2] / "specdiff" / "demo" / "openapi.yaml"


def test_demo_operations_security_and_lines() -> None:
    api = derive(load_spec(DEMO))
    keys = [op.key for op in api.operations]
    assert keys == [
        "GET /health",
        "POST /auth/login",
        "GET /me",
        "GET /users",
        "POST /users",
        "GET /users/{id}",
        "GET /orders",
        "GET /orders/{order_id}",
        "DELETE /orders/{order_id}",
        "GET /admin/stats",
        "GET /products",
        "GET /products/search",
        "GET /products/{product_id}",
        "GET /stats",
        "GET /reports/daily",
        "GET /announcements",
        "GET /realtime/ticket",
        "GET /assistant/answer",
        "GET /partner/catalog",
    ]
    open_ops = {op.key for op in api.operations if not op.secured}
    assert open_ops == {
        "GET /health",
        "POST /auth/login",
        "GET /products",
        "GET /products/search",
        "GET /products/{product_id}",
        "GET /stats",
        "GET /reports/daily",
        "GET /announcements",
    }
    lines = DEMO.read_text().splitlines()
    path_line = lines.index("  /users/{id}:")
    expected = next(i for i in range(path_line, len(lines)) if lines[i] == "    get:") + 1
    get_user = operation(api, "GET /users/{id}")
    assert get_user.location.line == expected
    assert get_user.location.file.endswith("openapi.yaml")
    assert get_user.parameters[0].name == "id" and get_user.parameters[0].location == "path"
    assert api.security_schemes["bearerAuth"].scheme == "bearer"
    partner = api.security_schemes["partnerKey"]
    assert (partner.type, partner.param_location, partner.param_name) == (
        "apiKey",
        "header",
        "X-API-Key",
    )
    assert not partner.takes_bearer and api.security_schemes["openId"].takes_bearer
    openid = api.security_schemes["openId"]
    assert (openid.type, openid.open_id_connect_url) == (
        "openIdConnect",
        "/.well-known/openid-configuration",
    )


def test_operation_security_overrides_top_level_and_empty_alternative_means_open(
    tmp_path: Path,
) -> None:
    doc = minimal_doc(
        {
            "/a": {"get": {"responses": ok_json({"type": "object"})}},
            "/b": {"get": {"security": [], "responses": ok_json({"type": "object"})}},
            "/c": {
                "get": {"security": [{"key": []}, {}], "responses": ok_json({"type": "object"})}
            },
            "/d": {"get": {"security": [{"oauth": ["read", "write"]}], "responses": {}}},
        },
        security=[{"bearer": []}],
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "Bearer"},
                "key": {"type": "apiKey", "in": "query", "name": "api_key"},
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {"tokenUrl": "/t", "scopes": {"read": "", "write": ""}}
                    },
                },
            }
        },
    )
    api = api_of(tmp_path, doc)
    assert operation(api, "GET /a").security == ((("bearer", ()),),)
    assert operation(api, "GET /a").secured
    assert not operation(api, "GET /b").secured
    assert not operation(api, "GET /c").secured
    assert operation(api, "GET /d").security == ((("oauth", ("read", "write")),),)
    assert api.security_schemes["bearer"].scheme == "bearer"
    assert api.security_schemes["key"].param_location == "query"
    assert api.security_schemes["oauth"].scopes == ("read", "write")


def test_path_level_parameters_are_merged_and_overridden(tmp_path: Path) -> None:
    doc = minimal_doc(
        {
            "/items/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "trace", "in": "header", "schema": {"type": "string"}},
                ],
                "get": {
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": ok_json({"type": "object"}),
                },
            }
        }
    )
    op = operation(api_of(tmp_path, doc), "GET /items/{id}")
    assert [(p.name, p.location) for p in op.parameters] == [("id", "path"), ("trace", "header")]
    assert op.parameters[0].schema is not None and op.parameters[0].schema.types == {"integer"}


def test_swagger2_is_normalised(tmp_path: Path) -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "s", "version": "1"},
        "host": "api.example.com",
        "basePath": "/v1",
        "schemes": ["http", "https"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        },
        "security": [{"key": []}],
        "paths": {
            "/pets": {
                "post": {
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Pet"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}
                    },
                },
                "get": {
                    "parameters": [
                        {"name": "limit", "in": "query", "type": "integer", "required": True}
                    ],
                    "responses": {"200": {"description": "ok"}},
                },
            }
        },
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(doc, indent=2))
    api = derive(load_spec(path))
    assert [s.url for s in api.servers] == [
        "http://api.example.com/v1",
        "https://api.example.com/v1",
    ]
    post = operation(api, "POST /pets")
    assert post.request_body is not None and post.request_body.required
    assert post.request_body.content[0].media_type == "application/json"
    schema = post.responses[0].content[0].schema
    assert schema is not None and set(schema.properties) == {"name"}
    get = operation(api, "GET /pets")
    assert get.parameters[0].schema is not None and get.parameters[0].schema.types == {"integer"}
    assert (
        api.security_schemes["basic"].type == "http"
        and api.security_schemes["basic"].scheme == "basic"
    )
    assert post.secured


def test_response_lookup_prefers_exact_then_range_then_default(tmp_path: Path) -> None:
    doc = minimal_doc(
        {
            "/x": {
                "get": {
                    "responses": {
                        "200": {"description": "a"},
                        "4XX": {"description": "b"},
                        "default": {"description": "c"},
                    }
                }
            }
        }
    )
    op = operation(api_of(tmp_path, doc), "GET /x")
    assert op.response_for(200).status == "200"  # type: ignore[union-attr]
    assert op.response_for(404).status == "4XX"  # type: ignore[union-attr]
    assert op.response_for(500).status == "default"  # type: ignore[union-attr]
