"""Bearer tokens for the demo twins: JWTs minted with PyJWT.

By default HS256 with the twin's secret; in RS256 mode (``serve_twin(..., jwt_alg="RS256")``)
signed with an RSA key made for the run, whose public half the twins publish as a JWKS.
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from specdiff.demo.data import user_by_username

__all__ = [
    "KID",
    "MIN_HS256_KEY_BYTES",
    "SCOPES",
    "JwtAlg",
    "SigningKey",
    "issue_api_key",
    "issue_token",
    "jwks",
    "rsa_key",
    "tolerate_weak_key",
]

JwtAlg = Literal["HS256", "RS256"]
SigningKey = str | rsa.RSAPrivateKey
"""An HS256 secret, or the RSA private key of RS256 mode."""

KID = "demo-1"
"""The ``kid`` of the RS256 key, in tokens and in the JWKS."""

MIN_HS256_KEY_BYTES = 32
"""PyJWT (2.10+) warns about HS256 keys shorter than this (RFC 7518 §3.2)."""

SCOPES: dict[str, str] = {"alice": "orders admin", "bob": "orders"}
"""The OAuth2 scopes (``scope`` claim) of each seed user: bob lacks ``admin``."""

# ``warnings.catch_warnings`` swaps process-global state; the twins serve from several threads,
# so weak-key blocks are serialised to keep one block from restoring another's filters.
_WARNINGS_LOCK = threading.Lock()


@contextmanager
def tolerate_weak_key() -> Iterator[None]:
    """Silence PyJWT's ``InsecureKeyLengthWarning``, and only it, inside the block.

    Only for the vulnerable twin's deliberately weak secret: the weakness is the point.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)
        yield


def issue_api_key() -> str:
    """A partner API key (the ``partnerKey`` scheme's ``X-API-Key``): one per twin run."""
    return secrets.token_urlsafe(32)


def rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key: one per twin run in RS256 mode."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key: rsa.RSAPrivateKey | None) -> dict[str, Any]:
    """The JWK set verifying the tokens ``key`` signs; no keys for HS256 (its secret is secret)."""
    if key is None:
        return {"keys": []}
    public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}


def issue_token(
    username: str,
    secret: SigningKey,
    *,
    lifetime: int = 3600,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A JWT for seed user ``username`` with ``sub``, ``uid``, ``scope``, ``iat``, ``exp``
    (and the ``extra`` claims): HS256 with a ``secret`` string, RS256 with an RSA key.

    ``lifetime`` is in seconds; a negative value yields an already expired token.
    Raises ``KeyError`` for a username that is not in the seed data.
    """
    user = user_by_username(username)
    if user is None:
        raise KeyError(username)
    now = int(time.time())
    claims = {
        "sub": user.username,
        "uid": user.id,
        "scope": SCOPES.get(username, ""),
        "iat": now,
        "exp": now + lifetime,
        **(extra or {}),
    }
    if not isinstance(secret, str):
        return jwt.encode(claims, secret, algorithm="RS256", headers={"kid": KID})
    if len(secret.encode()) < MIN_HS256_KEY_BYTES:
        with tolerate_weak_key():
            return jwt.encode(claims, secret, algorithm="HS256")
    return jwt.encode(claims, secret, algorithm="HS256")
