"""JUnit XML for CI test tabs: one test case per operation x rule family.

A case fails when the operation has a counted finding of that family; its failure message
names each root cause once (``SD203 Unsigned (alg: none) JWT accepted (alg-none, alg-None)``),
not each variant; suppressed and baselined
findings are listed in ``system-out`` and do not fail it; operations that were skipped or not
reached are skipped cases. Host-wide findings (HSTS, version banners) go to a ``host-wide``
case. Built with :mod:`xml.etree.ElementTree`, never with string formatting, and every server
string is made XML-safe first (control characters shown as escapes).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from specdiff.catalogue import CATALOGUE, family_of
from specdiff.identity import Group, group_findings
from specdiff.model import Finding, Report
from specdiff.reporters import sorted_findings
from specdiff.reporters._text import sanitize, shorten
from specdiff.score import report_score

__all__ = ["EVIDENCE_LIMIT", "family_of", "render"]

EVIDENCE_LIMIT = 2000
"""Request, evidence and curl text longer than this (after squeezing repeats) is cut."""
_HOST_WIDE = "host-wide"
# not allowed in XML 1.0 even after sanitize: lone surrogates and the two non-characters
_XML_ILLEGAL = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", sanitize(text, multiline=True))


def _cap(text: str) -> str:
    return shorten(text, EVIDENCE_LIMIT, whole="--format json, --har FILE")


def _detail(f: Finding) -> str:
    lines = [f"[{f.severity.value.upper()}] {f.rule} {f.kind}: {f.title}", f.message]
    if f.key:
        lines.append(f"key: {f.key}")
    if f.location is not None and f.location.line:
        lines.append(f"spec: {f.location.file}:{f.location.line}")
    if f.evidence is not None:
        if f.evidence.request:
            lines.append(f"request: {_cap(f.evidence.request)}")
        if f.evidence.status is not None:
            lines.append(f"status: {f.evidence.status}")
        if f.evidence.snippet:
            lines.append(f"evidence: {_cap(f.evidence.snippet)}")
        if f.evidence.curl:
            lines.append(f"reproduce: {_cap(f.evidence.curl)}")
    if f.remediation:
        lines.append(f"fix: {f.remediation}")
    if f.suppression is not None:
        lines.append(f"suppressed ({f.suppression.source}): {f.suppression.justification}")
    return _xml("\n".join(lines))


def _headline(g: Group) -> str:
    """``SD203 Unsigned (alg: none) JWT accepted (alg-none, alg-None, alg-NONE)``."""
    keys = list(dict.fromkeys(f.key for f in g.findings if f.key))
    return f"{g.rule} {g.first.title}" + (f" ({', '.join(keys)})" if keys else "")


def _group_detail(g: Group) -> str:
    """One root cause within the test case: its representative instance in full."""
    more = len(g.findings) - 1
    tail = (
        f"\n(and {more} more instance(s) of this cause: --format json lists each)" if more else ""
    )
    return _detail(g.first) + _xml(tail)


def render(report: Report) -> str:
    """The report as a JUnit XML document (one ``testsuite`` per family) ending in a newline."""
    findings = sorted_findings(report.findings)
    families = {family_of(code) for code in report.rules} or {family_of(code) for code in CATALOGUE}
    families |= {family_of(f.rule, f.kind) for f in findings}
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        op = f"{f.operation.method} {f.operation.path}" if f.operation else _HOST_WIDE
        by_case[(family_of(f.rule, f.kind), op)].append(f)
    cases = [
        (f"{c.operation.method} {c.operation.path}", c.status, c.reason) for c in report.coverage
    ]
    if any(op == _HOST_WIDE for _, op in by_case):
        cases.append((_HOST_WIDE, "probed", ""))
    score = report_score(report)
    root = ET.Element(
        "testsuites",
        name="specdiff",
        time=f"{report.summary.duration:.3f}",
    )
    properties = ET.SubElement(root, "properties")
    if score is not None:
        ET.SubElement(properties, "property", name="score", value=str(score.value))
    else:  # an incomplete run has no score
        ET.SubElement(properties, "property", name="incomplete", value=_xml(report.incomplete))
    if report.anonymous:
        ET.SubElement(properties, "property", name="anonymous", value=_xml(report.anonymous))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for family in sorted(families):
        suite = ET.SubElement(root, "testsuite", name=f"specdiff.{family}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for op, status, reason in cases:
            found = by_case.get((family, op), [])
            case = ET.SubElement(suite, "testcase", name=_xml(op), classname=f"specdiff.{family}")
            counts["tests"] += 1
            counted = group_findings(f for f in found if f.suppression is None)
            if counted:
                counts["failures"] += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=_xml("; ".join(_headline(g) for g in counted)),
                    type=counted[0].rule,
                )
                failure.text = "\n\n".join(_group_detail(g) for g in counted)
            elif status != "probed":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_xml(f"{status}: {reason}"))
            accepted = [f for f in found if f.suppression is not None]
            if accepted:
                ET.SubElement(case, "system-out").text = "\n\n".join(_detail(f) for f in accepted)
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
