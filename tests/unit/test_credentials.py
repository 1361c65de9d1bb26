"""Credentials.covered_by: when a second identity is really identity A."""

from __future__ import annotations

import pytest

from specdiff.config import Credentials

KEY = (("X-API-Key", "key-alice"),)
A = Credentials.build(token="tok-alice", headers=KEY)


@pytest.mark.parametrize(
    ("other", "covered"),
    [
        (Credentials.build(token="tok-alice", identity="B"), True),  # A's token, without A's key
        (Credentials.build(token="tok-alice", headers=KEY, identity="B"), True),  # all of A
        (Credentials.build(token="tok-bob", identity="B"), False),
        (Credentials.build(token="tok-alice", headers=(("X-API-Key", "key-bob"),)), False),
        (Credentials.build(query=(("api_key", "key-alice"),)), False),  # elsewhere: not A's
    ],
)
def test_an_identity_made_of_a_s_credentials_is_a(other: Credentials, covered: bool) -> None:
    assert other.covered_by(A) is covered
