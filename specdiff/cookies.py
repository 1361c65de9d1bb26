"""Set-Cookie headers parsed, and cookie contents read without a key where that is possible.

A Flask/itsdangerous session cookie is ``[.]payload.timestamp.signature`` with a base64url JSON
payload (zlib-compressed when it starts with a dot): signed, not encrypted. A JWT's payload is
base64url JSON. Some apps put plain base64 JSON in a cookie. :func:`readable_content` returns the
JSON any of these hold, or None for opaque values (random session ids, encrypted blobs).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from specdiff.model import Exchange

__all__ = ["SetCookie", "readable_content", "session_like", "set_cookies"]

_MAX_INFLATED = 1_000_000
_SESSION_NAME = re.compile(
    r"(?:^|[_.-])(?:session|sess|sid|token|auth|jwt|remember|login)(?:$|[_.-]|id)|"
    r"^(?:phpsessid|jsessionid|asp\.net_sessionid|connect\.sid|laravel_session)$",
    re.I,
)
_NOT_SESSION = re.compile(r"csrf|xsrf", re.I)
"""CSRF tokens in cookies are meant to be read by the page's script (double-submit pattern)."""


@dataclass(frozen=True, slots=True)
class SetCookie:
    """One ``Set-Cookie`` header: name, value and the attributes that matter for security."""

    name: str
    value: str
    secure: bool
    http_only: bool
    same_site: str | None
    deletes: bool
    """An expiry in the past or ``Max-Age=0``: the header removes the cookie."""


def set_cookies(exchange: Exchange) -> list[SetCookie]:
    """Every ``Set-Cookie`` of the response, in order."""
    found: list[SetCookie] = []
    for header, raw in exchange.headers:
        if header.lower() != "set-cookie":
            continue
        first, *attributes = raw.split(";")
        name, sep, value = first.partition("=")
        if not sep or not name.strip():
            continue
        attrs: dict[str, str] = {}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            attrs[key.strip().lower()] = val.strip()
        value = value.strip().strip('"')
        deletes = attrs.get("max-age") == "0" or (not value and "expires" in attrs)
        found.append(
            SetCookie(
                name=name.strip(),
                value=value,
                secure="secure" in attrs,
                http_only="httponly" in attrs,
                same_site=attrs.get("samesite") or None,
                deletes=deletes,
            )
        )
    return found


def session_like(name: str) -> bool:
    """A cookie name that says it carries a session or credential."""
    return bool(_SESSION_NAME.search(name)) and not _NOT_SESSION.search(name)


def readable_content(value: str) -> Any:
    """The JSON a cookie value holds readable without any key, or None (see module docstring)."""
    value = unquote(value)
    for decode in (_jwt_payload, _itsdangerous, _plain_b64):
        content = decode(value)
        if isinstance(content, (dict, list)) and content:
            return content
    return None


def _b64(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def _json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _itsdangerous(value: str) -> Any:
    compressed = value.startswith(".")
    parts = value.lstrip(".").split(".")
    if len(parts) != 3:
        return None
    raw = _b64(parts[0])
    if raw is not None and compressed:
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(raw, _MAX_INFLATED)
        except zlib.error:
            return None
    return _json(raw)


def _jwt_payload(value: str) -> Any:
    parts = value.split(".")
    if len(parts) != 3:
        return None
    header = _json(_b64(parts[0]))
    if not isinstance(header, dict) or "alg" not in header:
        return None
    return _json(_b64(parts[1]))


def _plain_b64(value: str) -> Any:
    if len(value) < 8 or not re.fullmatch(r"[A-Za-z0-9+/_-]+=*", value):
        return None
    raw = _b64(value.replace("+", "-").replace("/", "_"))
    return _json(raw)
