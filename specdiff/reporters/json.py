"""The versioned JSON report: one document per scan, deterministic (``sort_keys``).

``REPORT_VERSION`` changes only when a field is removed or changes meaning; new fields may appear
without a bump. The shape is documented in the README (section "JSON report").
"""

from __future__ import annotations

import json
import re
from typing import Any

from specdiff.model import (
    Coverage,
    Evidence,
    Finding,
    Location,
    OperationRef,
    Report,
    Severity,
    Suppression,
)
from specdiff.reporters import sorted_findings
from specdiff.score import risk_score

__all__ = ["REPORT_VERSION", "TOOL_NAME", "render", "to_dict"]

REPORT_VERSION = "1"
TOOL_NAME = "specdiff"

# Characters that json.dumps(ensure_ascii=False) leaves raw but that a terminal or editor may act
# on: DEL and the C1 controls (U+009B is a one-character CSI), line/paragraph separators and the
# bidirectional overrides ("Trojan Source"). They can only occur inside JSON strings, so escaping
# them in the dumped text keeps the document valid and loads back to the same value.
_UNSAFE_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _operation(op: OperationRef) -> dict[str, Any]:
    return {"method": op.method, "path": op.path, "operation_id": op.operation_id}


def _location(loc: Location) -> dict[str, Any]:
    return {"file": loc.file, "line": loc.line, "pointer": loc.pointer}


def _evidence(ev: Evidence) -> dict[str, Any]:
    return {"request": ev.request, "status": ev.status, "snippet": ev.snippet, "curl": ev.curl}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "kind": f.kind,
        "title": f.title,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "cwe": f.cwe,
        "owasp": f.owasp,
        "message": f.message,
        "key": f.key,
        "operation": _operation(f.operation) if f.operation else None,
        "location": _location(f.location) if f.location else None,
        "evidence": _evidence(f.evidence) if f.evidence else None,
        "remediation": f.remediation,
        "suppressed": _suppression(f.suppression) if f.suppression else None,
    }


def _suppression(s: Suppression) -> dict[str, Any]:
    return {"kind": s.kind, "source": s.source, "reason": s.justification}


def _coverage(c: Coverage) -> dict[str, Any]:
    return {
        "operation": _operation(c.operation),
        "status": c.status,
        "reason": c.reason,
        "baseline_status": c.baseline_status,
        "requests": c.requests,
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-compatible data (shape: README, section "JSON report")."""
    by_severity = {s.value: 0 for s in Severity}
    for f in report.findings:
        by_severity[f.severity.value] += 1
    s = report.summary
    score = risk_score(report.findings)
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "spec": report.spec,
        "target": report.target,
        "started_at": report.started_at,
        "summary": {
            "operations": s.operations,
            "probed": s.probed,
            "requests": s.requests,
            "duration_seconds": round(float(s.duration), 3),
            "findings": len(report.findings),
            "by_severity": by_severity,
            "suppressed": sum(1 for f in report.findings if f.suppression is not None),
            "score": score.value,
            "grade": score.grade,
        },
        "findings": [_finding(f) for f in sorted_findings(report.findings)],
        "coverage": [_coverage(c) for c in report.coverage],
        "notes": list(report.notes),
    }


def _escape_raw(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def render(report: Report) -> str:
    """The report as an indented, key-sorted JSON document ending in a newline."""
    text = json.dumps(to_dict(report), indent=2, sort_keys=True, ensure_ascii=False)
    return _UNSAFE_RAW.sub(_escape_raw, text) + "\n"
