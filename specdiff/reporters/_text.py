"""Text helpers shared by every reporter: control characters made visible.

Server-controlled strings may carry ANSI sequences, NULs, bidirectional overrides ("Trojan
Source") and other controls; every human-facing format shows them as visible escapes.
"""

from __future__ import annotations

import re

__all__ = ["sanitize"]

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
