"""The server's public keys from OpenID Connect discovery, for SD216 without ``--jwks``.

When the user's token is an RS/PS/ES JWT, no ``--jwks`` was given and the document declares an
``openIdConnect`` scheme, its ``openIdConnectUrl`` (resolved against the base URL, as OpenAPI
resolves relative URLs against the server) gives the discovery document, whose ``jwks_uri``
gives the keys. Both are fetched without credentials and only from the base URL's origin: a
document naming another host is not followed. Whatever goes wrong becomes a report note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

from specdiff.config import Credentials, origin, parse_jwks
from specdiff.jwtkit import parse_jwt
from specdiff.model import ApiModel, Exchange

__all__ = ["MAX_DOCUMENT_BYTES", "discover_jwks", "discovery_urls", "jwks_uri", "wants_jwks"]

MAX_DOCUMENT_BYTES = 256 * 1024
"""A discovery document or JWKS larger than this is not read (real ones are a few KiB)."""

Fetch = Callable[[str, str], Awaitable[Exchange]]
"""(absolute URL, purpose) -> the exchange: :meth:`specdiff.runner.Runner.fetch_public`."""

_ASYMMETRIC = ("RS", "PS", "ES")


def wants_jwks(credentials: Credentials) -> bool:
    """Whether identity A's bearer token is a JWT signed with a public-key algorithm."""
    token = parse_jwt(credentials.bearer_token)
    return token is not None and token.alg[:2] in _ASYMMETRIC


def _same_origin(url: str, base_url: str) -> bool:
    return origin(url).lower() == origin(base_url).lower()


def discovery_urls(api: ApiModel, base_url: str) -> list[str]:
    """The discovery URLs of the document's ``openIdConnect`` schemes on the base URL's origin."""
    base = base_url.rstrip("/") + "/"
    urls: list[str] = []
    for scheme in api.security_schemes.values():
        if scheme.type != "openIdConnect" or not scheme.open_id_connect_url:
            continue
        url = urljoin(base, scheme.open_id_connect_url)
        if url not in urls:
            urls.append(url)
    return urls


def jwks_uri(discovery: Any, discovery_url: str) -> str | None:
    """The absolute ``jwks_uri`` of a parsed discovery document, if it names one."""
    uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
    return urljoin(discovery_url, uri) if isinstance(uri, str) and uri else None


async def _fetch_json(fetch: Fetch, url: str, purpose: str) -> tuple[Any, str | None]:
    """The parsed JSON body at ``url``, or why there is none."""
    ex = await fetch(url, purpose)
    if ex.status is None:
        return None, ex.error or "no response"
    if ex.status != 200:
        return None, f"HTTP {ex.status}"
    if ex.truncated or len(ex.body) > MAX_DOCUMENT_BYTES:
        return None, f"larger than {MAX_DOCUMENT_BYTES // 1024} KiB"
    doc = ex.json()
    return (doc, None) if doc is not None else (None, "not JSON")


async def discover_jwks(
    fetch: Fetch, api: ApiModel, base_url: str
) -> tuple[tuple[dict[str, Any], ...], list[str]]:
    """The keys the first working discovery document leads to, and notes on what failed."""
    notes: list[str] = []

    def failed(url: str, why: str) -> None:
        notes.append(f"OpenID Connect discovery {url}: {why}; SD216 needs --jwks to run")

    for url in discovery_urls(api, base_url):
        if not _same_origin(url, base_url):
            failed(url, f"not on the origin of {base_url}, not fetched")
            continue
        discovery, problem = await _fetch_json(fetch, url, "openid-configuration")
        if problem is not None:
            failed(url, problem)
            continue
        uri = jwks_uri(discovery, url)
        if uri is None:
            failed(url, "the document names no jwks_uri")
            continue
        if not _same_origin(uri, base_url):
            failed(url, f"its jwks_uri {uri} is not on the origin of {base_url}, not fetched")
            continue
        doc, problem = await _fetch_json(fetch, uri, "jwks")
        keys = parse_jwks(doc) if problem is None else None
        if keys:
            return keys, []
        failed(url, f"its JWKS {uri}: {problem or 'no keys'}")
    return (), notes
