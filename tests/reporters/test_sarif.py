"""SARIF 2.1.0: valid against the official schema, findings on the spec line, stable identity."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from specdiff.model import Confidence, Evidence, Report
from specdiff.reporters import Format, render, sarif

from .conftest import suppressed

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())


def _run(report: Report, source_root: str | None = None) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(sarif.render(report, source_root))["runs"][0]
    return run


# Built directly, not with jsonschema.validate(): the official file fails the metaschema check
# itself (region.properties holds an "anyOf" entry), which does not affect validating logs.
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def _validate(text: str) -> None:
    errors = sorted(VALIDATOR.iter_errors(json.loads(text)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_validates_against_the_official_schema(sample_report: Report) -> None:
    _validate(sarif.render(sample_report))
    _validate(sarif.render(suppressed(sample_report, "SD303", "spec")))
    _validate(sarif.render(dataclasses.replace(sample_report, findings=(), coverage=())))


def test_the_vendored_schema_rejects_a_broken_log(sample_report: Report) -> None:
    broken = json.loads(sarif.render(sample_report))
    broken["runs"][0]["results"][0]["level"] = "critical"  # not a SARIF level
    del broken["runs"][0]["invocations"][0]["executionSuccessful"]  # required
    messages = sorted(e.message for e in VALIDATOR.iter_errors(broken))
    assert messages == [
        "'critical' is not one of ['none', 'note', 'warning', 'error']",
        "'executionSuccessful' is a required property",
    ]


def test_rules_array_with_index_cwe_severity_and_precision(sample_report: Report) -> None:
    run = _run(sample_report)
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "SD101",
        "SD201",
        "SD202",
        "SD303",
        "SD402",
        "SD406",
        "SD503",
    ]
    sd303 = rules[3]
    assert sd303["name"] == "exposure.undocumented-secret"
    assert sd303["shortDescription"] == {"text": "Undocumented secret in response"}
    assert sd303["help"]["text"] == "Drop the field from the response model."
    assert sd303["defaultConfiguration"] == {"level": "error"}
    assert sd303["properties"] == {
        "tags": ["external/cwe/cwe-522", "owasp-api3:2023", "security"],
        "security-severity": "10.0",
        "precision": "high",  # confidence firm
    }
    by_id = {r["id"]: r["properties"] for r in rules}
    assert by_id["SD202"]["security-severity"] == "8.9"
    assert by_id["SD202"]["precision"] == "medium"  # tentative
    assert by_id["SD402"]["security-severity"] == "6.9"
    assert by_id["SD406"]["security-severity"] == "3.9"
    assert by_id["SD201"]["precision"] == "very-high"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_result_location_is_the_spec_line_relative_to_the_repository(
    sample_report: Report, tmp_path: Path
) -> None:
    spec = tmp_path / "api docs" / "openapi.yaml"
    finding = dataclasses.replace(
        sample_report.findings[1],
        location=dataclasses.replace(sample_report.findings[1].location, file=str(spec)),  # type: ignore[arg-type]
    )
    run = _run(dataclasses.replace(sample_report, findings=(finding,)), str(tmp_path))
    (result,) = run["results"]
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "api%20docs/openapi.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 42},
            },
            "logicalLocations": [{"fullyQualifiedName": "GET /users/{id}", "kind": "function"}],
        }
    ]
    assert result["level"] == "error"
    assert (
        result["message"]["text"] == "Property [bold red]x[/] looks like a password hash: \\x1b[2J"
    )


@pytest.mark.parametrize(
    ("file", "root", "uri"),
    [
        ("/repo/specs/openapi.yaml", "/repo", "specs/openapi.yaml"),
        ("/repo/openapi.yaml", "/repo/", "openapi.yaml"),
        ("/elsewhere/openapi.yaml", "/repo", "/elsewhere/openapi.yaml"),
        ("specs/a b#c.yaml", None, "specs/a%20b%23c.yaml"),
    ],
)
def test_spec_uri(file: str, root: str | None, uri: str) -> None:
    assert sarif.spec_uri(file, root) == uri


def test_host_wide_findings_point_at_the_spec_file(sample_report: Report) -> None:
    result = next(r for r in _run(sample_report)["results"] if r["ruleId"] == "SD406")
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "openapi.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1},
            }
        }
    ]
    assert result["level"] == "note"


def test_fingerprints_use_stable_fields_only(sample_report: Report) -> None:
    base = sample_report.findings[1]
    noisy = dataclasses.replace(
        base,
        message="another message",
        evidence=Evidence(request="GET other", status=201, snippet="other body", curl="x"),
        confidence=Confidence.TENTATIVE,
    )
    assert sarif.fingerprint(noisy) == sarif.fingerprint(base)
    assert sarif.fingerprint(dataclasses.replace(base, key="$.other")) != sarif.fingerprint(base)
    result = next(r for r in _run(sample_report)["results"] if r["ruleId"] == "SD303")
    assert result["partialFingerprints"] == {"specdiffFindingIdentity/v1": sarif.fingerprint(base)}


def test_suppressed_findings_stay_with_kind_and_justification(sample_report: Report) -> None:
    run = _run(suppressed(sample_report, "SD201", "spec"))
    result = next(r for r in run["results"] if r["ruleId"] == "SD201")
    assert result["suppressions"] == [
        {
            "kind": "inSource",
            "justification": "accepted </script> @team #1 by spec",
            "properties": {"source": "spec"},
        }
    ]
    assert len(run["results"]) == 9
    assert all("suppressions" not in r for r in run["results"] if r["ruleId"] != "SD201")


def test_each_instance_is_a_result_carrying_its_group(sample_report: Report) -> None:
    results = [r for r in _run(sample_report)["results"] if r["ruleId"] == "SD101"]
    assert len(results) == 3
    assert len({r["properties"]["group"] for r in results}) == 1
    assert results[0]["properties"]["group"].startswith("SD101-")


def test_unreached_and_skipped_operations_are_notifications(sample_report: Report) -> None:
    invocation = _run(sample_report)["invocations"][0]
    assert invocation["executionSuccessful"] is True
    texts = [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]]
    assert texts[:2] == [
        ("note", "POST /orders skipped: unsafe method; pass --unsafe\\x1b[8m"),
        ("warning", "GET /admin/stats not reached: baseline answered 404"),
    ]
    assert ("note", "probe SD404 saw [REDACTED] echoed") in texts


def test_deterministic_sorted_keys(sample_report: Report) -> None:
    out = render(sample_report, Format.SARIF)
    assert out == json.dumps(json.loads(out), indent=2, sort_keys=True) + "\n"
    assert out == sarif.render(sample_report)


def test_score_in_run_properties(sample_report: Report) -> None:
    assert _run(sample_report)["properties"] == {"score": 0, "grade": "F"}
