"""A self-contained HTML report: one file, no network, readable offline.

Findings can be filtered by severity and by rule (a few lines of inline JavaScript over
``data-`` attributes; without JavaScript everything is simply shown) and their evidence expands
in ``<details>``. Every server string is HTML-escaped and never placed inside the script, so a
response carrying ``</script>`` stays text. A Content-Security-Policy forbids any fetch.
"""

from __future__ import annotations

import html
from collections import Counter

from specdiff.model import Finding, Report, Severity
from specdiff.reporters import sorted_findings
from specdiff.reporters._text import sanitize
from specdiff.score import report_score, score_line

__all__ = ["render"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_ORDER = sorted(Severity, key=lambda s: -s.rank)

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


def _finding(f: Finding) -> str:
    op = f"{f.operation.method} {f.operation.path}" if f.operation else "host-wide"
    sev = f.severity.value
    classes = f"finding {sev}" + (" suppressed" if f.suppression else "")
    meta = [f"confidence {f.confidence.value}"]
    if f.cwe is not None:
        meta.append(f"CWE-{f.cwe}")
    if f.owasp:
        meta.append(_e(f.owasp))
    if f.location is not None and f.location.line:
        meta.append(_e(f"{f.location.file}:{f.location.line}"))
    if f.key:
        meta.append("key " + _e(f.key))
    parts = [
        f'<section class="{classes}" data-severity="{sev}" data-rule="{_e(f.rule)}" '
        f'data-suppressed="{1 if f.suppression else 0}">',
        f'<div><span class="sev {sev}">{sev}</span> <b>{_e(f.rule)}</b> {_e(f.title)} '
        f"— <code>{_e(op)}</code></div>",
        f"<p>{_e(f.message)}</p>",
        f'<div class="meta">{" · ".join(meta)}</div>',
    ]
    if f.suppression is not None:
        parts.append(
            f'<p class="meta">Suppressed ({_e(f.suppression.source)}): '
            f"{_e(f.suppression.justification)}</p>"
        )
    if f.evidence is not None:
        ev = f.evidence
        status = f" → {ev.status}" if ev.status is not None else ""
        parts.append(f"<details><summary>Evidence{status}</summary>")
        parts.append(f"<h4>Request</h4><pre>{_e(ev.request, multiline=True)}</pre>")
        if ev.snippet:
            parts.append(f"<h4>Response</h4><pre>{_e(ev.snippet, multiline=True)}</pre>")
        if ev.curl:
            parts.append(f"<h4>Reproduce</h4><pre>{_e(ev.curl, multiline=True)}</pre>")
        parts.append("</details>")
    if f.remediation:
        parts.append(f"<p><b>Fix:</b> {_e(f.remediation)}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _checkbox(name: str, value: str, label: str, checked: bool = True) -> str:
    mark = " checked" if checked else ""
    return f'<label><input type="checkbox" name="{name}" value="{_e(value)}"{mark}> {label}</label>'


def render(report: Report) -> str:
    """The report as one HTML document ending in a newline."""
    findings = sorted_findings(report.findings)
    score = report_score(report)
    by_sev = Counter(f.severity for f in findings)
    rules = sorted({f.rule for f in findings})
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
        + "</div><div>Rule: "
        + "".join(_checkbox("rule", r, _e(r)) for r in rules)
        + "</div><div>"
        + _checkbox("state", "suppressed", f"show suppressed ({suppressed})")
        + f' — showing <span id="shown">{len(findings)}</span> of {len(findings)}</div></div>'
    )
    gaps = [c for c in report.coverage if c.status != "probed"]
    coverage = ""
    if gaps:
        rows = "".join(
            f"<tr><td><code>{_e(c.operation.method)} {_e(c.operation.path)}</code></td>"
            f"<td>{_e(c.status)}</td><td>{_e(c.reason)}</td></tr>"
            for c in gaps
        )
        coverage = (
            f"<h2>Not probed ({len(gaps)})</h2><table><tr><th>operation</th><th>status</th>"
            f"<th>why</th></tr>{rows}</table>"
        )
    notes = ""
    if report.notes:
        notes = "<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>"
    target = _e(report.target) if report.target else "static checks only"
    body = "\n".join(_finding(f) for f in findings) or "<p>No findings.</p>"
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
<div class="cards">{"".join(cards)}</div>
<p><b>{_e(score_line(report))}</b></p>
<p>{s.operations} operations, {s.probed} probed, {s.requests} requests, {s.duration:.1f} s; {len(findings)} findings, {suppressed} suppressed.</p>
{filters}
{body}
{coverage}
{notes}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""
