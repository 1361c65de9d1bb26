"""Human-readable terminal report rendered with rich.

Every string that the target (or the document) controls is passed through :func:`sanitize` and
then into rich as a :class:`rich.text.Text`, never as markup, so a hostile server can neither
repaint the terminal with escape sequences nor style the report with ``[bold]``-like text.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from specdiff.model import Coverage, Finding, OperationRef, Report, Severity
from specdiff.reporters import sorted_findings
from specdiff.reporters._text import sanitize
from specdiff.score import score_line

__all__ = ["SNIPPET_LIMIT", "render", "sanitize", "verdict"]

SNIPPET_LIMIT = 300
"""Evidence snippets longer than this many characters are cut and end in an ellipsis."""
_SNIPPET_MAX_LINES = 15
_LABEL_WIDTH = 10
_INDENT = 2

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_SEVERITY_ORDER = sorted(Severity, key=lambda s: -s.rank)


def _truncate(text: str, limit: int = SNIPPET_LIMIT, max_lines: int = _SNIPPET_MAX_LINES) -> str:
    lines = text.split("\n")
    cut = len(text) > limit or len(lines) > max_lines
    if len(lines) > max_lines:
        text = "\n".join(lines[:max_lines])
    if len(text) > limit:
        text = text[:limit]
    return text.rstrip() + "…" if cut else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _op_text(op: OperationRef | None) -> Text:
    if op is None:
        return Text("host-wide (no single operation)", style="italic")
    text = Text(sanitize(f"{op.method} {op.path}"), style="bold")
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


def _title_line(f: Finding) -> Text:
    text = Text()
    text.append(f"[{f.severity.value.upper()}]", style=_SEVERITY_STYLE[f.severity])
    text.append(" ")
    text.append(sanitize(f.rule), style="bold")
    text.append(f" {sanitize(f.kind)} — ")
    text.append(sanitize(f.title), style="bold")
    return text


def _rating(f: Finding) -> Text:
    parts = [f"confidence {f.confidence.value}"]
    if f.cwe is not None:
        parts.append(f"CWE-{f.cwe}")
    if f.owasp:
        parts.append(sanitize(f.owasp))
    return Text(" · ".join(parts))


def _fields(rows: list[tuple[str, RenderableType]]) -> Padding:
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(style="dim", no_wrap=True, min_width=_LABEL_WIDTH)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label), value)
    return Padding(grid, (0, 0, 0, _INDENT))


def _finding(f: Finding) -> Iterator[tuple[RenderableType, bool]]:
    """The renderables of one finding, each with whether to print it unwrapped."""
    yield _title_line(f), False
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
            snippet = Text(sanitize(_truncate(ev.snippet), multiline=True))
            panel = Panel(snippet, title=Text("response snippet"), title_align="left", expand=True)
            rows.append(("evidence", panel))
    yield _fields(rows), False
    if ev is not None and ev.curl:
        # One unbroken line, so that it can be copied into a shell; the terminal wraps it.
        line = Text(" " * _INDENT + "reproduce".ljust(_LABEL_WIDTH + 2), style="dim")
        line.append(sanitize(ev.curl), style="not dim")
        yield line, True
    if f.remediation:
        yield _fields([("fix", Text(sanitize(f.remediation, multiline=True)))]), False
    yield Text(), False


def _findings(report: Report) -> Iterator[tuple[RenderableType, bool]]:
    ordered = sorted_findings(report.findings)
    for severity in _SEVERITY_ORDER:
        group = [f for f in ordered if f.severity is severity]
        if not group:
            continue
        title = Text(f"{severity.value.upper()} · {len(group)}", style=_SEVERITY_STYLE[severity])
        yield Rule(title, align="left", characters="─", style="dim"), False
        for f in group:
            yield from _finding(f)


def _coverage_row(c: Coverage) -> tuple[Text, Text, Text, Text]:
    baseline = "—" if c.baseline_status is None else str(c.baseline_status)
    return (
        Text(c.status),
        _op_text(c.operation),
        Text(baseline),
        Text(sanitize(c.reason, multiline=True)),
    )


def _coverage(report: Report) -> Iterator[tuple[RenderableType, bool]]:
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
    missed = [c for c in report.coverage if c.status != "probed"]
    if missed:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("status", no_wrap=True)
        table.add_column("operation", overflow="fold")
        table.add_column("baseline", no_wrap=True, justify="right")
        table.add_column("reason", overflow="fold")
        for c in missed:
            table.add_row(*_coverage_row(c))
        yield Padding(table, (0, 0, 0, _INDENT)), False
    yield Text(), False


def _notes(report: Report) -> Iterator[tuple[RenderableType, bool]]:
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


def _sections(report: Report) -> Iterator[tuple[RenderableType, bool]]:
    yield _header(report), False
    yield Text(), False
    yield from _findings(report)
    yield from _coverage(report)
    yield from _notes(report)
    if report.findings:
        worst = max(f.severity for f in report.findings)
        style = _SEVERITY_STYLE[worst]
    else:
        style = "bold green"
    yield from _run_facts(report)
    accepted = sum(1 for f in report.findings if f.suppression is not None)
    suppressed = f"; {accepted} suppressed" if accepted else ""
    yield Text(sanitize(score_line(report)) + suppressed), False
    yield Text(verdict(report), style=style), False


def _run_facts(report: Report) -> Iterator[tuple[RenderableType, bool]]:
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


def render(report: Report, *, color: bool = False, width: int = 100) -> str:
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
    for renderable, unwrapped in _sections(report):
        console.print(renderable, soft_wrap=unwrapped)
    # rich pads table rows to the full width; trailing blanks only get in the way of copying.
    return "\n".join(line.rstrip(" ") for line in buffer.getvalue().split("\n"))
