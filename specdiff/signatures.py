"""Recognise what an error response should never carry: debuggers, stack traces, database errors.

Pure text matching over :func:`readable_text` (JSON string values, or HTML with its tags removed
and entities decoded, or the raw text), so a trace inside ``{"detail": "..."}`` or a
Werkzeug debugger page reads the same as one in ``text/plain``. Every signature is specific
enough that nothing specdiff itself sends can produce it by reflection: the hostile strings of
:mod:`specdiff.mutate` contain quotes, not ``Traceback`` or ``SQLSTATE``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from specdiff.model import Exchange

__all__ = ["Match", "database_error", "debugger", "readable_text", "stack_trace"]

_TEXT_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Match:
    """Which family a signature belongs to (``python``, ``sqlite``, ``werkzeug``) and the proof."""

    family: str
    proof: str
    """The matched line(s), trimmed: the smallest snippet that shows the breach."""


_LINE_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|pre|h[1-6]|table|ul|ol)>", re.I)
"""Tags that end a line on screen: Express's development handler writes its whole stack as one
``<pre>`` whose frames are separated by ``<br>`` alone."""

_TRACE_KEYS = frozenset({"trace", "stack", "stacktrace", "stack_trace", "backtrace", "frames"})
"""JSON keys under which frameworks list stack frames as objects (Laravel's debug JSON:
``"trace": [{"file": ..., "line": ...}]``)."""


def readable_text(exchange: Exchange) -> str:
    """The body as a person would read it (see the module docstring)."""
    raw = exchange.body[:_TEXT_LIMIT].decode("utf-8", errors="replace")
    if exchange.is_json:
        try:
            return "\n".join(_strings(json.loads(raw)))
        except ValueError:
            return raw
    if "html" in exchange.media_type or raw.lstrip()[:1] == "<":
        without_tags = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S | re.I)
        lines = _LINE_BREAKS.sub("\n", without_tags)
        return html.unescape(re.sub(r"<[^>]+>", "", lines))
    return raw


def _strings(value: Any, key: str = "") -> Iterator[str]:
    """Every string of a JSON value (keys too); a frame object listed under a trace key
    (``{"file": "/app/x.php", "line": 54}``) reads as the trace line ``at /app/x.php:54``."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        file, line = value.get("file"), value.get("line")
        if key in _TRACE_KEYS and isinstance(file, str) and isinstance(line, int):
            yield f"at {file}:{line}"
        for name, item in value.items():
            yield str(name)
            yield from _strings(item, str(name).lower())
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def _first(table: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> Match | None:
    for family, pattern in table:
        found = pattern.search(text)
        if found:
            return Match(family, _line_around(text, found))
    return None


def _line_around(text: str, found: re.Match[str]) -> str:
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.end())
    line = text[start : end if end != -1 else len(text)].strip()
    return line if len(line) <= 300 else found.group(0)[:300]


def _re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.M)


# --------------------------------------------------------------------------- stack traces

_TRACES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("python", _re(r"Traceback \(most recent call last\)")),
    ("python", _re(r'^\s*File "[^"\n]+\.py", line \d+, in \S+')),
    # Starlette's debug page: "File <span>/app/main.py</span>,\n line <i>22</i>,\n in <b>f</b>"
    ("python", _re(r"^\s*File [^\s\"]+\.py,\s+line \d+,\s+in \w+")),
    ("java", _re(r"^\s*at [\w$./<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)")),
    ("java", _re(r"^Exception in thread \"[^\"]+\" [\w.$]+(?:Exception|Error)")),
    ("dotnet", _re(r"^\s*at [\w.`<>\[\]]+\(.*\) in .+:line \d+")),
    ("dotnet", _re(r"^\s*--- End of stack trace from previous location")),
    ("node", _re(r"^\s*at (?:.+ \()?(?:/|[A-Za-z]:\\|file://|node:)[^()\n]*?:\d+:\d+\)?$")),
    ("go", _re(r"^goroutine \d+ \[[\w ,]+\]:$")),
    ("go", _re(r"^\s*/[\w./-]+\.go:\d+ \+0x[0-9a-f]+$")),
    ("ruby", _re(r"[\w./-]+\.rb:\d+:in [`'][^'`\n]+'")),
    ("php", _re(r"^#\d+ [\w/\\.-]+\.php\(\d+\): ")),
    # Symfony's trace as text ("at /app/src/x.php:8", "(/app/index.php:18)"), Laravel's JSON
    ("php", _re(r"^\s*(?:at |\()[^\s()]+\.php:\d+\)?$")),
    ("php", _re(r"(?:Fatal error|Warning|Parse error)\b.*? in [\w/\\.-]+\.php on line \d+")),
)


def stack_trace(text: str) -> Match | None:
    """A stack trace of Python, Java/Kotlin, .NET, Node, Go, Ruby or PHP in ``text``."""
    return _first(_TRACES, text)


# --------------------------------------------------------------------------- database errors

_DATABASE_ERRORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("psycopg", _re(r"\bpsycopg2?\.(?:errors\.)?\w*(?:Error|Exception|Violation|Syntax\w*)\b")),
    ("asyncpg", _re(r"\basyncpg\.exceptions\.\w+")),
    (
        "sqlalchemy",
        _re(r"\bsqlalchemy\.exc\.\w+|\(Background on this error at: https?://sqlalche\.me/"),
    ),
    ("cockroachdb", _re(r"\bpq: [a-z]")),
    ("cockroachdb", _re(r"\bat or near \"[^\"\n]*\": syntax error")),
    ("cockroachdb", _re(r"\bTransactionRetry(?:WithProtoRefresh)?Error\b")),
    ("postgresql", _re(r"\bSQLSTATE[\s:\[]+[0-9A-Z]{5}\b")),
    (
        "postgresql",
        _re(
            r"\b(?:unterminated quoted (?:string|identifier) at or near \"|syntax error at or near \"|"
            r"invalid input syntax for (?:type )?\w+|relation \"[^\"\n]+\" does not exist|"
            r"column \"[^\"\n]+\" does not exist|current transaction is aborted, commands ignored)"
        ),
    ),
    ("sqlite", _re(r"\bsqlite3?\.\w*(?:Error|Warning)\b|\bSQLITE_[A-Z]+\b")),
    (
        "sqlite",
        _re(
            r"\b(?:unrecognized token: \"|near \"[^\"\n]*\": syntax error|no such (?:table|column): )"
        ),
    ),
    (
        "mysql",
        _re(
            r"You have an error in your SQL syntax|check the manual that corresponds to your (?:MySQL|MariaDB) server version"
        ),
    ),
    ("mysql", _re(r"\b(?:pymysql\.err|MySQLdb\._?exceptions|mysql\.connector\.errors)\.\w+")),
    ("oracle", _re(r"\bORA-\d{5}\b")),
    (
        "sqlserver",
        _re(
            r"Unclosed quotation mark after the character string|\bSystem\.Data\.SqlClient\.SqlException\b"
        ),
    ),
)


def database_error(text: str) -> Match | None:
    """Database driver or server error text in ``text`` (see RULES.md SD403)."""
    return _first(_DATABASE_ERRORS, text)


# --------------------------------------------------------------------------- debuggers

_DEBUGGERS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    # (family, literals one of which every match contains, pattern)
    (
        "werkzeug",
        ("__debugger__",),
        _re(
            r"__debugger__[\s\S]{0,4000}?\b(?:EVALEX|CONSOLE_MODE)\b|\b(?:EVALEX|CONSOLE_MODE)\b[\s\S]{0,4000}?__debugger__"
        ),
    ),
    (
        "django",
        ("DEBUG = True",),
        _re(
            r"because you have (?:<code>)?DEBUG = True(?:</code>)?\s+in\s+your\s+Django\s+settings"
        ),
    ),
    ("express", ('<ul id="stacktrace">',), _re(r"<ul id=\"stacktrace\">")),
    (
        "rails",
        ("Action Controller: Exception caught", "data-remote-path"),
        _re(r"Action Controller: Exception caught|<div id=\"console\"[^>]*data-remote-path"),
    ),
    (
        "spring",
        ("<title>H2 Console</title>", "Whitelabel Error Page"),
        _re(r"<title>H2 Console</title>|Whitelabel Error Page[\s\S]{0,2000}?\n\s*at [\w$.]+\("),
    ),
    (
        "php",
        ("Whoops! There was an error.", "<title>Ignition</title>"),
        _re(r"Whoops! There was an error\.|<title>Ignition</title>"),
    ),
    # Symfony's ErrorHandler in debug mode (APP_DEBUG=1): its exception page with the trace
    ("symfony", ('class="trace trace-as-text"',), _re(r'<table class="trace trace-as-text">')),
    # ASP.NET Core's developer exception page (UseDeveloperExceptionPage)
    ("aspnet", ('class="rawExceptionStackTrace"',), _re(r'<pre class="rawExceptionStackTrace">')),
)


def debugger(raw: str) -> Match | None:
    """An interactive debugger or debug page in the RAW body (markers live in HTML and script).

    A pattern runs only where one of its literals occurs: Python's ``re`` finds no literal
    prefix in these alternations and tried each at every offset, about 50 ms per 2 MB body.
    """
    table = tuple(
        (family, pattern)
        for family, literals, pattern in _DEBUGGERS
        if any(literal in raw for literal in literals)
    )
    return _first(table, raw)
