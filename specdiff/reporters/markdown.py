"""Markdown for a pull-request comment or the GitHub step summary: never over 60,000 characters.

GitHub refuses comments over 65,536 characters, so the report is built to fit: the counts and
the gate line, then a table of the top root-cause groups (:mod:`specdiff.identity`) chosen for
severity *and* variety (no rule twice until every rule is shown), then every group collapsed in
``<details>`` with its affected operations, one representative piece of evidence, its curl line
and the fix; when that would pass :data:`LIMIT`, the list stops with a pointer to the JSON,
SARIF and HTML reports, which always hold every instance.

Every server string is escaped for its position, and only as much as that position needs:
inline code spans for operations, keys and other literal values (a fence longer than any
backtick run inside; ``|`` escaped in table cells); prose gets HTML entities for ``<>&``, a
backslash before the characters that would start emphasis, links or strike-through, and
entities for ``@mention`` and ``#123`` (so a response body cannot ping people or link
issues); HTML blocks (``<summary>``, ``<pre>``) get HTML escaping only.
"""

from __future__ import annotations

import html
import re

from specdiff.identity import Group, group_findings, top_groups
from specdiff.model import Finding, Report, Severity
from specdiff.reporters._text import sanitize, shorten
from specdiff.score import score_line

__all__ = ["LIMIT", "OPERATIONS_LIMIT", "TOP", "code", "escape", "render"]

LIMIT = 60_000
"""The most characters a rendered report may have (GitHub's comment limit is 65,536)."""
TOP = 10
"""How many groups the table at the top shows."""
OPERATIONS_LIMIT = 50
"""A group lists this many affected operations at most: one cause on 600 operations must not
fill the comment alone."""
_PRE_LIMIT = 1500
_CUT = (
    "The full evidence of every instance is in the JSON, SARIF and HTML reports "
    "(`--format json`, `--format sarif`, `--format html`, or `--har FILE` for every exchange)."
)
_RESERVE = 3000
"""Room kept for the closing sections (coverage gaps, notes, the cut notice)."""

# `_` inside a word (before_request) is literal in GitHub Markdown; at a word's edge it may
# start or end emphasis
_PROSE_SPECIAL = re.compile(r"[\\`*\[\]~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MENTION = re.compile(r"@(?=\w)")
_ISSUE_REF = re.compile(r"#(?=\d)")
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")
_ORDER = sorted(Severity, key=lambda s: -s.rank)


def escape(text: str, *, table: bool = False) -> str:
    """One line of untrusted prose made inert in GitHub Markdown, escaping only what needs it
    (``table``: also ``|``, which ends a cell)."""
    safe = html.escape(sanitize(text), quote=False)
    safe = _PROSE_SPECIAL.sub(lambda m: "\\" + m.group(), safe)
    safe = _MENTION.sub("&#64;", _ISSUE_REF.sub("&#35;", safe))
    safe = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), safe)
    return safe.replace("|", "\\|") if table else safe


def code(text: str, *, table: bool = False) -> str:
    """``text`` as an inline code span: shown literally, nothing inside needs escaping but the
    fence (longer than any backtick run inside) and, in a table cell, ``|``."""
    one_line = sanitize(text)
    longest = max((len(run) for run in re.findall(r"`+", one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") or not one_line else ""
    span = f"{fence}{pad}{one_line}{pad}{fence}"
    return span.replace("|", "\\|") if table else span


def _html(text: str, *, multiline: bool = False) -> str:
    """Text inside an HTML element (``<summary>``, ``<pre>``): ``<>&`` as entities, mentions
    and issue references defused; nothing else means anything there."""
    safe = html.escape(sanitize(text, multiline=multiline), quote=False)
    return _MENTION.sub("&#64;", _ISSUE_REF.sub("&#35;", safe))


def _pre(text: str) -> str:
    """A block of untrusted text inside ``<pre>``: HTML-escaped, capped (Markdown is off)."""
    cut = shorten(text, _PRE_LIMIT, whole="the JSON report")
    return "<pre>" + _html(cut, multiline=True) + "</pre>"


def _op(f: Finding, *, table: bool = False) -> str:
    if f.operation is None:
        return "host-wide"
    return code(f"{f.operation.method} {f.operation.path}", table=table)


def _operations(g: Group) -> str:
    """The affected operations, at most :data:`OPERATIONS_LIMIT` (the JSON report lists all)."""
    names = list(dict.fromkeys(_op(f) for f in g.findings))
    if len(names) <= OPERATIONS_LIMIT:
        return ", ".join(names)
    rest = len(names) - OPERATIONS_LIMIT
    return ", ".join(names[:OPERATIONS_LIMIT]) + f" and {rest} more (the JSON report lists all)"


def _group_details(g: Group) -> list[str]:
    f = g.first
    ops = [op for op in g.operations if op is not None]
    where = f"{len(ops)} operations" if len(ops) > 1 else (_html(_op_plain(f)))
    head = (
        f"<details><summary><b>{f.severity.value.upper()}</b> {html.escape(f.rule)} "
        f"{_html(f.title)} — {where}</summary>"
    )
    out = [head, "", escape(f.message), ""]
    facts = [f"rule {code(f.rule)} ({code(f.kind)}), confidence {f.confidence.value}"]
    facts.append(f"group {code(g.id)}: {len(g.findings)} finding(s) on {_operations(g)}")
    keys = list(dict.fromkeys(x.key for x in g.findings if x.key))
    if keys:
        facts.append("keys " + ", ".join(code(shorten(k, 120)) for k in keys[:20]))
    loc = f.location
    if loc is not None and loc.line:
        facts.append(f"spec {code(f'{loc.file}:{loc.line}')}")
    accepted = [x for x in g.findings if x.suppression is not None]
    if accepted:
        why = accepted[0].suppression
        assert why is not None
        facts.append(
            f"{len(accepted)} of {len(g.findings)} suppressed by {why.source}: "
            f"{escape(why.justification)}"
        )
    out += ["- " + fact for fact in facts]
    ev = f.evidence
    if ev is not None:
        status = f" → {ev.status}" if ev.status is not None else ""
        out += ["", f"Request{status}:", "", _pre(ev.request)]
        if ev.snippet:
            out += ["", "Evidence:", "", _pre(ev.snippet)]
        if ev.curl:
            out += ["", "Reproduce:", "", _pre(ev.curl)]
    if f.remediation:
        out += ["", f"**Fix:** {escape(f.remediation)}"]
    out += ["", "</details>", ""]
    return out


def _op_plain(f: Finding) -> str:
    return f"{f.operation.method} {f.operation.path}" if f.operation else "host-wide"


def _counts(report: Report, groups: tuple[Group, ...]) -> list[str]:
    lines = ["| severity | findings | groups | suppressed |", "|---|---:|---:|---:|"]
    for sev in _ORDER:
        total = sum(1 for f in report.findings if f.severity is sev)
        accepted = sum(1 for f in report.findings if f.severity is sev and f.suppression)
        n_groups = sum(1 for g in groups if g.severity is sev)
        lines.append(f"| {sev.value} | {total} | {n_groups} | {accepted} |")
    return lines


def _top(groups: tuple[Group, ...]) -> list[str]:
    top = top_groups(groups, TOP)
    counted = sum(1 for g in groups if g.counted)
    if not top:
        return ["No finding counts against the gate.", ""]
    lines = [
        f"### Top groups ({len(top)} of {counted})",
        "",
        "| severity | rule | what | operations | example |",
        "|---|---|---|---:|---|",
    ]
    for g in top:
        n = sum(1 for op in g.operations if op is not None)
        lines.append(
            f"| {g.severity.value} | {g.rule} | {escape(g.first.title, table=True)} | "
            f"{n or 'host'} | {_op(g.first, table=True)} |"
        )
    return [*lines, ""]


def _tail(report: Report) -> list[str]:
    lines: list[str] = []
    partial = [c for c in report.coverage if c.status != "probed" or c.reason]
    if partial:
        lines += [f"<details><summary>{len(partial)} operations not fully judged</summary>", ""]
        for c in partial[:200]:
            op = code(f"{c.operation.method} {c.operation.path}")
            lines.append(f"- {op}: {c.status} ({escape(shorten(c.reason or '—', 200))})")
        if len(partial) > 200:
            lines.append(f"- … and {len(partial) - 200} more: see the JSON report")
        lines += ["", "</details>", ""]
    if report.notes:
        lines += ["**Notes**", ""]
        lines += [f"- {escape(shorten(n, 500))}" for n in report.notes[:50]]
        lines.append("")
    return lines


def render(report: Report) -> str:
    """The report as GitHub-flavoured Markdown ending in a newline, at most :data:`LIMIT`
    characters long."""
    groups = group_findings(report.findings)
    s = report.summary
    target = code(report.target) if report.target else "static checks only"
    head = [
        "## specdiff",
        "",
        *([f"> **Anonymous check:** {escape(report.anonymous)}", ""] if report.anonymous else []),
        f"{code(report.spec)} against {target}: **{escape(score_line(report))}**",
        "",
        *_counts(report, groups),
        "",
        f"{s.operations} operations, {s.probed} probed, {s.requests} requests, {s.duration:.1f} s; "
        f"{len(report.findings)} findings in {len(groups)} groups.",
        "",
        *_top(groups),
    ]
    tail = _tail(report)
    size = sum(len(line) + 1 for line in head + tail)
    body: list[str] = []
    if groups:
        body += [f"<details><summary>All {len(groups)} groups</summary>", ""]
        shown = 0
        for g in groups:
            block = _group_details(g)
            cost = sum(len(line) + 1 for line in block)
            if size + cost > LIMIT - _RESERVE:
                break
            body += block
            size += cost
            shown += 1
        if shown < len(groups):
            body += [
                f"**{len(groups) - shown} more groups not shown here** to stay under GitHub's "
                f"comment limit. {_CUT}",
                "",
            ]
        else:
            body += [_CUT, ""]
        body += ["</details>", ""]
    text = "\n".join(head + body + tail).rstrip("\n") + "\n"
    if len(text) > LIMIT:  # only with pathological notes or spec paths: cut hard
        text = text[: LIMIT - 200].rsplit("\n", 1)[0] + f"\n\n… cut here. {_CUT}\n"
    return text
