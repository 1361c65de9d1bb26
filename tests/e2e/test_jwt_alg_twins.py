"""SD216 (algorithm confusion) against the demo twins in RS256 mode, over real loopback HTTPS.

In RS256 mode the twins sign user tokens with an RSA key made for the run and publish it as a
JWKS behind the document's ``openIdConnect`` discovery URL. The vulnerable twin lets the token's
header pick the algorithm and checks HS256 with the public key's PEM as HMAC key; the hardened
twin pins ``algorithms=["RS256"]``. specdiff finds the keys through discovery (no ``--jwks``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from specdiff.config import load_jwks
from specdiff.demo.capture import CapturedRequest
from specdiff.demo.serve import RunningTwin, serve_twin
from specdiff.demo.tokens import KID, issue_token, jwks, rsa_key
from specdiff.engine import scan
from specdiff.jwtkit import hs256_with_public_key, parse_jwt
from specdiff.reporters import Format, render
from tests.e2e.conftest import TwinScan, finding_keys, twin_config

SD216_EXPECTED = {
    ("SD216", op, "hs256-public-key")
    for op in (
        "GET /orders",
        "GET /admin/stats",
        "GET /assistant/answer",
        "GET /realtime/ticket",
    )
}
"""Every secured operation whose baseline answered 2xx and that checks signatures: ``GET
/users/{id}`` and ``GET /orders/{order_id}`` answer anyone (SD201), ``GET /users`` any bearer
(SD202) and ``GET /me`` a flipped signature (SD204), which already say more than SD216."""


@pytest.fixture(scope="module")
def rs_vulnerable() -> Iterator[RunningTwin]:
    with serve_twin("vulnerable", jwt_alg="RS256") as twin:
        yield twin


@pytest.fixture(scope="module")
def rs_hardened() -> Iterator[RunningTwin]:
    with serve_twin("hardened", jwt_alg="RS256") as twin:
        yield twin


def _scan(twin: RunningTwin) -> TwinScan:
    twin.log.clear()
    return TwinScan(scan(twin_config(twin)), twin.log.entries())


@pytest.fixture(scope="module")
def rs_vulnerable_scan(rs_vulnerable: RunningTwin) -> TwinScan:
    return _scan(rs_vulnerable)


@pytest.fixture(scope="module")
def rs_hardened_scan(rs_hardened: RunningTwin) -> TwinScan:
    return _scan(rs_hardened)


def _forged(twin: RunningTwin) -> str:
    """The token SD216 sends: alice's claims signed HS256 with the PEM of the twin's key."""
    token = parse_jwt(twin.token)
    assert token is not None and token.alg == "RS256"
    forged = hs256_with_public_key(token, twin.jwks["keys"][0])
    assert forged is not None
    return forged


def test_rs256_tokens_verify_with_the_published_key_set() -> None:
    key = rsa_key()
    token = issue_token("alice", key)
    published = jwt.PyJWKSet.from_dict(jwks(key))
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": KID, "typ": "JWT"}
    claims = jwt.decode(token, published[KID].key, algorithms=["RS256"])
    assert (claims["sub"], claims["uid"]) == ("alice", 1)
    assert jwks(None) == {"keys": []}  # an HS256 secret is never published


def test_the_twins_commit_and_avoid_the_confusion(
    rs_vulnerable: RunningTwin, rs_hardened: RunningTwin
) -> None:
    claims = jwt.decode(rs_vulnerable.token, options={"verify_signature": False})
    wrong_key = jwt.encode(claims, secrets.token_urlsafe(32), algorithm="HS256")
    for twin, forged_status in ((rs_vulnerable, 200), (rs_hardened, 401)):
        with httpx.Client(base_url=twin.https_url, verify=twin.ssl_context()) as c:

            def get(token: str) -> int:
                return c.get("/orders", headers={"Authorization": f"Bearer {token}"}).status_code

            # the vulnerable verifier does check HMAC, only with a key anyone can fetch
            assert (get(twin.token), get(_forged(twin)), get(wrong_key)) == (
                200,
                forged_status,
                401,
            ), twin.kind
            assert c.get("/.well-known/jwks.json").json() == twin.jwks


def test_discovery_finds_the_keys_and_sd216_fires_exactly(rs_vulnerable_scan: TwinScan) -> None:
    report = rs_vulnerable_scan.report
    assert finding_keys(report, ["SD216"]) == SD216_EXPECTED
    assert not [n for n in report.notes if "discovery" in n]
    fetched = [e for e in rs_vulnerable_scan.log if e.path.startswith("/.well-known/")]
    assert [(e.scheme, e.method, e.path) for e in fetched] == [
        ("https", "GET", "/.well-known/openid-configuration"),
        ("https", "GET", "/.well-known/jwks.json"),
    ]
    assert all(e.header("Authorization") is None for e in fetched)


def test_the_forged_token_never_reaches_a_report(
    rs_vulnerable: RunningTwin, rs_vulnerable_scan: TwinScan
) -> None:
    forged = _forged(rs_vulnerable)
    signature = forged.rsplit(".", 1)[1]
    for fmt in Format:
        text = render(rs_vulnerable_scan.report, fmt)
        assert forged not in text and signature not in text, fmt
        assert rs_vulnerable.token not in text, fmt


def test_hardened_twin_in_rs256_mode_gives_nothing(rs_hardened_scan: TwinScan) -> None:
    assert rs_hardened_scan.report.findings == ()
    assert rs_hardened_scan.report.notes == ()
    # discovery worked and the forged token was sent, and refused
    forged = [e for e in rs_hardened_scan.log if _alg(e) == "HS256"]
    assert forged and all(e.path != "/.well-known/jwks.json" for e in forged)


def _alg(entry: CapturedRequest) -> str:
    """The ``alg`` of a captured request's bearer JWT ('' without one)."""
    auth = entry.header("Authorization") or ""
    token = parse_jwt(auth.removeprefix("Bearer "))
    return token.alg if token is not None else ""


def test_a_jwks_file_replaces_discovery(rs_vulnerable: RunningTwin, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(rs_vulnerable.jwks))
    rs_vulnerable.log.clear()
    report = scan(twin_config(rs_vulnerable, jwks=load_jwks(str(path))))
    assert finding_keys(report, ["SD216"]) == SD216_EXPECTED
    assert not [e for e in rs_vulnerable.log.entries() if e.path.startswith("/.well-known/")]
