"""specdiff against the demo twins over real loopback HTTPS and HTTP.

The vulnerable twin must give exactly the expected (rule, operation, key) set; the hardened twin
none. The twins' request logs prove specdiff's own safety: no credential over plain HTTP, no
unsafe method without --unsafe.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from specdiff.config import Credentials, ScanConfig
from specdiff.demo.data import ORDERS
from specdiff.demo.serve import RunningTwin
from specdiff.model import Report, Severity
from specdiff.scan import exit_code, scan

REPO = Path(__file__).parents[2]

HTTP_OPS = [
    "GET /health",
    "GET /me",
    "GET /users",
    "GET /users/{id}",
    "GET /orders",
    "GET /orders/{order_id}",
    "GET /products",
    "GET /products/{product_id}",
]
EXPECTED_VULNERABLE = {
    *(("SD101", op, "") for op in HTTP_OPS),
    ("SD201", "GET /users/{id}", ""),
    ("SD201", "GET /orders/{order_id}", ""),
    ("SD302", "GET /users/{id}", "$.ssn"),
    ("SD302", "GET /orders", "$.items[*].card_number"),
    ("SD303", "GET /users/{id}", "$.password_hash"),
    ("SD303", "GET /me", "$.api_key"),
    ("SD301", "GET /me", "$.theme"),
}


def _config(twin: RunningTwin, **overrides: object) -> ScanConfig:
    fields: dict[str, object] = {
        "spec": str(twin.spec_path),
        "base_url": twin.https_url,
        "http_url": twin.http_url,
        "credentials": Credentials.build(token=twin.token),
        "ca_bundle": str(twin.ca_pem),
    }
    fields.update(overrides)
    return ScanConfig(**fields)  # type: ignore[arg-type]


def _pairs(report: Report) -> set[tuple[str, str, str]]:
    return {
        (
            f.rule,
            f"{f.operation.method} {f.operation.path}" if f.operation else "",
            "" if f.rule == "SD101" else f.key,
        )
        for f in report.findings
    }


def test_vulnerable_twin_gives_exactly_the_expected_findings(vulnerable_twin: RunningTwin) -> None:
    vulnerable_twin.log.clear()
    report = scan(_config(vulnerable_twin))
    assert _pairs(report) == EXPECTED_VULNERABLE
    by_key = {(f.rule, f.operation.path if f.operation else "", f.key): f for f in report.findings}
    # severities: secured operations over HTTP are critical, open ones high
    assert by_key[("SD101", "/me", vulnerable_twin.http_url)].severity is Severity.CRITICAL
    assert by_key[("SD101", "/health", vulnerable_twin.http_url)].severity is Severity.HIGH
    ssn = by_key[("SD302", "/users/{id}", "$.ssn")]
    assert (
        ssn.location is not None
        and ssn.location.file.endswith("openapi.yaml")
        and ssn.location.line
    )
    assert ssn.evidence is not None and ssn.evidence.status == 200
    assert "536-22-8415" not in ssn.evidence.snippet  # the leaked value itself is masked
    assert exit_code(report, Severity.HIGH) == 1
    # coverage: every safe operation probed, unsafe ones skipped with the reason
    status = {f"{c.operation.method} {c.operation.path}": c.status for c in report.coverage}
    assert {k for k, v in status.items() if v == "skipped"} == {
        "POST /auth/login",
        "POST /users",
        "DELETE /orders/{order_id}",
    }
    assert all(v == "probed" for k, v in status.items() if k.startswith("GET"))


def test_specdiff_sends_no_credential_in_clear_and_nothing_unsafe(
    vulnerable_twin: RunningTwin,
) -> None:
    vulnerable_twin.log.clear()
    report = scan(_config(vulnerable_twin))
    log = vulnerable_twin.log.entries()
    assert log, "the twin saw no request"
    assert report.summary.requests == len(log)
    for entry in log:
        assert entry.method in {"GET", "HEAD", "OPTIONS"}, entry
        if entry.scheme == "http":
            assert entry.header("Authorization") is None, entry
        assert vulnerable_twin.token not in repr(entry) or entry.scheme == "https"
    assert any(e.scheme == "http" for e in log) and any(e.header("Authorization") for e in log)


def test_no_credential_reaches_any_report_field(vulnerable_twin: RunningTwin) -> None:
    from specdiff.reporters import Format, render

    report = scan(_config(vulnerable_twin))
    for fmt in Format:
        text = render(report, fmt)
        assert vulnerable_twin.token not in text
    curls = [
        f.evidence.curl
        for f in report.findings
        if f.evidence and "Authorization" in f.evidence.curl
    ]
    assert curls and all("${SPECDIFF_TOKEN}" in c for c in curls)


def test_hardened_twin_gives_no_finding(hardened_twin: RunningTwin) -> None:
    hardened_twin.log.clear()
    report = scan(_config(hardened_twin))
    assert report.findings == ()
    assert exit_code(report, Severity.LOW) == 0
    assert sum(1 for c in report.coverage if c.status == "probed") == 8
    assert all(
        e.header("Authorization") is None for e in hardened_twin.log.entries() if e.scheme == "http"
    )


def test_bad_credentials_fail_the_preflight(hardened_twin: RunningTwin) -> None:
    from specdiff.errors import PreflightError

    config = _config(hardened_twin, credentials=Credentials.build(token="not-a-valid-token"))
    try:
        scan(config)
    except PreflightError as exc:
        assert "credentials did not work" in str(exc) and "-> 401" in str(exc)
        assert "not-a-valid-token" not in str(exc)
    else:
        raise AssertionError("the pre-flight let a refused token through")


def test_without_credentials_secured_operations_answering_anonymously_are_found(
    vulnerable_twin: RunningTwin,
) -> None:
    # without credentials no order can be listed, so its id comes from --param
    order_id = ORDERS[0].id
    report = scan(
        _config(vulnerable_twin, credentials=Credentials(), params=(("order_id", order_id),))
    )
    sd201 = {f.operation.path for f in report.findings if f.rule == "SD201" and f.operation}
    assert sd201 == {"/users/{id}", "/orders/{order_id}"}
    assert _pairs(scan(_config(vulnerable_twin, credentials=Credentials()))) >= {
        ("SD201", "GET /users/{id}", "")
    }
    assert any("no credentials given" in n for n in report.notes)


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
    hardened = run("--hardened")
    assert hardened.returncode == 0, hardened.stdout + hardened.stderr
    assert "No findings" in hardened.stdout
