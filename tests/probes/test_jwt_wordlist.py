"""SD206 against the shipped wordlist: every HMAC size, every part of the list, the user's own
``--jwt-secret``, and the list itself (sources, size, no empty or repeated secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from pathlib import Path

import jwt
import pytest

from probes.jwt_tokens import WeakJwtSecret
from specdiff.config import AuthMaterial, Credentials
from specdiff.jwtkit import WORDLIST, in_wordlist, parse_jwt, weak_secret, weak_secrets
from specdiff.model import ApiModel
from specdiff.probe import ProbeOptions
from tests.builders import api_of, minimal_doc, ok_json

CLAIMS = {"sub": "alice", "uid": 1}
STRONG = "Vq1xG0s4cS8b2m9RkP3wz7LhT6eYn5Da"  # 32 random characters, in no list
FLASK_ONLY = "SuperSecret"  # Flask-Unsign-Wordlist, not in the top list
DOC = minimal_doc(
    {"/me": {"get": {"responses": ok_json({"type": "object"})}}},
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)


def signed(secret: str, alg: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)  # weak on purpose
        return jwt.encode(CLAIMS, secret, algorithm=alg)


def hand_signed(secret: bytes, alg: str = "HS256") -> str:
    """PyJWT refuses some keys (an empty one); HMAC by hand signs with any."""
    part = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).rstrip(b"=").decode()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.digest(secret, f"{part}.{body}".encode(), digest)
    return f"{part}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiModel:
    return api_of(tmp_path_factory.mktemp("wordlist"), DOC)


def options(token: str | None = None, jwt_secret: str | None = None) -> ProbeOptions:
    creds = Credentials.build(token=token) if token else Credentials()
    return ProbeOptions(
        has_credentials=bool(token), auth=AuthMaterial(credentials=creds, jwt_secret=jwt_secret)
    )


def test_the_list_is_large_clean_and_documented() -> None:
    secrets = weak_secrets()
    assert len(secrets) == 52_731
    assert len(set(secrets)) == len(secrets)
    assert all(s and b"\n" not in s for s in secrets)
    # the most common first, their case variants after the top list, Flask-Unsign's keys after
    assert secrets[:2] == (b"your_jwt_secret_key", b"your-256-bit-secret")
    order = {s: i for i, s in enumerate(secrets)}
    assert order[b"YOUR_JWT_SECRET_KEY"] < order[FLASK_ONLY.encode()]
    notice = WORDLIST.with_name("NOTICE.md").read_text(encoding="utf-8")
    assert notice.count("MIT License") == 2 and "Flask-Unsign-Wordlist 2024.1" in notice


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize(
    "secret",
    [
        "your_jwt_secret_key",  # the top list
        "Your_jwt_secret_key",  # a case variant of it
        "JWTs are the best!",  # SecLists' JWT secrets
        FLASK_ONLY,  # Flask-Unsign-Wordlist
        "random",
    ],
)
def test_a_listed_secret_is_found_for_every_hmac_size(secret: str, alg: str) -> None:
    token = parse_jwt(signed(secret, alg))
    assert token is not None and weak_secret(token) == secret


def test_the_last_secret_of_the_list_is_found_too() -> None:
    last = weak_secrets()[-1]
    token = parse_jwt(hand_signed(last, "HS512"))
    assert token is not None and weak_secret(token) == last.decode()


@pytest.mark.parametrize(
    "token",
    [
        signed(STRONG),
        signed("your_jwt_secret_key!"),  # near a listed secret is not a listed secret
        jwt.encode(CLAIMS, None, algorithm="none"),
    ],
)
def test_nothing_found_off_the_list_or_without_hmac(token: str) -> None:
    parsed = parse_jwt(token)
    assert parsed is not None and weak_secret(parsed) is None


def test_sd206_fires_on_the_token_and_never_shows_the_secret(api: ApiModel) -> None:
    [f] = WeakJwtSecret().check_credentials(api, options(signed(FLASK_ONLY, "HS384")))
    assert (f.rule, f.key) == ("SD206", "")
    assert f.message == (
        "the user's HS384 JWT verifies with a publicly known secret (11 characters, in "
        "specdiff's wordlist of JWT secrets)"
    )
    assert FLASK_ONLY not in f.message + str(f.evidence)


def test_sd206_reports_a_listed_jwt_secret_the_user_passed(api: ApiModel) -> None:
    probe = WeakJwtSecret()
    # an opaque token, or none at all: the secret itself is the finding
    for token in ("opaque-token", None):
        [f] = probe.check_credentials(api, options(token, jwt_secret="changeme"))
        assert (f.rule, f.key) == ("SD206", "--jwt-secret")
        assert "changeme" not in f.message + str(f.evidence)
    # the token already showed that secret: one finding, not two
    both = options(signed("changeme"), jwt_secret="changeme")
    assert [f.key for f in probe.check_credentials(api, both)] == [""]
    # a strong secret, passed and used: nothing
    assert list(probe.check_credentials(api, options(signed(STRONG), jwt_secret=STRONG))) == []
    assert in_wordlist("changeme") and not in_wordlist(STRONG)


def test_the_wordlist_ships_as_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"wordlists/*.gz"' in pyproject
    assert WORDLIST.name == "jwt-secrets.txt.gz" and WORDLIST.stat().st_size < 1_000_000
