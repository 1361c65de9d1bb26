"""Bearer tokens for the demo twins: HS256 JWTs minted with PyJWT."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import jwt

from specdiff.demo.data import user_by_username

__all__ = ["MIN_HS256_KEY_BYTES", "SCOPES", "issue_token", "tolerate_weak_key"]

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


def issue_token(
    username: str,
    secret: str,
    *,
    lifetime: int = 3600,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 JWT for seed user ``username`` with ``sub``, ``uid``, ``scope``, ``iat``, ``exp``
    (and the ``extra`` claims).

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
    if len(secret.encode()) < MIN_HS256_KEY_BYTES:
        with tolerate_weak_key():
            return jwt.encode(claims, secret, algorithm="HS256")
    return jwt.encode(claims, secret, algorithm="HS256")
