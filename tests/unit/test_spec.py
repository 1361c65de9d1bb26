"""specdiff.spec: loading, $ref checks, lazy deref, line numbers, errors, validation."""

from __future__ import annotations

import dataclasses
import gc
import json
import pickle
from pathlib import Path

import pytest
import yaml

import specdiff.spec as spec_module
from specdiff._lines import JsonLines
from specdiff.errors import SpecError
from specdiff.model import Location
from specdiff.schema import Schema
from specdiff.spec import Spec, load_spec, validate_spec

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixtures are named relative to the repository, as a user would type them."""
    monkeypatch.chdir(REPO)


def _error(path: str | Path, **kwargs: bool) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("specs/nope.yaml", "specs/nope.yaml: no such file"),
        ("specs/broken", "specs/broken: is a directory, not an OpenAPI document"),
        ("specs/broken/empty.yaml", "specs/broken/empty.yaml: the file is empty"),
        (
            "specs/broken/invalid.yaml",
            "specs/broken/invalid.yaml: invalid YAML at line 8, column 3: did not find "
            "expected ',' or '}' (while parsing a flow mapping)",
        ),
        (
            "specs/broken/invalid.json",
            "specs/broken/invalid.json: invalid JSON at line 5, column 3: Expecting ',' delimiter",
        ),
        (
            "specs/broken/top-level-list.yaml",
            "specs/broken/top-level-list.yaml: the top level is a list, not a mapping",
        ),
        (
            "specs/broken/not-openapi.yaml",
            "specs/broken/not-openapi.yaml: not an OpenAPI document "
            "(no `openapi` or `swagger` field at the top level)",
        ),
        (
            "specs/broken/swagger-1.2.json",
            "specs/broken/swagger-1.2.json: unsupported version `swagger: 1.2`; "
            "specdiff reads Swagger 2.0 and OpenAPI 3.0 / 3.1",
        ),
        (
            "specs/broken/paths-not-mapping.yaml",
            "specs/broken/paths-not-mapping.yaml line 5: `paths` must be a mapping, not a list",
        ),
        (
            "specs/broken/dangling-ref.yaml",
            "specs/broken/dangling-ref.yaml line 14: "
            "$ref '#/components/schemas/Nope' points to nothing",
        ),
        (
            "specs/broken/missing-file-ref.yaml",
            "specs/broken/missing-file-ref.yaml line 10: $ref 'responses/missing.yaml#/Users' "
            "cannot be followed: specs/broken/responses/missing.yaml: no such file",
        ),
        (
            "specs/broken/remote-ref.yaml",
            "specs/broken/remote-ref.yaml line 14: "
            "remote $ref 'https://example.invalid/schemas.yaml#/User' refused; "
            "pass --allow-remote-refs to fetch it",
        ),
        (
            "specs/broken/ref-cycle.yaml",
            "specs/broken/ref-cycle.yaml line 9: $ref cycle #/components/schemas/B -> "
            "#/components/schemas/A -> #/components/schemas/B never reaches a node "
            "(and 1 more broken $ref)",
        ),
    ],
)
def test_load_errors_are_one_line_naming_the_problem(path: str, message: str) -> None:
    assert _error(path) == message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "secret.yaml"
    target.write_text("openapi: 3.0.3\n")

    def refuse(self: Path) -> bytes:  # chmod 0 does not stop root
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert _error(target) == f"{target}: cannot read it (Permission denied)"


def test_unsupported_openapi_version(tmp_path: Path) -> None:
    target = tmp_path / "v4.yaml"
    target.write_text("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    assert _error(target) == (
        f"{target}: unsupported version `openapi: 4.0.0`; "
        "specdiff reads Swagger 2.0 and OpenAPI 3.0 / 3.1"
    )


def test_newer_minor_version_is_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "v32.yaml"
    target.write_text("openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    spec = load_spec(target)
    assert spec.version == "3.2.0"
    assert spec.warnings == (f"{target}: OpenAPI 3.2.0 is newer than 3.1; read as 3.1",)


def test_missing_paths_is_a_warning_before_3_1(tmp_path: Path) -> None:
    target = tmp_path / "nopaths.yaml"
    target.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\n")
    assert load_spec(target).warnings == (
        f"{target}: no `paths`: the document describes no operation",
    )


def test_several_yaml_documents_in_one_file(tmp_path: Path) -> None:
    target = tmp_path / "two.yaml"
    target.write_text("openapi: 3.0.3\n---\nopenapi: 3.0.3\n")
    assert _error(target) == (
        f"{target}: invalid YAML at line 2, column 1: "
        "expected a single document in the stream, but found another document"
    )


def test_unknown_yaml_tag(tmp_path: Path) -> None:
    target = tmp_path / "tag.yaml"
    target.write_text("openapi: 3.0.3\ninfo: !include info.yaml\n")
    assert _error(target) == (
        f"{target}: invalid YAML at line 2, column 7: could not determine a constructor "
        "for the tag '!include'"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# only a comment\n", ": the file holds no document"),
        (b"[1, 2]", ": the top level is a list, not a mapping"),
        (b"openapi: 3.0.3\npaths:\n", " line 2: `paths` must be a mapping, not null"),
        (
            b"openapi: 3.0.3\nx: {? [1, 2] : 3}\n",
            ": invalid YAML at line 2, column 7: a mapping key must be a plain value",
        ),
        (
            b"openapi: 3.0.3\npaths: {}\nx:\n  $ref: 'ftp://host/x.yaml#/a'\n",
            " line 4: $ref 'ftp://host/x.yaml#/a': unsupported URL scheme 'ftp'",
        ),
    ],
)
def test_more_errors(tmp_path: Path, content: bytes, message: str) -> None:
    target = tmp_path / "doc.yaml"
    target.write_bytes(content)
    assert _error(target) == f"{target}{message}"


def test_non_utf8_text_is_read_as_latin1(tmp_path: Path) -> None:
    target = tmp_path / "latin1.yaml"
    target.write_bytes(b'openapi: 3.0.3\ninfo: {title: "caf\xe9", version: "1"}\npaths: {}\n')
    spec = load_spec(target)
    assert spec.data["info"]["title"] == "café"
    assert spec.warnings == (f"{target} line 2: not UTF-8 text; read as Latin-1",)


def test_yaml_binary_and_set_become_plain_data(tmp_path: Path) -> None:
    target = tmp_path / "tags.yaml"
    target.write_text("openapi: 3.0.3\npaths: {}\nx: !!binary aGVsbG8=\ny: !!set {a, b}\n")
    spec = load_spec(target)
    assert spec.data["x"] == "aGVsbG8="
    assert spec.data["y"] == {"a": None, "b": None}


# ------------------------------------------------------------------------------ formats


def test_swagger_2_json() -> None:
    spec = load_spec("specs/swagger-2.0.json")
    assert spec.version == "2.0"
    assert spec.display == "specs/swagger-2.0.json"
    assert spec.path == SPECS / "swagger-2.0.json"
    assert spec.root == ""
    assert spec.warnings == ()
    assert list(spec.data["paths"]) == ["/pets", "/pets/{petId}"]


def test_openapi_3_1_without_paths_loads() -> None:
    spec = load_spec(Path("specs/openapi-3.1.yaml"))
    assert spec.version == "3.1.0"
    assert "paths" not in spec.data
    assert spec.warnings == ()
    assert spec.data["components"]["schemas"]["Pet"]["type"] == ["object", "null"]


def test_yaml_keys_are_strings_and_timestamps_stay_text() -> None:
    spec = load_spec("specs/yaml-scalars.yaml")
    operation = spec.data["paths"]["/events"]["get"]
    assert list(operation["responses"]) == ["200"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert list(schema["properties"]) == ["on", "created", "when"]
    assert schema["properties"]["created"]["example"] == "2017-02-30"
    assert schema["properties"]["when"]["default"] == "2020-01-01T10:00:00Z"
    assert spec.data["info"]["version"] == "2017-02-30"
    assert operation["x-duplicate"] == "second"
    assert spec.warnings == (
        "specs/yaml-scalars.yaml line 26: duplicate key 'x-duplicate' (the last one wins)",
    )


def test_format_is_detected_by_content(tmp_path: Path) -> None:
    target = tmp_path / "really-json.yaml"
    target.write_text(json.dumps({"openapi": "3.0.3", "info": {}, "paths": {"/a": {"get": {}}}}))
    spec = load_spec(target)
    assert spec.line_of(spec.where("paths", "/a", "get")) == 1
    flow = tmp_path / "flow.json"
    flow.write_text("{openapi: 3.0.3, paths: {}}\n")  # YAML flow mapping, not JSON
    assert load_spec(flow).version == "3.0.3"


def test_yaml_merge_keys(tmp_path: Path) -> None:
    target = tmp_path / "merge.yaml"
    target.write_text(
        "openapi: 3.0.3\n"
        "x-base: &base\n"
        "  description: shared\n"
        "  type: string\n"
        "paths: {}\n"
        "components:\n"
        "  schemas:\n"
        "    Name:\n"
        "      <<: *base\n"
        "      type: integer\n"
    )
    spec = load_spec(target)
    assert spec.data["components"]["schemas"]["Name"] == {
        "description": "shared",
        "type": "integer",
    }
    assert spec.warnings == ()
    assert spec.line_of(spec.where("components", "schemas", "Name", "type")) == 10


# ------------------------------------------------------------------------------ $ref


def test_circular_schema_loads_and_deref_goes_round_the_loop() -> None:
    spec = load_spec("specs/circular.yaml")
    where = spec.where("paths", "/nodes/{id}", "get", "responses", "200")
    response = spec.node_at(where)
    schema_where = f"{where}/content/application~1json/schema"
    node, node_where = spec.deref(response["content"]["application/json"]["schema"], schema_where)
    assert node_where == "#/components/schemas/Node"
    assert node is spec.data["components"]["schemas"]["Node"]
    items = node["properties"]["children"]["items"]
    again, again_where = spec.deref(items, f"{node_where}/properties/children/items")
    assert (again, again_where) == (node, node_where)
    # parent -> Parent -> Node: a chain of two references
    parent = node["properties"]["parent"]
    assert spec.deref(parent, f"{node_where}/properties/parent") == (node, node_where)
    # references stay references in the data
    assert items == {"$ref": "#/components/schemas/Node"}


def test_deref_works_through_schema_view() -> None:
    spec = load_spec("specs/circular.yaml")
    node = Schema(spec.node_at("#/components/schemas/Node"), "#/components/schemas/Node", spec)
    children = node.properties["children"].items
    assert children is not None
    assert children.resolved().where == "#/components/schemas/Node"
    assert children.resolved().line == 24
    assert node.properties["parent"].resolved().types == frozenset({"object"})


def test_non_ref_nodes_pass_through_deref() -> None:
    spec = load_spec("specs/circular.yaml")
    node = {"type": "string"}
    assert spec.deref(node, "#/x") == (node, "#/x")
    assert spec.deref("text", "#/y") == ("text", "#/y")
    with pytest.raises(SpecError) as info:
        spec.deref({"$ref": "#/components/schemas/Gone"}, "#/components")
    assert str(info.value) == (
        "specs/circular.yaml: $ref '#/components/schemas/Gone' points to nothing"
    )


def test_external_files_resolve_and_locations_name_them() -> None:
    spec = load_spec("specs/multi/root.yaml")
    where = spec.where("paths", "/pets/{id}", "get", "responses", "200", "content")
    schema_where = f"{where}/application~1json/schema"
    pet, pet_where = spec.deref(spec.node_at(schema_where), schema_where)
    assert pet_where == "schemas.yaml#/Pet"
    assert pet["type"] == "object"
    assert spec.location(pet_where) == Location("specs/multi/schemas.yaml", 1, "/Pet")
    # a local ref inside the external file is relative to that file
    tag, tag_where = spec.deref(pet["properties"]["tag"], f"{pet_where}/properties/tag")
    assert (tag, tag_where) == ({"type": "string"}, "schemas.yaml#/Tag")
    assert spec.location(tag_where) == Location("specs/multi/schemas.yaml", 8, "/Tag")
    # a whole-file ref, without fragment
    default_where = spec.where("paths", "/pets/{id}", "get", "responses", "default")
    response, response_where = spec.deref(spec.node_at(default_where), default_where)
    assert response_where == "error-response.yaml#"
    assert response["description"] == "Something went wrong"
    assert spec.location(response_where) == Location("specs/multi/error-response.yaml", 1, "")
    assert spec.location(default_where) == Location(
        "specs/multi/root.yaml", 21, "/paths/~1pets~1{id}/get/responses/default"
    )


def test_percent_encoded_pointer_resolves() -> None:
    spec = load_spec("specs/percent-pointer.yaml")
    where = spec.where("paths", "/users/{id}", "get", "parameters", 0)
    parameter, parameter_where = spec.deref(spec.node_at(where), where)
    assert parameter["name"] == "id"
    assert parameter_where == "#/paths/~1users~1{id}/parameters/0"
    assert spec.line_of(parameter_where) == 8
    schema_where = spec.where(
        "paths", "/users/{id}", "get", "responses", "200", "content", "application/json", "schema"
    )
    user, user_where = spec.deref(spec.node_at(schema_where), schema_where)
    assert user == {"type": "object"}
    assert user_where == "#/components/schemas/User Record"
    assert spec.line_of(user_where) == 25


def test_remote_ref_is_fetched_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def fake_fetch(url: str) -> bytes:
        fetched.append(url)
        return b"User:\n  $ref: '#/Base'\nBase:\n  type: object\n"

    monkeypatch.setattr(spec_module, "_fetch", fake_fetch)
    _error("specs/broken/remote-ref.yaml")
    assert fetched == []
    spec = load_spec("specs/broken/remote-ref.yaml", allow_remote_refs=True)
    assert fetched == ["https://example.invalid/schemas.yaml"]
    where = spec.where(
        "paths", "/users", "get", "responses", "200", "content", "application/json", "schema"
    )
    node, target = spec.deref(spec.node_at(where), where)
    assert (node, target) == ({"type": "object"}, "https://example.invalid/schemas.yaml#/Base")
    assert spec.location(target) == Location("https://example.invalid/schemas.yaml", 3, "/Base")


# ------------------------------------------------------------------------------ where / lines


def test_where_escapes_tokens() -> None:
    spec = load_spec("specs/circular.yaml")
    assert spec.where("paths", "/users/{id}", "get") == "#/paths/~1users~1{id}/get"
    assert spec.where("a~b", 0) == "#/a~0b/0"
    assert spec.where() == "#"


def test_node_at_raises_when_absent() -> None:
    spec = load_spec("specs/circular.yaml")
    assert spec.node_at("#/components/schemas/Node/type") == "object"
    assert spec.node_at("#/paths/~1nodes~1{id}/get/parameters/0/name") == "id"
    with pytest.raises(SpecError) as info:
        spec.node_at("#/components/schemas/Nope")
    assert str(info.value) == "specs/circular.yaml: nothing at '#/components/schemas/Nope'"


def test_line_of_in_yaml() -> None:
    spec = load_spec("specs/circular.yaml")
    assert spec.line_of(spec.where("paths", "/nodes/{id}", "get")) == 7
    assert spec.line_of(spec.where("paths", "/nodes/{id}", "get", "parameters", 0)) == 10
    assert spec.line_of(spec.where("paths", "/nodes/{id}", "get", "responses", "200")) == 16
    assert spec.line_of(spec.where("components", "schemas", "Node")) == 24
    assert spec.line_of(spec.where("components", "schemas", "Parent")) == 35
    assert spec.line_of(spec.where()) == 1
    assert spec.line_of(spec.where("components", "schemas", "Nope")) is None
    assert spec.line_of(spec.where("paths", "/nodes/{id}", "get", "parameters", 5)) is None
    assert spec.location(spec.where("components", "schemas", "Node")) == Location(
        "specs/circular.yaml", 24, "/components/schemas/Node"
    )


def test_line_of_in_json() -> None:
    spec = load_spec("specs/swagger-2.0.json")
    assert spec.line_of(spec.where("paths", "/pets", "get")) == 8
    assert spec.line_of(spec.where("paths", "/pets", "post")) == 17
    assert spec.line_of(spec.where("paths", "/pets/{petId}", "get")) == 26
    assert spec.line_of(spec.where("paths", "/pets/{petId}", "get", "parameters", 0)) == 28
    assert spec.line_of(spec.where("definitions", "Pet")) == 34
    # a key after non-ASCII text, and a non-ASCII key
    assert spec.line_of(spec.where("definitions", "Pet", "properties", "名前")) == 39
    assert spec.line_of(spec.where("paths", "/pets", "post", "parameters", 0, "schema")) == 20
    assert spec.line_of(spec.where("definitions", "Nope")) is None
    assert spec.line_of(spec.where("definitions", "Pet", "required", 3)) is None
    assert spec.line_of("not a where") is None


# ------------------------------------------------------------------------------ validation


def test_validate_spec_reports_problems_of_a_usable_document() -> None:
    spec = load_spec("specs/broken/invalid-but-usable.yaml")
    assert validate_spec(spec) == [
        "#/info: 'version' is a required property",
        "#/paths/~1users/get/responses/200: {'content': {'application/json': {'schema': "
        "{'type': 'object'}}}} is not valid under any of the given schemas",
    ]


@pytest.mark.parametrize(
    "path",
    ["specs/circular.yaml", "specs/multi/root.yaml", "specs/swagger-2.0.json"],
)
def test_validate_spec_accepts_valid_documents(path: str) -> None:
    assert validate_spec(load_spec(path)) == []


# ------------------------------------------------------------------------------ corpus


def _corpus(name: str) -> Spec:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    return load_spec(CORPUS / name)


def _line_in_text(path: Path, *needles: str) -> int:
    """The line of the first needle found after the previous one: a plain text search."""
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    for needle in needles:
        index = next(i for i in range(index, len(lines)) if needle in lines[i])
    return index + 1


def _operations(spec: Spec) -> int:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(m in methods for item in spec.data["paths"].values() for m in item)


def test_corpus_github() -> None:
    spec = _corpus("github-api.github.com.json")
    assert spec.version == "3.0.3"
    assert len(spec.data["paths"]) == 811
    assert _operations(spec) == 1223
    expected = _line_in_text(spec.path, '"/repos/{owner}/{repo}": {', '"get": {')
    assert spec.line_of(spec.where("paths", "/repos/{owner}/{repo}", "get")) == expected
    schema = spec.where("components", "schemas", "repository")
    assert spec.line_of(schema) == _line_in_text(
        spec.path, '"components": {', '"schemas": {', '"repository": {'
    )


def test_corpus_stripe_recursive_schemas_stay_references() -> None:
    spec = _corpus("stripe-spec3-2022-04-13.json")
    assert spec.version == "3.0.0"
    assert len(spec.data["paths"]) == 261
    account = Schema(
        spec.node_at("#/components/schemas/account"), "#/components/schemas/account", spec
    )
    assert "external_accounts" in account.properties


def test_corpus_kubernetes_swagger() -> None:
    spec = _corpus("k8s-v1.36-swagger.json")
    assert spec.version == "2.0"
    assert len(spec.data["paths"]) == 562
    assert _operations(spec) == 1123


@pytest.mark.parametrize(
    ("name", "version", "operations"),
    [
        ("oai-petstore-v2.0.json", "2.0", 3),
        ("oai-petstore-v3.0.yaml", "3.0.0", 3),
        ("petstore-v2-swagger.yaml", "2.0", 20),
        ("petstore3-openapi.yaml", "3.0.4", 19),
    ],
)
def test_corpus_petstores(name: str, version: str, operations: int) -> None:
    spec = _corpus(name)
    assert spec.version == version
    assert _operations(spec) == operations


def test_corpus_petstore_yaml_lines() -> None:
    spec = _corpus("petstore3-openapi.yaml")
    expected = _line_in_text(spec.path, "  /pet/{petId}:", "    get:")
    assert spec.line_of(spec.where("paths", "/pet/{petId}", "get")) == expected


def test_a_ref_to_a_file_name_with_a_nul_byte_is_one_spec_error(tmp_path: Path) -> None:
    # found by the hypothesis mutation test: the file system raised ValueError, not OSError
    path = tmp_path / "nul.yaml"
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"$ref": "b\x00.yaml#/R"}}}}},
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert "not a valid file name" in str(caught.value) and "\n" not in str(caught.value)


# ------------------------------------------------------------------------------ fast paths


def _json_doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.json"
    path.write_text('{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},' + text + "}")
    return path


@pytest.mark.parametrize(
    ("members", "broken"),
    [
        # a "$ref" spelt inside a string (description, example) is text, not a reference
        ('"paths": {}, "x": {"description": "{\\"$ref\\": \\"#/nope\\"}"}', None),
        ('"paths": {}, "x": {"a\\"$ref": "#/nope"}', None),
        # an escaped letter in the key: the walk over the data finds it
        ('"paths": {}, "x": {"\\u0024ref": "#/nope"}', "#/nope"),
        ('"paths": {}, "x": {"$r\\u0065f": "#/nope"}', "#/nope"),
        # escapes inside the reference are decoded as the JSON parser decodes them
        (
            '"paths": {}, "a/b": {}, "x": {"$ref": "#\\/a~1b"}, "y": {"$ref" :\n "#/n\\u00e9"}',
            "#/né",
        ),
        # a duplicate key: the parser keeps the last one, so only that one is checked
        (
            '"paths": {}, "x": {"$ref": "#/nope", "$ref": "#/paths"}, "y": {"$ref": "#/gone"}',
            "#/gone",
        ),
    ],
)
def test_json_refs_are_found_in_the_text_exactly(
    tmp_path: Path, members: str, broken: str | None
) -> None:
    path = _json_doc(tmp_path, members)
    if broken is None:
        load_spec(path)
    else:
        message = _error(path)
        assert f"$ref {broken!r} points to nothing" in message
        assert "more broken" not in message


def test_json_refs_match_a_walk_over_the_data() -> None:
    spec = _corpus("github-api.github.com.json")
    lines = spec._by_id[spec.root].lines
    assert isinstance(lines, JsonLines)
    assert lines.refs() == spec_module._collect_refs(spec.data, shared=False)


def test_location_line_is_looked_up_when_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec("specs/swagger-2.0.json")
    asked: list[str] = []
    line_of = Spec.line_of

    def counting(self: Spec, where: str) -> int | None:
        asked.append(where)
        return line_of(self, where)

    monkeypatch.setattr(Spec, "line_of", counting)
    location = spec.location(spec.where("paths", "/pets", "get"))
    assert asked == []
    assert location == Location("specs/swagger-2.0.json", 8, "/paths/~1pets/get")
    assert location.line == 8 and len(asked) == 1
    assert (
        repr(location)
        == "Location(file='specs/swagger-2.0.json', line=8, pointer='/paths/~1pets/get')"
    )
    assert hash(location) == hash(Location("specs/swagger-2.0.json", 8, "/paths/~1pets/get"))
    assert pickle.loads(pickle.dumps(location)) == location
    with pytest.raises(dataclasses.FrozenInstanceError):
        location.file = "other"  # type: ignore[misc]


def test_yaml_refs_noted_while_building_match_a_walk_over_the_data() -> None:
    spec = _corpus("petstore3-openapi.yaml")
    lines = spec._by_id[spec.root].lines
    assert isinstance(lines, spec_module.YamlLines)
    noted = lines.refs()
    assert noted and noted == spec_module._collect_refs(spec.data, shared=True)


@pytest.mark.parametrize(
    "extra",
    [
        "x: !!set {a: {$ref: '#/nope'}}\n",  # a tagged collection: found by the walk
        "x: &shared {$ref: '#/nope'}\ny: [*shared, *shared]\n",  # an alias: noted once
        "base: &base {$ref: '#/nope'}\nx: {<<: *base, description: d}\n",  # a merge key
    ],
)
def test_yaml_broken_refs_are_found_however_the_mapping_was_built(
    tmp_path: Path, extra: str
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n" + extra)
    message = _error(path)
    assert "$ref '#/nope' points to nothing" in message and "more broken" not in message


@pytest.mark.parametrize(
    "text",
    [
        '{"openapi": "3.0.3", "paths": {}, "x": {"$ref": "#/nope"}}',
        "openapi: 3.0.3\npaths: {}\nx: {$ref: '#/nope'}\n",
    ],
)
def test_loading_leaves_the_garbage_collector_as_it_was(tmp_path: Path, text: str) -> None:
    path = tmp_path / "doc"
    path.write_text(text)
    assert gc.isenabled()
    with pytest.raises(SpecError):
        load_spec(path)
    assert gc.isenabled()
    gc.disable()
    try:
        load_spec(SPECS / "swagger-2.0.json")
        assert not gc.isenabled()
    finally:
        gc.enable()
