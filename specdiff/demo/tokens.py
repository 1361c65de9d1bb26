"""Bearer tokens for the demo twins: HS256 JWTs minted with PyJWT."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import jwt

from specdiff.demo.data import user_by_username

__all__ = ["MIN_HS256_KEY_BYTES", "issue_token", "tolerate_weak_key"]

MIN_HS256_KEY_BYTES = 32
"""PyJWT (2.10+) warns about HS256 keys shorter than this (RFC 7518 §3.2)."""

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


def issue_token(username: str, secret: str, *, lifetime: int = 3600) -> str:
    """An HS256 JWT for seed user ``username`` with ``sub``, ``uid``, ``iat`` and ``exp``.

    ``lifetime`` is in seconds; a negative value yields an already expired token.
    Raises ``KeyError`` for a username that is not in the seed data.
    """
    user = user_by_username(username)
    if user is None:
        raise KeyError(username)
    now = int(time.time())
    claims = {"sub": user.username, "uid": user.id, "iat": now, "exp": now + lifetime}
    if len(secret.encode()) < MIN_HS256_KEY_BYTES:
        with tolerate_weak_key():
            return jwt.encode(claims, secret, algorithm="HS256")
    return jwt.encode(claims, secret, algorithm="HS256")
