"""The authentication family (SD202-SD217) against the demo twins over real loopback HTTPS.

The shared default scan (identity A only) shows what a user gets with one token; a second scan
per twin adds identity B, the low-privilege identity, the signing secret and an expired token.
The vulnerable twin must give exactly the expected set; the hardened twin nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from specdiff.config import Credentials, parse_login
from specdiff.demo.data import ORDERS
from specdiff.demo.serve import RunningTwin
from specdiff.demo.tokens import issue_token
from specdiff.engine import scan
from specdiff.errors import PreflightError
from specdiff.jwtkit import (
    KID_INJECTIONS,
    alg_none,
    flipped_signature,
    forged_payload,
    kid_injected,
    parse_jwt,
)
from specdiff.model import Report, Severity
from specdiff.mutate import MALFORMED_JSON, canary
from specdiff.reporters import Format, render
from specdiff.safety import ABSENT_UUID
from tests.e2e.conftest import TwinScan, finding_keys, twin_config

FAMILY = tuple(f"SD2{n:02d}" for n in range(2, 18))
DEFAULT_EXPECTED = {
    # GET /me ignores the signature: alg none and forged tokens get in; key injection and
    # claim attacks would say nothing more, so they stay silent there
    *{("SD203", "GET /me", key) for key in ("alg-none", "alg-None", "alg-NONE")},
    *{("SD204", "GET /me", key) for key in ("forged-payload", "flipped-signature")},
    # the verifier looks the key up by kid with SQL string formatting (demo/keystore.py)
    *{
        ("SD215", op, "kid-sql-injection")
        for op in (
            "GET /orders",
            "GET /admin/stats",
            "GET /assistant/answer",
            "GET /realtime/ticket",
        )
    },
    # GET /users takes any bearer at all: SD202 alone says so
    ("SD202", "GET /users", "random-token"),
    ("SD202", "GET /users", "malformed-token"),
    # the partner feed takes any X-API-Key, and the real key from ?api_key= too
    ("SD202", "GET /partner/catalog", "random-api-key"),
    ("SD207", "GET /partner/catalog", "api_key"),
    ("SD206", "", ""),
    ("SD214", "", "$.email"),
    ("SD207", "GET /me", "token"),
    ("SD207", "GET /orders", "token"),
    ("SD207", "GET /admin/stats", "token"),
    ("SD207", "GET /assistant/answer", "token"),
    ("SD207", "GET /realtime/ticket", "token"),
    # ... and from an access_token cookie, which a browser sends by itself (CSRF)
    ("SD217", "GET /me", "access_token"),
    ("SD217", "GET /orders", "access_token"),
    ("SD217", "GET /admin/stats", "access_token"),
    ("SD217", "GET /assistant/answer", "access_token"),
    ("SD217", "GET /realtime/ticket", "access_token"),
    ("SD208", "POST /users", ""),
    ("SD209", "GET /me", ""),
    ("SD209", "GET /orders", ""),
    ("SD209", "GET /admin/stats", ""),
    ("SD209", "GET /assistant/answer", ""),
    ("SD209", "GET /realtime/ticket", ""),
    ("SD210", "GET /products/{product_id}", ""),
    ("SD213", "GET /realtime/ticket", "$.access_token"),
}

WITH_INPUTS_EXPECTED = DEFAULT_EXPECTED | {
    ("SD205", "GET /orders", "expired-token"),
    ("SD205", "GET /orders", "exp-past"),
    ("SD205", "GET /orders", "no-exp"),
    ("SD205", "GET /admin/stats", "no-exp"),
    ("SD205", "GET /assistant/answer", "no-exp"),
    ("SD205", "GET /realtime/ticket", "no-exp"),
    ("SD211", "GET /admin/stats", ""),
    ("SD212", "GET /users/{id}", ""),
    # no personal value in an order: B's own GET /orders does not list it, yet B is served it
    ("SD212", "GET /orders/{order_id}", ""),
}


ALICE_ORDER = ORDERS[0].id
SD202_KEY = canary("GET /partner/catalog", "made-up", "3")


def _with_inputs(twin: RunningTwin, har: Path | None = None) -> TwinScan:
    twin.log.clear()
    report = scan(
        twin_config(
            twin,
            credentials_b=Credentials.build(token=twin.token_b, identity="B"),
            credentials_low=Credentials.build(token=twin.token_low, identity="LOW"),
            jwt_secret=twin.secret,
            expired_token=issue_token("alice", twin.secret, lifetime=-60),
            har=str(har) if har is not None else None,
        )
    )
    return TwinScan(report, twin.log.entries())


@pytest.fixture(scope="module")
def full_har(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the vulnerable twin's full scan writes its ``--har`` log."""
    return tmp_path_factory.mktemp("har") / "run.har"


@pytest.fixture(scope="module")
def vulnerable_full(vulnerable_twin: RunningTwin, full_har: Path) -> TwinScan:
    return _with_inputs(vulnerable_twin, full_har)


@pytest.fixture(scope="module")
def hardened_full(hardened_twin: RunningTwin) -> TwinScan:
    return _with_inputs(hardened_twin)


def _rendered(report: Report, fmt: Format) -> str:
    """The report in ``fmt``, without the catalogue's SD206 text: SARIF and HTML quote it, and
    it names the vulnerable twin's very secret as an example ("`your_jwt_secret_key` ...)")."""
    return render(report, fmt).replace("`your_jwt_secret_key` ...)", "")


def test_default_scan_finds_exactly_the_single_identity_sins(vulnerable_scan: TwinScan) -> None:
    assert finding_keys(vulnerable_scan.report, FAMILY) == DEFAULT_EXPECTED


def test_counter_tickets_are_weak_tokens(vulnerable_scan: TwinScan) -> None:
    (weak,) = [f for f in vulnerable_scan.report.findings if f.rule == "SD213"]
    assert weak.message == (
        "GET /realtime/ticket issues a weak token at $.access_token: two issues differ only by "
        "a small step of a trailing counter"
    )
    assert weak.evidence is not None
    assert weak.evidence.snippet.startswith("$.access_token = ")
    assert "tkt-10" not in weak.evidence.snippet  # the issued ticket itself is masked
    asked = [e for e in vulnerable_scan.log if e.path == "/realtime/ticket" and e.query == ""]
    assert len([e for e in asked if e.header("Authorization")]) >= 2  # baseline + second issue


def test_with_identities_and_secrets_finds_exactly_the_rest(vulnerable_full: TwinScan) -> None:
    assert finding_keys(vulnerable_full.report, FAMILY) == WITH_INPUTS_EXPECTED
    by_key = {(f.rule, f.key): f for f in vulnerable_full.report.findings}
    assert by_key[("SD203", "alg-none")].severity is Severity.CRITICAL
    bola = {
        f"{f.operation.method} {f.operation.path}": f
        for f in vulnerable_full.report.findings
        if f.rule == "SD212" and f.operation is not None
    }
    user = bola["GET /users/{id}"].evidence
    assert user is not None and "$.email = al******om (17 chars)" in user.snippet
    order = bola["GET /orders/{order_id}"].evidence
    assert order is not None and order.snippet == (
        f"B's own GET /orders (200) did not list order_id={ALICE_ORDER}, "
        "yet GET /orders/{order_id} served it to B: 200"
    )
    weak = by_key[("SD206", "")]
    assert weak.location is not None and weak.location.line is not None  # the bearer scheme
    # the cracked secret is never shown; SARIF and HTML quote the catalogue's rule text, which
    # names this very secret as an example ("`your_jwt_secret_key` ...)"): that mention is allowed
    for fmt in Format:
        assert "your_jwt_secret_key" not in _rendered(vulnerable_full.report, fmt), fmt


def test_hardened_twin_stays_silent_with_every_input(hardened_full: TwinScan) -> None:
    assert hardened_full.report.findings == ()
    assert hardened_full.report.notes == ()


def _assert_unsafe_requests_harmless(scan_: TwinScan, twin: RunningTwin) -> None:
    unsafe = [e for e in scan_.log if e.method not in ("GET", "HEAD", "OPTIONS", "TRACE")]
    # anonymous, with a body no parser can read (SD201's, the error provocations), or to an
    # id that certainly names nothing (SD201 without a body, and for an object that does not
    # exist; SD501's undeclared DELETE), on both ports (the plain-HTTP twin's SD101 request)
    assert {(e.method, e.path, e.body) for e in unsafe if e.body != MALFORMED_JSON} == {
        ("DELETE", "/orders/specdiff-invalid-0000", b""),
        ("DELETE", f"/orders/{ABSENT_UUID}", b""),
        ("DELETE", "/users/999999999999", b""),
        ("DELETE", "/products/999999999999", b""),
    }
    assert {e.scheme for e in unsafe if e.path == "/orders/specdiff-invalid-0000"} == {
        "https",
        "http",
    }
    assert ("POST", "/users") in {(e.method, e.path) for e in unsafe if e.body == MALFORMED_JSON}
    for entry in unsafe:
        assert entry.header("Authorization") is None and entry.query == "", entry
    for entry in scan_.log:
        if entry.scheme == "http":  # nothing credential-like in clear, header or query
            assert entry.header("Authorization") is None, entry
            assert entry.header("X-API-Key") is None, entry
            assert twin.token not in entry.query and "token=" not in entry.query, entry
            assert twin.api_key not in entry.query, entry


def test_without_unsafe_no_unsafe_request_carries_credentials_or_valid_input(
    vulnerable_twin: RunningTwin,
    hardened_twin: RunningTwin,
    vulnerable_full: TwinScan,
    hardened_full: TwinScan,
) -> None:
    _assert_unsafe_requests_harmless(vulnerable_full, vulnerable_twin)
    _assert_unsafe_requests_harmless(hardened_full, hardened_twin)


def _secret_forms(twin: RunningTwin) -> Iterator[str]:
    for token in (twin.token, twin.token_b, twin.token_low):
        yield token
        yield token.rsplit(".", 1)[1][8:]  # most of the signature (SD204 flips one byte)
    yield twin.secret
    yield twin.api_key


@pytest.mark.parametrize("which", ["vulnerable_full", "hardened_full"])
def test_no_credential_or_signature_reaches_a_report(
    which: str, request: pytest.FixtureRequest, vulnerable_twin: RunningTwin
) -> None:
    report: Report = request.getfixturevalue(which).report
    twin: RunningTwin = (
        vulnerable_twin if which == "vulnerable_full" else request.getfixturevalue("hardened_twin")
    )
    for fmt in Format:
        text = _rendered(report, fmt)
        for secret in _secret_forms(twin):
            assert secret not in text, (fmt, secret[:6])


@pytest.mark.parametrize("which", ["vulnerable_scan", "hardened_scan"])
def test_the_partner_key_goes_only_where_it_proves_something(
    which: str, request: pytest.FixtureRequest
) -> None:
    scan_: TwinScan = request.getfixturevalue(which)
    key = request.getfixturevalue(which.replace("_scan", "_twin")).api_key
    partner = [e for e in scan_.log if e.path == "/partner/catalog"]
    by_purpose = {
        # SD202's made-up key (a canary, not SD404's own)
        "random": [e for e in partner if e.header("X-API-Key") == SD202_KEY],
        "moved": [e for e in partner if key in e.query],
        "forged-jwt": [
            e for e in partner if e.header("Authorization") and not e.header("X-API-Key")
        ],
    }
    # SD202: the random key alone, neither the real key nor the bearer token beside it
    [random] = by_purpose["random"]
    assert random.header("Authorization") is None and random.scheme == "https"
    # SD207: the real key in ?access_token=, ?token=, ?api_key=, and no longer in its header
    assert sorted(e.query.partition("=")[0] for e in by_purpose["moved"]) == [
        "access_token",
        "api_key",
        "token",
    ]
    assert all(e.header("X-API-Key") is None for e in by_purpose["moved"])
    # a forged JWT would go without the key: nothing to learn, nothing sent
    assert by_purpose["forged-jwt"] == []
    # the real key only over HTTPS, and in its header only beside the real token (the user's
    # own requests): never next to a forged or random credential, whose answer it would decide
    twin: RunningTwin = request.getfixturevalue(which.replace("_scan", "_twin"))
    assert all(e.scheme == "https" for e in scan_.log if key in repr(e))
    for entry in scan_.log:
        if entry.header("X-API-Key") == key:
            assert entry.header("Authorization") == f"Bearer {twin.token}", entry


def test_requests_per_operation_stay_bounded(vulnerable_full: TwinScan) -> None:
    # the project's budget: under 25 requests per operation on average, every family and
    # input included (the once-per-host path checks are counted on one operation)
    summary = vulnerable_full.report.summary
    assert summary.requests / summary.operations < 25


def test_vulnerable_twin_commits_the_auth_sins(vulnerable_twin: RunningTwin) -> None:
    expired = issue_token("alice", vulnerable_twin.secret, lifetime=-10)
    unsigned = jwt.encode({"sub": "alice"}, None, algorithm="none")
    with httpx.Client(
        base_url=vulnerable_twin.https_url, verify=vulnerable_twin.ssl_context()
    ) as c:
        assert c.get("/orders", headers={"Authorization": f"Bearer {expired}"}).status_code == 200
        assert c.get("/me", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 200
        assert c.get("/users", headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert c.get("/me", params={"token": vulnerable_twin.token}).status_code == 200
        refused = c.get("/admin/stats", headers={"Authorization": f"Bearer {expired}"})
        # the cause is named (SD209), and the refused token echoed back (SD404)
        assert refused.json() == {
            "error": f"Signature has expired; invalid token: Bearer {expired}"
        }
        stats = c.get(
            "/admin/stats", headers={"Authorization": f"Bearer {vulnerable_twin.token_low}"}
        )
        assert stats.status_code == 200


def test_login_step_obtains_the_token(hardened_twin: RunningTwin, tmp_path: Path) -> None:
    body = tmp_path / "creds.json"
    body.write_text(json.dumps({"username": "alice", "password": "alice-demo-pw"}))
    login = parse_login("POST /auth/login", f"@{body}", "$.access_token")
    report = scan(twin_config(hardened_twin, credentials=Credentials(), login=login))
    assert report.findings == ()
    assert any(c.baseline_status == 200 for c in report.coverage if c.operation.path == "/me")
    assert "alice-demo-pw" not in "".join(render(report, f) for f in Format)


def test_a_failing_login_stops_the_run(hardened_twin: RunningTwin) -> None:
    login = parse_login(
        "POST /auth/login", '{"username": "alice", "password": "nope"}', "$.access_token"
    )
    with pytest.raises(
        PreflightError, match=r"login step POST /auth/login did not yield a token.*401"
    ):
        scan(twin_config(hardened_twin, credentials=Credentials(), login=login))


def test_no_bola_when_identity_b_is_identity_a(vulnerable_twin: RunningTwin) -> None:
    same = Credentials.build(token=vulnerable_twin.token, identity="B")
    report = scan(twin_config(vulnerable_twin, credentials_b=same))
    assert finding_keys(report, ["SD212"]) == set()


@pytest.mark.parametrize(("which", "accepted"), [("vulnerable_twin", 200), ("hardened_twin", 401)])
def test_kid_sql_injection_picks_the_key_only_on_the_vulnerable_twin(
    which: str, accepted: int, request: pytest.FixtureRequest
) -> None:
    twin: RunningTwin = request.getfixturevalue(which)
    token = parse_jwt(twin.token)
    assert token is not None
    forged = {purpose: kid_injected(token, kid, key) for purpose, kid, key in KID_INJECTIONS}
    with httpx.Client(base_url=twin.https_url, verify=twin.ssl_context()) as c:

        def status(purpose: str) -> int:
            headers = {"Authorization": f"Bearer {forged[purpose]}"}
            return c.get("/orders", headers=headers).status_code

        assert status("kid-sql-injection") == accepted
        # neither twin reads key files: the kid that points at /dev/null proves nothing here
        assert status("kid-dev-null") == 401


@pytest.mark.parametrize("which", ["vulnerable_scan", "hardened_scan"])
def test_the_token_moved_into_a_cookie_travels_alone_and_only_over_https(
    which: str, request: pytest.FixtureRequest
) -> None:
    scan_: TwinScan = request.getfixturevalue(which)
    twin: RunningTwin = request.getfixturevalue(which.replace("_scan", "_twin"))
    moved = [e for e in scan_.log if twin.token in (e.header("Cookie") or "")]
    # SD217: one request per cookie name on GET /me, and the token never beside its header
    names = sorted((e.header("Cookie") or "").partition("=")[0] for e in moved if e.path == "/me")
    assert names == ["access_token", "auth", "jwt", "token"]
    for entry in moved:
        assert entry.scheme == "https" and entry.method == "GET", entry
        assert entry.header("Authorization") is None and twin.token not in entry.query, entry
    # the partner key, declared in the X-API-Key header, moves into its own name and api_key
    keyed = sorted(
        (e.header("Cookie") or "").partition("=")[0]
        for e in scan_.log
        if e.path == "/partner/catalog" and twin.api_key in (e.header("Cookie") or "")
    )
    assert keyed == ["X-API-Key", "api_key"]


def _working_forgeries(scan_: TwinScan, twin: RunningTwin) -> set[str]:
    """Every credential specdiff made (forged, tampered, random, canary) that the twin answered
    2xx, read from the twin's own log: the Authorization and X-API-Key values that are none of
    the user's."""
    own = {f"Bearer {t}" for t in (twin.token, twin.token_b, twin.token_low)} | {twin.api_key}
    made = set()
    for entry in scan_.log:
        if entry.status is None or not 200 <= entry.status < 300:
            continue
        for name in ("Authorization", "X-API-Key"):
            value = entry.header(name)
            if value and value not in own:
                made.add(value.removeprefix("Bearer "))
    return made


def test_working_forgeries_are_redacted_in_every_output(
    vulnerable_twin: RunningTwin, vulnerable_full: TwinScan, full_har: Path
) -> None:
    forged = _working_forgeries(vulnerable_full, vulnerable_twin)
    alice = parse_jwt(vulnerable_twin.token)
    assert alice is not None
    # what the twin let in: unsigned and tampered copies of alice's token, the kid-injected one,
    # re-signed claim attacks, SD202's made-up bearer strings and partner key, the canary key
    assert {alg_none(alice, w) for w in ("none", "None", "NONE")} <= forged
    assert {forged_payload(alice), flipped_signature(alice)} <= forged
    assert any(t.startswith("specdiff") for t in forged)  # SD202's random credentials
    assert any(t.startswith("sdcanary") for t in forged)  # SD404's canary, taken as a key
    assert len(forged) >= 12
    outputs = {fmt.value: _rendered(vulnerable_full.report, fmt) for fmt in Format}
    outputs["har"] = full_har.read_text()
    for where, text in outputs.items():
        for token in forged:
            assert token not in text, (where, token[:12])
    # the evidence still says what was forged: decoded header and claims, masked personal data
    by_key = {(f.rule, f.key): f for f in vulnerable_full.report.findings}
    unsigned = by_key[("SD203", "alg-none")].evidence
    assert unsigned is not None
    assert unsigned.snippet.startswith(
        "forged JWT (an unsigned (alg none) copy of the user's JWT: alg-none), withheld: "
        'header {"alg": "none", "typ": "JWT"}, claims {"email": "al******om (17 chars)", '
    )
    assert '"sub": "alice"' in unsigned.snippet
    assert "Authorization: Bearer [REDACTED]" in unsigned.request
    assert "${SPECDIFF_FORGED_CREDENTIAL}" in unsigned.curl
