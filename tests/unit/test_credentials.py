"""Credentials: when a second identity is really identity A; credentials set but empty."""

from __future__ import annotations

import pytest

from specdiff.config import Credentials, secret_option
from specdiff.errors import ConfigError

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


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        (None, {}, None),  # not given at all: an anonymous check is allowed
        ("t0k", {}, "t0k"),
        ("t0k", {"SPECDIFF_TOKEN": ""}, "t0k"),  # the option wins over an empty variable
        (None, {"SPECDIFF_TOKEN": ""}, "SPECDIFF_TOKEN is set but empty"),
        (" ", {"SPECDIFF_TOKEN": " "}, "SPECDIFF_TOKEN is set but empty"),  # click passed it on
        ("", {}, "--token is empty"),
        ("\t", {"SPECDIFF_TOKEN": "x"}, "--token is empty"),
    ],
)
def test_secret_option_set_but_empty_is_an_error(
    value: str | None, env: dict[str, str], expected: str | None
) -> None:
    if expected is None or not expected.endswith("empty"):
        assert secret_option(value, "--token", "SPECDIFF_TOKEN", env) == expected
        return
    with pytest.raises(ConfigError, match=expected):
        secret_option(value, "--token", "SPECDIFF_TOKEN", env)
