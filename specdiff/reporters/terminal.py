"""Human-readable terminal report rendered with rich: the summary first, detail on demand.

Layout (``detail="normal"``): a header line; a summary table with one row per root-cause group
(:mod:`specdiff.identity`): severity, rule, title, operations, one example; then one block per
group, most severe first: the affected operations, what happened on one representative
instance, its evidence and curl line (capped: long repeats shown as ``"a" × 4096``, the rest cut
with a marker naming ``--verbose``, ``--format json`` and ``--har``), and the fix once; then the
operations that were not fully judged, and why; the notes; the gate line. ``"verbose"`` prints
every instance of every group in full; ``"quiet"`` the summary table and the gate line only.

Every string that the target (or the document) controls is passed through :func:`sanitize` and
then into rich as a :class:`rich.text.Text`, never as markup, so a hostile server can neither
repaint the terminal with escape sequences nor style the report with ``[bold]``-like text.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from typing import Literal

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from specdiff.identity import Group, group_findings, stable_key
from specdiff.model import Finding, OperationRef, Report, Severity
from specdiff.reporters._text import sanitize, shorten
from specdiff.score import score_line

__all__ = ["CURL_LIMIT", "SNIPPET_LIMIT", "WHERE_LIMIT", "Detail", "render", "sanitize", "verdict"]

Detail = Literal["quiet", "normal", "verbose"]
"""How much the terminal report shows: ``-q``, default, ``-v``."""

SNIPPET_LIMIT = 140
"""Evidence snippets longer than this (after squeezing repeats) are cut, with a marker."""
CURL_LIMIT = 240
"""Curl lines longer than this are cut, with a marker (``--verbose`` shows them whole)."""
WHERE_LIMIT = 20
"""A group block lists this many affected operations at most (a listener that answers 600
operations is a few lines of operations, not sixty)."""
_SNIPPET_MAX_LINES = 2
_MESSAGE_LIMIT = 240
_CUT_NOTE = (
    "Lines ending in '… [+N chars]' are cut: -v, --format json and --har FILE show them whole."
)
_LABEL_WIDTH = 10
_INDENT = 2
_ROW_STYLE = {True: "", False: "dim"}

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_SEVERITY_ORDER = sorted(Severity, key=lambda s: -s.rank)

Line = tuple[RenderableType, bool]
"""A renderable and whether to print it unwrapped (curl lines, so they can be copied)."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _op_name(op: OperationRef | None) -> str:
    return sanitize(f"{op.method} {op.path}") if op is not None else "host-wide"


def _op_text(op: OperationRef | None) -> Text:
    if op is None:
        return Text("host-wide (no single operation)", style="italic")
    text = Text(_op_name(op), style="bold")
    if op.operation_id:
        text.append(f" ({sanitize(op.operation_id)})")
    return text


def _header(report: Report) -> Text:
    text = Text()
    text.append(f"specdiff {sanitize(report.tool_version)}", style="bold")
    text.append(" · spec ")
    text.append(sanitize(report.spec), style="bold")
    text.append(" · target ")
    if report.target is None:
        text.append("none (static checks only)", style="italic")
    else:
        text.append(sanitize(report.target), style="bold")
    if report.started_at:
        text.append(f" · started {sanitize(report.started_at)}")
    return text


def _title_line(f: Finding, tail: str = "") -> Text:
    """``[CRITICAL] SD303 Undocumented secret in response`` and ``tail`` (where); the kind
    is in ``--verbose``, JSON and ``specdiff explain``."""
    text = Text()
    text.append(f"[{f.severity.value.upper()}]", style=_SEVERITY_STYLE[f.severity])
    text.append(" ")
    text.append(sanitize(f.rule), style="bold")
    text.append(" ")
    text.append(sanitize(f.title), style="bold")
    if tail:
        text.append(sanitize(tail))
    return text


def _fields(rows: list[tuple[str, RenderableType]]) -> Padding:
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(style="dim", no_wrap=True, min_width=_LABEL_WIDTH)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label), value)
    return Padding(grid, (0, 0, 0, _INDENT))


def _curl_line(curl: str, *, full: bool) -> Text:
    """One unbroken line, so that it can be copied into a shell; the terminal wraps it."""
    line = Text(" " * _INDENT + "reproduce".ljust(_LABEL_WIDTH + 2), style="dim")
    shown = curl if full else shorten(curl, CURL_LIMIT)
    line.append(sanitize(shown), style="not dim")
    return line


# --------------------------------------------------------------------------- summary


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _summary(report: Report, groups: tuple[Group, ...], width: int) -> Iterator[Line]:
    title = (
        f"SUMMARY · {_plural(len(report.findings), 'finding')} in {_plural(len(groups), 'group')}"
    )
    yield Rule(Text(title, style="bold"), align="left", characters="─", style="dim"), False
    if not groups:
        return
    # severity, rule and ops keep their width; title and example share the rest, clipped here
    # (rich drops whole columns when no-wrap cells do not fit)
    free = max(width - _INDENT - 4 * 3 - 8 - 5 - 4, 20)
    title_width, example_width = free * 11 // 20, free - free * 11 // 20
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("title", no_wrap=True)
    table.add_column("ops", no_wrap=True, justify="right")
    table.add_column("example", no_wrap=True)
    for g in groups:
        ops = g.operations
        n = sum(1 for op in ops if op is not None)
        more = f" (+{len(g.findings) - 1})" if len(g.findings) > 1 else ""
        first = g.first  # with its key, so two groups of one rule read apart: GET /me ($.password)
        named = _op_name(first.operation) + (f" ({first.key})" if stable_key(first.key) else "")
        example = _clip(sanitize(named), example_width - len(more)) + more
        title = sanitize(g.first.title) + ("" if g.counted else " (suppressed)")
        table.add_row(
            Text(g.severity.value.upper(), style=_SEVERITY_STYLE[g.severity]),
            Text(sanitize(g.rule)),
            Text(_clip(title, title_width)),
            Text(str(n) if n else "host"),
            Text(example),
            style=_ROW_STYLE[bool(g.counted)],
        )
    yield Padding(table, (0, 0, 0, _INDENT)), False
    yield Text(), False


# --------------------------------------------------------------------------- groups


def _keys(keys: list[str]) -> str:
    return ", ".join(sanitize(shorten(k, 80)) for k in keys)


def _where(g: Group) -> tuple[str, str]:
    """(title tail, where line): every affected operation, compactly, with the keys seen on
    it: ``GET /me ($.password)``, ``GET /me (alg-none, alg-None)``, ``kid-sql-injection on 4
    operations``. Keys that only name the address (SD101's listener) are left out."""
    per_op: dict[str, list[str]] = {}
    for f in g.findings:
        keys = per_op.setdefault(_op_name(f.operation), [])
        if stable_key(f.key) and f.key not in keys:
            keys.append(f.key)
    distinct = list(dict.fromkeys(k for keys in per_op.values() for k in keys))
    if len(per_op) == 1:
        (name,) = per_op
        return f" — {name}" + (f" ({_keys(distinct)})" if distinct else ""), ""
    count = _plural(sum(1 for op in g.operations if op is not None), "operation")
    if all(keys == distinct for keys in per_op.values()):  # one key (or none) everywhere
        lead = f" — {_keys(distinct)} on {count}" if distinct else f" — {count}"
        return lead, _listed(list(per_op))
    parts = [f"{name} ({_keys(keys)})" if keys else name for name, keys in per_op.items()]
    return f" — {count}", _listed(parts)


def _listed(parts: list[str]) -> str:
    """The operations, at most :data:`WHERE_LIMIT` of them (-v and JSON list every one)."""
    if len(parts) <= WHERE_LIMIT:
        return ", ".join(parts)
    rest = len(parts) - WHERE_LIMIT
    return ", ".join(parts[:WHERE_LIMIT]) + f" … and {rest} more (-v or --format json: all)"


def _suppressed(g: Group) -> str | None:
    accepted = [f for f in g.findings if f.suppression is not None]
    if not accepted:
        return None
    why = accepted[0].suppression
    assert why is not None
    share = "all" if len(accepted) == len(g.findings) else f"{len(accepted)} of {len(g.findings)}"
    return f"{share} accepted by {why.source}: {why.justification} (does not fail the gate)"


def _group(g: Group, *, fix: bool) -> Iterator[Line]:
    """One root cause: where, what (one representative instance), evidence, curl, the fix
    (``fix``: not already given for an earlier group of the same rule)."""
    f = g.first
    tail, where = _where(g)
    yield _title_line(f, tail), False
    rows: list[tuple[str, RenderableType]] = []
    if where:
        rows.append(("where", Text(where)))
    rows.append(("what", Text(sanitize(shorten(f.message, _MESSAGE_LIMIT), multiline=True))))
    why = _suppressed(g)
    if why is not None:
        rows.append(("suppressed", Text(sanitize(why, multiline=True))))
    ev = f.evidence
    if ev is not None and ev.snippet:
        cut = shorten(ev.snippet, SNIPPET_LIMIT, max_lines=_SNIPPET_MAX_LINES)
        rows.append(("evidence", Text(sanitize(cut, multiline=True))))
    yield _fields(rows), False
    if ev is not None and ev.curl:
        yield _curl_line(ev.curl, full=False), True
    if fix and f.remediation:
        yield _fields([("fix", Text(sanitize(f.remediation, multiline=True)))]), False


def _rating(f: Finding) -> Text:
    parts = [f"confidence {f.confidence.value}"]
    if f.cwe is not None:
        parts.append(f"CWE-{f.cwe}")
    if f.owasp:
        parts.append(sanitize(f.owasp))
    return Text(" · ".join(parts))


def _instance(f: Finding) -> Iterator[Line]:
    """One finding with everything it carries, nothing cut (``--verbose``)."""
    yield _title_line(f, f" ({sanitize(f.kind)})"), False
    rows: list[tuple[str, RenderableType]] = [("operation", _op_text(f.operation))]
    if f.location is not None:
        where = sanitize(f.location.file)
        if f.location.line is not None:
            where += f":{f.location.line}"
        loc = Text(where)
        if f.location.pointer:
            loc.append(f"  #{sanitize(f.location.pointer)}", style="dim")
        rows.append(("spec", loc))
    rows.append(("rating", _rating(f)))
    if f.key:
        rows.append(("key", Text(sanitize(f.key))))
    rows.append(("message", Text(sanitize(f.message, multiline=True))))
    if f.suppression is not None:
        why = f"{f.suppression.source}: {f.suppression.justification} (does not fail the gate)"
        rows.append(("suppressed", Text(sanitize(why, multiline=True))))
    ev = f.evidence
    if ev is not None:
        if ev.request:
            rows.append(("request", Text(sanitize(ev.request, multiline=True))))
        if ev.status is not None:
            rows.append(("status", Text(str(ev.status))))
        if ev.snippet:
            rows.append(("evidence", Text(sanitize(ev.snippet, multiline=True))))
    yield _fields(rows), False
    if ev is not None and ev.curl:
        yield _curl_line(ev.curl, full=True), True
    if f.remediation:
        yield _fields([("fix", Text(sanitize(f.remediation, multiline=True)))]), False
    yield Text(), False


def _cut(f: Finding) -> bool:
    """Whether the normal block of ``f`` shortens its evidence or curl line."""
    ev = f.evidence
    if ev is None:
        return False
    snippet = shorten(ev.snippet, SNIPPET_LIMIT, max_lines=_SNIPPET_MAX_LINES)
    return "… [+" in snippet or "… [+" in shorten(ev.curl, CURL_LIMIT)


def _groups(groups: tuple[Group, ...], detail: Detail) -> Iterator[Line]:
    if detail == "normal" and any(_cut(g.first) for g in groups):
        yield Text(_CUT_NOTE, style="dim"), False
        yield Text(), False
    fixed: set[str] = set()  # rules whose fix was given: one fix per rule is enough
    for severity in _SEVERITY_ORDER:
        these = [g for g in groups if g.severity is severity]
        if not these:
            continue
        title = Text(
            f"{severity.value.upper()} · {_plural(len(these), 'group')}",
            style=_SEVERITY_STYLE[severity],
        )
        yield Rule(title, align="left", characters="─", style="dim"), False
        for i, g in enumerate(these):
            if i and detail == "verbose":
                yield Text(), False
            fix = g.rule not in fixed
            fixed.add(g.rule)
            if detail == "verbose":
                head = f"group {g.id}: {_plural(len(g.findings), 'finding')}"
                yield Text(head, style="bold"), False
                for f in g.findings:
                    yield from _instance(f)
            else:
                yield from _group(g, fix=fix)
        yield Text(), False


# --------------------------------------------------------------------------- coverage, notes


def _coverage(report: Report) -> Iterator[Line]:
    if not report.coverage:  # a static run (lint): nothing was to be reached
        return
    counts = Counter(c.status for c in report.coverage)
    yield Rule(Text("COVERAGE", style="bold"), align="left", characters="─", style="dim"), False
    line = Text()
    line.append(f"{counts['probed']} probed", style="green" if counts["probed"] else "")
    line.append(", ")
    line.append(
        f"{counts['not reached']} not reached", style="yellow" if counts["not reached"] else ""
    )
    line.append(", ")
    if counts["not judged"]:
        line.append(f"{counts['not judged']} not judged", style="yellow")
        line.append(", ")
    line.append(f"{counts['skipped']} skipped", style="yellow" if counts["skipped"] else "")
    line.append(f" of {_plural(report.summary.operations, 'operation')}")
    yield line, False
    # every operation not fully judged: not probed, or probed with a caveat (a body cut short)
    partial = [c for c in report.coverage if c.status != "probed" or c.reason]
    if partial:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("status", no_wrap=True)
        table.add_column("operation", overflow="fold")
        table.add_column("baseline", no_wrap=True, justify="right")
        table.add_column("why", overflow="fold")
        for c in partial:
            baseline = "—" if c.baseline_status is None else str(c.baseline_status)
            table.add_row(
                Text(c.status),
                _op_text(c.operation),
                Text(baseline),
                Text(sanitize(c.reason or "no reason given", multiline=True)),
            )
        yield Padding(table, (0, 0, 0, _INDENT)), False
    yield Text(), False


def _notes(report: Report) -> Iterator[Line]:
    if not report.notes:
        return
    yield Rule(Text("NOTES", style="bold"), align="left", characters="─", style="dim"), False
    bullets = Table.grid(padding=(0, 1, 0, 0))
    bullets.add_column(no_wrap=True)
    bullets.add_column(overflow="fold")
    for note in report.notes:
        bullets.add_row(Text("•"), Text(sanitize(note, multiline=True)))
    yield Padding(bullets, (0, 0, 0, _INDENT)), False
    yield Text(), False


def verdict(report: Report) -> str:
    """The closing line: ``4 findings (2 critical, 1 high, 1 low) in 10 operations, …``."""
    s = report.summary
    tail = (
        f"in {_plural(s.operations, 'operation')}, {_plural(s.requests, 'request')}, "
        f"{s.duration:.1f} s"
    )
    if not report.findings:
        return f"No findings {tail}"
    counts = Counter(f.severity for f in report.findings)
    by_sev = ", ".join(f"{counts[sev]} {sev.value}" for sev in _SEVERITY_ORDER if counts[sev])
    return f"{_plural(len(report.findings), 'finding')} ({by_sev}) {tail}"


def _gate(report: Report) -> Iterator[Line]:
    if report.findings:
        style = _SEVERITY_STYLE[max(f.severity for f in report.findings)]
    else:
        style = "bold green"
    yield Text(sanitize(score_line(report))), False
    yield Text(verdict(report), style=style), False


def _run_facts(report: Report) -> Iterator[Line]:
    """How each identity's credentials fared, and what ``--unsafe`` created."""
    for who in report.identities:
        line = (
            f"identity {who.identity.upper()}: {who.ok} answered 2xx, {who.unauthorized} 401, "
            f"{who.forbidden} 403, {who.other} other"
        )
        if who.relogins:
            line += f"; logged in again {_plural(who.relogins, 'time')}"
        if who.stopped:
            line += f"; {who.stopped}, {who.not_sent} not sent"
        yield Text(sanitize(line)), False
    for obj in report.created:
        state = "deleted again" if obj.cleaned else f"NOT cleaned up: {obj.note}"
        yield Text(sanitize(f"created {obj.path} ({obj.created_by}): {state}")), False


def _sections(report: Report, detail: Detail, width: int) -> Iterator[Line]:
    groups = group_findings(report.findings)
    if report.anonymous:
        yield Text(sanitize(f"ANONYMOUS CHECK: {report.anonymous}"), style="bold yellow"), False
    if detail != "quiet":
        yield _header(report), False
        yield Text(), False
    yield from _summary(report, groups, width)
    if detail != "quiet":
        yield from _groups(groups, detail)
        yield from _coverage(report)
        yield from _notes(report)
        yield from _run_facts(report)
    yield from _gate(report)


def render(
    report: Report, *, color: bool = False, width: int = 100, detail: Detail = "normal"
) -> str:
    """The report as terminal text, ``width`` columns wide; ANSI styles only when ``color``.

    The curl line of each finding is the one line never wrapped, so it can be copied whole.
    """
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        width=width,
        no_color=not color,
        markup=False,
        emoji=False,
        highlight=False,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        _environ={},
    )
    for renderable, unwrapped in _sections(report, detail, width):
        console.print(renderable, soft_wrap=unwrapped)
    # rich pads table rows to the full width; trailing blanks only get in the way of copying.
    return "\n".join(line.rstrip(" ") for line in buffer.getvalue().split("\n"))
