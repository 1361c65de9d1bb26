"""Redaction: specdiff must not leak what it guards.

Every credential value the user supplied (CLI, environment, config) is registered with the
:class:`Redactor` together with the environment variable that may carry it. Reports are redacted
once, when they are built: every text field replaces a secret with ``[REDACTED]``, and curl lines
replace it with ``${VARIABLE}`` so the command still reproduces the request.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from specdiff.model import Evidence, Finding

__all__ = ["MASK", "Redactor", "mask_value"]

MASK = "[REDACTED]"
_MIN_SECRET_LENGTH = 4
_SCHEME_WORD = re.compile(r"^(bearer|basic|token|digest|apikey)\s+", re.IGNORECASE)


class Redactor:
    """Knows the secrets of one run and scrubs them from text."""

    def __init__(self, secrets: Iterable[tuple[str, str]] = ()) -> None:
        """``secrets``: (value, environment variable name) pairs."""
        self._env: dict[str, str] = {}
        for value, env in secrets:
            self.add(value, env)

    def add(self, value: str, env: str) -> None:
        """Register ``value`` and the forms it travels in (without scheme word, encoded)."""
        forms = {value}
        bare = _SCHEME_WORD.sub("", value)
        forms.add(bare)
        if value.lower().startswith("basic "):
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                forms.add(base64.b64decode(bare, validate=True).decode())
        forms |= {quote(f, safe="") for f in list(forms)} | {quote_plus(f) for f in list(forms)}
        for form in forms:
            if len(form) >= _MIN_SECRET_LENGTH:
                # the full value (with scheme word) maps to the variable of the whole value
                self._env.setdefault(form, env)
        self._pattern = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._env)

    def _regex(self) -> re.Pattern[str] | None:
        if not self._env:
            return None
        # longest first, so "Bearer abc" wins over "abc"
        alternatives = sorted(self._env, key=len, reverse=True)
        return re.compile("|".join(re.escape(a) for a in alternatives))

    _pattern: re.Pattern[str] | None = None

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``[REDACTED]``."""
        pattern = self._pattern or self._regex()
        self._pattern = pattern
        return pattern.sub(MASK, text) if pattern and text else text

    def redact_curl(self, curl: str) -> str:
        """A curl line with secrets replaced by ``${VAR}`` (inside the double-quoted headers)."""
        pattern = self._pattern or self._regex()
        self._pattern = pattern
        if not pattern or not curl:
            return curl
        escaped = {_dq_escape(k): v for k, v in self._env.items()}
        variables = {**self._env, **escaped}
        alternatives = sorted(variables, key=len, reverse=True)
        combined = re.compile("|".join(re.escape(a) for a in alternatives))
        return combined.sub(lambda m: "${" + variables[m.group(0)] + "}", curl)

    def finding(self, finding: Finding) -> Finding:
        """``finding`` with every text field redacted."""
        ev = finding.evidence
        if ev is not None:
            ev = Evidence(
                request=self.redact(ev.request),
                status=ev.status,
                snippet=self.redact(ev.snippet),
                curl=self.redact(self.redact_curl(ev.curl)),
            )
        return dataclasses.replace(
            finding,
            message=self.redact(finding.message),
            key=self.redact(finding.key),
            evidence=ev,
        )


def _dq_escape(text: str) -> str:
    return re.sub(r'([\\"`$])', r"\\\1", text)


def mask_value(value: object) -> str:
    """A leaked value shown safely: its type and length, with at most its edges for long ones.

    Evidence must prove a leak without repeating it into CI logs.
    """
    if isinstance(value, str):
        if len(value) <= 8:
            return f"<string, {len(value)} chars>"
        return f"{value[:2]}{'*' * 6}{value[-2:]} ({len(value)} chars)"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        text = str(value)
        return f"<number, {len(text)} digits>"
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>"
    if isinstance(value, list):
        return f"<array of {len(value)}>"
    return f"<{type(value).__name__}>"
