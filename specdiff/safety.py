"""The safety policy: which requests may change data, and which of them a run may send.

One policy, applied twice: by the plan stage to every request any probe plans (built-in or
third-party), and again by the runner just before sending, as defence in depth.

A request **cannot change data** when it is

- a safe method (GET, HEAD, OPTIONS, TRACE) to a path, and for its own operation an operationId
  and summary, that do not look destructive (:func:`looks_destructive`);
- anonymous, with a body no parser accepts, to an operation that declares a request body (a
  handler that ignores the body is not protected by it);
- anonymous, to a path whose every parameter names an identifier that certainly does not exist
  (:func:`invalid_id`, :func:`absent_id`).

Without ``--unsafe`` only those are sent; a destructive-looking operation only when the user
names it with ``--include-op``. With ``--unsafe`` everything else may be sent too, except:
a DELETE, PUT or PATCH aimed at an object specdiff did not create in this run (a DELETE that
names no object at all included), and an authenticated destructive method the document does not
declare for that path.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import unquote

from specdiff.model import SAFE_METHODS, ApiModel, AuthMode, Operation, PlannedRequest
from specdiff.schema import Schema

__all__ = [
    "ABSENT_INTEGER_ID",
    "ABSENT_STRING_ID",
    "ABSENT_UUID",
    "INVALID_NUMBER_ID",
    "INVALID_STRING_ID",
    "SENTINELS",
    "SafetyPolicy",
    "absent_id",
    "invalid_id",
    "looks_destructive",
    "path_looks_destructive",
    "path_values",
    "unparseable",
]

INVALID_STRING_ID = "specdiff-invalid-0000"
"""A path id no schema-respecting server can resolve (an invalid value for most id formats)."""
INVALID_NUMBER_ID = "specdiff-not-a-number"
"""The same for integer and number parameters: not a number at all."""
ABSENT_STRING_ID = "specdiff-absent-0000"
ABSENT_INTEGER_ID = "999999999999"
ABSENT_UUID = "00000000-5bd1-4fff-8000-000000000000"
"""Well-formed identifiers that certainly name nothing (a valid type, so routers pass them)."""
SENTINELS = frozenset(
    {INVALID_STRING_ID, INVALID_NUMBER_ID, ABSENT_STRING_ID, ABSENT_INTEGER_ID, ABSENT_UUID}
)
"""Every identifier the policy knows names nothing."""
_DESTRUCTIVE_METHODS = frozenset({"DELETE", "PUT", "PATCH"})


def invalid_id(schema: Schema | None) -> str:
    """An identifier that violates ``schema``'s type: validation rejects it, nothing has it."""
    types = schema.resolved().types if schema is not None else frozenset()
    return INVALID_NUMBER_ID if types & {"integer", "number"} else INVALID_STRING_ID


def absent_id(schema: Schema | None) -> str:
    """A well-formed identifier of ``schema``'s type that certainly names nothing."""
    if schema is None:
        return ABSENT_STRING_ID
    s = schema.resolved()
    if s.types & {"integer", "number"}:
        return ABSENT_INTEGER_ID
    return ABSENT_UUID if s.get("format") == "uuid" else ABSENT_STRING_ID


# --------------------------------------------------------------------------- destructive words

_VERBS = frozenset(
    {
        "create",
        "reset",
        "delete",
        "drop",
        "seed",
        "reseed",
        "init",
        "initialise",
        "initialize",
        "purge",
        "wipe",
        "truncate",
        "destroy",
        "logout",
        "signout",
    }
)
"""Base forms: what a path segment or an operationId names when a request acts."""
_COMPOUND = re.compile(
    r"^(create|reset|drop|seed|reseed|init|purge|wipe|truncate)"
    r"(?:db|database|data|all|everything|tables?)$"
)
"""``createdb``, ``resetdb``, ``dropall``: one word, still an action."""
_OUT = frozenset({"log", "logs", "sign", "signs"})


def _words(text: str) -> list[str]:
    """Lower-case words of an identifier or a path: camelCase, kebab, snake and slashes split."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w.lower() for w in re.findall(r"[A-Za-z]+", spaced)]


def _names_action(words: list[str], verbs: frozenset[str] = _VERBS) -> bool:
    """Words of a path or operationId that name a destructive action in its base form (the
    participle ``created`` of ``/users/{id}/created-at`` does not)."""
    for word in words:
        compound = _COMPOUND.match(word)
        if word in verbs or (compound is not None and compound.group(1) in verbs):
            return True
    return any(a in _OUT and b == "out" for a, b in itertools.pairwise(words))


def _summary_acts(summary: str, verbs: frozenset[str] = _VERBS) -> bool:
    """A summary whose sentence starts with (or continues, after "and"/"then", with) a
    destructive verb: "Drops and re-seeds the database", "Reset the demo data", "Logs the
    user out"."""
    words = re.findall(r"[a-z]+", summary.lower().replace("re-", "re"))
    verbs = verbs | {v + "s" for v in verbs}
    starts = [0] + [i + 1 for i, w in enumerate(words) if w in ("and", "then")]
    if any(i < len(words) and words[i] in verbs for i in starts):
        return True
    return any(w in _OUT and "out" in words[i + 1 : i + 4] for i, w in enumerate(words))


def _path_words(path: str) -> list[str]:
    return _words(re.sub(r"\{[^}]*\}", "/", path))


def looks_destructive(op: Operation, *, creating: bool = True) -> bool:
    """The operation's path, operationId or summary says it creates, resets, deletes, drops,
    seeds, initialises, purges or logs out (``GET /admin/reset-db``, ``seedDatabase``).
    ``creating=False`` leaves creation out: what a POST is for."""
    verbs = _VERBS if creating else _VERBS - {"create"}
    return (
        _names_action(_path_words(op.path), verbs)
        or _names_action(_words(op.operation_id or ""), verbs)
        or _summary_acts(op.summary or "", verbs)
    )


@lru_cache(maxsize=8192)
def path_looks_destructive(path: str) -> bool:
    """The same question for a concrete path alone (a request not about its operation)."""
    return _names_action(_path_words(unquote(path)))


# --------------------------------------------------------------------------- paths and bodies


@lru_cache(maxsize=4096)
def _template(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    names = tuple(re.findall(r"\{([^}]+)\}", template))
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
    return re.compile(pattern), names


def path_values(template: str, path: str) -> dict[str, str] | None:
    """``/users/{id}`` and ``/users/7`` -> ``{"id": "7"}``; None when the path does not match."""
    pattern, names = _template(template)
    match = pattern.match(path.split("?", 1)[0])
    if match is None:
        return None
    return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}


def unparseable(body: bytes | None) -> bool:
    """A non-empty body no JSON parser turns into data (e.g. truncated JSON)."""
    if not body:
        return False
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return True
    return False


# --------------------------------------------------------------------------- the policy


class SafetyPolicy:
    """The run's policy; :meth:`refusal` is what the plan stage and the runner ask."""

    def __init__(
        self,
        api: ApiModel,
        *,
        unsafe: bool = False,
        include: Iterable[str] = (),
        created: Callable[[str], bool] | None = None,
    ) -> None:
        self.unsafe = unsafe
        self.include = frozenset(include)
        """``--include-op`` keys: destructive-looking operations the user asked to probe."""
        self._created = created or (lambda path: False)
        self._ops = {op.key: op for op in api.operations}
        self._destructive = {op.key: looks_destructive(op) for op in api.operations if op.safe}
        """Safe-method operations that look destructive (asked for every request: computed
        once)."""
        declared: dict[str, set[str]] = {}
        for op in api.operations:
            declared.setdefault(op.path, set()).add(op.method)
        self._declared = {path: frozenset(methods) for path, methods in declared.items()}

    def operation(self, key: str) -> Operation | None:
        return self._ops.get(key)

    def skips(self, op: Operation) -> bool:
        """A safe-method operation that looks destructive, and the user did not ask for it
        (``--include-op`` or ``--unsafe``): not a single request of it is sent."""
        included = self.unsafe or op.key in self.include
        return op.safe and looks_destructive(op) and not included

    def repeatable(self, req: PlannedRequest) -> bool:
        """Safe to send again and again (a credential check): a safe method to nothing that
        looks destructive, whatever ``--include-op`` says."""
        if req.method not in SAFE_METHODS:
            return False
        op = self.operation(req.operation)
        if op is not None and self._for(op, req):
            return not self._destructive.get(op.key, False)
        return not path_looks_destructive(req.path)

    @staticmethod
    def _for(op: Operation, req: PlannedRequest) -> bool:
        """``req`` is a request of ``op`` itself: its method, to its path."""
        return op.method == req.method and (
            req.path == op.path or path_values(op.path, req.path) is not None
        )

    def cannot_change(self, req: PlannedRequest, op: Operation | None = None) -> bool:
        """``req`` cannot change data (see the module docstring); ``op`` is the operation it
        was planned for (by default the one its ``operation`` names)."""
        if req.changes_data:
            return False
        op = op if op is not None else self.operation(req.operation)
        if req.method in SAFE_METHODS:
            if op is not None and self._for(op, req):
                return not self._destructive.get(op.key, False) or op.key in self.include
            return not path_looks_destructive(req.path)
        own = op if op is not None and path_values(op.path, req.path) is not None else None
        if req.auth is not AuthMode.NONE or own is None:
            return False
        if own.method == req.method and own.request_body is not None and unparseable(req.body):
            return True
        values = path_values(own.path, req.path) or {}
        return bool(values) and all(v in SENTINELS for v in values.values())

    def refusal(
        self, req: PlannedRequest, op: Operation | None = None, *, harmless: bool | None = None
    ) -> str | None:
        """Why ``req`` must not be sent in this run, or None when it may be (``harmless``:
        :meth:`cannot_change` already asked)."""
        op = op if op is not None else self.operation(req.operation)
        if harmless if harmless is not None else self.cannot_change(req, op):
            return None
        where = f"{req.method} {req.path}"
        if not self.unsafe:
            if req.method in SAFE_METHODS:
                return f"looks destructive: {where}; pass --include-op to probe it"
            return f"{where} may change data: not sent without --unsafe"
        if req.method not in _DESTRUCTIVE_METHODS:
            return None
        template = (
            op.path if op is not None and path_values(op.path, req.path) is not None else None
        )
        if template is None:
            return None if self._created(req.path) else f"{where}: not a documented path"
        if req.auth is not AuthMode.NONE and req.method not in self._declared[template]:
            return f"{where}: an authenticated {req.method} the document does not declare"
        if self._created(req.path):
            return None
        if req.method == "DELETE" or "{" in template:
            return f"{where} aims at an object specdiff did not create"
        return None
