"""The frozen configuration of one scan, and the credentials it carries.

The CLI (and later config files and the pytest plugin) build a :class:`ScanConfig`; nothing
after this point reads options from anywhere else.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from specdiff.errors import ConfigError
from specdiff.model import Severity
from specdiff.redact import Redactor
from specdiff.suppress import Identity, Suppress

__all__ = [
    "AuthMaterial",
    "Credentials",
    "LoginStep",
    "ScanConfig",
    "derive_http_url",
    "is_loopback",
    "load_jwks",
    "origin",
    "parse_header",
    "parse_jwks",
    "parse_login",
    "parse_pair",
    "parse_path_list",
    "parse_shard",
    "request_budget",
    "secret_option",
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
        identity: str = "",
    ) -> Credentials:
        """``identity`` (``"B"``, ``"LOW"``) names the variables: ``SPECDIFF_TOKEN_B``."""
        tag = f"_{identity.upper()}" if identity else ""
        all_headers = list(headers)
        env: list[tuple[str, str]] = []
        if token:
            all_headers.append(("Authorization", f"Bearer {token}"))
            env.append((token, "SPECDIFF_TOKEN" + tag))
        for name, value in headers:
            env.append((value, f"SPECDIFF_HEADER{tag}_" + _env_suffix(name)))
        for name, value in query:
            env.append((value, f"SPECDIFF_QUERY{tag}_" + _env_suffix(name)))
        return cls(tuple(all_headers), tuple(query), tuple(env))

    @property
    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if that is how it travels."""
        for name, value in self.headers:
            scheme, _, token = value.partition(" ")
            if name.lower() == "authorization" and scheme.lower() == "bearer" and token.strip():
                return token.strip()
        return None

    def covered_by(self, other: Credentials) -> bool:
        """Every header and query credential of this identity is also one of ``other``'s: it
        is ``other`` (or a part of it), and proves nothing about authorization between them.
        E.g. ``--token-b`` equal to ``--token`` while identity A also carries an API key."""
        return set(self.headers + self.query) <= set(other.headers + other.query)

    def redactor(self) -> Redactor:
        return Redactor(self.env_names)


def _env_suffix(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


@dataclass(frozen=True, slots=True)
class LoginStep:
    """``--login 'POST /auth/login' --login-body @creds.json --token-path $.access_token``.

    The runner sends it before the baselines and again when identity A's token is refused
    mid-run; the token found at ``token_path`` becomes A's bearer token.
    """

    method: str
    path: str
    body: bytes
    token_path: tuple[str, ...]
    """``$.data.access_token`` as ``("data", "access_token")``."""
    content_type: str = "application/json"

    def secrets(self) -> tuple[str, ...]:
        """String values of a JSON login body (the password): redacted everywhere."""
        try:
            doc = json.loads(self.body)
        except ValueError:
            return (self.body.decode("utf-8", "replace"),)
        return tuple(v for v in _strings(doc) if len(v) >= 4)

    def token_in(self, body: Any) -> str | None:
        """The token at ``token_path`` in a parsed response body, when it is a string."""
        for part in self.token_path:
            if not isinstance(body, dict):
                return None
            body = body.get(part)
        return body if isinstance(body, str) and body else None


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


_OPERATION_KEY = re.compile(r"^(GET|HEAD|OPTIONS|TRACE|POST|PUT|PATCH|DELETE) /\S*$")
_LOGIN = re.compile(r"^(POST|PUT|GET)\s+(/\S*)$", re.IGNORECASE)
_TOKEN_PATH = re.compile(r"^\$(\.[A-Za-z0-9_\-]+)+$")


def parse_login(operation: str, body: str | None, token_path: str) -> LoginStep:
    """Build a :class:`LoginStep`; ``body`` is inline JSON or ``@file``."""
    match = _LOGIN.match(operation.strip())
    if not match:
        raise ConfigError(f"--login must look like 'POST /auth/login', got {operation!r}")
    if not _TOKEN_PATH.match(token_path):
        raise ConfigError(f"--token-path must look like '$.access_token', got {token_path!r}")
    raw = body or ""
    if raw.startswith("@"):
        try:
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--login-body {raw}: {exc.strerror or exc}") from None
    if raw.strip():
        try:
            json.loads(raw)
        except ValueError as exc:
            where = body if body and body.startswith("@") else "inline"
            raise ConfigError(f"--login-body ({where}) is not JSON: {exc}") from None
    return LoginStep(
        method=match.group(1).upper(),
        path=match.group(2),
        body=raw.encode(),
        token_path=tuple(token_path[2:].split(".")),
    )


def load_jwks(path: str) -> tuple[dict[str, Any], ...]:
    """The keys of a JWKS file (``{"keys": [...]}``) or of a single JWK."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--jwks {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"--jwks {path}: not JSON ({exc})") from None
    keys = parse_jwks(doc)
    if keys is None:
        raise ConfigError(f"--jwks {path}: expected a JWK set {{'keys': [...]}} or one JWK")
    return keys


def parse_jwks(doc: Any) -> tuple[dict[str, Any], ...] | None:
    """The keys of a parsed JWK set (``{"keys": [...]}``) or single JWK; None when it is neither."""
    keys = doc.get("keys", [doc]) if isinstance(doc, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) and "kty" in k for k in keys):
        return None
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class AuthMaterial:
    """Credential material the auth probes read (in memory only; reports are redacted)."""

    credentials: Credentials = field(default_factory=Credentials)
    """Identity A, as the runner attaches it (after a login step, the obtained token)."""
    credentials_low: Credentials = field(default_factory=Credentials)
    jwt_secret: str | None = None
    expired_token: str | None = None
    jwks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """Everything one ``specdiff check`` needs."""

    spec: str
    base_url: str | None = None
    http_url: str | None = None
    """The plain-HTTP twin; derived from ``base_url`` when None (same host, http, port 80)."""
    credentials: Credentials = field(default_factory=Credentials)
    credentials_b: Credentials = field(default_factory=Credentials)
    """Identity B (``--token-b``/``--header-b``) for SD212."""
    credentials_low: Credentials = field(default_factory=Credentials)
    """A low-privilege identity (``--token-low``/``--header-low``) for SD211."""
    jwt_secret: str | None = None
    expired_token: str | None = None
    jwks: tuple[dict[str, Any], ...] = ()
    login: LoginStep | None = None
    params: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    insecure: bool = False
    unsafe: bool = False
    concurrency: int = 8
    timeout: float = 10.0
    max_requests: int | None = None
    """The request budget; None: :func:`request_budget` sizes it to the document."""
    max_body_bytes: int = 2_000_000
    fail_on: Severity | None = Severity.HIGH
    """Exit 1 for a finding at or above this severity; None never fails."""
    allow_remote_refs: bool = False
    debug: bool = False
    suppress: tuple[Suppress, ...] = ()
    """Config-file suppressions (rule, reason, optional method/path/key)."""
    baseline: frozenset[Identity] = frozenset()
    """Identities of accepted findings (``--baseline``): reported, marked, not failing."""
    min_score: int | None = None
    """Exit 1 when the risk score is below this (``--min-score``), besides ``fail_on``."""
    extra_paths: tuple[str, ...] = ()
    """``--extra-paths``: well-known paths to try beyond the built-in list (SD407)."""
    max_duration: float | None = None
    """Seconds for the probing phase (it starts after loading); then nothing more is sent."""
    shard: tuple[int, int] | None = None
    """(i, n): check only the operations of shard i of n (1-based), see :mod:`specdiff.shard`."""
    har: str | None = None
    """``--har FILE``: write every exchange of the run there as HAR 1.2, redacted."""
    allow_incomplete: bool = False
    """``--allow-incomplete``: an incomplete run exits by its findings, not with 3."""
    min_coverage: float | None = None
    """``--min-coverage PCT``: the run counts as complete when at least PCT % of the operations
    the mode covers were judged (default: all of them)."""
    include_ops: tuple[str, ...] = ()
    """``--include-op 'METHOD /path'``: destructive-looking operations to probe anyway."""

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
        if self.max_requests is not None and self.max_requests < 1:
            raise ConfigError("--max-requests must be at least 1")
        if self.min_score is not None and not 0 <= self.min_score <= 100:
            raise ConfigError("--min-score must be between 0 and 100")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ConfigError("--max-duration must be positive")
        if self.shard is not None and not 1 <= self.shard[0] <= self.shard[1]:
            raise ConfigError(f"--shard must be i/n with 1 <= i <= n, got {self.shard}")
        if self.min_coverage is not None and not 0 <= self.min_coverage <= 100:
            raise ConfigError("--min-coverage must be between 0 and 100")
        for key in self.include_ops:
            if not _OPERATION_KEY.match(key):
                raise ConfigError(f"--include-op must look like 'GET /admin/reset', got {key!r}")

    def redactor(self) -> Redactor:
        """Every secret of the run: all identities, the JWT secret, the expired token, the
        login body's values."""
        secrets = [
            *self.credentials.env_names,
            *self.credentials_b.env_names,
            *self.credentials_low.env_names,
        ]
        if self.jwt_secret:
            secrets.append((self.jwt_secret, "SPECDIFF_JWT_SECRET"))
        if self.expired_token:
            secrets.append((self.expired_token, "SPECDIFF_EXPIRED_TOKEN"))
        if self.login is not None:
            secrets += [(value, "SPECDIFF_LOGIN_SECRET") for value in self.login.secrets()]
        return Redactor(secrets)

    @property
    def effective_http_url(self) -> str | None:
        """The HTTP twin to probe for SD101, or None when the base URL is itself plain HTTP."""
        if self.http_url:
            return self.http_url
        if self.base_url:
            return derive_http_url(self.base_url)
        return None


BUDGET_PER_OPERATION = 25
"""Requests the default budget allows per checked operation: a plan stays well under it
(about 7 on GitHub's description, 14 on the demo), so only a run that runs away reaches it."""
BUDGET_FLOOR = 5000
"""The default budget of a small document: its host-wide probes and retries fit too."""


def request_budget(config: ScanConfig, operations: int) -> int:
    """``--max-requests``, or by default 25 per operation checked and at least 5,000: a fixed
    5,000 ended GitHub's 1,223-operation description incomplete (its plan is 9,000 requests)."""
    if config.max_requests is not None:
        return config.max_requests
    return max(BUDGET_FLOOR, BUDGET_PER_OPERATION * operations)


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


def origin(url: str) -> str:
    """``https://host:8443/v1/x?y`` -> ``https://host:8443``: the key of host-wide findings."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback(url: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 URLs: traffic that never leaves the machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_option(
    value: str | None, option: str, variable: str | None = None, env: Mapping[str, str] = os.environ
) -> str | None:
    """A credential option's value, None when it was not given at all.

    Set but empty is an error (exit 2), not an anonymous run: a CI secret that is missing on a
    fork's pull request arrives as an empty variable, and a gate that then checks nothing must
    not pass. ``variable`` is the option's environment variable, blamed when it was the source.
    """
    from_env = (
        variable is not None and variable in env and (value is None or value == env[variable])
    )
    if from_env and variable is not None and not env[variable].strip():
        raise ConfigError(
            f"{variable} is set but empty (a CI secret this job cannot see?): give it a value, "
            "or unset it to check without that credential"
        )
    if value is not None and not value.strip():
        raise ConfigError(f"{option} is empty: give the credential, or leave {option} out")
    return value


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


def parse_path_list(text: str, source: str) -> tuple[str, ...]:
    """Paths one per line, ``#`` comments and blank lines ignored; ConfigError for a non-path."""
    paths: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        path = line.split("#", 1)[0].strip()
        if not path:
            continue
        if not path.startswith("/") or any(c.isspace() for c in path):
            raise ConfigError(f"{source}:{number}: expected a path starting with '/', got {path!r}")
        if path not in paths:
            paths.append(path)
    return tuple(paths)


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
