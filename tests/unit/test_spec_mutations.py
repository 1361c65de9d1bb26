"""Property: a mutated valid document loads and derives, or fails with one SpecError; never
another exception, never a hang (bounded examples, a deadline per example)."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from specdiff.derive import derive
from specdiff.errors import SpecError
from specdiff.spec import load_spec

REPO = Path(__file__).parents[2]
SEEDS = {
    name: json.loads(json.dumps(load_spec(REPO / path).data))
    for name, path in {
        "demo": "specdiff/demo/openapi.yaml",
        "swagger2": "specs/swagger-2.0.json",
        "oas31": "specs/openapi-3.1.yaml",
    }.items()
}

Path_ = tuple[Any, ...]


def _paths(node: Any, here: Path_ = ()) -> list[Path_]:
    """Every key/index path inside ``node`` (the root too)."""
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*here, i))
    return found


WEIRD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.just("\u202e\u0000\ud7ff\U0001f4a9"),
    st.lists(st.integers(), max_size=3),
    st.just({"$ref": "#/components/schemas/DoesNotExist"}),
    st.just({"$ref": "#/"}),
    st.just({"$ref": "missing-file.yaml#/x"}),
    st.just({"$ref": "#/paths"}),
    st.just({"$ref": "#/definitions/Pet/properties/tags/items"}),
    st.just({"$ref": 42}),
)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        kind = draw(st.sampled_from(["drop", "replace", "self-ref", "unicode-key"]))
        last = path[-1]
        if kind == "drop":
            del parent[last]
        elif kind == "replace":
            parent[last] = copy.deepcopy(draw(WEIRD_VALUES))  # st.just values are shared
        elif kind == "self-ref":  # a cycle: the node refers to itself (or its parent)
            pointer = "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path[:-1])
            parent[last] = {"$ref": "#/" + pointer}
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(last)
    return doc


@settings(
    max_examples=120,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_mutated_documents_load_or_fail_with_one_spec_error(doc: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "openapi.json"
        path.write_text(
            json.dumps(doc, ensure_ascii=False), encoding="utf-8", errors="surrogatepass"
        )
        try:
            api = derive(load_spec(path))
        except SpecError as exc:
            event("SpecError")
            assert str(exc).strip() and "\n" not in str(exc).strip()
            return
        event("loaded" + (" with warnings" if api.warnings else ""))
        assert all(op.key for op in api.operations)
