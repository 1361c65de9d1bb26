"""specdiff against the demo twins over real loopback HTTPS and HTTP: the foundation rules.

Each rule family asserts the exact set of its own findings on the shared default scan of the
vulnerable twin (``vulnerable_scan``); the hardened twin must give no finding at all. The twins'
request logs prove specdiff's own safety: no credential over plain HTTP, nothing unsafe without
``--unsafe``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from specdiff import safety
from specdiff.config import Credentials
from specdiff.demo.data import ORDERS, USERS
from specdiff.demo.serve import RunningTwin
from specdiff.derive import derive
from specdiff.engine import exit_code, scan
from specdiff.errors import PreflightError
from specdiff.model import Severity
from specdiff.mutate import MALFORMED_JSON
from specdiff.reporters import Format, render
from specdiff.spec import load_spec
from tests.e2e.conftest import TwinScan, finding_keys, twin_config

REPO = Path(__file__).parents[2]
NO_OBJECT = (
    safety.INVALID_STRING_ID,
    safety.INVALID_NUMBER_ID,
    safety.ABSENT_STRING_ID,
    safety.ABSENT_INTEGER_ID,
    safety.ABSENT_UUID,
)
FAMILY = ("SD101", "SD103", "SD201", "SD301", "SD302", "SD303")


def _operations(twin: RunningTwin) -> list[str]:
    return [op.key for op in derive(load_spec(twin.spec_path)).operations]


def _safe_operations(twin: RunningTwin) -> list[str]:
    return [op.key for op in derive(load_spec(twin.spec_path)).operations if op.safe]


def test_vulnerable_twin_gives_exactly_the_expected_findings(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    # the vulnerable twin serves everything on plain HTTP: every operation is SD101, the
    # unsafe ones asked harmlessly (a body no parser accepts, an id no object has)
    expected = {("SD101", op, vulnerable_twin.http_url) for op in _operations(vulnerable_twin)}
    expected |= {
        ("SD201", "GET /users/{id}", ""),
        ("SD201", "GET /orders/{order_id}", ""),
        ("SD302", "GET /users/{id}", "$.ssn"),
        ("SD302", "GET /orders", "$.items[*].card_number"),
        ("SD303", "GET /users/{id}", "$.password_hash"),
        ("SD303", "GET /me", "$.api_key"),
        ("SD303", "GET /me", "$.password"),  # writeOnly in the document, returned anyway
        ("SD301", "GET /me", "$.theme"),
    }
    assert finding_keys(vulnerable_scan.report, FAMILY) == expected


def test_vulnerable_findings_carry_severity_location_and_masked_evidence(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    report = vulnerable_scan.report
    by_key = {(f.rule, f.operation.path if f.operation else "", f.key): f for f in report.findings}
    # secured operations over HTTP are critical, open ones high
    assert by_key[("SD101", "/me", vulnerable_twin.http_url)].severity is Severity.CRITICAL
    assert by_key[("SD101", "/health", vulnerable_twin.http_url)].severity is Severity.HIGH
    ssn = by_key[("SD302", "/users/{id}", "$.ssn")]
    assert ssn.location is not None and ssn.location.file.endswith("openapi.yaml")
    lines = vulnerable_twin.spec_path.read_text().splitlines()
    path_line = lines.index("  /users/{id}:")
    get_line = next(i for i in range(path_line, len(lines)) if lines[i] == "    get:") + 1
    assert ssn.location.line == get_line
    assert ssn.evidence is not None and ssn.evidence.status == 200
    assert "$.ssn = 53******15 (11 chars)" in ssn.evidence.snippet  # the leaked value is masked
    assert exit_code(report, Severity.HIGH) == 1


def test_coverage_lists_every_operation(vulnerable_scan: TwinScan) -> None:
    status = {
        f"{c.operation.method} {c.operation.path}": c.status
        for c in vulnerable_scan.report.coverage
    }
    skipped = {k for k, v in status.items() if v == "skipped"}
    assert skipped == {k for k in status if not k.startswith(("GET", "HEAD", "OPTIONS"))}
    assert all(v == "probed" for k, v in status.items() if k not in skipped)


def test_specdiff_sends_no_credential_in_clear_and_nothing_unsafe(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    log = vulnerable_scan.log
    assert vulnerable_scan.report.summary.requests == len(log)
    for entry in log:
        if entry.method not in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            # unsafe methods go only anonymously, with a body no parser accepts or to an id
            # that certainly names nothing (the safety policy's terms); DELETE never reaches a
            # real object
            anonymous = entry.header("Authorization") is None and "token" not in entry.query
            no_object = any(sentinel in entry.path for sentinel in NO_OBJECT)
            malformed = entry.method in {"POST", "PUT", "PATCH"} and entry.body == MALFORMED_JSON
            assert anonymous and (no_object or malformed), entry
            assert entry.method != "DELETE" or no_object, entry
        if entry.scheme == "http":
            assert entry.header("Authorization") is None, entry
            assert vulnerable_twin.token not in repr(entry), entry
            assert vulnerable_twin.api_key not in repr(entry), entry
    assert any(e.scheme == "http" for e in log) and any(e.header("Authorization") for e in log)


def test_safe_mode_leaves_every_seeded_order_where_it_was(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    """DELETE /orders/{order_id} forgot its auth decorator: the scan's anonymous DELETEs (an
    invalid id, an absent one, both ports) reached the handler, which found nothing to delete;
    every seeded order is still there, asked by its owner."""
    deletes = [e for e in vulnerable_scan.log if e.method == "DELETE"]
    assert {(e.scheme, e.path, e.status) for e in deletes if e.path.startswith("/orders/")} == {
        ("https", "/orders/specdiff-invalid-0000", 404),
        ("https", f"/orders/{safety.ABSENT_UUID}", 404),
        ("http", "/orders/specdiff-invalid-0000", 404),
    }
    with httpx.Client(
        base_url=vulnerable_twin.https_url, verify=vulnerable_twin.ssl_context()
    ) as c:
        left = {
            order["id"]
            for token in (vulnerable_twin.token, vulnerable_twin.token_b)
            for order in c.get("/orders", headers={"Authorization": f"Bearer {token}"}).json()[
                "items"
            ]
        }
    assert left == {o.id for o in ORDERS}


def test_no_credential_reaches_any_report_format(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    for fmt in Format:
        text = render(vulnerable_scan.report, fmt)
        assert vulnerable_twin.token not in text and vulnerable_twin.api_key not in text, fmt
    curls = [
        f.evidence.curl
        for f in vulnerable_scan.report.findings
        # SD202/SD203/SD215 send specdiff's own random, unsigned or self-signed tokens, and
        # SD404 its canaries: fake by design, shown as sent
        if f.evidence
        and "Authorization" in f.evidence.curl
        and f.rule not in ("SD202", "SD203", "SD215")
        and "sdcanary" not in f.evidence.curl
    ]
    assert curls and all("Bearer ${SPECDIFF_TOKEN}" in c or "Bearer [REDACTED]" in c for c in curls)


def test_leaked_values_are_not_repeated_in_any_report_format(vulnerable_scan: TwinScan) -> None:
    leaked = [v for u in USERS for v in (u.ssn, u.password_hash, u.api_key)]
    leaked += [o.card_number for o in ORDERS]
    for fmt in Format:
        text = render(vulnerable_scan.report, fmt)
        for value in leaked:
            assert value not in text, (fmt, value[:4])


def test_hardened_twin_gives_no_finding(
    hardened_twin: RunningTwin, hardened_scan: TwinScan
) -> None:
    assert hardened_scan.report.findings == ()
    assert exit_code(hardened_scan.report, Severity.LOW) == 0
    probed = sum(1 for c in hardened_scan.report.coverage if c.status == "probed")
    assert probed == len(_safe_operations(hardened_twin))
    assert all(e.header("Authorization") is None for e in hardened_scan.log if e.scheme == "http")


def test_bad_credentials_fail_the_preflight(hardened_twin: RunningTwin) -> None:
    config = twin_config(hardened_twin, credentials=Credentials.build(token="not-a-valid-token"))
    with pytest.raises(PreflightError) as caught:
        scan(config)
    assert "credentials did not work" in str(caught.value) and "-> 401" in str(caught.value)
    assert "not-a-valid-token" not in str(caught.value)


def test_without_credentials_anonymous_answers_of_secured_operations_are_found(
    vulnerable_twin: RunningTwin,
) -> None:
    bare = scan(twin_config(vulnerable_twin, credentials=Credentials()))
    assert {k for k in finding_keys(bare, ["SD201"])} == {("SD201", "GET /users/{id}", "")}
    # one cause, one finding: the route that takes no credential is not also SD202
    assert not {op for _, op, _ in finding_keys(bare, ["SD202"])} & {"GET /users/{id}"}
    assert bare.anonymous.startswith("no credentials given: the ")
    for fmt in Format:  # every format says it, and first where a person reads it
        text = render(bare, fmt)
        assert "no credentials given" in text, fmt
    assert render(bare, Format.TEXT).startswith("ANONYMOUS CHECK: no credentials given")
    assert render(bare, Format.MARKDOWN).split("\n")[2].startswith("> **Anonymous check:**")
    credentialed = scan(twin_config(vulnerable_twin))
    assert credentialed.anonymous == ""
    assert all("no credentials given" not in render(credentialed, fmt) for fmt in Format)
    # no order can be listed anonymously, so its id comes from --param
    with_id = scan(
        twin_config(
            vulnerable_twin, credentials=Credentials(), params=(("order_id", ORDERS[0].id),)
        )
    )
    assert finding_keys(with_id, ["SD201"]) == {
        ("SD201", "GET /users/{id}", ""),
        ("SD201", "GET /orders/{order_id}", ""),
    }


def test_demo_command_exit_codes() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "specdiff", "demo", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )

    vulnerable = run()
    assert vulnerable.returncode == 1, vulnerable.stderr
    for code in ("SD101", "SD201", "SD302", "SD303"):
        assert code in vulnerable.stdout
    assert len(vulnerable.stdout.splitlines()) <= 400  # the summary first, one block per cause
    hardened = run("--hardened")
    assert hardened.returncode == 0, hardened.stdout + hardened.stderr
    assert "No findings" in hardened.stdout
