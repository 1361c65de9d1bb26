"""Objects a ``--unsafe`` run created, so that destructive requests touch nothing else.

A destructive operation (DELETE, or PUT/PATCH on an item path such as ``/items/{id}``) is aimed
only at an object specdiff created earlier in the same run through the API's own create
operation: the POST on the parent collection (``POST /items``). Every 2xx answer to such a POST
(whoever sent it: the baseline, or a variant the API should have refused) is recorded, its id
read from the ``Location`` header or from the answer's body. At the end the engine deletes what
is left where the document has a DELETE for it, and the report lists what was created and what
could not be cleaned up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from specdiff.model import ApiModel, CreatedObject, Exchange, Operation
from specdiff.safety import path_values

__all__ = ["CreatedObjects"]

_GONE = frozenset({404, 410})


def _shape(template: str) -> str:
    """``/users/{uid}/posts`` and ``/users/{user_id}/posts`` are the same collection."""
    return re.sub(r"\{[^}]*\}", "{}", template)


@dataclass
class _Object:
    path: str | None
    """The object's own path; None when the answer did not say which object it created."""
    collection: str
    """The collection's template shape (``/users/{}/posts``)."""
    created_by: str
    deleted: bool = False
    taken: bool = False
    """Already the target of a DELETE baseline (a spare must be another object)."""
    note: str = ""


class CreatedObjects:
    """The registry of one run (mutable; the engine owns it)."""

    def __init__(self, api: ApiModel) -> None:
        self._items: dict[str, list[Operation]] = {}
        """Collection shape -> operations on its item path (``/items/{id}``)."""
        self._posts: dict[str, Operation] = {}
        for op in api.operations:
            if op.path.endswith("}"):
                parent = op.path.rsplit("/", 1)[0]
                self._items.setdefault(_shape(parent), []).append(op)
            if op.method == "POST":
                self._posts[_shape(op.path)] = op
        self._objects: list[_Object] = []
        self._paths: set[str] = set()

    def create_operation(self, op: Operation) -> Operation | None:
        """The POST that creates the objects ``op`` acts on, when ``op``'s path ends in an id
        parameter and the document has a POST on the parent path."""
        if not op.path.endswith("}"):
            return None
        return self._posts.get(_shape(op.path.rsplit("/", 1)[0]))

    def needs_object(self, op: Operation) -> bool:
        """``op`` changes or removes one object (DELETE, PUT, PATCH on an item path)."""
        return op.method in ("DELETE", "PUT", "PATCH") and op.path.endswith("}")

    def observe(self, op: Operation, exchange: Exchange) -> None:
        """Record what ``exchange`` (planned for ``op``) created or deleted."""
        req = exchange.request
        if req.method == "POST" and exchange.ok and req.target == "primary":
            shape = _shape(op.path) if op.method == "POST" else None
            if (
                shape is not None
                and shape in self._items
                and path_values(op.path, req.path) is not None
            ):
                self._record(shape, req.path, op.key, exchange)
        elif req.method == "DELETE" and (exchange.ok or exchange.status in _GONE):
            for obj in self._objects:
                if obj.path == req.path:
                    obj.deleted = True

    def _record(self, shape: str, collection_path: str, by: str, exchange: Exchange) -> None:
        item_op = self._items[shape][0]
        name = item_op.path.rsplit("{", 1)[1].rstrip("}")
        value = _id_from_location(exchange, collection_path) or _id_from_body(exchange.json(), name)
        if value is None:
            note = f"{by} answered {exchange.status} without naming the object (no Location, no id)"
            self._objects.append(_Object(None, shape, by, note=note))
            return
        path = collection_path.rstrip("/") + "/" + quote(str(value), safe="")
        if path not in self._paths:
            self._paths.add(path)
            self._objects.append(_Object(path, shape, by))

    def names(self, path: str) -> bool:
        """``path`` is (the path of) an object this run created."""
        return path.split("?", 1)[0] in self._paths

    def take(self, op: Operation) -> str | None:
        """The path of a created object ``op`` may act on, not yet taken by a DELETE; a DELETE
        takes it (its baseline removes it, so variants need another one)."""
        parent = _shape(op.path.rsplit("/", 1)[0])
        for obj in self._objects:
            if obj.path and obj.collection == parent and not obj.deleted and not obj.taken:
                obj.taken = op.method == "DELETE"
                return obj.path
        return None

    def leftovers(self) -> list[tuple[str, Operation | None]]:
        """Objects not yet deleted, each with the DELETE operation that can remove it."""
        found: list[tuple[str, Operation | None]] = []
        for obj in self._objects:
            if obj.path is None or obj.deleted:
                continue
            delete = next((o for o in self._items[obj.collection] if o.method == "DELETE"), None)
            found.append((obj.path, delete))
        return found

    def fail(self, path: str, note: str) -> None:
        for obj in self._objects:
            if obj.path == path:
                obj.note = note

    def report(self) -> tuple[CreatedObject, ...]:
        return tuple(
            CreatedObject(
                path=obj.path or obj.collection,
                created_by=obj.created_by,
                cleaned=obj.deleted,
                note="" if obj.deleted else obj.note or "not deleted",
            )
            for obj in self._objects
        )


def _id_from_location(exchange: Exchange, collection_path: str) -> str | None:
    location = exchange.header("location")
    if not location:
        return None
    head, _, last = urlsplit(location).path.rstrip("/").rpartition("/")
    return last if last and head.endswith(collection_path.rstrip("/")) else None


_ID_KEYS = ("id", "uuid", "key", "slug")


def _id_from_body(body: Any, name: str) -> str | int | None:
    """The created object's id: the item parameter's own name (``item_id``, ``itemId``) or
    ``id``, at the top of the answer or inside a ``data``/single-key wrapper."""
    candidates = [body]
    if isinstance(body, dict) and len(body) == 1:
        candidates.append(next(iter(body.values())))
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        candidates.append(body["data"])
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    for obj in candidates:
        if not isinstance(obj, dict):
            continue
        for key in (name, snake, *_ID_KEYS):
            value = obj.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return value
    return None
