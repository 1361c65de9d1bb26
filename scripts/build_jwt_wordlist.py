"""Build ``specdiff/wordlists/jwt-secrets.txt.gz``, the wordlist of SD206 (see NOTICE.md there).

    python -m venv /tmp/wl && /tmp/wl/bin/pip install flask-unsign-wordlist==2024.1
    .venv/bin/python scripts/build_jwt_wordlist.py \\
        "$(/tmp/wl/bin/python -c 'import flask_unsign_wordlist as w; print(w.get("all"))')"

The output is deterministic (sorted sources, gzip without a timestamp): rebuilding from the same
inputs gives the same bytes. Order: the top list (``jwt-secrets-top.txt``), then its case
variants, then every secret of Flask-Unsign-Wordlist's ``all.txt`` in its own order; duplicates,
empty values and values spanning lines are dropped.
"""

from __future__ import annotations

import ast
import gzip
import io
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "specdiff" / "wordlists"
TOP = HERE / "jwt-secrets-top.txt"
OUT = HERE / "jwt-secrets.txt.gz"


def top_entries(text: str) -> list[str]:
    """The top list's secrets: every line but blank ones and comments (``#`` or ``# ...``)."""
    return [line for line in text.split("\n") if line and line != "#" and not line.startswith("# ")]


def case_variants(secret: str) -> Iterator[str]:
    """lower, UPPER and Capitalised forms of ``secret`` (as a person retypes a default)."""
    yield secret.lower()
    yield secret.upper()
    yield secret[:1].upper() + secret[1:]


def flask_unsign_entries(text: str) -> Iterator[str]:
    """Flask-Unsign-Wordlist writes each secret as a Python string literal, one per line."""
    for line in text.splitlines():
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, str):
            yield value


def merged(groups: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for secret in group:
            if secret and "\n" not in secret and "\r" not in secret:
                seen.setdefault(secret, None)
    return list(seen)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    top = top_entries(TOP.read_text(encoding="utf-8"))
    variants = [v for secret in top for v in case_variants(secret)]
    flask = flask_unsign_entries(Path(argv[1]).read_text(encoding="utf-8"))
    secrets = merged([top, variants, flask])
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(("\n".join(secrets) + "\n").encode("utf-8"))
    OUT.write_bytes(buffer.getvalue())
    print(f"{OUT.name}: {len(secrets)} secrets ({len(top)} top, {OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
