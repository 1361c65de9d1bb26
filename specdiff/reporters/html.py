"""A self-contained HTML report: one file, no network, readable offline.

The first screen shows the score, the counts and the most severe *distinct* root-cause groups
(:func:`specdiff.identity.top_groups`), then the coverage table (every operation; those not
fully judged highlighted, with why). Findings are shown by group: the affected operations, one
representative instance with its evidence, the fix, and the list of every instance expandable.
Groups can be filtered by severity and by rule, the rules grouped by family (a few lines of
inline JavaScript over ``data-`` attributes; without JavaScript everything is simply shown). Every server string is HTML-escaped and never placed inside the script, so a
response carrying ``</script>`` stays text. A Content-Security-Policy forbids any fetch.
"""

from __future__ import annotations

import html
from collections import Counter

from specdiff.catalogue import FAMILY_TITLES, family_of
from specdiff.identity import Group, group_findings, top_groups
from specdiff.model import Finding, Report, Severity
from specdiff.reporters._text import sanitize
from specdiff.score import report_score, score_line

__all__ = ["render"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_ORDER = sorted(Severity, key=lambda s: -s.rank)
TOP = 10
"""How many groups the first screen's table shows (most severe, one per rule first)."""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
main{padding:16px 24px;max-width:1200px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 16px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:22px}
.grade-A,.grade-B{color:#1a7f37}.grade-C{color:#9a6700}.grade-D,.grade-F{color:#cf222e}
.filters{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;margin-bottom:12px}
.filters label{margin-right:12px;white-space:nowrap}
fieldset{border:1px solid #d0d7de;border-radius:4px;margin:6px 0;padding:4px 10px}legend{font-size:12px;color:#57606a}
tr.partial td{background:#fff8c5}
.anonymous{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 14px}
.finding{background:#fff;border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;margin:8px 0;padding:8px 14px}
.finding.critical{border-left-color:#8b0000}.finding.high{border-left-color:#cf222e}
.finding.medium{border-left-color:#bf8700}.finding.low{border-left-color:#0969da}.finding.info{border-left-color:#8c959f}
.finding.suppressed{opacity:.65}
.sev{font-weight:700;text-transform:uppercase;font-size:12px;padding:1px 6px;border-radius:4px;color:#fff}
.sev.critical{background:#8b0000}.sev.high{background:#cf222e}.sev.medium{background:#bf8700}
.sev.low{background:#0969da}.sev.info{background:#8c959f}
.meta{color:#57606a;font-size:12px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:8px;white-space:pre-wrap;word-break:break-all;max-height:320px;overflow:auto}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
"""

# Reads only data- attributes and checkbox state: no server text ever reaches the script.
_SCRIPT = """
(function(){
  var boxes=document.querySelectorAll('.filters input');
  function apply(){
    var on={};
    boxes.forEach(function(b){on[b.name+':'+b.value]=b.checked;});
    var shown=0;
    document.querySelectorAll('.finding').forEach(function(el){
      var ok=on['severity:'+el.dataset.severity]&&on['rule:'+el.dataset.rule]&&
        (on['state:suppressed']||el.dataset.suppressed!=='1');
      el.style.display=ok?'':'none'; if(ok){shown++;}
    });
    document.getElementById('shown').textContent=shown;
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  apply();
})();
"""


def _e(text: str, *, multiline: bool = False) -> str:
    return html.escape(sanitize(text, multiline=multiline), quote=True)


def _op(f: Finding) -> str:
    return f"{f.operation.method} {f.operation.path}" if f.operation else "host-wide"


def _meta(f: Finding) -> str:
    meta = [f"confidence {f.confidence.value}"]
    if f.cwe is not None:
        meta.append(f"CWE-{f.cwe}")
    if f.owasp:
        meta.append(_e(f.owasp))
    if f.location is not None and f.location.line:
        meta.append(_e(f"{f.location.file}:{f.location.line}"))
    if f.key:
        meta.append("key " + _e(f.key))
    return f'<div class="meta">{" · ".join(meta)}</div>'


def _evidence(f: Finding, summary: str) -> list[str]:
    ev = f.evidence
    if ev is None:
        return []
    status = f" → {ev.status}" if ev.status is not None else ""
    parts = [f"<details><summary>{summary}{status}</summary>"]
    parts.append(f"<h4>Request</h4><pre>{_e(ev.request, multiline=True)}</pre>")
    if ev.snippet:
        parts.append(f"<h4>Response</h4><pre>{_e(ev.snippet, multiline=True)}</pre>")
    if ev.curl:
        parts.append(f"<h4>Reproduce</h4><pre>{_e(ev.curl, multiline=True)}</pre>")
    parts.append("</details>")
    return parts


def _instance(f: Finding) -> str:
    """One instance of a group, in its expandable list."""
    parts = [f"<li><code>{_e(_op(f))}</code> {_e(f.message)}", _meta(f)]
    if f.suppression is not None:
        parts.append(
            f'<p class="meta">Suppressed ({_e(f.suppression.source)}): '
            f"{_e(f.suppression.justification)}</p>"
        )
    parts += _evidence(f, "Evidence")
    parts.append("</li>")
    return "\n".join(parts)


def _group(g: Group) -> str:
    f = g.first
    sev = g.severity.value
    classes = f"finding {sev}" + ("" if g.counted else " suppressed")
    ops = [_op(x) for x in g.findings]
    where = ", ".join(f"<code>{_e(op)}</code>" for op in dict.fromkeys(ops))
    parts = [
        f'<section id="{_e(g.id)}" class="{classes}" data-severity="{sev}" '
        f'data-rule="{_e(g.rule)}" data-suppressed="{0 if g.counted else 1}">',
        f'<div><span class="sev {sev}">{sev}</span> <b>{_e(g.rule)}</b> {_e(f.title)} '
        f'<span class="meta">({_e(f.kind)}; group {_e(g.id)})</span></div>',
        f"<p>{where}</p>",
        f"<p>{_e(f.message)}</p>",
    ]
    accepted = [x.suppression for x in g.findings if x.suppression is not None]
    if accepted:
        parts.append(
            f'<p class="meta">{len(accepted)} of {len(g.findings)} suppressed '
            f"({_e(accepted[0].source)}): {_e(accepted[0].justification)}</p>"
        )
    parts += _evidence(f, "Evidence of this instance")
    if f.remediation:
        parts.append(f"<p><b>Fix:</b> {_e(f.remediation)}</p>")
    if len(g.findings) > 1:
        parts.append(f"<details><summary>All {len(g.findings)} instances</summary><ol>")
        parts += [_instance(x) for x in g.findings]
        parts.append("</ol></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _checkbox(name: str, value: str, label: str, checked: bool = True) -> str:
    mark = " checked" if checked else ""
    return f'<label><input type="checkbox" name="{name}" value="{_e(value)}"{mark}> {label}</label>'


def _rule_filter(groups: tuple[Group, ...]) -> str:
    """The rule checkboxes, one fieldset per rule family (transport, auth, ...)."""
    by_family: dict[str, set[str]] = {}
    for g in groups:
        by_family.setdefault(family_of(g.rule, g.first.kind), set()).add(g.rule)
    order = list(FAMILY_TITLES)
    fields = []
    for family in sorted(by_family, key=lambda x: (order.index(x) if x in order else 99, x)):
        title = FAMILY_TITLES.get(family, family)
        boxes = "".join(_checkbox("rule", r, _e(r)) for r in sorted(by_family[family]))
        fields.append(f"<fieldset><legend>{_e(title)}</legend>{boxes}</fieldset>")
    return "".join(fields)


def _top(groups: tuple[Group, ...]) -> str:
    top = top_groups(groups, TOP)
    if not top:
        return "<p>No finding counts against the gate.</p>"
    rows = "".join(
        f'<tr><td><span class="sev {g.severity.value}">{g.severity.value}</span></td>'
        f"<td>{_e(g.rule)}</td><td>{_e(g.first.title)}</td>"
        f"<td>{sum(1 for op in g.operations if op is not None) or 'host'}</td>"
        f"<td><code>{_e(_op(g.first))}</code></td></tr>"
        for g in top
    )
    return (
        f"<h2>Most severe distinct groups ({len(top)} of {sum(1 for g in groups if g.counted)})"
        "</h2><table><tr><th>severity</th><th>rule</th><th>what</th><th>operations</th>"
        f"<th>example</th></tr>{rows}</table>"
    )


def _coverage(report: Report) -> str:
    if not report.coverage:
        return ""
    partial = sum(1 for c in report.coverage if c.status != "probed" or c.reason)
    rows = "".join(
        f'<tr class="{"" if c.status == "probed" and not c.reason else "partial"}">'
        f"<td><code>{_e(c.operation.method)} {_e(c.operation.path)}</code></td>"
        f"<td>{_e(c.status)}</td><td>{'—' if c.baseline_status is None else c.baseline_status}"
        f"</td><td>{c.requests}</td><td>{_e(c.reason)}</td></tr>"
        for c in report.coverage
    )
    return (
        f"<h2>Coverage: {len(report.coverage)} operations, {partial} not fully judged</h2>"
        "<details><summary>Every operation</summary><table><tr><th>operation</th>"
        "<th>status</th><th>baseline</th><th>requests</th><th>why not fully judged</th></tr>"
        f"{rows}</table></details>"
    )


def render(report: Report) -> str:
    """The report as one HTML document ending in a newline."""
    findings = report.findings
    groups = group_findings(findings)
    score = report_score(report)
    by_sev = Counter(f.severity for f in findings)
    s = report.summary
    cards = [
        f'<div class="card">score<b class="grade-{score.grade}">{score.value} · {score.grade}</b></div>'
        if score is not None
        else '<div class="card">score<b class="grade-F">incomplete</b></div>'
    ]
    cards += [f'<div class="card">{sev.value}<b>{by_sev.get(sev, 0)}</b></div>' for sev in _ORDER]
    suppressed = sum(1 for f in findings if f.suppression)
    filters = (
        '<div class="filters"><div>Severity: '
        + "".join(_checkbox("severity", sev.value, sev.value) for sev in _ORDER)
        + "</div>"
        + _rule_filter(groups)
        + "<div>"
        + _checkbox("state", "suppressed", f"show suppressed ({suppressed})")
        + f' — showing <span id="shown">{len(groups)}</span> of {len(groups)} groups</div></div>'
    )
    notes = ""
    if report.notes:
        notes = "<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>"
    target = _e(report.target) if report.target else "static checks only"
    body = "\n".join(_group(g) for g in groups) or "<p>No findings.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>specdiff report: {_e(report.spec)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header><h1>specdiff report</h1>
<div>{_e(report.spec)} against {target} · specdiff {_e(report.tool_version)} · {_e(report.started_at)}</div></header>
<main>
{f'<p class="anonymous"><b>Anonymous check:</b> {_e(report.anonymous)}</p>' if report.anonymous else ""}
<div class="cards">{"".join(cards)}</div>
<p>{_e(score_line(report))}. {s.operations} operations, {s.probed} probed, {s.requests} requests, {s.duration:.1f} s; {len(findings)} findings in {len(groups)} groups, {suppressed} suppressed.</p>
{_top(groups)}
{_coverage(report)}
<h2>Findings by root cause</h2>
{filters}
{body}
{notes}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""
