"""The JSON reporter: documented shape, ordering, counts, and hostile text that round-trips."""

from __future__ import annotations

import dataclasses
import json

import pytest

from specdiff.identity import fingerprint
from specdiff.model import Evidence, Report, Severity, Summary
from specdiff.reporters import Format, render
from specdiff.reporters import json as json_reporter

from .conftest import HOSTILE_SNIPPET, suppressed

TOP_KEYS = {
    "report_version",
    "tool",
    "spec",
    "target",
    "started_at",
    "summary",
    "findings",
    "coverage",
    "identities",
    "created",
    "notes",
}
SUMMARY_KEYS = {
    "operations",
    "probed",
    "requests",
    "duration_seconds",
    "findings",
    "by_severity",
    "suppressed",
    "score",
    "grade",
    "complete",
    "incomplete",
    "anonymous",
}
FINDING_KEYS = {
    "rule",
    "kind",
    "title",
    "severity",
    "confidence",
    "cwe",
    "owasp",
    "message",
    "key",
    "operation",
    "location",
    "evidence",
    "remediation",
    "suppressed",
    "group",
    "fingerprint",
}
OPERATION_KEYS = {"method", "path", "operation_id"}
LOCATION_KEYS = {"file", "line", "pointer"}
EVIDENCE_KEYS = {"request", "status", "snippet", "curl"}
COVERAGE_KEYS = {"operation", "status", "reason", "baseline_status", "requests", "planned"}


def _empty_report() -> Report:
    return Report(
        tool_version="0.1.0",
        spec="openapi.yaml",
        target=None,
        started_at="2025-01-02T03:04:05Z",
        findings=(),
        coverage=(),
        summary=Summary(operations=0, probed=0, requests=0, duration=0),
    )


def test_round_trips_and_ends_with_newline(sample_report: Report) -> None:
    out = json_reporter.render(sample_report)
    assert out.endswith("}\n")
    assert json.loads(out) == json_reporter.to_dict(sample_report)


def test_is_deterministic_indented_and_key_sorted(sample_report: Report) -> None:
    out = json_reporter.render(sample_report)
    assert out == json_reporter.render(sample_report)
    assert out == json.dumps(json.loads(out), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_has_exactly_the_documented_keys(sample_report: Report) -> None:
    doc = json.loads(json_reporter.render(sample_report))
    assert set(doc) == TOP_KEYS
    assert doc["report_version"] == json_reporter.REPORT_VERSION == "1"
    assert doc["tool"] == {"name": "specdiff", "version": "0.1.0"}
    assert doc["spec"] == "openapi.yaml"
    assert doc["target"] == "https://api.example.test"
    assert doc["started_at"] == "2025-01-02T03:04:05Z"
    assert set(doc["summary"]) == SUMMARY_KEYS
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        for name, keys in (
            ("operation", OPERATION_KEYS),
            ("location", LOCATION_KEYS),
            ("evidence", EVIDENCE_KEYS),
        ):
            assert finding[name] is None or set(finding[name]) == keys
    for entry in doc["coverage"]:
        assert set(entry) == COVERAGE_KEYS
        assert set(entry["operation"]) == OPERATION_KEYS


def test_findings_sorted_by_severity_then_rule_then_operation(sample_report: Report) -> None:
    doc = json.loads(json_reporter.render(sample_report))
    order = [(f["severity"], f["rule"]) for f in doc["findings"]]
    assert order == [
        ("critical", "SD101"),
        ("critical", "SD101"),
        ("critical", "SD201"),
        ("critical", "SD303"),
        ("high", "SD101"),
        ("high", "SD202"),
        ("medium", "SD402"),
        ("low", "SD406"),
        ("low", "SD503"),
    ]


def test_order_does_not_depend_on_input_order(sample_report: Report) -> None:
    shuffled = dataclasses.replace(sample_report, findings=sample_report.findings[::-1])
    assert json_reporter.render(shuffled) == json_reporter.render(sample_report)


def test_ties_break_on_method_path_then_key(sample_report: Report) -> None:
    base = sample_report.findings[1]  # SD303 on GET /users/{id}
    assert base.operation is not None
    other_op = dataclasses.replace(base.operation, path="/accounts/{id}")
    variants = (
        dataclasses.replace(base, key="$.z"),
        dataclasses.replace(base, key="$.a"),
        dataclasses.replace(base, operation=other_op, key="$.z"),
        dataclasses.replace(base, operation=None, location=None, key="$.m"),
    )
    report = dataclasses.replace(sample_report, findings=variants)
    doc = json_reporter.to_dict(report)
    got = [((f["operation"] or {}).get("path"), f["key"]) for f in doc["findings"]]
    assert got == [
        (None, "$.m"),
        ("/accounts/{id}", "$.z"),
        ("/users/{id}", "$.a"),
        ("/users/{id}", "$.z"),
    ]


def test_summary_counts(sample_report: Report) -> None:
    summary = json_reporter.to_dict(sample_report)["summary"]
    assert summary == {
        "operations": 6,
        "probed": 4,
        "requests": 29,
        "duration_seconds": 1.235,
        "findings": 9,
        "by_severity": {"critical": 4, "high": 2, "medium": 1, "low": 2, "info": 0},
        "suppressed": 0,
        "score": 0,
        "grade": "F",
        "complete": True,
        "incomplete": None,
        "anonymous": None,
    }


def test_by_severity_has_all_five_keys_when_empty() -> None:
    doc = json.loads(json_reporter.render(_empty_report()))
    assert doc["summary"]["by_severity"] == {s.value: 0 for s in Severity}
    assert list(doc["summary"]["by_severity"]) == ["critical", "high", "info", "low", "medium"]
    assert doc["summary"]["findings"] == 0
    assert doc["summary"]["duration_seconds"] == 0.0
    assert isinstance(doc["summary"]["duration_seconds"], float)
    assert doc["findings"] == []
    assert doc["coverage"] == []
    assert doc["notes"] == []
    assert doc["target"] is None


def test_finding_fields(sample_report: Report) -> None:
    findings = {f["rule"]: f for f in json_reporter.to_dict(sample_report)["findings"]}
    assert findings["SD201"] == {
        "rule": "SD201",
        "kind": "auth.missing-credentials-accepted",
        "title": "Secured operation answers without credentials",
        "severity": "critical",
        "confidence": "certain",
        "cwe": 306,
        "owasp": "API2:2023",
        "message": "DELETE answered 204 without any credential.",
        "key": "",
        "operation": {"method": "DELETE", "path": "/users/{id}", "operation_id": "deleteUser"},
        "location": {"file": "openapi.yaml", "line": 57, "pointer": "/paths/~1users~1{id}/delete"},
        "evidence": {
            "request": "DELETE https://api.example.test/users/1",
            "status": 204,
            "snippet": "",
            "curl": "curl -sS -X DELETE 'https://api.example.test/users/1'",
        },
        "remediation": "Require authentication on DELETE /users/{id}.",
        "suppressed": None,
        "group": "SD201-b713b12d",
        "fingerprint": fingerprint(sample_report.findings[2]),
    }
    host_wide = findings["SD406"]
    assert host_wide["operation"] is None
    assert host_wide["location"] is None
    assert findings["SD202"]["evidence"] is None


def test_coverage_in_report_order(sample_report: Report) -> None:
    coverage = json_reporter.to_dict(sample_report)["coverage"]
    assert [(c["operation"]["path"], c["status"]) for c in coverage] == [
        ("/users/{id}", "probed"),
        ("/users/{id}", "probed"),
        ("/orders", "probed"),
        ("/orders", "skipped"),
        ("/admin/stats", "not reached"),
        ("/health", "probed"),
    ]
    assert coverage[4] == {
        "operation": {"method": "GET", "path": "/admin/stats", "operation_id": "adminStats"},
        "status": "not reached",
        "reason": "baseline answered 404",
        "baseline_status": 404,
        "requests": 1,
        "planned": 0,
    }
    assert coverage[3]["operation"]["operation_id"] is None


def test_hostile_text_round_trips_exactly_and_no_raw_controls(sample_report: Report) -> None:
    out = json_reporter.render(sample_report)
    for raw in ("\x1b", "\x00", "\r", "\x07"):
        assert raw not in out
    doc = json.loads(out)
    secret = next(f for f in doc["findings"] if f["rule"] == "SD303")
    assert secret["evidence"]["snippet"] == HOSTILE_SNIPPET
    assert secret["key"] == "$.password_hash\x1b[0m"
    assert "[bold red]x[/]" in secret["message"]
    assert "ünïcødé ✓ 日本" in out  # ensure_ascii=False: readable unicode


def test_c1_controls_and_bidi_overrides_are_escaped_but_round_trip(sample_report: Report) -> None:
    nasty = "csi\x9b31m del\x7f rlo\u202eevil lsep\u2028 ok"
    finding = dataclasses.replace(
        sample_report.findings[0], evidence=Evidence(snippet=nasty), message=nasty
    )
    report = dataclasses.replace(sample_report, findings=(finding,))
    out = json_reporter.render(report)
    for raw in ("\x9b", "\x7f", "\u202e", "\u2028"):
        assert raw not in out
    assert "\\u009b" in out
    assert "\\u202e" in out
    doc = json.loads(out)
    assert doc["findings"][0]["message"] == nasty
    assert doc["findings"][0]["evidence"]["snippet"] == nasty


def test_never_filters(sample_report: Report) -> None:
    info = dataclasses.replace(sample_report.findings[0], severity=Severity.INFO, rule="SD999")
    report = dataclasses.replace(sample_report, findings=(*sample_report.findings, info))
    doc = json_reporter.to_dict(report)
    assert len(doc["findings"]) == 10
    assert doc["findings"][-1]["rule"] == "SD999"
    assert doc["summary"]["by_severity"]["info"] == 1


@pytest.mark.parametrize("fmt", [Format.JSON, "json"])
def test_dispatch(sample_report: Report, fmt: Format) -> None:
    assert render(sample_report, fmt) == json_reporter.render(sample_report)


def test_suppressed_findings_stay_marked_and_do_not_count_for_the_score(
    sample_report: Report,
) -> None:
    doc = json_reporter.to_dict(suppressed(sample_report, "SD201", "spec"))
    sd201 = next(f for f in doc["findings"] if f["rule"] == "SD201")
    assert sd201["suppressed"] == {
        "kind": "inSource",
        "source": "spec",
        "reason": "accepted </script> @team #1 by spec",
    }
    assert len(doc["findings"]) == 9
    assert doc["summary"]["suppressed"] == 1
    # SD101 min(40 + (40 + 20) / 4, 80) = 55, SD303 40, SD202 20, SD402 8, SD406 3, SD503 3:
    # 129 -> 0, grade F; SD201 not counted
    assert (doc["summary"]["score"], doc["summary"]["grade"]) == (0, "F")


def test_every_instance_names_its_group_and_stable_fingerprint(sample_report: Report) -> None:
    findings = json_reporter.to_dict(sample_report)["findings"]
    http = [f for f in findings if f["rule"] == "SD101"]
    assert len(http) == 3  # one entry per instance ...
    assert len({f["group"] for f in http}) == 1  # ... all of one root cause
    assert len({f["fingerprint"] for f in http}) == 3
    assert {f["group"] for f in findings if f["rule"] != "SD101"}.isdisjoint({http[0]["group"]})


def test_an_anonymous_check_says_so_and_reads_back(sample_report: Report) -> None:
    report = dataclasses.replace(sample_report, anonymous="no credentials given: the 3 secured")
    doc = json.loads(render(report, Format.JSON))
    assert doc["summary"]["anonymous"] == "no credentials given: the 3 secured"
    assert json_reporter.from_dict(doc).anonymous == report.anonymous
