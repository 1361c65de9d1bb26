"""A read-only, lazily resolved view of one JSON Schema node of the document.

Schemas are the one part of the document that stays close to its source: real documents
(Stripe's, GitHub's) have recursive schemas that cannot be expanded. A :class:`Schema` holds the
raw node and where it lives; ``$ref`` is followed only when asked, through a :class:`Resolver`
(the loaded :class:`specdiff.spec.Spec`). Walkers guard recursion with :attr:`Schema.where`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Resolver", "Schema", "escape_pointer"]


class Resolver(Protocol):
    """Follows ``$ref`` and tells line numbers; implemented by :class:`specdiff.spec.Spec`."""

    def deref(self, node: Any, where: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains from ``node`` (at ``where``) to the first non-reference node."""
        ...

    def line_of(self, where: str) -> int | None:
        """The 1-based line of ``where`` (``doc#/json/pointer``), if known."""
        ...


def escape_pointer(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Schema:
    """One schema node: ``node`` may be a mapping, a ``$ref`` or a 3.1 boolean schema."""

    node: Any
    where: str
    """``<document>#<json pointer>``: identity for recursion guards and line lookup."""
    resolver: Resolver = field(compare=False, repr=False, hash=False)

    # -- navigation ---------------------------------------------------------------------

    def resolved(self) -> Schema:
        """This schema with ``$ref`` followed (the target's ``where``)."""
        if isinstance(self.node, Mapping) and "$ref" in self.node:
            node, where = self.resolver.deref(self.node, self.where)
            return Schema(node, where, self.resolver)
        return self

    def child(self, *tokens: str | int) -> Schema | None:
        """The sub-node at ``tokens`` (no ``$ref`` following on the way), or None."""
        node: Any = self.node
        where = self.where
        for token in tokens:
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
                node = node[int(token)]
            else:
                return None
            where = f"{where}/{escape_pointer(str(token))}"
        return Schema(node, where, self.resolver)

    def get(self, key: str, default: Any = None) -> Any:
        """A keyword's raw value of the resolved schema."""
        node = self.resolved().node
        return node.get(key, default) if isinstance(node, Mapping) else default

    @property
    def line(self) -> int | None:
        return self.resolver.line_of(self.where)

    # -- keywords -------------------------------------------------------------------------

    @property
    def is_bool(self) -> bool:
        """A 3.1 boolean schema (``true`` accepts anything, ``false`` nothing)."""
        return isinstance(self.node, bool)

    @property
    def types(self) -> frozenset[str]:
        """Declared types (3.1 type arrays included); empty when the schema says none."""
        declared = self.get("type")
        if isinstance(declared, str):
            types = {declared}
        elif isinstance(declared, list):
            types = {t for t in declared if isinstance(t, str)}
        else:
            types = set()
        if self.get("nullable") is True:
            types.add("null")
        return frozenset(types)

    @property
    def properties(self) -> dict[str, Schema]:
        target = self.resolved()
        props = target.child("properties")
        if props is None or not isinstance(props.node, Mapping):
            return {}
        return {
            str(name): Schema(sub, f"{props.where}/{escape_pointer(str(name))}", self.resolver)
            for name, sub in props.node.items()
        }

    @property
    def pattern_properties(self) -> dict[str, Schema]:
        target = self.resolved()
        props = target.child("patternProperties")
        if props is None or not isinstance(props.node, Mapping):
            return {}
        return {
            str(pattern): Schema(
                sub, f"{props.where}/{escape_pointer(str(pattern))}", self.resolver
            )
            for pattern, sub in props.node.items()
        }

    @property
    def required(self) -> tuple[str, ...]:
        value = self.get("required")
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    @property
    def additional_properties(self) -> bool | Schema:
        """``True`` (the JSON Schema default), ``False``, or the schema extra properties obey."""
        target = self.resolved()
        if not isinstance(target.node, Mapping) or "additionalProperties" not in target.node:
            return True
        value = target.node["additionalProperties"]
        if isinstance(value, bool):
            return value
        sub = target.child("additionalProperties")
        assert sub is not None
        return sub

    @property
    def items(self) -> Schema | None:
        """The schema of array items (the first of a tuple form)."""
        target = self.resolved()
        items = target.child("items")
        if items is None:
            return None
        if isinstance(items.node, list):
            return items.child(0)
        return items

    def _composed(self, keyword: str) -> tuple[Schema, ...]:
        target = self.resolved()
        branch = target.child(keyword)
        if branch is None or not isinstance(branch.node, list):
            return ()
        return tuple(
            Schema(sub, f"{branch.where}/{i}", self.resolver) for i, sub in enumerate(branch.node)
        )

    @property
    def all_of(self) -> tuple[Schema, ...]:
        return self._composed("allOf")

    @property
    def one_of(self) -> tuple[Schema, ...]:
        return self._composed("oneOf")

    @property
    def any_of(self) -> tuple[Schema, ...]:
        return self._composed("anyOf")

    @property
    def read_only(self) -> bool:
        return self.get("readOnly") is True

    @property
    def write_only(self) -> bool:
        return self.get("writeOnly") is True
