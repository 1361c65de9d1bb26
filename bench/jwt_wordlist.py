"""SD206's offline check against the shipped wordlist: how long the worst cases take.

Usage: .venv/bin/python bench/jwt_wordlist.py

Times, for HS256, HS384 and HS512 tokens: loading the wordlist (once per process, gzip and
split), then :func:`specdiff.jwtkit.weak_secret` on a token whose secret is the LAST entry of
the list (every secret tried) and on one whose secret is in no list (every secret tried, nothing
found). Each check is the best of 5 runs, wall clock and CPU time, so that a busy machine shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from specdiff.jwtkit import Jwt, parse_jwt, weak_secret, weak_secrets  # noqa: E402

_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def token(secret: bytes, alg: str) -> Jwt:
    """A token signed with ``secret`` (by hand: PyJWT warns about short keys)."""

    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': alg, 'typ': 'JWT'})}.{part({'sub': 'alice', 'uid': 1})}"
    signature = hmac.digest(secret, signing_input.encode(), _DIGESTS[alg])
    parsed = parse_jwt(f"{signing_input}.{base64.urlsafe_b64encode(signature).decode()}")
    assert parsed is not None
    return parsed


def best_of(runs: int, call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the fastest of ``runs`` calls."""
    timings = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(timings)


def main() -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    wordlist = weak_secrets()
    loaded = (time.perf_counter() - wall, time.process_time() - cpu)
    print(
        f"wordlist: {len(wordlist)} secrets, loaded in {loaded[0] * 1000:.0f} ms wall "
        f"({loaded[1] * 1000:.0f} ms CPU), once per process"
    )
    last = wordlist[-1]
    absent = secrets.token_urlsafe(32).encode()
    for alg in _DIGESTS:
        for label, secret, expected in (
            ("secret last in the list", last, last.decode()),
            ("secret in no list      ", absent, None),
        ):
            jwt = token(secret, alg)
            assert weak_secret(jwt) == expected
            took = best_of(5, lambda jwt=jwt: weak_secret(jwt))
            print(f"{alg} {label}: {took[0] * 1000:6.1f} ms wall ({took[1] * 1000:6.1f} ms CPU)")


if __name__ == "__main__":
    main()
