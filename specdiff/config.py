"""The frozen configuration of one scan, and the credentials it carries.

The CLI (and later config files and the pytest plugin) build a :class:`ScanConfig`; nothing
after this point reads options from anywhere else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from specdiff.errors import ConfigError
from specdiff.model import Severity
from specdiff.redact import Redactor

__all__ = [
    "Credentials",
    "ScanConfig",
    "derive_http_url",
    "is_loopback",
    "parse_header",
    "parse_pair",
    "parse_shard",
]


@dataclass(frozen=True, slots=True)
class Credentials:
    """The user's identity: headers and query parameters the runner attaches."""

    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    env_names: tuple[tuple[str, str], ...] = ()
    """(secret value, environment variable) pairs for redaction and curl lines."""

    def __bool__(self) -> bool:
        return bool(self.headers or self.query)

    @classmethod
    def build(
        cls,
        *,
        token: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        query: tuple[tuple[str, str], ...] = (),
    ) -> Credentials:
        all_headers = list(headers)
        env: list[tuple[str, str]] = []
        if token:
            all_headers.append(("Authorization", f"Bearer {token}"))
            env.append((token, "SPECDIFF_TOKEN"))
        for name, value in headers:
            env.append((value, "SPECDIFF_HEADER_" + _env_suffix(name)))
        for name, value in query:
            env.append((value, "SPECDIFF_QUERY_" + _env_suffix(name)))
        return cls(tuple(all_headers), tuple(query), tuple(env))

    def redactor(self) -> Redactor:
        return Redactor(self.env_names)


def _env_suffix(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """Everything one ``specdiff check`` needs."""

    spec: str
    base_url: str | None = None
    http_url: str | None = None
    """The plain-HTTP twin; derived from ``base_url`` when None (same host, http, port 80)."""
    credentials: Credentials = field(default_factory=Credentials)
    params: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    insecure: bool = False
    unsafe: bool = False
    concurrency: int = 8
    timeout: float = 10.0
    max_requests: int = 5000
    max_body_bytes: int = 2_000_000
    fail_on: Severity | None = Severity.HIGH
    """Exit 1 for a finding at or above this severity; None never fails."""
    allow_remote_refs: bool = False
    debug: bool = False
    max_duration: float | None = None
    """Seconds for the whole run; after it nothing more is sent (None: no limit)."""
    shard: tuple[int, int] | None = None
    """(i, n): check only the operations of shard i of n (1-based), see :mod:`specdiff.shard`."""

    def __post_init__(self) -> None:
        if self.base_url is not None:
            _check_url(self.base_url, "--base-url")
        if self.http_url is not None:
            _check_url(self.http_url, "--http-url")
            if urlsplit(self.http_url).scheme != "http":
                raise ConfigError(f"--http-url must be an http:// URL, not {self.http_url!r}")
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("--timeout must be positive")
        if self.max_requests < 1:
            raise ConfigError("--max-requests must be at least 1")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ConfigError("--max-duration must be positive")
        if self.shard is not None and not 1 <= self.shard[0] <= self.shard[1]:
            raise ConfigError(f"--shard must be i/n with 1 <= i <= n, got {self.shard}")

    @property
    def effective_http_url(self) -> str | None:
        """The HTTP twin to probe for SD101, or None when the base URL is itself plain HTTP."""
        if self.http_url:
            return self.http_url
        if self.base_url:
            return derive_http_url(self.base_url)
        return None


def _check_url(url: str, option: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{option} must be an absolute http(s) URL, not {url!r}")


def derive_http_url(base_url: str) -> str | None:
    """``https://host:8443/v1`` -> ``http://host/v1`` (port 80); None for an http base URL."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return urlunsplit(("http", host, parts.path, "", ""))


def is_loopback(url: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 URLs: traffic that never leaves the machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` -> (name, value); ConfigError otherwise."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise ConfigError(f"header must look like 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def parse_pair(text: str, option: str) -> tuple[str, str]:
    """``'name=value'`` -> (name, value); ConfigError otherwise."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ConfigError(f"{option} must look like 'name=value', got {text!r}")
    return name, value


def parse_shard(text: str) -> tuple[int, int]:
    """``'2/4'`` -> (2, 4): shard 2 of 4, 1-based; ConfigError otherwise."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = 0, 0
    if not sep or not 1 <= i <= n:
        raise ConfigError(f"--shard must look like 'i/n' with 1 <= i <= n, got {text!r}")
    return i, n
