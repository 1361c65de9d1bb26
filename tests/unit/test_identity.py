"""Stable identities and root-cause groups (specdiff.identity): pure functions over findings."""

from __future__ import annotations

import dataclasses

import pytest

from specdiff.identity import (
    fingerprint,
    group_cause,
    group_findings,
    group_id,
    stable_identity,
    stable_key,
    top_groups,
)
from specdiff.model import Confidence, Finding, OperationRef, Severity
from specdiff.suppress import apply_suppressions, identities_from_report


def _finding(rule: str, path: str, key: str = "", severity: str = "high") -> Finding:
    return Finding(
        rule=rule,
        kind="x.y",
        title=rule,
        severity=Severity(severity),
        confidence=Confidence.FIRM,
        message=f"{rule} on {path}",
        operation=OperationRef("GET", path) if path else None,
        key=key,
    )


@pytest.mark.parametrize(
    ("key", "stable"),
    [
        ("http://127.0.0.1:42611", ""),
        ("https://localhost:8443", ""),
        ("http://[::1]:80/v1/users", "/v1/users"),
        ("https://staging.example.com", ""),
        ("$.items[*].card_number", "$.items[*].card_number"),
        ("alg-None", "alg-None"),
        ("query.limit", "query.limit"),
        ("echo:sdcanary5f7b159dcabfb6854aef5e78", "echo:<canary>"),
        ("seen 2026-12-03T18:26:34+00:00", "seen <time>"),
        ("/orders/3f6c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a21", "/orders/<id>"),
        ("session-0123456789abcdef0123", "session-<id>"),
    ],
)
def test_stable_key_drops_addresses_and_per_run_values(key: str, stable: str) -> None:
    assert stable_key(key) == stable


def test_identity_and_fingerprint_survive_a_change_of_address() -> None:
    here = _finding("SD101", "/me", "http://127.0.0.1:42611")
    there = _finding("SD101", "/me", "http://localhost:8080")
    assert here.identity != there.identity  # one run still tells its instances apart ...
    assert stable_identity(here) == stable_identity(there) == ("SD101", "GET", "/me", "")
    assert fingerprint(here) == fingerprint(there)  # ... across runs they are one
    assert fingerprint(here) != fingerprint(_finding("SD101", "/users", "http://127.0.0.1:1"))


def test_fingerprint_of_an_address_free_key_is_unchanged() -> None:
    import hashlib

    f = _finding("SD302", "/users/{id}", "$.ssn")
    old = hashlib.sha256("\x1f".join(f.identity).encode()).hexdigest()  # the v1 formula
    assert fingerprint(f) == old


def test_groups_by_rule_and_cause_most_severe_first() -> None:
    findings = [
        *[_finding("SD101", p, "http://127.0.0.1:1") for p in ("/a", "/b", "/c")],
        _finding("SD101", "/secure", "http://127.0.0.1:1", "critical"),
        *[_finding("SD203", "/me", k, "critical") for k in ("alg-none", "alg-None", "alg-NONE")],
        _finding("SD203", "/orders", "alg-none", "critical"),
        _finding("SD302", "/users/{id}", "$.ssn"),
        _finding("SD302", "/people/{id}", "$.ssn"),
        _finding("SD302", "/orders", "$.items[*].card_number"),
        _finding("SD406", "", "https://127.0.0.1:2", "low"),
    ]
    groups = group_findings(findings)
    summary = [(g.rule, g.severity.value, len(g.findings), len(g.operations)) for g in groups]
    assert summary == [
        ("SD101", "critical", 4, 4),  # one listener, every operation; critical where secured
        ("SD203", "critical", 4, 2),  # none/None/NONE on two operations: one missing check
        ("SD302", "high", 2, 2),  # $.ssn wherever it leaks ...
        ("SD302", "high", 1, 1),  # ... is another cause than the card number
        ("SD406", "low", 1, 1),
    ]
    assert groups[0].first.operation == OperationRef("GET", "/secure")
    assert groups[4].operations == (None,)
    assert group_cause(findings[4]) == "" and group_cause(findings[8]) == "$.ssn"


def test_group_id_is_operation_free_and_address_free() -> None:
    a = _finding("SD101", "/a", "http://127.0.0.1:1")
    b = _finding("SD101", "/zzz", "https://staging.example.com:443")
    assert group_id(a) == group_id(b)
    assert group_id(a).startswith("SD101-") and len(group_id(a)) == len("SD101-") + 8
    assert group_id(a) != group_id(_finding("SD102", "/a", "http://127.0.0.1:1"))


def test_top_groups_prefer_variety() -> None:
    findings = [_finding("SD303", f"/{i}", f"$.k{i}", "critical") for i in range(5)]
    findings += [_finding("SD402", "/x", "python", "medium"), _finding("SD505", "", "", "low")]
    top = top_groups(group_findings(findings), 4)
    assert [g.rule for g in top] == ["SD303", "SD402", "SD505", "SD303"]


def test_a_baseline_written_with_an_old_address_still_matches() -> None:
    old_baseline = {
        "baseline_version": "1",
        "findings": [
            {"rule": "SD101", "method": "GET", "path": "/me", "key": "http://127.0.0.1:42611"},
            {"rule": "SD302", "method": "GET", "path": "/users/{id}", "key": "$.ssn"},
        ],
    }
    accepted = identities_from_report(old_baseline, "baseline.json")
    now = [
        _finding("SD101", "/me", "http://localhost:9000"),
        _finding("SD302", "/users/{id}", "$.ssn"),
        _finding("SD302", "/users/{id}", "$.email"),
    ]
    marked = apply_suppressions(now, baseline=accepted)
    assert [f.suppression is not None for f in marked] == [True, True, False]


def test_a_report_used_as_a_baseline_matches_on_stable_keys() -> None:
    report = {
        "findings": [
            {
                "rule": "SD406",
                "operation": None,
                "key": "https://127.0.0.1:8443",
            }
        ]
    }
    accepted = identities_from_report(report, "report.json")
    moved = dataclasses.replace(_finding("SD406", "", "https://localhost:9443"))
    assert apply_suppressions([moved], baseline=accepted)[0].suppression is not None
