"""SARIF 2.1.0 for GitHub code scanning: findings on the spec line of their operation.

The mapping follows bandit, semgrep and checkov (STYLE.md section 6):

- one ``rules[]`` entry per rule code that fired (``id`` = code, ``name`` = kind), with CWE and
  OWASP tags, ``precision`` from the confidence and ``security-severity`` from the worst
  severity the rule reached in this run, on GitHub's bands (critical 9.0-10.0, high 7.0-8.9,
  medium 4.0-6.9, low 0.1-3.9; our numbers are checkov's: 10.0, 8.9, 6.9, 3.9);
- one result per finding: ``ruleId`` + ``ruleIndex``, ``level``, the spec file relative to the
  repository root with ``uriBaseId: %SRCROOT%`` and the operation's line, a logical location
  ``GET /users/{id}``, and ``partialFingerprints`` hashed from (code, method, path template,
  key without host, port, scheme and per-run values: :mod:`specdiff.identity`) only: never
  bodies, timestamps or canary values, so alerts survive reruns and a change of address;
- ``properties.group``: the root-cause group the human formats show the finding in;
- suppressed and baselined findings keep their result, with ``suppressions`` (kind and
  justification), as semgrep and checkov do;
- operations not reached or skipped become ``toolExecutionNotifications``.

Output is deterministic (``sort_keys``) and pure: the caller passes the repository root.
"""

from __future__ import annotations

import json
import os
import posixpath
from typing import Any
from urllib.parse import quote

from specdiff.catalogue import CATALOGUE
from specdiff.identity import fingerprint, group_id
from specdiff.model import Confidence, Finding, Report, Severity
from specdiff.reporters import sorted_findings
from specdiff.reporters._text import sanitize
from specdiff.score import report_score

__all__ = ["SCHEMA_URI", "SECURITY_SEVERITY", "fingerprint", "render", "spec_uri", "to_dict"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {
    Severity.CRITICAL: "10.0",
    Severity.HIGH: "8.9",
    Severity.MEDIUM: "6.9",
    Severity.LOW: "3.9",
    Severity.INFO: "0.0",
}
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_PRECISION = {
    Confidence.CERTAIN: "very-high",
    Confidence.FIRM: "high",
    Confidence.TENTATIVE: "medium",
}
_FINGERPRINT_KEY = "specdiffFindingIdentity/v1"


def spec_uri(file: str, source_root: str | None) -> str:
    """``file`` relative to ``source_root`` (POSIX, percent-encoded); as given when outside it."""
    path = file
    if source_root:
        rel = os.path.relpath(os.path.abspath(file), os.path.abspath(source_root))
        if not rel.startswith(os.pardir):
            path = rel
    posix = posixpath.normpath(path.replace(os.sep, "/"))
    return quote(posix, safe="/")


def _text(text: str) -> str:
    return sanitize(text, multiline=True)


def _rule(code: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    cat = CATALOGUE.get(code)
    worst = max(f.severity for f in findings)
    # the least sure finding of the rule sets its precision: a conservative claim
    confidence = max((f.confidence for f in findings), key=list(Confidence).index)
    tags = {"security"}
    cwe = first.cwe if first.cwe is not None else (cat.cwe if cat else None)
    if cwe is not None:
        tags.add(f"external/cwe/cwe-{cwe}")
    owasp = first.owasp or (cat.owasp if cat else None)
    if owasp:
        tags.add(f"owasp-{owasp.lower()}")
    remediation = first.remediation or (cat.breach if cat else first.title)
    return {
        "id": code,
        "name": first.kind,
        "shortDescription": {"text": _text(first.title)},
        "fullDescription": {"text": _text(cat.breach if cat else first.title)},
        "help": {"text": _text(remediation), "markdown": _text(remediation)},
        "defaultConfiguration": {"level": _LEVEL[worst]},
        "properties": {
            "tags": sorted(tags),
            "security-severity": SECURITY_SEVERITY[worst],
            "precision": _PRECISION[confidence],
        },
    }


def _result(f: Finding, index: int, spec: str, source_root: str | None) -> dict[str, Any]:
    loc = f.location
    region = {"startLine": loc.line if loc and loc.line else 1}
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {
                "uri": spec_uri(loc.file if loc else spec, source_root),
                "uriBaseId": "%SRCROOT%",
            },
            "region": region,
        }
    }
    if f.operation is not None:
        location["logicalLocations"] = [
            {"fullyQualifiedName": f"{f.operation.method} {f.operation.path}", "kind": "function"}
        ]
    properties: dict[str, Any] = {
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "kind": f.kind,
        "key": _text(f.key),
        "group": group_id(f),
    }
    if f.evidence is not None:
        properties["evidence"] = {
            "request": _text(f.evidence.request),
            "status": f.evidence.status,
            "snippet": _text(f.evidence.snippet),
            "curl": _text(f.evidence.curl),
        }
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": _LEVEL[f.severity],
        "message": {"text": _text(f.message or f.title)},
        "locations": [location],
        "partialFingerprints": {_FINGERPRINT_KEY: fingerprint(f)},
        "properties": properties,
    }
    if f.suppression is not None:
        result["suppressions"] = [
            {
                "kind": f.suppression.kind,
                "justification": _text(f.suppression.justification),
                "properties": {"source": f.suppression.source},
            }
        ]
    return result


def _notifications(report: Report) -> list[dict[str, Any]]:
    out = []
    if report.anonymous:
        out.append(
            {
                "level": "warning",
                "message": {"text": _text(f"anonymous check: {report.anonymous}")},
                "descriptor": {"id": "anonymous"},
            }
        )
    for c in report.coverage:
        if c.status == "probed":
            continue
        op = f"{c.operation.method} {c.operation.path}"
        out.append(
            {
                "level": "warning" if c.status == "not reached" else "note",
                "message": {"text": _text(f"{op} {c.status}: {c.reason or 'no reason given'}")},
                "descriptor": {"id": "coverage"},
            }
        )
    out += [
        {"level": "note", "message": {"text": _text(note)}, "descriptor": {"id": "note"}}
        for note in report.notes
    ]
    return out


def to_dict(report: Report, source_root: str | None = None) -> dict[str, Any]:
    """The SARIF log as plain data; ``source_root`` is the repository root of the spec."""
    findings = sorted_findings(report.findings)
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    codes = sorted(by_rule)
    index = {code: i for i, code in enumerate(codes)}
    score = report_score(report)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "specdiff",
                "version": report.tool_version,
                "informationUri": "https://pypi.org/project/specdiff/",
                "rules": [_rule(code, by_rule[code]) for code in codes],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
        "results": [_result(f, index[f.rule], report.spec, source_root) for f in findings],
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": _notifications(report),
                "properties": {"target": report.target or "", "startedAt": report.started_at},
            }
        ],
        "properties": (
            {"score": score.value, "grade": score.grade}
            if score is not None
            else {"incomplete": _text(report.incomplete)}
        )
        | ({"anonymous": _text(report.anonymous)} if report.anonymous else {}),
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, source_root: str | None = None) -> str:
    """The SARIF log as key-sorted, indented JSON ending in a newline."""
    return json.dumps(to_dict(report, source_root), indent=2, sort_keys=True) + "\n"
