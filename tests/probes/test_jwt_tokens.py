"""SD203-SD206, SD214-SD216 on recorded exchanges, and the forging kit they use."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from probes.jwt_tokens import (
    AlgConfusionAccepted,
    ExpiredTokenAccepted,
    ForgedJwtAccepted,
    KeyInjectionAccepted,
    SensitiveJwtClaims,
    UnsignedJwtAccepted,
    WeakJwtSecret,
)
from specdiff.config import AuthMaterial, Credentials
from specdiff.jwtkit import entropy_bits, parse_jwt
from specdiff.model import ApiModel, AuthMode, PlannedRequest
from specdiff.probe import ProbeContext, ProbeOptions
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation, variant

DOC = minimal_doc(
    {
        "/me": {"get": {"responses": ok_json({"type": "object"})}},
        "/partner": {"get": {"security": [{"key": []}], "responses": ok_json({"type": "object"})}},
        "/either": {"get": {"security": [{"key": []}, {"bearer": []}], "responses": ok_json({})}},
    },
    security=[{"bearer": []}],
    components={
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
)
STRONG = "k" * 40
NOW = int(time.time())
CLAIMS = {"sub": "alice", "uid": 1, "iat": NOW, "exp": NOW + 600}


def hs(claims: dict[str, Any], secret: str = STRONG) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("jwt"), DOC)


def ctx(api: ApiModel, token: str, *, status: int = 200, **material: Any) -> ProbeContext:
    base = PlannedRequest("GET", "/me", headers=(("Accept", "application/json"),))
    auth = AuthMaterial(credentials=Credentials.build(token=token), **material)
    options = ProbeOptions(has_credentials=True, auth=auth)
    return ProbeContext(api, options, base, exchange(status, {"id": 1}, request=base))


def sent_token(req: PlannedRequest) -> str:
    return dict(req.headers)["Authorization"].removeprefix("Bearer ")


def test_sd203_alg_none_variants_fire_and_stay_silent(api: ApiModel) -> None:
    probe, op, c = UnsignedJwtAccepted(), operation(api, "GET /me"), ctx(api, hs(CLAIMS))
    reqs = list(probe.plan(op, c))
    assert [r.purpose for r in reqs] == ["alg-none", "alg-None", "alg-NONE"]
    for req in reqs:
        parsed = parse_jwt(sent_token(req))
        assert parsed is not None and parsed.signature == b"" and parsed.claims == CLAIMS
        assert req.auth is AuthMode.CUSTOM
    answers = [exchange(200, {"id": 1}, request=reqs[0]), exchange(401, {}, request=reqs[1])]
    assert [f.key for f in probe.judge(op, c, answers)] == ["alg-none"]
    assert list(probe.plan(op, ctx(api, "opaque-token"))) == []  # not a JWT: silent


@pytest.mark.parametrize(
    "probe", [UnsignedJwtAccepted(), ForgedJwtAccepted(), KeyInjectionAccepted()]
)
def test_no_forged_jwt_for_an_operation_that_reads_no_bearer_token(
    probe: Any, api: ApiModel
) -> None:
    # the user gave a JWT for the bearer operations and an X-API-Key for /partner: a forged
    # JWT goes without that key, so the answer could say nothing about tokens
    c = ctx(api, hs(CLAIMS))
    assert list(probe.plan(operation(api, "GET /partner"), c)) == []
    assert list(probe.plan(operation(api, "GET /either"), c)) != []  # a bearer alternative


def test_sd204_forged_variants_and_masked_evidence(api: ApiModel) -> None:
    token = hs(CLAIMS)
    probe, op, c = ForgedJwtAccepted(), operation(api, "GET /me"), ctx(api, token)
    forged, flipped = probe.plan(op, c)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(sent_token(forged), STRONG, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(sent_token(flipped), STRONG, algorithms=["HS256"])
    assert jwt.decode(sent_token(forged), options={"verify_signature": False})["specdiff"]
    [f] = probe.judge(op, c, [exchange(200, {"id": 1}, request=flipped)])
    assert f.evidence is not None and token.rsplit(".")[2][4:] not in f.evidence.request
    assert list(probe.judge(op, c, [exchange(401, {}, request=forged)])) == []


def test_sd205_needs_the_secret_or_an_expired_token(api: ApiModel) -> None:
    probe, op = ExpiredTokenAccepted(), operation(api, "GET /me")
    token = hs({**CLAIMS, "aud": "shop"})
    assert list(probe.plan(op, ctx(api, token))) == []
    assert list(probe.plan(op, ctx(api, token, jwt_secret="not-the-secret"))) == []
    c = ctx(api, token, jwt_secret=STRONG, expired_token="given-expired")
    reqs = {r.purpose: sent_token(r) for r in probe.plan(op, c)}
    assert list(reqs) == ["expired-token", "exp-past", "nbf-future", "no-exp", "wrong-aud"]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(reqs["exp-past"], STRONG, algorithms=["HS256"], audience="shop")
    assert "exp" not in jwt.decode(reqs["no-exp"], STRONG, algorithms=["HS256"], audience="shop")
    by_purpose = {r.purpose: r for r in probe.plan(op, c)}
    [f] = probe.judge(op, c, [exchange(200, {"id": 1}, request=by_purpose["no-exp"])])
    assert f.key == "no-exp" and f.evidence is not None
    assert reqs["no-exp"] not in f.evidence.request + f.evidence.curl  # a working token: masked


def test_sd206_weak_secret_offline(api: ApiModel) -> None:
    probe = WeakJwtSecret()
    with pytest.warns(jwt.InsecureKeyLengthWarning):  # the weakness is the point
        weak_token = hs(CLAIMS, "your_jwt_secret_key")
    weak = ctx(api, weak_token).options
    [f] = probe.check_credentials(api, weak)
    assert f.rule == "SD206" and "your_jwt_secret_key" not in f.message + str(f.evidence)
    assert list(probe.check_credentials(api, ctx(api, hs(CLAIMS)).options)) == []
    assert list(probe.check_credentials(api, ctx(api, "opaque").options)) == []


def test_sd214_sensitive_claims(api: ApiModel) -> None:
    probe = SensitiveJwtClaims()
    leaky = ctx(api, hs({**CLAIMS, "email": "alice@example.com"})).options
    assert [f.key for f in probe.check_credentials(api, leaky)] == ["$.email"]
    assert list(probe.check_credentials(api, ctx(api, hs(CLAIMS)).options)) == []


def test_sd215_embedded_jwk(api: ApiModel) -> None:
    probe, op, c = KeyInjectionAccepted(), operation(api, "GET /me"), ctx(api, hs(CLAIMS))
    req, *_ = probe.plan(op, c)
    assert req.purpose == "embedded-jwk"
    header = jwt.get_unverified_header(sent_token(req))
    key = jwt.PyJWK(header["jwk"])
    assert jwt.decode(sent_token(req), key, algorithms=["ES256"]) == CLAIMS
    assert [f.rule for f in probe.judge(op, c, [exchange(200, {"id": 1}, request=req)])] == [
        "SD215"
    ]
    assert list(probe.judge(op, c, [exchange(401, {}, request=req)])) == []


def test_sd215_guessable_kid_variants(api: ApiModel) -> None:
    probe, op, c = KeyInjectionAccepted(), operation(api, "GET /me"), ctx(api, hs(CLAIMS))
    _, dev_null, sql = probe.plan(op, c)
    assert (dev_null.purpose, sql.purpose) == ("kid-dev-null", "kid-sql-injection")
    # the empty key of /dev/null: PyJWT refuses to sign or verify it, so check by hand
    empty = parse_jwt(sent_token(dev_null))
    assert empty is not None and empty.claims == CLAIMS
    assert empty.header == {"alg": "HS256", "typ": "JWT", "kid": "../" * 12 + "dev/null"}
    assert empty.signature == hmac.new(b"", empty.signing_input, hashlib.sha256).digest()
    header = jwt.get_unverified_header(sent_token(sql))
    assert header["kid"] == "x' UNION SELECT 'specdiff'--"
    with pytest.warns(jwt.InsecureKeyLengthWarning):  # 'specdiff' is short: the point
        assert jwt.decode(sent_token(sql), "specdiff", algorithms=["HS256"]) == CLAIMS
    answers = [exchange(200, {"id": 1}, request=dev_null), exchange(401, {}, request=sql)]
    [f] = probe.judge(op, c, answers)
    assert (f.rule, f.key) == ("SD215", "kid-dev-null")
    assert (
        f.message
        == "GET /me answered 200 to a JWT signed with a key of specdiff's choosing (kid-dev-null)"
    )
    # not a JWT, or a failed baseline: nothing planned
    assert list(probe.plan(op, ctx(api, "opaque-token"))) == []
    assert list(probe.plan(op, ctx(api, hs(CLAIMS), status=401))) == []


def test_sd216_hs256_with_the_public_key(api: ApiModel) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    rs_token = jwt.encode(CLAIMS, private, algorithm="RS256")
    probe, op = AlgConfusionAccepted(), operation(api, "GET /me")
    assert list(probe.plan(op, ctx(api, rs_token))) == []  # no JWKS
    assert list(probe.plan(op, ctx(api, hs(CLAIMS), jwks=(jwk,)))) == []  # not asymmetric
    c = ctx(api, rs_token, jwks=(jwk,))
    [req] = probe.plan(op, c)
    forged = parse_jwt(sent_token(req))
    assert forged is not None and forged.alg == "HS256" and forged.claims == CLAIMS
    [f] = probe.judge(op, c, [exchange(200, {"id": 1}, request=req)])
    assert f.evidence is not None and sent_token(req) not in f.evidence.request


@pytest.mark.parametrize(
    ("value", "strong"),
    [("abc123", False), ("0123456789abcdef" * 2, True), ("a" * 64, False), ("x" * 3, False)],
)
def test_entropy_estimate(value: str, strong: bool) -> None:
    assert (entropy_bits(value) >= 128) is strong


def _got_in(api: ApiModel, probe: str, purpose: str, status: int) -> ProbeContext:
    """A context where an earlier probe's variant ``purpose`` got ``status``."""
    c = ctx(api, hs(CLAIMS), jwt_secret=STRONG)
    assert c.baseline is not None
    earlier = PlannedRequest(
        "GET", "/me", auth=AuthMode.CUSTOM, probe=probe, variant=variant(purpose)
    )
    return dataclasses.replace(c, pool=(exchange(status, {"id": 1}, request=earlier),))


@pytest.mark.parametrize(
    ("probe", "purpose", "silent"),
    [
        # a made-up token got in: no token is checked, SD202 says all
        ("SD202", "random-token", {"SD203", "SD204", "SD205", "SD215"}),
        # a flipped signature got in: nothing about the signature is checked, SD204 says it
        ("SD204", "flipped-signature", {"SD205", "SD215"}),
        # a forged payload with the old signature alone does not prove the signature ignored
        ("SD204", "forged-payload", set()),
    ],
)
def test_a_weaker_attack_that_got_in_silences_the_stronger_ones(
    api: ApiModel, probe: str, purpose: str, silent: set[str]
) -> None:
    op = operation(api, "GET /me")
    rules = (UnsignedJwtAccepted, ForgedJwtAccepted, ExpiredTokenAccepted, KeyInjectionAccepted)
    said, refused = _got_in(api, probe, purpose, 200), _got_in(api, probe, purpose, 401)
    for rule in rules:
        assert list(rule().plan(op, refused)), rule.code  # refused earlier: the rule probes
        planned = list(rule().plan(op, said))
        assert (planned == []) is (rule.code in silent), rule.code
        answers = [exchange(200, {"id": 1}, request=r) for r in rule().plan(op, refused)]
        fired = list(rule().judge(op, said, answers))
        assert (fired == []) is (rule.code in silent), rule.code
