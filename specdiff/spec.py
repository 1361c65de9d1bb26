"""Load an OpenAPI document (Swagger 2.0, OpenAPI 3.0/3.1) without expanding its references.

Real documents are big (GitHub's is 13 MB), recursive (Stripe's schemas refer to themselves) and
often not strictly valid, yet usable. So the loader parses once, checks that every ``$ref`` leads
somewhere (local pointers, relative files, transitively), and leaves the references in place:
:meth:`Spec.deref` follows them lazily. Line numbers are computed only when asked
(:mod:`specdiff._lines`). Strict validation is a separate, optional step (:func:`validate_spec`).

Every problem is one :class:`~specdiff.errors.SpecError` with a one-line message.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from specdiff._gcpause import gc_paused
from specdiff._lines import LineIndex, YamlLines, one_line, parse
from specdiff.errors import SpecError
from specdiff.model import Location
from specdiff.schema import escape_pointer

__all__ = ["Spec", "load_spec", "validate_spec"]

_MISSING: Any = object()
_REMOTE_CAP = 50 * 1024 * 1024
_OPENAPI_VERSION = re.compile(r"3\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.]+)?")
_KNOWN_MINOR = 1


@dataclass(slots=True)
class _Document:
    doc_id: str  # the part of a where-string before '#': "" for the root document
    source: str  # absolute file path or URL
    display: str
    data: Any
    lines: LineIndex | None


class Spec:
    """A loaded document: the parsed root, its version, and lazy ``$ref``/line services."""

    __slots__ = (
        "_by_id",
        "_by_source",
        "_lines",
        "_remote",
        "_resolved",
        "data",
        "display",
        "path",
        "root",
        "version",
        "warnings",
    )

    def __init__(
        self, root: _Document, version: str, warnings: tuple[str, ...], allow_remote: bool
    ) -> None:
        self.path = Path(root.source)
        self.display = root.display
        self.data: Mapping[str, Any] = root.data
        self.version = version
        self.warnings = warnings
        self.root = root.doc_id
        self._remote = allow_remote
        self._by_id: dict[str, _Document] = {root.doc_id: root}
        self._by_source: dict[str, _Document] = {root.source: root}
        self._resolved: dict[tuple[str, str], tuple[Any, str]] = {}
        self._lines: dict[str, int | None] = {}

    def __repr__(self) -> str:
        return f"Spec({self.display!r}, version={self.version!r})"

    # -- where strings ------------------------------------------------------------------

    def where(self, *tokens: str | int) -> str:
        """The where-string of ``tokens`` in the root document: ``#/paths/~1users/get``."""
        return self.root + "#" + "".join("/" + escape_pointer(str(t)) for t in tokens)

    def node_at(self, where: str) -> Any:
        """The raw node at ``where`` (no ``$ref`` following)."""
        doc_id, _, pointer = where.partition("#")
        doc = self._by_id.get(doc_id)
        node = _MISSING if doc is None else _lookup(doc.data, pointer)
        if node is _MISSING:
            raise SpecError(f"{self.display}: nothing at {where!r}")
        return node

    def line_of(self, where: str) -> int | None:
        if where in self._lines:
            return self._lines[where]
        doc_id, _, pointer = where.partition("#")
        doc = self._by_id.get(doc_id)
        line = None
        if doc is not None and doc.lines is not None and (pointer == "" or pointer[0] == "/"):
            line = doc.lines.line_of(_tokens(pointer))
        self._lines[where] = line
        return line

    def location(self, where: str) -> Location:
        """The place of ``where``; its line is looked up when first read."""
        doc_id, _, pointer = where.partition("#")
        doc = self._by_id.get(doc_id)
        return Location(
            doc.display if doc else self.display, None, pointer, find=lambda: self.line_of(where)
        )

    # -- $ref ---------------------------------------------------------------------------

    def deref(self, node: Any, where: str) -> tuple[Any, str]:
        """Follow a ``$ref`` chain to its first non-reference node; other nodes pass through."""
        if not isinstance(node, Mapping):
            return node, where
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node, where
        doc = self._by_id.get(where.partition("#")[0])
        if doc is None:
            raise SpecError(f"{self.display}: unknown document in {where!r}")
        try:
            return self._follow(doc, ref)
        except SpecError as exc:
            raise SpecError(f"{doc.display}: {exc}") from None

    def _follow(self, doc: _Document, ref: str) -> tuple[Any, str]:
        key = (doc.doc_id, ref)
        chain = [key]
        while True:
            known = self._resolved.get(key)
            if known is not None:
                result = known
                break
            target, node, pointer = self._target(doc, ref)
            if node is _MISSING:
                raise SpecError(f"$ref {ref!r} points to nothing")
            inner = node.get("$ref") if isinstance(node, Mapping) else None
            if not isinstance(inner, str):
                result = (node, f"{target.doc_id}#{pointer}")
                break
            doc, ref, key = target, inner, (target.doc_id, inner)
            if key in chain:
                loop = " -> ".join(r for _, r in [*chain[chain.index(key) :], key])
                raise SpecError(f"$ref cycle {loop} never reaches a node")
            chain.append(key)
        for step in chain:
            self._resolved[step] = result
        return result

    def _target(self, doc: _Document, ref: str) -> tuple[_Document, Any, str]:
        """The document ``ref`` (written in ``doc``) names, the node it points to, its pointer."""
        url, _, fragment = ref.partition("#")
        target = self._document(doc, url, ref) if url else doc
        pointer = unquote(fragment)
        node = _lookup(target.data, pointer)
        if node is _MISSING and pointer != fragment:  # a literal '%' in a key
            pointer = fragment
            node = _lookup(target.data, pointer)
        return target, node, pointer

    def _document(self, doc: _Document, url: str, ref: str) -> _Document:
        """Load (once) the document a ref's URL part names, relative to ``doc``."""
        scheme = urlsplit(url).scheme.lower()
        remote = doc.source.startswith(("http://", "https://"))
        if scheme in ("http", "https") or (remote and not scheme):
            source = urljoin(doc.source, url) if remote else url
            if not self._remote:
                raise SpecError(
                    f"remote $ref {ref!r} refused; pass --allow-remote-refs to fetch it"
                )
        elif scheme == "file":
            source = os.path.normpath(url2pathname(urlsplit(url).path))
        elif scheme and len(scheme) > 1:
            raise SpecError(f"$ref {ref!r}: unsupported URL scheme {scheme!r}")
        else:
            source = os.path.normpath(os.path.join(os.path.dirname(doc.source), unquote(url)))
        known = self._by_source.get(source)
        if known is not None:
            return known
        if source.startswith(("http://", "https://")):
            doc_id = display = source
        else:
            doc_id = Path(os.path.relpath(source, self.path.parent)).as_posix()
            display = os.path.normpath(os.path.join(os.path.dirname(self.display), doc_id))
        try:
            raw = _fetch(source) if doc_id == display == source else _read(source, display)
            data, lines, _ = parse(raw, display)
        except SpecError as exc:
            raise SpecError(f"$ref {ref!r} cannot be followed: {exc}") from None
        new = _Document(doc_id, source, display, data, lines)
        self._by_source[source] = self._by_id[doc_id] = new
        return new

    def _check_refs(self) -> None:
        """Every ``$ref`` of every reachable document must lead to a node: else one SpecError."""
        problems: list[tuple[_Document, str, str]] = []
        pending = [self._by_id[self.root]]
        queued = {pending[0].source}
        while pending:
            doc = pending.pop(0)
            refs = doc.lines.refs() if doc.lines is not None else None
            if refs is None:
                refs = _collect_refs(doc.data, shared=isinstance(doc.lines, YamlLines))
            for ref in refs:
                try:
                    target, node, _ = self._target(doc, ref)
                    if node is _MISSING:
                        problems.append((doc, ref, f"$ref {ref!r} points to nothing"))
                        continue
                    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
                        self._follow(doc, ref)  # a chain: it must end at a node, not loop
                except SpecError as exc:
                    problems.append((doc, ref, str(exc)))
                    continue
                if target.source not in queued:
                    queued.add(target.source)
                    pending.append(target)
        # a $ref the text shows but the parser dropped (a duplicate key) is not in the data
        located = ((i, _find_ref(doc.data, ref)) for i, (doc, ref, _) in enumerate(problems))
        first, tokens = next(((i, t) for i, t in located if t is not None), (0, None))
        if tokens is None:
            return
        doc, ref, message = problems[first]
        line = doc.lines.line_of([*tokens, "$ref"]) if doc.lines else None
        pointer = "".join("/" + escape_pointer(t) for t in tokens)
        place = f"line {line}" if line else f"at #{pointer}"
        more = len(problems) - 1 - first
        also = f" (and {more} more broken $ref{'s' if more > 1 else ''})" if more else ""
        raise SpecError(f"{doc.display} {place}: {message}{also}")


@gc_paused()
def load_spec(path: str | Path, *, allow_remote_refs: bool = False) -> Spec:
    """Parse ``path`` (JSON or YAML), check its version and every ``$ref``; no strict validation."""
    display = str(path)
    source = str(Path(path).expanduser().resolve())
    data, lines, notes = parse(_read(source, display), display)
    root = _Document("", source, display, data, lines)
    if not isinstance(data, Mapping):
        raise SpecError(f"{display}: the top level is {_kind(data)}, not a mapping")
    version, version_notes = _version(data, display)
    paths = data.get("paths", _MISSING)
    if paths is _MISSING:
        if not version.startswith("3.") or version.startswith("3.0"):
            notes.append(f"{display}: no `paths`: the document describes no operation")
    elif not isinstance(paths, Mapping):
        line = lines.line_of(["paths"]) if lines else None
        place = f" line {line}" if line else ""
        raise SpecError(f"{display}{place}: `paths` must be a mapping, not {_kind(paths)}")
    spec = Spec(root, version, tuple(notes + version_notes), allow_remote_refs)
    spec._check_refs()
    return spec


def validate_spec(spec: Spec) -> list[str]:
    """Strict validation with openapi-spec-validator: one line per problem, [] if valid."""
    import openapi_spec_validator as osv

    if spec.version.startswith("2"):
        cls: Any = osv.OpenAPIV2SpecValidator
    elif spec.version.startswith("3.0"):
        cls = osv.OpenAPIV30SpecValidator
    elif spec.version.startswith("3.1"):
        cls = osv.OpenAPIV31SpecValidator
    else:
        cls = osv.OpenAPIV32SpecValidator
    problems: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validator = cls(spec.data, base_uri=spec.path.as_uri())
            for error in validator.iter_errors():
                path = "".join(
                    "/" + escape_pointer(str(p)) for p in getattr(error, "absolute_path", ())
                )
                problems.append(f"#{path}: {one_line(getattr(error, 'message', str(error)))}")
    except Exception as exc:  # the validator's own failures are findings, not crashes
        problems.append(f"validation stopped: {one_line(str(exc)) or type(exc).__name__}")
    return problems


# ------------------------------------------------------------------------------ reading


def _read(source: str, display: str) -> bytes:
    try:
        raw = Path(source).read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{display}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{display}: is a directory, not an OpenAPI document") from None
    except OSError as exc:
        raise SpecError(f"{display}: cannot read it ({exc.strerror or exc})") from None
    except ValueError:  # a NUL byte in a $ref's file name: no file system accepts it
        raise SpecError(f"{display!r}: not a valid file name") from None
    return raw


def _fetch(url: str) -> bytes:
    """Fetch a remote document (only with ``allow_remote_refs``): 10 s timeout, size cap."""
    import httpx

    try:
        with httpx.stream("GET", url, timeout=10, follow_redirects=True) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _REMOTE_CAP:
                    raise SpecError(f"{url}: larger than {_REMOTE_CAP // 2**20} MB")
    except httpx.HTTPError as exc:
        raise SpecError(f"{url}: cannot fetch it ({one_line(str(exc))})") from None
    return bytes(body)


# ------------------------------------------------------------------------------ checking


def _version(data: Mapping[str, Any], display: str) -> tuple[str, list[str]]:
    if "openapi" in data:
        field = "openapi"
    elif "swagger" in data:
        field = "swagger"
    else:
        raise SpecError(
            f"{display}: not an OpenAPI document (no `openapi` or `swagger` field at the top level)"
        )
    value = data[field]
    version = str(value) if isinstance(value, (str, int, float)) else ""
    unsupported = SpecError(
        f"{display}: unsupported version `{field}: {value}`; specdiff reads Swagger 2.0 and "
        "OpenAPI 3.0 / 3.1"
    )
    if field == "swagger":
        if version != "2.0":
            raise unsupported
        return version, []
    match = _OPENAPI_VERSION.fullmatch(version)
    if match is None:
        raise unsupported
    if int(match.group(1)) > _KNOWN_MINOR:
        return version, [f"{display}: OpenAPI {version} is newer than 3.1; read as 3.1"]
    return version, []


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _lookup(data: Any, pointer: str) -> Any:
    """The node at a (decoded) JSON pointer, or ``_MISSING``."""
    if pointer and pointer[0] != "/":
        return _MISSING
    node = data
    for token in _tokens(pointer):
        if isinstance(node, Mapping):
            node = node.get(token, _MISSING)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _collect_refs(data: Any, *, shared: bool) -> dict[str, None]:
    """Every distinct ``$ref`` string (ordered set); iterative, aliases visited once if shared."""
    refs: dict[str, None] = {}
    stack = [data]
    push, pop = stack.append, stack.pop
    seen: set[int] = set()
    while stack:
        node = pop()
        if shared:
            if id(node) in seen:
                continue
            seen.add(id(node))
        if type(node) is dict:
            ref = node.get("$ref")
            if type(ref) is str:
                refs[ref] = None
            values: Any = node.values()
        else:
            values = node
        for value in reversed(values):  # popped in document order
            if type(value) is dict or type(value) is list:
                push(value)
    return refs


def _find_ref(data: Any, ref: str) -> list[str] | None:
    """Pointer tokens of the first mapping (in document order) holding ``$ref: ref``."""
    stack: list[tuple[Any, list[str]]] = [(data, [])]
    seen: set[int] = set()
    while stack:
        node, tokens = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if node.get("$ref") == ref:
                return tokens
            items: list[tuple[str, Any]] = list(node.items())
        elif isinstance(node, list):
            items = [(str(i), v) for i, v in enumerate(node)]
        else:
            continue
        stack.extend((v, [*tokens, k]) for k, v in reversed(items) if isinstance(v, (dict, list)))
    return None


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
