"""Contract validation: response bodies against their schemas; synthesized requests proven valid."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from specdiff.contract import RequestContract, violations
from specdiff.derive import derive
from specdiff.model import ApiModel
from specdiff.spec import load_spec
from specdiff.synth import baseline_request
from tests.builders import api_of, minimal_doc, ok_json, operation

REPO = Path(__file__).parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
DEMO = REPO / "specdiff" / "demo" / "openapi.yaml"


def _schema(api: ApiModel, key: str):  # type: ignore[no-untyped-def]
    response = operation(api, key).response_for(200)
    assert response is not None
    return response.content[0].schema


def test_openapi_31_const_and_type_arrays(tmp_path: Path) -> None:
    doc = minimal_doc(
        {
            "/x": {
                "get": {
                    "responses": ok_json(
                        {
                            "type": "object",
                            "properties": {
                                "kind": {"const": "x"},
                                "n": {"type": ["integer", "null"]},
                            },
                        }
                    )
                }
            }
        }
    )
    doc["openapi"] = "3.1.0"
    api = api_of(tmp_path, doc)
    schema = _schema(api, "GET /x")
    assert violations(schema, {"kind": "x", "n": None}, "3.1.0") == []
    found = violations(schema, {"kind": "y", "n": "1"}, "3.1.0")
    assert [(v.path, v.keyword) for v in found] == [("$.kind", "const"), ("$.n", "type")]
    assert all("'y'" not in v.message and "'1'" not in v.message for v in found)  # no values


def test_refs_across_files_are_followed() -> None:
    api = derive(load_spec(REPO / "specs" / "multi" / "root.yaml"))
    schema = _schema(api, "GET /pets/{id}")
    assert violations(schema, {"id": 1, "tag": "cute"}, api.openapi_version) == []
    [v] = violations(schema, {"id": 1, "tag": 7}, api.openapi_version)
    assert (v.path, v.keyword) == ("$.tag", "type")


def test_recursive_schemas_validate(tmp_path: Path) -> None:
    doc = minimal_doc(
        {"/n": {"get": {"responses": ok_json({"$ref": "#/components/schemas/Node"})}}},
        components={
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "n": {"type": "integer"},
                        "kids": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    },
                }
            }
        },
    )
    api = api_of(tmp_path, doc)
    body = {"n": 1, "kids": [{"n": 2, "kids": [{"n": "3"}]}]}
    [v] = violations(_schema(api, "GET /n"), body, api.openapi_version)
    assert v.path == "$.kids[*].kids[*].n"


@pytest.mark.parametrize(
    "path",
    [DEMO, CORPUS / "oai-petstore-v3.0.yaml", CORPUS / "petstore3-openapi.yaml"],
    ids=lambda p: p.name,
)
def test_openapi_core_proves_every_synthesized_baseline_valid(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} is not available")
    spec = load_spec(path)
    api = derive(spec)
    contract = RequestContract(spec)
    problems = {op.key: contract.problems(baseline_request(api, op)) for op in api.operations}
    assert problems == {op.key: [] for op in api.operations}


def test_openapi_core_proves_broken_variants_invalid() -> None:
    spec = load_spec(DEMO)
    api = derive(spec)
    contract = RequestContract(spec)
    products = baseline_request(api, operation(api, "GET /products"))
    assert contract.problems(dataclasses.replace(products, query=(("limit", "0"),)))
    assert contract.problems(dataclasses.replace(products, query=(("limit", "many"),)))
    create = baseline_request(api, operation(api, "POST /users"))
    assert contract.problems(dataclasses.replace(create, body=b'{"username": 7}'))
    user = baseline_request(api, operation(api, "GET /users/{id}"))
    assert contract.problems(dataclasses.replace(user, path="/users/abc"))
