"""The vulnerable twin's signing keys in an SQL table, looked up by a token's ``kid``.

Key rotation done carelessly: the ``kid`` header of an incoming token (attacker-controlled, and
read before the signature is checked) is formatted into the query, so a ``kid`` of
``x' UNION SELECT 'specdiff'--`` makes the attacker's own string the verification key. The
hardened twin has no such table: it verifies with its one configured secret and ignores ``kid``.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

__all__ = ["signing_key_formatted"]


def signing_key_formatted(kid: str, keys: dict[str, str]) -> str | None:
    """The secret stored under ``kid`` in a table of ``keys`` (kid -> secret), found by a query
    built by string formatting (injectable); None when no row (or no valid SQL) matches."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, secret TEXT)")
        db.executemany("INSERT INTO signing_keys VALUES (?, ?)", keys.items())
        try:
            row = db.execute(f"SELECT secret FROM signing_keys WHERE kid = '{kid}'").fetchone()
        except sqlite3.Error:
            return None
    return row[0] if row is not None and isinstance(row[0], str) else None
