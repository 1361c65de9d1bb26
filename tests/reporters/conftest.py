"""One shared report for every reporter test: findings across severities, hostile text.

It also carries a canary credential the way a real scan would meet it (echoed in a response
snippet, quoted in a message and a note) and passes it through the engine's
:class:`~specdiff.redact.Redactor`, so every reporter test can assert that no format leaks it;
a 4 KB value (``"a" * 4096`` in a snippet and a curl line) that every human format must cap;
and one root cause seen on three operations (SD101, keyed by the plain-HTTP listener's
address), which the human formats show as one group.
"""

from __future__ import annotations

import dataclasses

import pytest

from specdiff.model import (
    Confidence,
    Coverage,
    Evidence,
    Finding,
    Location,
    OperationRef,
    Report,
    Severity,
    Summary,
    Suppression,
)
from specdiff.redact import Redactor

GET_USER = OperationRef("GET", "/users/{id}", "getUser")
DELETE_USER = OperationRef("DELETE", "/users/{id}", "deleteUser")
LIST_ORDERS = OperationRef("GET", "/orders", "listOrders")
POST_ORDER = OperationRef("POST", "/orders", None)
ADMIN = OperationRef("GET", "/admin/stats", "adminStats")
HEALTH = OperationRef("GET", "/health", "health")

HOSTILE_SNIPPET = (
    '{"password": "hunter2"}</script><script>alert(1)</script> ]]> '
    "\x1b[31mRED\x1b[0m \x00nul \r carriage [bold red]x[/] ünïcødé ✓ 日本"
)
LONG_SNIPPET = "A" * 1000
LONG_VALUE = "a" * 4096
"""An overlong input the API accepted (SD503): shown whole in JSON, capped elsewhere."""
HTTP_TWIN = "http://api.example.test:8080"
CANARY = "sdcanary-7f3e9b1c2d4a"
"""The user's credential in this report: it must never appear in any rendered format."""


def _loc(line: int, pointer: str) -> Location:
    return Location("openapi.yaml", line, pointer)


# Deliberately NOT in report order: the JSON reporter sorts, the tests check it.
FINDINGS = (
    Finding(
        rule="SD406",
        kind="leak.version-banner",
        title="Version banner",
        severity=Severity.LOW,
        confidence=Confidence.CERTAIN,
        message="Server header names Werkzeug/3.0.1 \x1b]0;pwned\x07",
        cwe=200,
        owasp="API8:2023",
        operation=None,
        location=None,
        evidence=Evidence(
            request="GET https://api.example.test/health",
            status=200,
            snippet=f"Server: Werkzeug/3.0.1 Python/3.11.7\nX-Echo: Bearer {CANARY}",
            curl="curl -sS 'https://api.example.test/health'",
        ),
        remediation="Remove version numbers from the Server header.",
        key="server",
    ),
    Finding(
        rule="SD303",
        kind="exposure.undocumented-secret",
        title="Undocumented secret in response",
        severity=Severity.CRITICAL,
        confidence=Confidence.FIRM,
        message="Property [bold red]x[/] looks like a password hash: \x1b[2J",
        cwe=522,
        owasp="API3:2023",
        operation=GET_USER,
        location=_loc(42, "/paths/~1users~1{id}/get"),
        evidence=Evidence(
            request="GET https://api.example.test/users/1\nAuthorization: Bearer ***",
            status=200,
            snippet=HOSTILE_SNIPPET,
            curl="curl -sS -H \"Authorization: Bearer $SPECDIFF_TOKEN\" 'https://api.example.test/users/1'",
        ),
        remediation="Drop the field from the response model.",
        key="$.password_hash\x1b[0m",
    ),
    Finding(
        rule="SD201",
        kind="auth.missing-credentials-accepted",
        title="Secured operation answers without credentials",
        severity=Severity.CRITICAL,
        confidence=Confidence.CERTAIN,
        message="DELETE answered 204 without any credential.",
        cwe=306,
        owasp="API2:2023",
        operation=DELETE_USER,
        location=_loc(57, "/paths/~1users~1{id}/delete"),
        evidence=Evidence(
            request="DELETE https://api.example.test/users/1",
            status=204,
            snippet="",
            curl="curl -sS -X DELETE 'https://api.example.test/users/1'",
        ),
        remediation="Require authentication on DELETE /users/{id}.",
    ),
    Finding(
        rule="SD402",
        kind="leak.stack-trace",
        title="Stack trace in error response",
        severity=Severity.MEDIUM,
        confidence=Confidence.FIRM,
        message="Traceback ]]> found",
        cwe=209,
        owasp="API8:2023",
        operation=LIST_ORDERS,
        location=_loc(80, "/paths/~1orders/get"),
        evidence=Evidence(
            request="GET https://api.example.test/orders?limit=-1",
            status=500,
            snippet=LONG_SNIPPET,
            curl="curl -sS 'https://api.example.test/orders?limit=-1'",
        ),
        remediation="Turn off debug mode.",
        key="traceback",
    ),
    Finding(
        rule="SD202",
        kind="auth.invalid-token-accepted",
        title="Invalid credential accepted",
        severity=Severity.HIGH,
        confidence=Confidence.TENTATIVE,
        message=f"A random bearer token was accepted (not {CANARY}).",
        cwe=287,
        owasp="API2:2023",
        operation=LIST_ORDERS,
        location=_loc(80, "/paths/~1orders/get"),
        evidence=None,
        remediation="Verify tokens.",
    ),
)


def _http_accepted(op: OperationRef, line: int, severity: Severity) -> Finding:
    return Finding(
        rule="SD101",
        kind="transport.http-accepted",
        title="API answers over plain HTTP",
        severity=severity,
        confidence=Confidence.CERTAIN,
        message=f"{op.method} {op.path} answered 200 over plain HTTP ({HTTP_TWIN})",
        cwe=319,
        owasp="API8:2023",
        operation=op,
        location=_loc(line, ""),
        evidence=Evidence(
            request=f"{op.method} {HTTP_TWIN}{op.path}",
            status=200,
            snippet="HTTP 200",
            curl=f"curl -sS -i {HTTP_TWIN}{op.path}",
        ),
        remediation="Redirect every http:// request to https with 308.",
        key=HTTP_TWIN,
    )


FINDINGS += (
    _http_accepted(GET_USER, 42, Severity.CRITICAL),
    _http_accepted(LIST_ORDERS, 80, Severity.CRITICAL),
    _http_accepted(HEALTH, 90, Severity.HIGH),
    Finding(
        rule="SD503",
        kind="conformance.invalid-input-accepted",
        title="Invalid input accepted",
        severity=Severity.LOW,
        confidence=Confidence.FIRM,
        message="GET /orders accepted (200) a request with overlong-string in query.limit",
        cwe=20,
        owasp="API8:2023",
        operation=LIST_ORDERS,
        location=_loc(80, "/paths/~1orders/get"),
        evidence=Evidence(
            request=f"GET https://api.example.test/orders?limit={LONG_VALUE}",
            status=200,
            snippet=f'{{"limit": "{LONG_VALUE}", "items": []}}',
            curl=f"curl -sS -i 'https://api.example.test/orders?limit={LONG_VALUE}'",
        ),
        remediation="Validate requests against the documented schemas.",
        key="query.limit",
    ),
)

COVERAGE = (
    Coverage(GET_USER, "probed", baseline_status=200, requests=9),
    Coverage(DELETE_USER, "probed", baseline_status=204, requests=4),
    Coverage(LIST_ORDERS, "probed", baseline_status=200, requests=12),
    Coverage(POST_ORDER, "skipped", reason="unsafe method; pass --unsafe\x1b[8m", requests=0),
    Coverage(ADMIN, "not reached", reason="baseline answered 404", baseline_status=404, requests=1),
    Coverage(HEALTH, "probed", baseline_status=200, requests=3),
)


_REDACTOR = Redactor([(CANARY, "SPECDIFF_TOKEN")])


def suppressed(report: Report, rule: str, source: str = "baseline") -> Report:
    """``report`` with the findings of ``rule`` accepted by ``source``."""
    kind = "inSource" if source == "spec" else "external"
    why = Suppression(kind, source, f"accepted </script> @team #1 by {source}")  # type: ignore[arg-type]
    return dataclasses.replace(
        report,
        findings=tuple(
            dataclasses.replace(f, suppression=why) if f.rule == rule else f
            for f in report.findings
        ),
    )


@pytest.fixture
def sample_report() -> Report:
    """A report with hostile server text in snippets, messages, keys and coverage reasons."""
    return Report(
        tool_version="0.1.0",
        spec="openapi.yaml",
        target="https://api.example.test",
        started_at="2025-01-02T03:04:05Z",
        findings=tuple(_REDACTOR.finding(f) for f in FINDINGS),
        coverage=COVERAGE,
        summary=Summary(
            operations=6,
            probed=4,
            requests=29,
            duration=1.23456,
        ),
        notes=(
            "Document declares no servers; used --base-url.",
            "note with \x1b[1mbold\x1b[0m",
            _REDACTOR.redact(f"probe SD404 saw {CANARY} echoed"),
        ),
    )
