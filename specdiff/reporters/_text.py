"""Text helpers shared by every reporter: control characters made visible.

Server-controlled strings may carry ANSI sequences, NULs, bidirectional overrides ("Trojan
Source") and other controls; every human-facing format shows them as visible escapes.
"""

from __future__ import annotations

import re

__all__ = ["sanitize", "shorten", "squeeze"]

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI), the
# line/paragraph separators and the bidirectional marks and overrides ("Trojan Source").
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_MULTILINE = re.compile(f"[{_CONTROL}]")
_UNSAFE_ONE_LINE = re.compile(f"[\t\n{_CONTROL}]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as a visible escape (ESC becomes ``\\x1b``).

    ANSI sequences are thereby defused: ``"\\x1b[31m"`` prints as the literal text
    ``\\x1b[31m``. Newlines and tabs are escaped too unless ``multiline`` is true; then CRLF is
    folded to LF and a lone CR is escaped (it would move the cursor back over the line).
    """
    if multiline:
        return _UNSAFE_MULTILINE.sub(_escape_char, text.replace("\r\n", "\n"))
    return _UNSAFE_ONE_LINE.sub(_escape_char, text)


_REPEATED = re.compile(r"(\S)\1{31,}")
"""One visible character 32 times or more in a row: an overlong input, shown as its count."""


def squeeze(text: str) -> str:
    """Long runs of one character shown as ``"a" × 4096``: the value, not its bytes."""
    return _REPEATED.sub(lambda m: f'"{m.group(1)}" × {len(m.group(0))}', text)


def shorten(text: str, limit: int, *, max_lines: int = 0, whole: str = "") -> str:
    """``text`` squeezed, then cut to ``limit`` characters (and ``max_lines`` lines when set)
    with a marker saying how much was left out and, with ``whole``, where to see all of it."""
    squeezed = squeeze(text)
    short = squeezed
    lines = short.split("\n")
    if max_lines and len(lines) > max_lines:
        short = "\n".join(lines[:max_lines])
    if len(short) > limit:
        short = short[:limit]
    if short == squeezed:
        return short
    where = f"; whole: {whole}" if whole else ""
    return f"{short.rstrip()} … [+{len(squeezed) - len(short):,} chars{where}]"
