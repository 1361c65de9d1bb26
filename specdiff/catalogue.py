"""The rule catalogue of ``shared/RULES.md`` as data: the public, stable names of findings.

Codes and kinds are never renumbered or renamed; CI configurations, baselines and suppressions
name them. Probes declare only their code and look up the rest here, so the table is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from specdiff.model import Severity

__all__ = ["CATALOGUE", "FAMILY_TITLES", "Rule", "family_of", "rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the catalogue."""

    code: str
    kind: str
    title: str
    severity: Severity
    """The default severity; a probe may raise it where its evidence shows more harm."""
    cwe: int | None
    owasp: str
    breach: str
    """What counts as a breach, as RULES.md words it."""


_RULES = (
    Rule(
        "SD101",
        "transport.http-accepted",
        "API answers over plain HTTP",
        Severity.HIGH,
        319,
        "API8:2023",
        "The plain-HTTP twin of the base URL answers an operation with a non-redirect response (anything but 301/302/303/307/308 to an https URL, or a refused connection). Critical when the operation is secured (its token would travel in clear). Probed WITHOUT the user's credentials: specdiff never sends a real credential over plain HTTP.",
    ),
    Rule(
        "SD102",
        "transport.hsts-missing",
        "HSTS missing or too short",
        Severity.MEDIUM,
        319,
        "API8:2023",
        "An HTTPS response lacks `Strict-Transport-Security`, or its max-age is under 15552000 s (180 days). Reported once per host, not per operation.",
    ),
    Rule(
        "SD103",
        "transport.spec-declares-http",
        "Document advertises an http:// server",
        Severity.MEDIUM,
        319,
        "API8:2023",
        "The document's `servers` (or Swagger `schemes`/`host`) advertise an `http://` URL that is not loopback. Static: needs no runtime.",
    ),
    Rule(
        "SD104",
        "transport.insecure-cookie",
        "Cookie without Secure, HttpOnly or SameSite",
        Severity.MEDIUM,
        614,
        "API8:2023",
        "A `Set-Cookie` on an HTTPS response lacks `Secure`; or a session-like cookie lacks `HttpOnly` (CWE-1004) or `SameSite`. One finding per cookie name.",
    ),
    Rule(
        "SD105",
        "transport.insecure-redirect",
        "Insecure HTTP redirect",
        Severity.LOW,
        319,
        "API8:2023",
        "The HTTP twin redirects an unsafe method with 301/302 (clients turn it into GET and may resend the body), or redirects to another http URL.",
    ),
    Rule(
        "SD201",
        "auth.missing-credentials-accepted",
        "Secured operation answers without credentials",
        Severity.HIGH,
        306,
        "API2:2023",
        "A secured operation answers 2xx to a request with no credentials at all. Critical for unsafe methods.",
    ),
    Rule(
        "SD202",
        "auth.invalid-token-accepted",
        "Invalid credential accepted",
        Severity.HIGH,
        287,
        "API2:2023",
        "A secured operation answers 2xx to a syntactically wrong or random credential of the declared scheme (random bearer string, random API key, bad Basic pair).",
    ),
    Rule(
        "SD203",
        "auth.unsigned-jwt-accepted",
        "Unsigned (alg: none) JWT accepted",
        Severity.CRITICAL,
        347,
        "API2:2023",
        "The user's JWT re-issued with `alg: none` (header variants none/None/NONE, empty signature) is accepted. Needs a JWT credential.",
    ),
    Rule(
        "SD204",
        "auth.forged-jwt-accepted",
        "Forged JWT accepted",
        Severity.CRITICAL,
        347,
        "API2:2023",
        "The user's JWT with a changed payload (e.g. another `sub`) and its old signature, or with its signature byte-flipped, is accepted.",
    ),
    Rule(
        "SD205",
        "auth.expired-token-accepted",
        "Expired or mis-scoped JWT accepted",
        Severity.HIGH,
        613,
        "API2:2023",
        "A JWT whose `exp` lies in the past is accepted; likewise `nbf` in the future, a wrong `aud` or `iss`, or a missing `exp`. Needs the signing secret (`--jwt-secret`) or a user-given expired token (`--expired-token`).",
    ),
    Rule(
        "SD206",
        "auth.weak-jwt-secret",
        "JWT signed with a weak secret",
        Severity.CRITICAL,
        1391,
        "API2:2023",
        "The user's HS256/384/512 JWT verifies offline against a known secret: the public JWT-secret wordlists attackers use (thousands of entries: `secret`, `random`, `SuperSecret`, `your_jwt_secret_key` ...), or the `--jwt-secret` the user passed is itself in such a list. No request needed.",
    ),
    Rule(
        "SD207",
        "auth.token-in-query-accepted",
        "Credential accepted in the query string",
        Severity.MEDIUM,
        598,
        "API2:2023",
        "The credential moved from its header to a query parameter (`access_token`, `token`, `api_key`, …) is accepted: tokens in URLs end up in logs and history.",
    ),
    Rule(
        "SD208",
        "auth.checked-after-validation",
        "Input validated before authentication",
        Severity.MEDIUM,
        696,
        "API2:2023",
        "An unauthenticated request to a secured unsafe operation, sent with a deliberately invalid body, gets 400/422 (input processed before authentication) instead of 401/403. Lets specdiff test auth on POST/PUT/PATCH/DELETE without changing data.",
    ),
    Rule(
        "SD209",
        "auth.error-oracle",
        "Authentication errors name their cause",
        Severity.LOW,
        204,
        "API2:2023",
        "401 responses to a missing, a malformed, a badly signed and an expired credential differ in their bodies in ways that name the cause (`expired`, `signature`, `padding`, exception text): the difference teaches an attacker how to forge.",
    ),
    Rule(
        "SD210",
        "auth.undocumented-requirement",
        "Undocumented authentication requirement",
        Severity.LOW,
        None,
        "API2:2023",
        "The spec declares an operation open, yet the runtime answers 401/403 without credentials (drift: the contract is wrong).",
    ),
    Rule(
        "SD211",
        "auth.scope-not-enforced",
        "OAuth2 scope not enforced",
        Severity.HIGH,
        285,
        "API5:2023",
        "A token lacking an operation's required OAuth2/OIDC scope (given with `--auth-low`) is accepted.",
    ),
    Rule(
        "SD212",
        "auth.bola",
        "Broken object level authorization (BOLA)",
        Severity.HIGH,
        639,
        "API1:2023",
        "A resource that identity A obtained (ids harvested from A's responses) is returned 2xx to identity B (`--auth-b`) with A's data. OWASP API1:2023.",
    ),
    Rule(
        "SD213",
        "auth.weak-token",
        "Weak or predictable issued token",
        Severity.MEDIUM,
        331,
        "API2:2023",
        "Opaque tokens issued by the API (fields like `access_token`, `token`, `api_key` seen in responses) are short (< 128 bits of estimated entropy) or predictable across issues.",
    ),
    Rule(
        "SD214",
        "auth.sensitive-jwt-claims",
        "Sensitive data in JWT claims",
        Severity.MEDIUM,
        315,
        "API2:2023",
        "The user's JWT (readable by anyone who holds it) carries personal data or secrets in its claims (SD302/SD303 classes). Passive.",
    ),
    Rule(
        "SD215",
        "auth.jwt-key-injection-accepted",
        "JWT with injected key accepted",
        Severity.CRITICAL,
        347,
        "API2:2023",
        "A JWT signed with specdiff's own fresh key and carrying that key in its header (`jwk`), or pointing `kid` at a guessable value, is accepted.",
    ),
    Rule(
        "SD216",
        "auth.jwt-alg-confusion-accepted",
        "JWT algorithm confusion accepted",
        Severity.CRITICAL,
        327,
        "API2:2023",
        "An RS/ES-signed JWT re-signed with HS256 using the server's public key (from the spec's OpenID Connect discovery / JWKS, or `--jwks`) is accepted.",
    ),
    Rule(
        "SD217",
        "auth.credential-in-cookie-accepted",
        "Header credential accepted from a cookie",
        Severity.MEDIUM,
        352,
        "API2:2023",
        "A credential that the document declares in a header (bearer token, API key) is also accepted from a cookie of the same value: a browser then sends it by itself, so every such operation is open to cross-site request forgery. Differential against the baseline; quiet where the document itself declares the cookie.",
    ),
    Rule(
        "SD301",
        "exposure.undocumented-field",
        "Undocumented response field",
        Severity.LOW,
        213,
        "API3:2023",
        "A 2xx JSON response carries a property that its documented schema does not declare (respecting allOf/oneOf/anyOf, additionalProperties schemas, discriminators, nullable, readOnly).",
    ),
    Rule(
        "SD302",
        "exposure.undocumented-pii",
        "Undocumented personal data in response",
        Severity.HIGH,
        359,
        "API3:2023",
        "An undocumented property whose name or value is personal data: email, phone, national id / SSN, date of birth, postal address, card number (Luhn-valid), IBAN, IP address, geo position.",
    ),
    Rule(
        "SD303",
        "exposure.undocumented-secret",
        "Undocumented secret in response",
        Severity.CRITICAL,
        522,
        "API3:2023",
        "An undocumented property whose name or value is a secret: password or password hash, API key, access/refresh token, JWT, private key, client secret, session id.",
    ),
    Rule(
        "SD304",
        "exposure.documented-sensitive-field",
        "Document declares a secret in a response",
        Severity.MEDIUM,
        213,
        "API3:2023",
        "The spec itself documents a secret (SD303's classes) in a response schema. Static.",
    ),
    Rule(
        "SD305",
        "exposure.schema-violation",
        "Response violates its schema",
        Severity.LOW,
        None,
        "API3:2023",
        "A 2xx response body violates its documented schema (type, required, enum, format).",
    ),
    Rule(
        "SD306",
        "exposure.undocumented-status",
        "Undocumented response status",
        Severity.LOW,
        None,
        "API3:2023",
        "A response status that the operation does not document (and no `default`/`4XX` range covers).",
    ),
    Rule(
        "SD307",
        "exposure.content-type-mismatch",
        "Undocumented response media type",
        Severity.LOW,
        None,
        "API3:2023",
        "A response media type that the operation does not document for that status.",
    ),
    Rule(
        "SD308",
        "exposure.sensitive-data-in-url",
        "Sensitive data in URL parameters",
        Severity.MEDIUM,
        598,
        "API3:2023",
        "The spec declares personal data or a secret as a query or path parameter (`?email=`, `?api_key=`, `/reset/{password}`): URLs end up in logs, histories and referrers. Static.",
    ),
    Rule(
        "SD309",
        "exposure.sensitive-data-in-text",
        "Secret or personal data in free text",
        Severity.MEDIUM,
        200,
        "API3:2023",
        "A documented free-text field (`message`, `text`, `content`, `completion`, `detail`, …) carries a secret or personal data in its value: an LLM endpoint's output echoing a key, a token or someone's e-mail, an error text quoting a password. Value signals only, never the field name.",
    ),
    Rule(
        "SD401",
        "leak.debugger-exposed",
        "Interactive debugger exposed",
        Severity.CRITICAL,
        215,
        "API8:2023",
        "An interactive debugger or debug console answers: Werkzeug's debugger page or `/console`, Django's technical 500 page, Express/Node or Spring debug pages, `__debugger__` resources.",
    ),
    Rule(
        "SD402",
        "leak.stack-trace",
        "Stack trace in response",
        Severity.MEDIUM,
        209,
        "API8:2023",
        "An error response carries a stack trace or raw exception text (Python traceback, Java/.NET/Node/Go/Ruby traces, file paths with line numbers).",
    ),
    Rule(
        "SD403",
        "leak.database-error",
        "Database error in response",
        Severity.MEDIUM,
        209,
        "API8:2023",
        "An error response carries database driver or server error text (psycopg2/asyncpg, CockroachDB `pq:`/SQLSTATE, SQLite, MySQL, SQLAlchemy, ORA-). Hints at CWE-89.",
    ),
    Rule(
        "SD404",
        "leak.credential-echo",
        "Credential echoed back",
        Severity.HIGH,
        200,
        "API8:2023",
        "The credential specdiff sent (a unique canary value) comes back in a response body or header.",
    ),
    Rule(
        "SD405",
        "leak.secret-in-cookie",
        "Readable secret in cookie",
        Severity.HIGH,
        315,
        "API8:2023",
        "A cookie whose content is readable without a key (Flask/itsdangerous signed session, base64 JSON, unsigned JWT payload) carries a token, password, secret or PII.",
    ),
    Rule(
        "SD406",
        "leak.version-banner",
        "Version banner",
        Severity.LOW,
        200,
        "API8:2023",
        "`Server`, `X-Powered-By` or similar headers name software with its version (e.g. `Werkzeug/3.0.1 Python/3.11.7`). Once per host.",
    ),
    Rule(
        "SD407",
        "leak.undocumented-endpoint",
        "Undocumented debug or admin endpoint",
        Severity.MEDIUM,
        200,
        "API9:2023",
        "A well-known debug, admin or metadata path that the spec does not document answers 2xx (`/console`, `/debug`, `/.env`, `/actuator/env`, `/metrics`, `/_debug`, …). OWASP API9:2023.",
    ),
    Rule(
        "SD408",
        "leak.cacheable-sensitive-response",
        "Sensitive response is cacheable",
        Severity.MEDIUM,
        525,
        "API8:2023",
        "A response that carries credentials, tokens or personal data (a secured operation's 2xx, a token issue) lacks `Cache-Control: no-store` (or `private` with no shared caching), so proxies and browsers may keep it. Once per operation.",
    ),
    Rule(
        "SD501",
        "conformance.undocumented-method-accepted",
        "Undocumented method accepted",
        Severity.MEDIUM,
        749,
        "API5:2023",
        "A method that a documented path does not declare answers 2xx (instead of 405/404). Probed with safe methods, or unsafe ones only anonymously with an invalid body (never an authenticated destructive method, even with `--unsafe`). Quiet on an OPTIONS answer that only lists methods (`Allow`, or a body such as `GET,HEAD`), and on a concrete path that the server routes to a documented templated operation.",
    ),
    Rule(
        "SD502",
        "conformance.server-error",
        "Server error",
        Severity.MEDIUM,
        755,
        "API8:2023",
        "A 5xx answer to any request specdiff sent (valid or deliberately invalid).",
    ),
    Rule(
        "SD503",
        "conformance.invalid-input-accepted",
        "Invalid input accepted",
        Severity.LOW,
        20,
        "API8:2023",
        "A request that violates the documented parameter or body schema answers 2xx.",
    ),
    Rule(
        "SD504",
        "conformance.cors-misconfigured",
        "CORS reflects any origin with credentials",
        Severity.HIGH,
        942,
        "API8:2023",
        "CORS reflects an arbitrary `Origin` (or `null`) together with `Access-Control-Allow-Credentials: true`.",
    ),
    Rule(
        "SD505",
        "conformance.missing-www-authenticate",
        "401 without WWW-Authenticate",
        Severity.LOW,
        None,
        "API8:2023",
        "A 401 answer carries no `WWW-Authenticate` header naming the scheme (RFC 9110, RFC 6750). Once per host.",
    ),
)

CATALOGUE: dict[str, Rule] = {r.code: r for r in _RULES}


def rule(code: str) -> Rule:
    """The catalogue row for ``code``; KeyError for an unknown code."""
    return CATALOGUE[code.upper()]


FAMILY_TITLES = {
    "transport": "SD1xx transport",
    "auth": "SD2xx authentication and authorization",
    "exposure": "SD3xx data exposure",
    "leak": "SD4xx leakage",
    "conformance": "SD5xx conformance",
}
"""The rule families (the first part of a kind), as RULES.md titles them."""


def family_of(code: str, kind: str = "") -> str:
    """The rule family: the part of the kind before the dot (``auth`` for SD201); ``kind`` is
    used for codes outside the catalogue (a third-party probe's)."""
    cat = CATALOGUE.get(code)
    return (cat.kind if cat else kind).split(".", 1)[0] or "other"
