"""JUnit XML: one case per operation x rule family, failures with details, safe XML."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from specdiff.model import Report
from specdiff.reporters import junit

from .conftest import suppressed

FAMILIES = ["auth", "conformance", "exposure", "leak", "transport"]
OPS = [
    "GET /users/{id}",
    "DELETE /users/{id}",
    "GET /orders",
    "POST /orders",
    "GET /admin/stats",
    "GET /health",
    "host-wide",
]


def _cases(report: Report) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(junit.render(report))
    return {
        (suite.get("name", ""), case.get("name", "")): case
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }


def test_one_case_per_operation_and_family(sample_report: Report) -> None:
    root = ET.fromstring(junit.render(sample_report))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"specdiff.{f}" for f in FAMILIES]
    for suite in suites:
        assert [c.get("name") for c in suite.findall("testcase")] == OPS
        assert suite.get("tests") == "7"
    assert root.get("tests") == str(7 * len(FAMILIES))
    assert root.get("failures") == "9"
    assert root.get("skipped") == str(2 * len(FAMILIES))


def test_failures_name_the_rules_and_carry_the_evidence(sample_report: Report) -> None:
    cases = _cases(sample_report)
    failing = {key for key, case in cases.items() if case.find("failure") is not None}
    assert failing == {
        ("specdiff.auth", "DELETE /users/{id}"),
        ("specdiff.auth", "GET /orders"),
        ("specdiff.exposure", "GET /users/{id}"),
        ("specdiff.leak", "GET /orders"),
        ("specdiff.leak", "host-wide"),
        ("specdiff.transport", "GET /users/{id}"),
        ("specdiff.transport", "GET /orders"),
        ("specdiff.transport", "GET /health"),
        ("specdiff.conformance", "GET /orders"),
    }
    failure = cases[("specdiff.exposure", "GET /users/{id}")].find("failure")
    assert failure is not None
    assert failure.get("type") == "SD303"
    assert (
        failure.get("message") == "SD303 Undocumented secret in response ($.password_hash\\x1b[0m)"
    )
    text = failure.text or ""
    assert "[CRITICAL] SD303 exposure.undocumented-secret" in text
    assert "</script><script>alert(1)</script> ]]>" in text  # text, escaped by the XML writer
    assert "\\x1b[31mRED" in text
    assert "spec: openapi.yaml:42" in text
    skipped = cases[("specdiff.auth", "POST /orders")].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "skipped: unsafe method; pass --unsafe\\x1b[8m"


def test_suppressed_findings_do_not_fail_the_case(sample_report: Report) -> None:
    cases = _cases(suppressed(sample_report, "SD303"))
    case = cases[("specdiff.exposure", "GET /users/{id}")]
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and "suppressed (baseline): accepted </script>" in (out.text or "")


def test_families_come_from_the_probes_that_ran(sample_report: Report) -> None:
    report = dataclasses.replace(sample_report, rules=("SD101", "SD201"))
    root = ET.fromstring(junit.render(report))
    # the families that ran, plus those of the findings (a report read back has them all)
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "specdiff.auth",
        "specdiff.conformance",
        "specdiff.exposure",
        "specdiff.leak",
        "specdiff.transport",
    ]


def test_a_failure_message_names_each_root_cause_once(sample_report: Report) -> None:
    variants = [
        dataclasses.replace(sample_report.findings[4], key=k, message=f"random {k} accepted")
        for k in ("random-token", "malformed-token", "wrong-scheme-word")
    ]
    root = ET.fromstring(junit.render(dataclasses.replace(sample_report, findings=tuple(variants))))
    (failure,) = root.iter("failure")
    assert failure.get("message") == (
        "SD202 Invalid credential accepted (malformed-token, random-token, wrong-scheme-word)"
    )
    assert (failure.text or "").count("[HIGH] SD202") == 1
    assert "and 2 more instance(s) of this cause" in (failure.text or "")


def test_xml_illegal_characters_are_replaced(sample_report: Report) -> None:
    finding = dataclasses.replace(sample_report.findings[1], message="bad \ud800 \uffff end")
    report = dataclasses.replace(sample_report, findings=(finding,))
    root = ET.fromstring(junit.render(report))
    failure = next(c for c in root.iter("failure"))
    assert "bad \ufffd \ufffd end" in (failure.text or "")
