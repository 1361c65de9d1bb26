"""The versioned JSON report: one document per scan, deterministic (``sort_keys``).

``REPORT_VERSION`` changes only when a field is removed or changes meaning; new fields may appear
without a bump. The shape is documented in the README (section "JSON report").
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from specdiff.identity import fingerprint, group_id
from specdiff.model import (
    Confidence,
    Coverage,
    CreatedObject,
    Evidence,
    Finding,
    IdentityUse,
    Location,
    OperationRef,
    Report,
    Severity,
    Summary,
    Suppression,
)
from specdiff.reporters import sorted_findings
from specdiff.score import report_score

__all__ = ["REPORT_VERSION", "TOOL_NAME", "from_dict", "load_report", "render", "to_dict"]

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
        "group": group_id(f),
        "fingerprint": fingerprint(f),
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
        "planned": c.planned,
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-compatible data (shape: README, section "JSON report")."""
    by_severity = {s.value: 0 for s in Severity}
    for f in report.findings:
        by_severity[f.severity.value] += 1
    s = report.summary
    score = report_score(report)
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
            "score": score.value if score is not None else None,
            "grade": score.grade if score is not None else None,
            "complete": report.complete,
            "incomplete": report.incomplete or None,
            "anonymous": report.anonymous or None,
        },
        "findings": [_finding(f) for f in sorted_findings(report.findings)],
        "coverage": [_coverage(c) for c in report.coverage],
        "identities": [dataclasses.asdict(i) for i in report.identities],
        "created": [dataclasses.asdict(c) for c in report.created],
        "notes": list(report.notes),
    }


def _escape_raw(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def render(report: Report) -> str:
    """The report as an indented, key-sorted JSON document ending in a newline."""
    text = json.dumps(to_dict(report), indent=2, sort_keys=True, ensure_ascii=False)
    return _UNSAFE_RAW.sub(_escape_raw, text) + "\n"


# --------------------------------------------------------------------------- JSON -> Report


def load_report(path: Path) -> Report:
    """Read a JSON report written by :func:`render`; a ValueError says in one line what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    try:
        return from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a specdiff JSON report: {exc!r}") from None


def from_dict(data: dict[str, Any]) -> Report:
    """The inverse of :func:`to_dict` (raises KeyError/TypeError/ValueError on other shapes)."""
    version = data["report_version"]
    if version != REPORT_VERSION:
        raise ValueError(f"report_version {version!r}, this specdiff reads {REPORT_VERSION!r}")
    s = data["summary"]
    return Report(
        tool_version=str(data["tool"]["version"]),
        spec=str(data["spec"]),
        target=data["target"],
        started_at=str(data["started_at"]),
        findings=tuple(_load_finding(f) for f in data["findings"]),
        coverage=tuple(_load_coverage(c) for c in data["coverage"]),
        summary=Summary(
            operations=int(s["operations"]),
            probed=int(s["probed"]),
            requests=int(s["requests"]),
            duration=float(s["duration_seconds"]),
        ),
        notes=tuple(str(n) for n in data["notes"]),
        complete=bool(s.get("complete", True)),
        incomplete=str(s.get("incomplete") or ""),
        anonymous=str(s.get("anonymous") or ""),
        identities=tuple(_load_identity(i) for i in data.get("identities", ())),
        created=tuple(_load_created(c) for c in data.get("created", ())),
    )


def _load_identity(d: dict[str, Any]) -> IdentityUse:
    if d["identity"] not in ("a", "b", "low"):
        raise ValueError(f"unknown identity {d['identity']!r}")
    counts = {k: int(d[k]) for k in ("ok", "unauthorized", "forbidden", "other", "not_sent")}
    return IdentityUse(
        d["identity"], **counts, stopped=str(d["stopped"]), relogins=int(d["relogins"])
    )


def _load_created(d: dict[str, Any]) -> CreatedObject:
    return CreatedObject(str(d["path"]), str(d["created_by"]), bool(d["cleaned"]), str(d["note"]))


def _load_operation(d: dict[str, Any]) -> OperationRef:
    return OperationRef(str(d["method"]), str(d["path"]), d["operation_id"])


def _load_finding(d: dict[str, Any]) -> Finding:
    loc, ev, op = d["location"], d["evidence"], d["operation"]
    return Finding(
        rule=str(d["rule"]),
        kind=str(d["kind"]),
        title=str(d["title"]),
        severity=Severity(d["severity"]),
        confidence=Confidence(d["confidence"]),
        message=str(d["message"]),
        cwe=d["cwe"],
        owasp=d["owasp"],
        operation=_load_operation(op) if op else None,
        location=Location(str(loc["file"]), loc["line"], str(loc["pointer"])) if loc else None,
        evidence=Evidence(str(ev["request"]), ev["status"], str(ev["snippet"]), str(ev["curl"]))
        if ev
        else None,
        remediation=str(d["remediation"]),
        key=str(d["key"]),
    )


def _load_coverage(d: dict[str, Any]) -> Coverage:
    status = d["status"]
    if status not in ("probed", "not reached", "not judged", "skipped"):
        raise ValueError(f"unknown coverage status {status!r}")
    return Coverage(
        _load_operation(d["operation"]),
        status,
        str(d["reason"]),
        d["baseline_status"],
        int(d["requests"]),
        int(d.get("planned", 0)),
    )
