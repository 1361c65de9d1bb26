"""Text to data, with line numbers computed lazily (private to :mod:`specdiff.spec`).

:func:`parse` turns a document's bytes into plain data (JSON fast path, else YAML) plus a
:class:`LineIndex`. Indexing every node of a 13 MB document up front costs seconds and hundreds of
megabytes, while a run asks for a few thousand lines. So:

* JSON: the raw text is kept and scanned on demand. Each container on the way to a pointer is
  scanned once, as far as needed (member offsets memoised); values are skipped with the C JSON
  scanner. The text is viewed as Latin-1 so that it stays one byte per character (a UTF-8
  document with a single emoji would otherwise be held as a 4-bytes-per-character string); UTF-8
  never puts a byte below 0x80 inside a multi-byte character, so the JSON structure is unchanged.
* YAML: the composed node tree (which carries marks) is kept; mappings are indexed on first visit.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import yaml

from specdiff.errors import SpecError

__all__ = ["JsonLines", "LineIndex", "YamlLines", "one_line", "parse"]

_WS = re.compile(r"[ \t\n\r]*")
_REF_MEMBER = re.compile(rb'"\$ref"[ \t\n\r]*:[ \t\n\r]*"([^"\\]*(?:\\.[^"\\]*)*)"')
_ESCAPED_REF_LETTER = re.compile(rb"\\u00(?:24|72|65|66)")
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


class LineIndex:
    """Answers "which line holds the node at these pointer tokens" (unescaped tokens)."""

    def line_of(self, tokens: Sequence[str]) -> int | None:
        raise NotImplementedError

    def refs(self) -> dict[str, None] | None:
        """Every distinct ``$ref`` string in document order, if known without walking the data."""
        return None


class _Scan:
    """How far one JSON container has been scanned: members seen so far and where to resume."""

    __slots__ = ("items", "members", "pending", "resume")

    def __init__(self, resume: int) -> None:
        self.members: dict[str, tuple[int, int]] = {}  # key -> (key offset, value offset)
        self.items: list[int] = []  # array item offsets
        self.resume = resume  # -1 once the closing bracket was reached
        self.pending = False  # resume points at a value still to be skipped


class JsonLines(LineIndex):
    """Lazy line lookup over the raw UTF-8 bytes of a JSON document.

    Containers are scanned only as far as the wanted member: finding ``/paths/~1a/get`` never
    parses ``components``, and operations asked for in document order cost one pass over ``paths``.
    """

    def __init__(self, raw: bytes, encoding: str = "utf-8") -> None:
        self._raw: bytes | None = raw
        self._encoding = encoding  # how the parsed strings were decoded from ``raw``
        self._text = ""
        self._starts: list[int] = []
        self._scans: dict[int, _Scan] = {}  # container start offset -> scan state
        self._scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def refs(self) -> dict[str, None] | None:
        """Found by a regular expression over the text: 5x faster than walking GitHub's data.

        Exact for valid JSON: a ``"`` after no backslash starts or ends a string, and one that
        ends a string cannot be followed by ``$ref``, so ``"$ref"`` there is a key. None (walk the data)
        when the text escapes one of the key's letters (``"\\u0024ref"``).
        """
        raw = self._raw if self._raw is not None else self._text.encode("latin-1")
        if _ESCAPED_REF_LETTER.search(raw):
            return None
        refs: dict[str, None] = {}
        for match in _REF_MEMBER.finditer(raw):
            if match.start() and raw[match.start() - 1] == 0x5C:  # \" inside a string
                continue
            text = match.group(1).decode(self._encoding)
            refs[json.loads(f'"{text}"') if "\\" in text else text] = None
        return refs

    def _ensure_text(self) -> str:
        if self._raw is not None:
            self._text = self._raw.decode("latin-1")
            self._raw = None
            lengths = (len(line) + 1 for line in self._text.split("\n"))
            self._starts = list(accumulate(lengths, initial=0))
        return self._text

    def line_of(self, tokens: Sequence[str]) -> int | None:
        text = self._ensure_text()
        try:
            offset = self._skip(0)
            mark = offset
            for token in tokens:
                opener = text[offset]
                if opener == "{":
                    entry = self._member(offset, token)
                    if entry is None:  # keys are seen through Latin-1: compare likewise
                        entry = self._member(offset, token.encode("utf-8").decode("latin-1"))
                    if entry is None:
                        return None
                    mark, offset = entry
                elif opener == "[" and token.isdigit():
                    item = self._item(offset, int(token))
                    if item is None:
                        return None
                    mark = offset = item
                else:
                    return None
        except (ValueError, IndexError, StopIteration):
            return None
        return bisect.bisect_right(self._starts, mark)

    def _skip(self, idx: int) -> int:
        return _WS.match(self._text, idx).end()  # type: ignore[union-attr]

    def _state(self, start: int, closer: str) -> _Scan:
        state = self._scans.get(start)
        if state is None:
            idx = self._skip(start + 1)
            state = self._scans[start] = _Scan(-1 if self._text[idx] == closer else idx)
        return state

    def _advance(self, state: _Scan) -> int:
        """Skip the pending value and the comma after it; the next start offset or -1."""
        idx = self._skip(self._scan_once(self._text, state.resume)[1])
        state.pending = False
        state.resume = self._skip(idx + 1) if self._text[idx] == "," else -1
        return state.resume

    def _member(self, start: int, key: str) -> tuple[int, int] | None:
        state = self._state(start, "}")
        found = state.members.get(key)
        text = self._text
        while found is None and state.resume >= 0:
            if state.pending and self._advance(state) < 0:
                break
            key_offset = state.resume
            name, idx = _scanstring(text, key_offset + 1)
            idx = self._skip(idx)
            if text[idx] != ":":
                raise ValueError("expected ':'")
            value_offset = self._skip(idx + 1)
            state.members[name] = (key_offset, value_offset)
            state.resume, state.pending = value_offset, True
            if name == key:
                found = state.members[name]
        return found

    def _item(self, start: int, index: int) -> int | None:
        state = self._state(start, "]")
        while len(state.items) <= index and state.resume >= 0:
            if state.pending and self._advance(state) < 0:
                break
            state.items.append(state.resume)
            state.pending = True
        return state.items[index] if index < len(state.items) else None


class YamlLines(LineIndex):
    """Line lookup in a composed YAML node tree (after merge keys were flattened)."""

    def __init__(self, root: yaml.Node, refs: dict[str, None] | None = None) -> None:
        self._root = root
        self._maps: dict[int, dict[str, tuple[int, yaml.Node]]] = {}
        self._refs = refs

    def refs(self) -> dict[str, None] | None:
        """As noted while the data was built (:meth:`_YamlLoader.construct_plain`)."""
        return self._refs

    def line_of(self, tokens: Sequence[str]) -> int | None:
        node = self._root
        line = node.start_mark.line + 1
        for token in tokens:
            if isinstance(node, yaml.MappingNode):
                members = self._maps.get(id(node))
                if members is None:
                    members = {
                        str(key.value): (key.start_mark.line + 1, value)
                        for key, value in node.value
                    }
                    self._maps[id(node)] = members
                entry = members.get(token)
                if entry is None:
                    return None
                line, node = entry
            elif isinstance(node, yaml.SequenceNode):
                if not token.isdigit() or int(token) >= len(node.value):
                    return None
                node = node.value[int(token)]
                line = node.start_mark.line + 1
            else:
                return None
        return line


# ------------------------------------------------------------------------------ parsing


def parse(raw: bytes, display: str) -> tuple[Any, LineIndex | None, list[str]]:
    """Parse JSON (fast path) or YAML; returns the data, its line index and warnings."""
    if not raw.strip():
        raise SpecError(f"{display}: the file is empty")
    notes: list[str] = []
    encoding: str = json.detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise SpecError(f"{display}: not {encoding} text (bad byte at {exc.start})") from None
        line = raw.count(b"\n", 0, exc.start) + 1
        notes.append(f"{display} line {line}: not UTF-8 text; read as Latin-1")
        text, encoding = raw.decode("latin-1"), "latin-1"
    if encoding == "utf-8-sig":
        raw = raw[3:]
    elif encoding != "utf-8":
        raw = text.encode("utf-8")  # the JSON line index reads UTF-8
    json_error: str | None = None
    start = text.lstrip()[:1]
    if start in ("{", "["):
        try:
            return (
                json.loads(text),
                JsonLines(raw, "latin-1" if encoding == "latin-1" else "utf-8"),
                notes,
            )
        except json.JSONDecodeError as exc:
            json_error = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        except RecursionError:
            json_error = "invalid JSON: nested too deeply"
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError(f"{display}: the file holds no document")
        data = loader.construct_plain(node)
    except yaml.YAMLError as exc:
        raise SpecError(f"{display}: {json_error or _yaml_problem(exc)}") from None
    except RecursionError:
        raise SpecError(f"{display}: {json_error or 'invalid YAML: nested too deeply'}") from None
    finally:
        loader.dispose()
    return (
        data,
        YamlLines(node, loader.refs),
        notes + [f"{display} {dup}" for dup in loader.duplicates],
    )


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading, but timestamps stay strings and keys are the key's text (``200`` -> "200")."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []
        self.refs: dict[str, None] | None = {}  # every mapping's $ref, if all went construct_plain
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        """PyYAML's tag resolution, memoised for short plain scalars (keys, types, enums)."""
        if kind is not yaml.ScalarNode or not implicit[0] or len(value) > 40:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        tag = self._plain_tags.get(value)
        if tag is None:
            tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
        return tag

    def construct_plain(self, root: yaml.Node) -> Any:
        """``construct_document``, 3x faster: the common nodes are built here, in one pass.

        PyYAML dispatches every node through generic lookups and generators. Mappings,
        sequences, strings, nulls and booleans are built here instead (pre-order, iteratively:
        deep documents need no recursion); other tags go PyYAML's way. Every mapping's ``$ref``
        string is noted in document order for the ``$ref`` check, which then needs no walk.
        """
        pending: list[tuple[Any, yaml.Node]] = []
        data = self._build(root, pending)
        while pending:
            container, node = pending.pop()
            children: list[tuple[Any, yaml.Node]] = []
            if type(container) is list:
                container.extend([self._build(item, children) for item in node.value])
            else:
                for key, value_node in self._pairs(node):
                    value = container[key] = self._build(value_node, children)
                    if key == "$ref" and type(value) is str and self.refs is not None:
                        self.refs[value] = None
            pending.extend(reversed(children))
        self.constructed_objects.clear()
        return data

    def _build(self, node: yaml.Node, pending: list[tuple[Any, yaml.Node]]) -> Any:
        """The value of ``node``; a new mapping or sequence is returned empty and queued."""
        tag, kind = node.tag, type(node)
        if kind is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return self.bool_values[node.value.lower()]
        elif node in self.constructed_objects:  # an alias
            return self.constructed_objects[node]
        elif (kind is yaml.MappingNode and tag == _MAP) or (
            kind is yaml.SequenceNode and tag == _SEQ
        ):
            container: Any = {} if kind is yaml.MappingNode else []
            self.constructed_objects[node] = container
            pending.append((container, node))
            return container
        else:
            self.refs = None  # a tagged collection: its $refs are found by walking the data
        return self.construct_object(node, deep=True)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, "expected a mapping", node.start_mark
            )
        return {key: self.construct_object(value, deep=deep) for key, value in self._pairs(node)}

    def _pairs(self, node: yaml.Node) -> list[tuple[str, yaml.Node]]:
        """Key text and value node of each entry, merge keys applied; notes duplicate keys."""
        seen: set[str] = set()
        pairs: list[tuple[str, yaml.Node]] = []
        merge = False
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode:
                continue  # an error, raised below after merge keys (PyYAML's order)
            key = key_node.value
            if key_node.tag == _MERGE:
                merge = True
                continue
            if key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"line {line}: duplicate key {key!r} (the last one wins)")
            seen.add(key)
            pairs.append((key, value_node))
        if merge or len(pairs) != len(node.value):
            if merge:
                self.flatten_mapping(node)
            pairs = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain value", key_node.start_mark
                    )
                pairs.append((key_node.value, value_node))
        return pairs


_MERGE = "tag:yaml.org,2002:merge"
_STR, _NULL, _BOOL, _MAP, _SEQ = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "map", "seq")
)
for _tag in ("timestamp", "binary"):  # plain JSON-like data only: no datetime, bytes or set
    _YamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _YamlLoader.construct_yaml_str)
_YamlLoader.add_constructor("tag:yaml.org,2002:set", _YamlLoader.construct_yaml_map)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line report as one line: problem, line and column."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem, context = exc.problem or "", exc.context or ""
        if problem.startswith("but "):  # "expected X" / "but found Y" reads in that order
            problem, context = f"{context}, {problem}", ""
        text = f"{problem} ({context})" if problem and context else problem or context
        return one_line(f"invalid YAML{at}: {text or 'unreadable'}")
    return one_line(f"invalid YAML: {exc}")


def one_line(text: str) -> str:
    """Whitespace collapsed, at most 300 characters: messages stay one readable line."""
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
