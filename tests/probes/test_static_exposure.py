"""SD304 and SD308 (static) on a fixture with decoys, and on real large documents."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from probes.static_exposure import DocumentedSensitiveField, SensitiveDataInUrl
from specdiff.config import ScanConfig
from specdiff.derive import derive
from specdiff.engine import scan
from specdiff.lint import spec_notes
from specdiff.spec import load_spec

REPO = Path(__file__).parents[2]
FIXTURE = REPO / "specs" / "sensitive-urls.yaml"
CORPUS = REPO.parent / "shared" / "corpus"


def _keys(report_findings, codes):  # type: ignore[no-untyped-def]
    return {
        (f.rule, f"{f.operation.method} {f.operation.path}" if f.operation else "", f.key)
        for f in report_findings
        if f.rule in codes
    }


def test_sd304_and_sd308_on_the_fixture_fire_on_breaches_only() -> None:
    api = derive(load_spec(FIXTURE))
    sd304 = list(DocumentedSensitiveField().check_spec(api))
    sd308 = list(SensitiveDataInUrl().check_spec(api))
    # not: writeOnly password, password_changed_at, token_count, an object named secret,
    # nor the OAuth 2 token response of /oauth/token
    assert _keys(sd304, {"SD304"}) == {
        ("SD304", "POST /apps", "#/components/schemas/App/properties/client_secret")
    }
    [secret] = sd304
    lines = FIXTURE.read_text().splitlines()
    assert secret.location is not None and secret.location.line is not None
    assert lines[secret.location.line - 1].strip().startswith("client_secret:")
    # not: email_verified, page_token, the X-Api-Key header
    assert _keys(sd308, {"SD308"}) == {
        ("SD308", "GET /users", "query:email"),
        ("SD308", "GET /reset/{password}", "path:password"),
        ("SD308", "", "scheme:queryKey"),
    }


def test_lint_notes_name_silent_secured_operations_and_unused_schemes() -> None:
    api = derive(load_spec(FIXTURE))
    assert spec_notes(api) == [
        "1 secured operation document neither 401 nor 403 (nor 4XX/default): POST /apps",
        "the security scheme 'unused' is declared but no operation requires it",
    ]


def test_lint_scan_runs_every_static_check_and_adds_the_notes() -> None:
    report = scan(ScanConfig(spec=str(FIXTURE)))
    assert {f.rule for f in report.findings} == {"SD103", "SD304", "SD308"}
    assert ("SD103", "", "http://api.example.com") in _keys(report.findings, {"SD103"})
    assert report.summary.requests == 0 and report.coverage == ()
    assert any("'unused' is declared" in n for n in report.notes)


@pytest.mark.parametrize(
    ("name", "expected_304", "expected_308", "counts"),
    [
        (
            "github-api.github.com.json",
            {
                (
                    "POST /app/installations/{installation_id}/access_tokens",
                    "#/components/schemas/installation-token/properties/token",
                ),
                (
                    "GET /repos/{owner}/{repo}/secret-scanning/alerts",
                    "#/components/schemas/secret-scanning-alert/properties/secret",
                ),
            },
            {("GET /repos/{owner}/{repo}/codespaces/machines", "query:client_ip")},
            {"SD304": 10, "SD308": 5},
        ),
        (
            "stripe-spec3-2022-04-13.json",
            {
                (
                    "POST /v1/payment_intents",
                    "#/components/schemas/payment_intent/properties/client_secret",
                ),
                (
                    "POST /v1/webhook_endpoints",
                    "#/components/schemas/webhook_endpoint/properties/secret",
                ),
            },
            {("GET /v1/customers", "query:email"), ("GET /v1/issuing/cardholders", "query:email")},
            {"SD304": 7, "SD308": 7},
        ),
    ],
)
def test_lint_on_real_documents_is_quick_and_true(
    name: str,
    expected_304: set[tuple[str, str]],
    expected_308: set[tuple[str, str]],
    counts: dict[str, int],
) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus document {name} is not available")
    started = time.perf_counter()
    report = scan(ScanConfig(spec=str(path)))
    assert time.perf_counter() - started < 30
    found = {(r, op, k) for r, op, k in _keys(report.findings, {"SD304", "SD308"})}
    assert {("SD304", op, k) for op, k in expected_304} <= found
    assert {("SD308", op, k) for op, k in expected_308} <= found
    by_rule = {code: sum(1 for f in report.findings if f.rule == code) for code in counts}
    assert by_rule == counts
    # name_signal is conservative: metadata about secrets is never reported
    assert not any(k.endswith(("/token_type", "/expires_at", "/hashed_token")) for _, _, k in found)
