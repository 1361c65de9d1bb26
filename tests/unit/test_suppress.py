"""Suppressions, baselines and the risk score: pure matching, nothing dropped."""

from __future__ import annotations

import dataclasses

import pytest

from specdiff.errors import ConfigError
from specdiff.model import Confidence, Finding, Location, Operation, OperationRef, Severity
from specdiff.score import Score, risk_score
from specdiff.suppress import (
    Suppress,
    apply_suppressions,
    baseline_document,
    identities_from_report,
    parse_suppress,
)

ME = Operation("GET", "/me", "me", Location("openapi.yaml", 3), ignore=(("SD301", "ui pref"),))


def _finding(rule: str, path: str = "/me", key: str = "", sev: Severity = Severity.LOW) -> Finding:
    return Finding(
        rule, "k.k", "t", sev, Confidence.CERTAIN, "m", operation=OperationRef("GET", path), key=key
    )


def test_sources_in_order_of_precedence_and_nothing_dropped() -> None:
    findings = [
        _finding("SD301", key="$.theme"),
        _finding("SD303", key="$.api_key"),
        _finding("SD302", path="/users/{id}", key="$.ssn"),
        _finding("SD201", path="/orders"),
    ]
    config = (Suppress("SD301", "config reason"), Suppress("SD303", "rotated", path="/me"))
    baseline = frozenset(
        {("SD302", "GET", "/users/{id}", "$.ssn"), ("SD303", "GET", "/me", "$.api_key")}
    )
    out = apply_suppressions(findings, [ME], config, baseline)
    assert [
        (f.rule, f.suppression and (f.suppression.kind, f.suppression.source)) for f in out
    ] == [
        ("SD301", ("inSource", "spec")),
        ("SD303", ("external", "config")),
        ("SD302", ("external", "baseline")),
        ("SD201", None),
    ]
    assert out[0].suppression is not None and out[0].suppression.justification == "ui pref"


def test_baseline_matches_the_key_exactly() -> None:
    out = apply_suppressions(
        [_finding("SD302", key="$.email")], baseline=frozenset({("SD302", "GET", "/me", "$.ssn")})
    )
    assert out[0].suppression is None


def test_identities_from_a_report_and_from_a_baseline_agree() -> None:
    report = {
        "findings": [
            {"rule": "SD303", "key": "$.k", "operation": {"method": "GET", "path": "/me"}},
            {"rule": "SD406", "key": "server", "operation": None},
        ]
    }
    ids = identities_from_report(report, "r")
    assert ids == {("SD303", "GET", "/me", "$.k"), ("SD406", "", "", "server")}
    assert identities_from_report(baseline_document(ids), "b") == ids
    assert baseline_document(ids)["findings"][0] == {
        "rule": "SD303",
        "method": "GET",
        "path": "/me",
        "key": "$.k",
    }


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"rule": "SD301"}], "cfg: suppress[0] (SD301) needs a reason"),
        ([{"reason": "x"}], "cfg: suppress[0] needs a rule code"),
        (
            [{"rule": "SD301", "reason": "x", "colour": "red"}],
            "cfg: suppress[0]: unknown key 'colour'",
        ),
        ("SD301", "cfg: 'suppress' must be a list of {rule, reason} tables"),
    ],
)
def test_parse_suppress_errors_name_the_entry(entries: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_suppress(entries, "cfg")
    assert str(err.value) == message


def test_parse_suppress() -> None:
    assert parse_suppress([{"rule": "sd301", "reason": " ok ", "method": "get"}], "cfg") == (
        Suppress("SD301", "ok", method="GET"),
    )


@pytest.mark.parametrize(
    ("severities", "score", "grade"),
    [
        ([], 100, "A"),
        ([("SD406", Severity.LOW)], 97, "A"),
        ([("SD302", Severity.HIGH)], 80, "B"),
        ([("SD303", Severity.CRITICAL)], 60, "C"),
        # the same rule five times: 20 + 4 * 5 = 40, capped at 2 * 20
        ([("SD101", Severity.HIGH)] * 5, 60, "C"),
        ([("SD101", Severity.HIGH)] * 2, 75, "B"),
        ([("SD303", Severity.CRITICAL), ("SD201", Severity.CRITICAL)], 20, "F"),
        ([("SD402", Severity.MEDIUM), ("SD406", Severity.LOW)], 89, "B"),
    ],
)
def test_risk_score(severities: list[tuple[str, Severity]], score: int, grade: str) -> None:
    findings = [_finding(rule, key=str(i), sev=sev) for i, (rule, sev) in enumerate(severities)]
    assert risk_score(findings) == Score(score, grade)


def test_suppressed_findings_do_not_lower_the_score() -> None:
    critical = _finding("SD303", sev=Severity.CRITICAL)
    accepted = apply_suppressions([critical], baseline=frozenset({critical.identity}))
    assert risk_score(accepted).value == 100
    assert dataclasses.replace(accepted[0], suppression=None) == critical
