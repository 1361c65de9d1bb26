"""Markdown for a pull-request comment or the GitHub step summary.

Counts and the risk score first, then the top findings in a table, then every finding (and the
coverage gaps) in a collapsed ``<details>`` block. GitHub renders HTML inside Markdown, so every
server string is HTML-escaped, then Markdown-escaped; ``@`` and ``#`` become entities so a
response body cannot mention people or link issues in the comment.
"""

from __future__ import annotations

import html
import re

from specdiff.model import Finding, Report, Severity
from specdiff.reporters import sorted_findings
from specdiff.reporters._text import sanitize
from specdiff.score import score_line

__all__ = ["TOP", "escape", "render"]

TOP = 10
"""How many findings the table at the top shows."""
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()+\-.!|~>@#]")
_ENTITY = {"@": "&#64;", "#": "&#35;"}
_SNIPPET_LIMIT = 2000


def escape(text: str) -> str:
    """One line of untrusted text made inert in GitHub Markdown (inline and in table cells)."""
    safe = html.escape(sanitize(text), quote=False)
    return _MD_SPECIAL.sub(lambda m: _ENTITY.get(m.group(), "\\" + m.group()), safe)


def _pre(text: str) -> str:
    """A block of untrusted text inside ``<pre>`` (HTML-escaped; Markdown is off in there)."""
    cut = text if len(text) <= _SNIPPET_LIMIT else text[:_SNIPPET_LIMIT] + "…"
    safe = html.escape(sanitize(cut, multiline=True), quote=True)
    return "<pre>" + safe.replace("@", "&#64;") + "</pre>"


def _op(f: Finding) -> str:
    return escape(f"{f.operation.method} {f.operation.path}") if f.operation else "host-wide"


def _where(f: Finding) -> str:
    loc = f.location
    return escape(f"{loc.file}:{loc.line}") if loc and loc.line else ""


def _status(f: Finding) -> str:
    if f.suppression is None:
        return ""
    return f" _(suppressed by {f.suppression.source}: {escape(f.suppression.justification)})_"


def _details(f: Finding) -> list[str]:
    head = (
        f"<details><summary><b>{f.severity.value.upper()}</b> {html.escape(f.rule)} "
        f"{html.escape(sanitize(f.title))} — {_op(f)}</summary>"
    )
    out = [head, "", f"{escape(f.message)}{_status(f)}", ""]
    facts = [f"rule `{f.rule}` ({escape(f.kind)})", f"confidence {f.confidence.value}"]
    if f.key:
        facts.append(f"key {escape(f.key)}")
    if _where(f):
        facts.append(f"spec {_where(f)}")
    out += ["- " + fact for fact in facts]
    if f.evidence is not None:
        ev = f.evidence
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


def render(report: Report) -> str:
    """The report as GitHub-flavoured Markdown ending in a newline."""
    findings = sorted_findings(report.findings)
    counted = [f for f in findings if f.suppression is None]
    s = report.summary
    target = escape(report.target) if report.target else "static checks only"
    lines = [
        "## specdiff",
        "",
        f"**{escape(report.spec)}** against **{target}** — **{escape(score_line(report))}**",
        "",
        "| severity | findings | suppressed |",
        "|---|---:|---:|",
    ]
    for sev in sorted(Severity, key=lambda x: -x.rank):
        total = sum(1 for f in findings if f.severity is sev)
        accepted = total - sum(1 for f in counted if f.severity is sev)
        lines.append(f"| {sev.value} | {total} | {accepted} |")
    lines += [
        "",
        f"{s.operations} operations, {s.probed} probed, {s.requests} requests, {s.duration:.1f} s.",
        "",
    ]
    if counted:
        lines += [
            f"### Top findings ({min(TOP, len(counted))} of {len(counted)})",
            "",
            "| severity | rule | operation | what | spec |",
            "|---|---|---|---|---|",
        ]
        for f in counted[:TOP]:
            lines.append(
                f"| {f.severity.value} | {f.rule} | {_op(f)} | {escape(f.message)} | {_where(f)} |"
            )
        lines.append("")
    else:
        lines += ["No finding counts against the gate.", ""]
    if findings:
        lines += [f"<details><summary>All {len(findings)} findings</summary>", ""]
        for f in findings:
            lines += _details(f)
        lines += ["</details>", ""]
    gaps = [c for c in report.coverage if c.status != "probed"]
    if gaps:
        lines += [f"<details><summary>{len(gaps)} operations not probed</summary>", ""]
        lines += [
            f"- {escape(f'{c.operation.method} {c.operation.path}')}: {c.status} "
            f"({escape(c.reason)})"
            for c in gaps
        ]
        lines += ["", "</details>", ""]
    if report.notes:
        lines += ["**Notes**", ""] + [f"- {escape(n)}" for n in report.notes] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
