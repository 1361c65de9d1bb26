"""Authentication and authorization rules (SD2xx): differential, against the baseline.

The JWT attacks (SD203-SD206, SD214-SD216) live in ``jwt_tokens``; this module holds the rules
that work with any scheme: missing, random and moved credentials, unsafe methods probed without
changing data, error oracles, drift, scopes, BOLA and weak issued tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from specdiff.classify import classify_field
from specdiff.config import Credentials
from specdiff.jwtkit import entropy_bits, parse_jwt
from specdiff.model import (
    ORIGIN_PARAM,
    ORIGIN_TOKEN,
    ApiModel,
    AuthMode,
    Confidence,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    SecurityScheme,
    Severity,
)
from specdiff.mutate import absent_object_request, canary, invalid_request
from specdiff.probe import Listing, Probe, ProbeContext, accepted, body_snippet, evidence
from specdiff.redact import MASK, mask_value
from specdiff.variant import Variant, VariantKind

__all__ = [
    "PROBES",
    "BrokenObjectLevelAuthorization",
    "CheckedAfterValidation",
    "CredentialInCookieAccepted",
    "ErrorOracle",
    "InvalidTokenAccepted",
    "MissingCredentialsAccepted",
    "ScopeNotEnforced",
    "TokenInQueryAccepted",
    "UndocumentedRequirement",
    "WeakIssuedToken",
]

_REFUSED = frozenset({401, 403})
_ANONYMOUS = Variant(VariantKind.NO_CREDENTIALS)
_INVALID_ANONYMOUS = Variant(VariantKind.INVALID_INPUT_ANONYMOUS)
_ABSENT_ANONYMOUS = Variant(VariantKind.ABSENT_OBJECT_ANONYMOUS)


class MissingCredentialsAccepted(Probe):
    """SD201 auth.missing-credentials-accepted: a secured operation answers without credentials.

    **Promise.** The operation's effective ``security`` (its own, or the document's top-level one)
    is non-empty and has no anonymous ``{}`` alternative: a caller must authenticate.

    **Probe.** When the baseline request, sent with the user's credentials, answered 2xx, the same
    request is sent again with no credentials at all (no Authorization header, no API key in
    header, query or cookie). Without credentials from the user, the baseline itself went
    without them, and a 2xx there is judged directly.

    Without ``--unsafe``, POST/PUT/PATCH/DELETE are probed too, anonymously and so that nothing
    can change: once with input no server can act on (a body no parser accepts where the
    operation declares a body, else a path identifier that violates its schema), and, where the
    path names an object, once aimed at an object that certainly does not exist (a well-formed
    identifier its schema accepts that no server issued: a huge integer, a UUID), otherwise
    valid; DELETE and PATCH keep their valid body, PUT and POST, which may create what their
    path names, send one no parser accepts. SD208 judges the same answers. With ``--unsafe`` a
    DELETE's anonymous request goes to a second object specdiff created.

    **Breach.** 2xx without credentials. Critical for unsafe methods (an anonymous write: a
    handler that answers 2xx for an object that does not exist, or for a body it cannot read,
    never asked who was calling).

    **Quiet when.** The baseline failed (nothing to compare); the answer is 401/403/404 or any
    non-2xx; the baseline answered JSON but the anonymous answer is not JSON (a login page
    served with 200 is not the resource).

    **Remediation.** Put the authentication check on every route the document secures. In Flask,
    decorate the view (``@login_required`` / ``@jwt_required()``) or, safer, authenticate in a
    ``before_request`` hook with an explicit allow-list of open endpoints, so a forgotten
    decorator fails closed.
    """

    code = "SD201"
    variants = frozenset(
        {
            VariantKind.NO_CREDENTIALS,
            VariantKind.INVALID_INPUT_ANONYMOUS,
            VariantKind.ABSENT_OBJECT_ANONYMOUS,
        }
    )
    remediation = (
        "Require authentication on every operation the document secures. In Flask, prefer a "
        "before_request hook that authenticates everything except an explicit allow-list of "
        "open endpoints, so a forgotten @jwt_required() fails closed."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not op.secured or ctx.baseline is None:
            return
        if not (op.safe or ctx.options.unsafe):
            if not ctx.options.has_credentials:
                return
            invalid = invalid_request(op, ctx.baseline)
            if invalid is not None:
                yield dataclasses.replace(invalid, probe=self.code, variant=_INVALID_ANONYMOUS)
            absent = absent_object_request(ctx.api, op, ctx.baseline)
            if absent is not None:
                yield dataclasses.replace(absent, probe=self.code, variant=_ABSENT_ANONYMOUS)
            return
        if not ctx.options.has_credentials or not ctx.baseline_ok:
            return
        # a DELETE baseline removed its object: the anonymous DELETE goes to another one
        target = ctx.baseline if op.method != "DELETE" else ctx.spare
        if target is None:
            return
        yield dataclasses.replace(target, auth=AuthMode.NONE, probe=self.code, variant=_ANONYMOUS)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not op.secured:
            return
        harmless = [ex for ex in exchanges if ex.request.variant.kind in _HARMLESS_ANONYMOUS]
        for ex in harmless:
            if anonymous_accepted(op, ctx, ex):
                what = (
                    "for an object that does not exist"
                    if ex.request.variant == _ABSENT_ANONYMOUS
                    else "with deliberately invalid input"
                )
                yield self.finding(
                    f"{op.key} is secured by the document but answered {ex.status} to a request "
                    f"without credentials ({what}): it never checked who was calling",
                    evidence=evidence(ex, body_snippet(ex, 300)),
                    severity=Severity.CRITICAL,
                    confidence=Confidence.CERTAIN,
                )
                break  # one cause: the first anonymous 2xx says it
        if ctx.options.has_credentials:
            candidates = [ex for ex in exchanges if ex.request.variant == _ANONYMOUS]
            confidence = Confidence.CERTAIN
        elif ctx.baseline_exchange is not None:  # the baseline itself carried no credentials
            candidates = [ctx.baseline_exchange]
            confidence = Confidence.FIRM
        else:
            return
        for ex in candidates:
            if not anonymous_accepted(op, ctx, ex):
                continue
            yield self.finding(
                f"{op.key} is secured by the document but answered {ex.status} to a request "
                "without any credentials",
                evidence=evidence(ex),
                severity=None if op.safe else Severity.CRITICAL,
                confidence=confidence,
            )


_HARMLESS_ANONYMOUS = frozenset(
    {VariantKind.INVALID_INPUT_ANONYMOUS, VariantKind.ABSENT_OBJECT_ANONYMOUS}
)
"""SD201's requests of unsafe operations without ``--unsafe``: they cannot change data."""


def anonymous_accepted(op: Operation, ctx: ProbeContext, ex: Exchange) -> bool:
    """``ex``, a request of ``op`` without credentials (SD201's, or the baseline of a run
    without credentials), was served: for a request that cannot change data any 2xx; otherwise
    a 2xx like the baseline's (JSON when it answered JSON), after a 2xx baseline."""
    if ex.request.variant.kind in _HARMLESS_ANONYMOUS:
        return ex.ok
    base = ctx.baseline_exchange
    if not ctx.baseline_ok or base is None:
        return False
    return ex.ok and not (base.is_json and not ex.is_json)


def served_anonymously(op: Operation, ctx: ProbeContext) -> bool:
    """SD201 holds for ``op``: a request of it without credentials was served. Other rules
    about the same anonymous answers (SD208) stay quiet then: one cause, one finding."""
    if not ctx.options.has_credentials:
        return ctx.baseline_exchange is not None and anonymous_accepted(
            op, ctx, ctx.baseline_exchange
        )
    kinds = (VariantKind.NO_CREDENTIALS, *_HARMLESS_ANONYMOUS)
    return any(anonymous_accepted(op, ctx, ex) for ex in ctx.answers_to(*kinds))


# --------------------------------------------------------------------------- shared helpers


def _schemes(api: ApiModel, op: Operation) -> list[SecurityScheme]:
    """The schemes of the operation's first security alternative."""
    if not op.security:
        return []
    return [api.security_schemes[n] for n, _ in op.security[0] if n in api.security_schemes]


def _filler(op: Operation, n: int) -> str:
    """A deterministic credential no server issued: a canary (SD404 looks for it in answers)."""
    return canary(op.key, "made-up", str(n))


def _custom(
    baseline: PlannedRequest, probe: str, variant: Variant, **changes: Any
) -> PlannedRequest:
    """``baseline`` with a credential the probe placed (``credential=`` names its value: once
    accepted it is redacted everywhere like the user's own)."""
    return dataclasses.replace(
        baseline, auth=AuthMode.CUSTOM, probe=probe, variant=variant, **changes
    )


def _accepted_findings(
    probe: Probe, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange], what: str
) -> Iterable[Finding]:
    """One finding per accepted variant, keyed by its purpose."""
    if not ctx.credential_matters(op):
        return
    for ex in exchanges:
        if accepted(ctx, ex):
            yield probe.finding(
                f"{op.key} answered {ex.status} to {what} ({ex.request.purpose})",
                key=ex.request.purpose,
                evidence=evidence(ex, body_snippet(ex, 300)),
                confidence=Confidence.CERTAIN,
            )


# --------------------------------------------------------------------------- SD202


class InvalidTokenAccepted(Probe):
    """SD202 auth.invalid-token-accepted: a random or malformed credential is accepted.

    **Promise.** The operation is secured by a scheme: only credentials the API issued work.

    **Probe.** After a 2xx baseline with the user's credentials, the request is sent with a
    credential of the declared scheme that no server issued, instead of the user's: bearer,
    OAuth2 and OpenID Connect get a random token, a malformed token and a random token under the
    wrong scheme word (``Token``); an API key in a header, the query or a cookie gets a random
    key in the same place; HTTP Basic gets a wrong user/password pair. At most three requests.

    **Breach.** Any of them answers 2xx (and JSON when the baseline was JSON).

    **Quiet when.** The baseline failed; the operation answers without any credential (that is
    SD201); every variant is refused or fails otherwise.

    **Remediation.** Verify every credential: look the key up, check the token's signature
    and claims (``jwt.decode(token, key, algorithms=["HS256"])`` with PyJWT), compare secrets in
    constant time, and fail closed on any error.
    """

    code = "SD202"
    variants = frozenset(
        {
            VariantKind.RANDOM_TOKEN,
            VariantKind.MALFORMED_TOKEN,
            VariantKind.WRONG_SCHEME_WORD,
            VariantKind.WRONG_BASIC_PAIR,
            VariantKind.RANDOM_API_KEY,
        }
    )
    plan_after = frozenset({VariantKind.NO_CREDENTIALS})  # credential_matters reads it
    remediation = (
        "Verify every credential against what the API issued (signature and claims of a JWT, a "
        "lookup of an API key, a constant-time password check) and fail closed on any error."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.credential_matters(op) or ctx.baseline is None:
            return
        base = ctx.baseline
        variants: list[PlannedRequest] = []
        for scheme in _schemes(ctx.api, op):
            if scheme.takes_bearer:
                for kind, value in (
                    (VariantKind.RANDOM_TOKEN, f"Bearer {_filler(op, 1)}"),
                    (VariantKind.MALFORMED_TOKEN, "Bearer specdiff.%%%.malformed"),
                    (VariantKind.WRONG_SCHEME_WORD, f"Token {_filler(op, 2)}"),
                ):
                    headers = (*base.headers, ("Authorization", value))
                    variants.append(
                        _custom(base, self.code, Variant(kind), headers=headers, credential=value)
                    )
            elif scheme.type == "http" and scheme.scheme == "basic":
                pair = base64.b64encode(f"{_filler(op, 4)}:not-the-password".encode()).decode()
                value = f"Basic {pair}"
                headers = (*base.headers, ("Authorization", value))
                wrong_pair = Variant(VariantKind.WRONG_BASIC_PAIR)
                variants.append(
                    _custom(base, self.code, wrong_pair, headers=headers, credential=value)
                )
            elif scheme.type == "apiKey" and scheme.param_name:
                variants.append(self._api_key(base, scheme, _filler(op, 3)))
        yield from variants[:3]

    def _api_key(self, base: PlannedRequest, scheme: SecurityScheme, value: str) -> PlannedRequest:
        assert scheme.param_name is not None
        random_key = Variant(VariantKind.RANDOM_API_KEY)
        if scheme.param_location == "query":
            query = (*base.query, (scheme.param_name, value))
            return _custom(base, self.code, random_key, query=query, credential=value)
        if scheme.param_location == "cookie":
            header = ("Cookie", f"{scheme.param_name}={value}")
            headers = (*base.headers, header)
            return _custom(base, self.code, random_key, headers=headers, credential=value)
        headers = (*base.headers, (scheme.param_name, value))
        return _custom(base, self.code, random_key, headers=headers, credential=value)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        return _accepted_findings(self, op, ctx, exchanges, "a credential it never issued")


# --------------------------------------------------------------------------- SD207


def _api_key(schemes: Sequence[SecurityScheme], headers: Sequence[tuple[str, str]]) -> str | None:
    """The user's own key for the first apiKey scheme declared in a header or a cookie."""
    for scheme in schemes:
        name = (scheme.param_name or "").lower()
        if scheme.type != "apiKey" or not name:
            continue
        if scheme.param_location == "header":
            values = [v for n, v in headers if n.lower() == name]
        elif scheme.param_location == "cookie":
            values = [
                v.strip()
                for n, line in headers
                if n.lower() == "cookie"
                for k, _, v in (pair.partition("=") for pair in line.split(";"))
                if k.strip().lower() == name
            ]
        else:
            continue
        if values and values[0]:
            return values[0]
    return None


def _own_credential(schemes: Sequence[SecurityScheme], creds: Credentials) -> str | None:
    """The user's credential for the operation's own scheme: the bearer token for a bearer
    scheme, the key for an apiKey scheme in a header or cookie. A user who gives a bearer token
    and an API key must see the key moved on a key-secured operation, not the token, which
    that operation would refuse wherever it travels. Undeclared schemes: the bearer token."""
    if not schemes:
        return creds.bearer_token
    for scheme in schemes:
        value = creds.bearer_token if scheme.takes_bearer else _api_key([scheme], creds.headers)
        if value:
            return value
    return None


_QUERY_NAMES = ("access_token", "token", "api_key")


class TokenInQueryAccepted(Probe):
    """SD207 auth.token-in-query-accepted: the credential works from the URL's query string.

    **Promise.** The scheme puts the credential in a header (``Authorization`` or an API-key
    header); URLs end up in access logs, browser history and ``Referer`` headers.

    **Probe.** After a 2xx baseline, the user's own credential for the operation's scheme is
    moved from its header (the bearer token for a bearer, OAuth2 or OpenID Connect scheme; the
    key for an API key declared in a header or a cookie) to the query parameters
    ``access_token``, ``token`` and ``api_key`` (one request each), with no header. Only to the
    base URL's own origin, never over plain HTTP.

    **Breach.** A variant answers 2xx (JSON when the baseline was JSON). The key is the
    parameter name.

    **Quiet when.** The baseline failed; the operation answers without any credential (SD201);
    the credential is already a query parameter; all
    variants are refused.

    **Remediation.** Read credentials from the header the document declares only; in Flask,
    never fall back to ``request.args.get("token")``.
    """

    code = "SD207"
    variants = frozenset({VariantKind.TOKEN_IN_QUERY})
    plan_after = frozenset({VariantKind.NO_CREDENTIALS})  # credential_matters reads it
    remediation = (
        "Accept the credential only where the document declares it (the Authorization or API "
        "key header); remove any fallback to request.args such as ?token= or ?access_token=."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.credential_matters(op) or ctx.baseline is None:
            return
        value = _own_credential(_schemes(ctx.api, op), ctx.options.auth.credentials)
        if value is None:
            return
        for name in _QUERY_NAMES:
            moved = Variant(VariantKind.TOKEN_IN_QUERY, name)
            query = (*ctx.baseline.query, (name, value))
            yield _custom(ctx.baseline, self.code, moved, query=query, credential=value)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        return _accepted_findings(self, op, ctx, exchanges, "its credential in the query string")


# --------------------------------------------------------------------------- SD217

_BEARER_COOKIES = ("access_token", "token", "jwt", "auth")
"""Where real apps look for a bearer token when the header is absent (``request.cookies.get(
"access_token")``, ``cookies.jwt`` ...): one request each."""
_KEY_COOKIES = ("api_key",)
"""Besides the scheme's own name, where apps look for an API key in cookies."""


def _header_credential(
    schemes: Sequence[SecurityScheme], creds: Credentials
) -> tuple[str, tuple[str, ...]] | None:
    """(the user's credential, the cookie names to try) for the first scheme of the operation
    whose credential travels in a header: a bearer token, or an API key declared in a header.
    Undeclared schemes: the bearer token."""
    if not schemes:
        token = creds.bearer_token
        return (token, _BEARER_COOKIES) if token else None
    for scheme in schemes:
        if scheme.takes_bearer and creds.bearer_token:
            return creds.bearer_token, _BEARER_COOKIES
        if scheme.type == "apiKey" and scheme.param_location == "header" and scheme.param_name:
            key = _api_key([scheme], creds.headers)
            if key:
                return key, (scheme.param_name, *_KEY_COOKIES)
    return None


def _declared_cookies(api: ApiModel, op: Operation) -> set[str]:
    """Cookie names the document itself declares: apiKey schemes ``in: cookie`` anywhere, and
    the operation's cookie parameters (lower case)."""
    names = {
        s.param_name.lower()
        for s in api.security_schemes.values()
        if s.type == "apiKey" and s.param_location == "cookie" and s.param_name
    }
    return names | {p.name.lower() for p in op.parameters if p.location == "cookie"}


def _cookie_auth_declared(api: ApiModel, op: Operation) -> bool:
    """Some security alternative of ``op`` is an API key in a cookie: the document accepts
    cookie authentication there by design."""
    return any(
        (scheme := api.security_schemes.get(name)) is not None
        and scheme.type == "apiKey"
        and scheme.param_location == "cookie"
        for alt in op.security
        for name, _ in alt
    )


def _with_cookie(
    headers: Sequence[tuple[str, str]], name: str, value: str
) -> tuple[tuple[str, str], ...]:
    """``headers`` with the cookie ``name=value`` added (to the existing Cookie header, if any)."""
    pair = f"{name}={value}"
    for i, (header, line) in enumerate(headers):
        if header.lower() == "cookie":
            return (*headers[:i], (header, f"{line}; {pair}"), *headers[i + 1 :])
    return (*headers, ("Cookie", pair))


class CredentialInCookieAccepted(Probe):
    """SD217 auth.credential-in-cookie-accepted: the header credential also works as a cookie.

    **Promise.** The scheme puts the credential in a header (``Authorization`` or an API-key
    header), which a browser never adds by itself. A server that also reads it from a cookie
    lets any page the victim visits make authenticated requests: cross-site request forgery.

    **Probe.** After a 2xx baseline, the user's own credential for the operation's scheme is
    moved from its header into a cookie of the same value, with no header, one request per
    cookie name: ``access_token``, ``token``, ``jwt`` and ``auth`` for a bearer token; the
    scheme's own name and ``api_key`` for an API key declared in a header. Only to the base
    URL's own origin, never over plain HTTP.

    **Breach.** A variant answers 2xx (JSON when the baseline was JSON). The key is the cookie
    name.

    **Quiet when.** The baseline failed; the operation answers without any credential (SD201);
    the document itself declares the cookie: an apiKey scheme ``in: cookie`` of that name, a
    cookie parameter of that name, or a cookie scheme among the operation's own alternatives;
    the credential travels in the query; all variants are refused.

    **Remediation.** Read the credential only from the header the document declares; in Flask,
    never fall back to ``request.cookies.get("access_token")``. Cookie sessions need CSRF
    tokens and ``SameSite``, and must be declared as such.
    """

    code = "SD217"
    variants = frozenset({VariantKind.CREDENTIAL_IN_COOKIE})
    plan_after = frozenset({VariantKind.NO_CREDENTIALS})  # credential_matters reads it
    remediation = (
        "Accept the credential only where the document declares it (the Authorization or API "
        'key header); remove fallbacks such as request.cookies.get("access_token"). If cookie '
        "authentication is wanted, declare it and protect it with CSRF tokens and SameSite."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.credential_matters(op) or ctx.baseline is None:
            return
        if _cookie_auth_declared(ctx.api, op):
            return
        found = _header_credential(_schemes(ctx.api, op), ctx.options.auth.credentials)
        if found is None:
            return
        value, names = found
        declared = _declared_cookies(ctx.api, op)
        for name in dict.fromkeys(names):
            if name.lower() not in declared:
                headers = _with_cookie(ctx.baseline.headers, name, value)
                moved = Variant(VariantKind.CREDENTIAL_IN_COOKIE, name)
                yield _custom(ctx.baseline, self.code, moved, headers=headers, credential=value)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        return _accepted_findings(self, op, ctx, exchanges, "its credential in a cookie")


# --------------------------------------------------------------------------- SD208


class CheckedAfterValidation(Probe):
    """SD208 auth.checked-after-validation: input is processed before authentication.

    **Promise.** A secured operation refuses strangers before it looks at what they sent.

    **Probe.** It judges every answer of the run to a request without credentials to a secured
    operation, whichever rule sent it: SD201's requests to an unsafe operation (a body no parser
    accepts or an invalid path id; an object that certainly does not exist), the error
    provocations that go anonymously without ``--unsafe``, an anonymous request with an invalid
    parameter. Nothing can be created or deleted by them. When SD201's request for an object
    that does not exist answers 404, it asks one more: the path's documented, secured GET,
    without credentials, for the same absent object.

    **Breach.** Such a request answers 400 or 422: the server parsed and validated the input of
    an unauthenticated caller (2xx is SD201 at critical severity). Or the request for an absent
    object answers 404 while the same path's GET turns the same stranger away with 401/403: the
    operation's handler looked the object up before it checked the caller (and with no object
    to stop it, would have gone on). One finding per operation.

    **Quiet when.** The answer is 401/403 (auth first), a 404 without that GET's refusal beside
    it (a server may hide objects from strangers behind 404), or anything else; the path's
    ``OPTIONS`` answer lists its methods without this one (a router's 404, as Express answers a
    method it does not route); the operation answered a request without credentials 2xx (that
    is SD201: one cause, one finding); the request went to the plain-HTTP twin (a "use HTTPS"
    400 says nothing about authentication); the request used another method than the
    operation's (SD501's undeclared PUT with an unreadable body: frameworks such as Express
    reject the body before any route, the operation never saw it); the operation is open.

    **Remediation.** Authenticate first: in Flask, put the auth decorator outermost (or use a
    ``before_request`` hook) so validation and lookups never run for anonymous callers.
    """

    code = "SD208"
    evidence = "pool"
    variants = frozenset({VariantKind.ABSENT_OBJECT_READ})
    plan_after = frozenset({VariantKind.ABSENT_OBJECT_ANONYMOUS})
    remediation = (
        "Authenticate before validating or looking anything up: make the auth check the "
        "outermost decorator or a before_request hook, so anonymous input is never parsed."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        read = _documented_read(ctx.api, op)
        if not op.secured or read is None or not read.secured:
            return
        for ex in ctx.answers_to(VariantKind.ABSENT_OBJECT_ANONYMOUS):
            if ex.status == 404:
                req = ex.request
                accept = tuple(h for h in req.headers if h[0].lower() == "accept")
                yield dataclasses.replace(
                    req,
                    method="GET",
                    query=(),
                    headers=accept,
                    body=None,
                    probe=self.code,
                    variant=Variant(VariantKind.ABSENT_OBJECT_READ),
                )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not op.secured or served_anonymously(op, ctx):
            return
        for ex in exchanges:
            req = ex.request
            if req.auth is not AuthMode.NONE or req.target != "primary":
                continue
            if req.method != op.method:  # not a request of this operation
                continue
            if ex.status in (400, 422):
                yield self.finding(
                    f"{op.key} answered {ex.status} to an unauthenticated request with invalid "
                    f"input ({req.purpose}): it validated the input before it checked "
                    "authentication",
                    evidence=evidence(ex, body_snippet(ex, 300)),
                    confidence=Confidence.CERTAIN,
                )
                return
            refusal = _looked_up_first(op, ctx, ex)
            if refusal is not None:
                yield self.finding(
                    f"{op.key} answered 404 to an unauthenticated request for an object that "
                    f"does not exist, where GET on the same path answered {refusal.status}: it "
                    "looked the object up before it checked authentication",
                    evidence=evidence(
                        ex,
                        f"{req.method} {req.path} -> {ex.status}: {body_snippet(ex, 200)}\n"
                        f"GET {refusal.request.path} -> {refusal.status} (the same stranger, "
                        "refused)",
                    ),
                    confidence=Confidence.FIRM,
                )
                return


def _documented_read(api: ApiModel, op: Operation) -> Operation | None:
    """The GET the document declares on ``op``'s path, if ``op`` is not that GET."""
    if op.method == "GET":
        return None
    return next((o for o in api.operations if o.path == op.path and o.method == "GET"), None)


def _looked_up_first(op: Operation, ctx: ProbeContext, ex: Exchange) -> Exchange | None:
    """The path's GET refusal (401/403 to the same stranger, for the same absent object) beside
    ``ex``, SD201's request for an absent object that got 404; None when there is none, or when
    the path's OPTIONS answer shows ``op``'s method is not routed at all."""
    if ex.request.variant.kind is not VariantKind.ABSENT_OBJECT_ANONYMOUS or ex.status != 404:
        return None
    if _unrouted(op, ctx):
        return None
    return next(
        (
            read
            for read in ctx.answers_to(VariantKind.ABSENT_OBJECT_READ)
            if read.request.path == ex.request.path and read.status in _REFUSED
        ),
        None,
    )


def _unrouted(op: Operation, ctx: ProbeContext) -> bool:
    """An ``OPTIONS`` answer of the path names the methods it routes (``Allow``), and not
    ``op``'s: the server has no handler for it there, and its 404 is the router's."""
    for ex in ctx.pool:
        allow = ex.header("allow") if ex.request.method == "OPTIONS" and ex.ok else None
        if allow:
            routed = {m.strip().upper() for m in allow.split(",")}
            return op.method not in routed
    return False


# --------------------------------------------------------------------------- SD209

_CAUSE_WORDS = re.compile(
    r"expired|expir|signature|padding|segment|decod|base64|algorithm|\balg\b|claim|audience|"
    r"issuer|not yet valid|immature|malformed|exception|traceback|error:|invalid header|"
    r"invalid crypto|jwt",
    re.IGNORECASE,
)
_VOLATILE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
    r"\d{4}-\d\d-\d\dt[\d:.]+z?|[0-9a-f]{16,}|\d+",
    re.IGNORECASE,
)
_ORACLE_KINDS = {
    VariantKind.NO_CREDENTIALS: "missing",
    VariantKind.MALFORMED_TOKEN: "malformed",
    VariantKind.FLIPPED_SIGNATURE: "bad-signature",
    VariantKind.EXPIRED_TOKEN: "expired",
    VariantKind.EXP_PAST: "expired",
}


class ErrorOracle(Probe):
    """SD209 auth.error-oracle: refusals differ in ways that name the cause.

    **Promise.** A refused credential is refused the same way whatever was wrong with it.

    **Probe.** None of its own: it compares the 401/403 bodies of the operation's evidence pool
    to a missing credential, a malformed token, a badly signed JWT and an expired token (when
    one is known), whichever rule asked for them (SD201, SD202, SD204, SD205).

    **Breach.** The bodies differ once volatile parts (request ids, timestamps, numbers) are
    removed, and a body names the cause: ``expired``, ``signature``, ``padding``, ``segments``,
    decoder or exception text.

    **Quiet when.** The refusals are identical, differ only in volatile parts, or differ
    without naming a cause; fewer than two refusals were seen.

    **Remediation.** Answer every authentication failure with the same body (e.g.
    ``{"error": "unauthorized"}`` and ``WWW-Authenticate: Bearer``); log the cause server-side.
    """

    code = "SD209"
    confidence = Confidence.FIRM
    remediation = (
        "Answer every authentication failure with one fixed body such as "
        '{"error": "unauthorized"}; log the reason (expired, bad signature ...) on the server, '
        "never in the response."
    )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        refusals: dict[str, Exchange] = {}
        for ex in ctx.answers_to(*_ORACLE_KINDS):
            if ex.status in _REFUSED:
                refusals.setdefault(_ORACLE_KINDS[ex.request.variant.kind], ex)
        if len(refusals) < 2:
            return
        shapes = {label: _VOLATILE.sub("#", ex.text.lower()) for label, ex in refusals.items()}
        if len(set(shapes.values())) < 2:
            return
        common = set.intersection(*(set(_CAUSE_WORDS.findall(s)) for s in shapes.values()))
        telling = {
            label: ex
            for label, ex in refusals.items()
            if set(_CAUSE_WORDS.findall(shapes[label])) - common
        }
        if not telling:
            return
        _, ex = sorted(telling.items())[0]
        texts = "\n".join(f"{lab}: {body_snippet(e, 120)}" for lab, e in sorted(refusals.items()))
        ev = evidence(ex, texts)
        sent = dict(ex.sent_headers).get("Authorization", "").partition(" ")[2]
        if ex.request.auth is AuthMode.CUSTOM and sent:
            # a forged variant may carry most of the user's real signature: never show it
            ev = dataclasses.replace(
                ev, request=ev.request.replace(sent, MASK), curl=ev.curl.replace(sent, MASK)
            )
        yield self.finding(
            f"{op.key} refuses credentials with bodies that name the cause "
            f"({', '.join(sorted(telling))} differ from the others)",
            evidence=ev,
        )


# --------------------------------------------------------------------------- SD210


class UndocumentedRequirement(Probe):
    """SD210 auth.undocumented-requirement: open by the document, refused at runtime.

    **Promise.** The operation's effective ``security`` is empty or allows anonymous access
    (``{}``): anyone may call it.

    **Probe.** The baseline request of a safe operation is sent without any credentials (when
    the user gave none, the baseline itself is judged).

    **Breach.** 401 or 403: the contract is wrong (clients generated from it will fail).

    **Quiet when.** The operation is secured or unsafe; the anonymous answer is anything else.

    **Remediation.** Document the requirement (``security: [{bearerAuth: []}]``), or stop
    requiring credentials on the route if it is meant to be open.
    """

    code = "SD210"
    confidence = Confidence.CERTAIN
    variants = frozenset({VariantKind.NO_CREDENTIALS})
    remediation = (
        "Make the document and the code agree: declare the operation's security requirement, "
        "or remove the authentication check from a route that is meant to be open."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if op.secured or not op.safe or ctx.baseline is None or not ctx.options.has_credentials:
            return
        yield dataclasses.replace(
            ctx.baseline, auth=AuthMode.NONE, probe=self.code, variant=_ANONYMOUS
        )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if op.secured or not op.safe:
            return
        anonymous = list(exchanges) if ctx.options.has_credentials else [ctx.baseline_exchange]
        for ex in anonymous:
            if ex is not None and ex.status in _REFUSED:
                yield self.finding(
                    f"{op.key} is open by the document but answered {ex.status} without "
                    "credentials",
                    evidence=evidence(ex, body_snippet(ex, 200)),
                )


# --------------------------------------------------------------------------- SD211


def _required_scopes(op: Operation) -> list[frozenset[str]]:
    return [frozenset(s for _, scopes in alt for s in scopes) for alt in op.security if alt]


def _token_scopes(token: str | None) -> frozenset[str] | None:
    parsed = parse_jwt(token)
    if parsed is None:
        return None
    raw = parsed.claims.get("scope", parsed.claims.get("scp"))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(str(s) for s in raw)
    return frozenset()


class ScopeNotEnforced(Probe):
    """SD211 auth.scope-not-enforced: a token without the required scope is accepted.

    **Promise.** The operation's security requirement names OAuth2/OIDC scopes; a token
    without them must be refused (403).

    **Probe.** After a 2xx baseline, the request is sent with the low-privilege identity
    (``--token-low``/``--header-low``). When that token is a JWT whose ``scope``/``scp`` claim
    holds every scope of some alternative, the operation is skipped.

    **Breach.** 2xx (JSON when the baseline was JSON). Firm when the token's scopes were read
    from its claims; tentative for an opaque token (the user vouches that it lacks the scope).

    **Quiet when.** No low identity, or it equals identity A; the operation names no scope;
    the low token holds the scopes; the answer is 401/403/404 or any non-2xx.

    **Remediation.** Check the scope on every scoped route (e.g. a ``@require_scope("admin")``
    decorator reading the token's ``scope`` claim) and answer 403 ``insufficient_scope``.
    """

    code = "SD211"
    variants = frozenset({VariantKind.LOW_SCOPE})
    remediation = (
        "Check the token's scopes on every route whose security requirement names them and "
        'answer 403 (WWW-Authenticate: Bearer error="insufficient_scope") when one is missing.'
    )

    def _applies(self, op: Operation, ctx: ProbeContext) -> tuple[bool, Confidence]:
        required = _required_scopes(op)
        if not op.secured or "low" not in ctx.options.identities or not any(required):
            return False, Confidence.TENTATIVE
        held = _token_scopes(ctx.options.auth.credentials_low.bearer_token)
        if held is None:
            return True, Confidence.TENTATIVE
        return all(not need <= held for need in required), Confidence.FIRM

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.baseline_ok or ctx.baseline is None or not self._applies(op, ctx)[0]:
            return
        yield dataclasses.replace(
            ctx.baseline, identity="low", probe=self.code, variant=Variant(VariantKind.LOW_SCOPE)
        )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        applies, confidence = self._applies(op, ctx)
        if not applies or not ctx.baseline_ok:
            return
        scopes = " or ".join(" ".join(sorted(s)) for s in _required_scopes(op) if s)
        for ex in exchanges:
            if accepted(ctx, ex):
                yield self.finding(
                    f"{op.key} requires the scope {scopes}, yet answered {ex.status} to the "
                    "low-privilege identity",
                    evidence=evidence(ex, body_snippet(ex, 200)),
                    confidence=confidence,
                )


# --------------------------------------------------------------------------- SD212


def _ids(body: Any) -> dict[str, Any]:
    """The identifying fields (``id``, ``slug``, ``orderNumber``, ``username`` ...) at the top
    level of an object."""
    if not isinstance(body, Mapping):
        return {}
    return {
        k: v
        for k, v in body.items()
        if isinstance(k, str)
        and _ID_FIELD.search(k)
        and isinstance(v, (str, int))
        and not isinstance(v, bool)
    }


_ID_FIELD = re.compile(
    r"(^|[_-])(id|uuid|guid|slug|number|code|username|email|sku)$"
    r"|[a-z0-9](Id|ID|Uuid|Guid|Slug|Number|Code|Username|Email|Sku)$"
)
"""Names of fields that identify an object: ``id``, ``order_number``, ``orderNumber``, ``slug``."""


def _substantial(body: Any) -> bool:
    """A body that can identify an object: a non-empty object or list (``{}``, ``[]``, a bare
    ``true`` or ``"ok"`` look the same for every object)."""
    return isinstance(body, (Mapping, list)) and bool(body)


def carries_object(body_a: Any, body_b: Any) -> bool:
    """B's answer carries A's object: the same identifying values as A's answer (every item's,
    for a list), or, where A's answer has none, the very same body."""
    if not _substantial(body_a) or not _substantial(body_b):
        return False
    if isinstance(body_a, Mapping) and isinstance(body_b, Mapping):
        ids = _ids(body_a)
        if ids:
            return all(body_b.get(k) == v for k, v in ids.items())
    elif isinstance(body_a, list) and isinstance(body_b, list):
        keys_a = [_ids(item) for item in body_a]
        if all(keys_a):
            keys_b = [_ids(item) for item in body_b]
            return all(key in keys_b for key in keys_a)
    return bool(body_a == body_b)


def personal_values(body: Any) -> dict[str, Any]:
    """``{"$.email": value}``: the personal or secret values at the top level of an object, or
    of the items of a list (``$[0].street``)."""
    found: dict[str, Any] = {}
    items = list(enumerate(body[:20])) if isinstance(body, list) else [(None, body)]
    for index, item in items:
        if not isinstance(item, Mapping):
            continue
        prefix = "$" if index is None else f"$[{index}]"
        for k, v in item.items():
            if isinstance(v, (str, int)) and not isinstance(v, bool) and classify_field(k, v):
                found[f"{prefix}.{k}"] = v
    return found


def shown_to_b(listing: Listing) -> bool:
    """B's own answer to the operation that revealed the value (2xx JSON, whole) shows it too:
    an object both identities legitimately see."""
    answer = listing.answer_b
    if answer is None or not answer.ok or not answer.is_json or answer.truncated:
        return False
    body = answer.json()
    return body is not None and str(listing.value) in _scalars(body)


def ownership(listing: Listing) -> str | None:
    """Why the value names one of A's own objects, as evidence; None when nothing says so."""
    shown = _shown(listing.param, listing.value)
    if listing.operation == ORIGIN_TOKEN:
        return f"A's token claims carry {listing.param}={shown} and B's do not"
    if listing.operation == ORIGIN_PARAM:
        return f"the user named {listing.param}={shown} as one of A's objects (--param)"
    if listing.within is not None:
        name, value, how = listing.within
        source = "A's token" if how == ORIGIN_TOKEN else "--param"
        return (
            f"A's {listing.operation} for A's own {name}={_shown(name, value)} (from {source}) "
            f"listed {listing.param}={shown}"
        )
    answer = listing.answer_b
    if answer is None or not answer.ok or not answer.is_json or answer.truncated:
        return None
    if answer.json() is None or shown_to_b(listing):
        return None
    return f"B's own {listing.operation} ({answer.status}) did not list {listing.param}={shown}"


def _scalars(body: Any) -> set[str]:
    """Every string or number anywhere in a JSON value, as text (bool and null excluded)."""
    found: set[str] = set()
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            found.add(str(value))
    return found


class BrokenObjectLevelAuthorization(Probe):
    """SD212 auth.bola: identity B is served identity A's object.

    **Promise.** A secured operation that names an object (a path parameter, or a query
    parameter named like an identifier) returns it only to the caller allowed to see it.

    **Probe.** The baseline request, whose identifiers come from identity A (harvested from
    A's answers, read from A's token claims, or named by the user with ``--param``), is sent
    again with identity B's credentials (``--token-b``/``--header-b``). To tell A's own objects
    from shared ones, the engine also asks each secured operation whose answer to A showed an
    identifier (``GET /orders`` for ``GET /orders/{order_id}``, ``GET /me`` for
    ``GET /documents/{slug}``) once more as B: one extra safe request per such operation, only
    when B is given.

    **Breach.** B gets 2xx JSON carrying A's object: an object with the same identifying
    values as A's answer (``id``, ``slug``, ``number`` ...), a list with A's items, or, where
    there are no identifiers, the very same body; and the object is A's own: it carries one of
    A's personal or secret values, or its identifier came from A's token claims (B's do not
    carry it), from the user's ``--param``, or from an answer to A that B's own answer to the
    same operation does not repeat.

    **Quiet when.** B is not given, equals A, or is the same principal (both tokens name the
    same ``sub``/``user_id``); the operation is open (public by spec) or names no object; the
    baseline failed; B gets 403/404 or another object; the object is shared: B's own answer
    shows its identifier too; nothing says whose it is (an id from nowhere, a mere reference).

    **Remediation.** Scope every lookup to the caller: ``Order.query.filter_by(id=order_id,
    owner_id=current_user.id)`` and answer 404 when nothing matches.
    """

    code = "SD212"
    variants = frozenset({VariantKind.IDENTITY_B})
    remediation = (
        "Authorize every object access against the caller: look objects up by id AND owner "
        "(e.g. filter_by(id=order_id, owner_id=current_user.id)) and answer 404 otherwise."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not self._applies(op, ctx) or ctx.baseline is None:
            return
        yield dataclasses.replace(
            ctx.baseline, identity="b", probe=self.code, variant=Variant(VariantKind.IDENTITY_B)
        )

    def _applies(self, op: Operation, ctx: ProbeContext) -> bool:
        return (
            op.secured
            and "b" in ctx.options.identities
            and (any(p.location == "path" for p in op.parameters) or bool(ctx.listings))
            and ctx.baseline_ok
            and ctx.baseline_exchange is not None
            and ctx.baseline_exchange.is_json
        )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not self._applies(op, ctx):
            return
        assert ctx.baseline_exchange is not None
        body_a = ctx.baseline_exchange.json()
        if any(shown_to_b(listing) for listing in ctx.listings):
            return  # both identities see it: shared
        personal = personal_values(body_a)
        owned = [why for listing in ctx.listings if (why := ownership(listing)) is not None]
        for ex in exchanges:
            body_b = ex.json() if accepted(ctx, ex) else None
            if not carries_object(body_a, body_b):
                continue
            what = "list" if isinstance(body_a, list) else "object"
            mine = personal_values(body_b)
            shared = sorted(k for k, v in personal.items() if mine.get(k) == v)
            if shared:
                proof = ", ".join(f"{k} = {mask_value(personal[k])}" for k in shared)
                yield self.finding(
                    f"{op.key} served identity A's {what} to identity B ({ex.status}); "
                    f"it carries A's {', '.join(k.rsplit('.', 1)[-1] for k in shared)}",
                    evidence=evidence(ex, proof),
                    confidence=Confidence.FIRM,
                )
            elif owned:
                yield self.finding(
                    f"{op.key} served identity A's {what} to identity B ({ex.status})",
                    evidence=evidence(
                        ex, f"{'; '.join(owned)}, yet {op.key} served it to B: {ex.status}"
                    ),
                    confidence=Confidence.FIRM,
                )


def _shown(name: str, value: str | int) -> str:
    """An identifier as evidence shows it: masked when it is itself personal or secret."""
    return mask_value(value) if classify_field(name, value) is not None else str(value)


# --------------------------------------------------------------------------- SD213

_TOKEN_FIELDS = frozenset(
    {
        "access_token",
        "token",
        "api_key",
        "apikey",
        "auth_token",
        "session_token",
        "refresh_token",
        "accesstoken",
        "apiKey",
        "accessToken",
        "refreshToken",
    }
)
_MIN_BITS = 128
_MAX_STEP = 1000


def _issued_tokens(body: Any) -> dict[str, str]:
    """``{"$.access_token": value}`` for token fields at the top level or one level down."""
    found: dict[str, str] = {}
    if not isinstance(body, Mapping):
        return found
    for key, value in body.items():
        if key in _TOKEN_FIELDS and isinstance(value, str) and parse_jwt(value) is None:
            found[f"$.{key}"] = value
        elif isinstance(value, Mapping):
            for sub, inner in value.items():
                if sub in _TOKEN_FIELDS and isinstance(inner, str) and parse_jwt(inner) is None:
                    found[f"$.{key}.{sub}"] = inner
    return found


def _sequential(first: str, second: str) -> bool:
    """Two issues that differ only in a counter: same prefix, numeric tails close together."""
    a, b = re.match(r"^(.*?)(\d+)$", first), re.match(r"^(.*?)(\d+)$", second)
    if a is None or b is None or a.group(1) != b.group(1) or first == second:
        return False
    return 0 < abs(int(b.group(2)) - int(a.group(2))) <= _MAX_STEP


class WeakIssuedToken(Probe):
    """SD213 auth.weak-token: the API issues short or predictable opaque tokens.

    **Promise.** Tokens the API hands out (``access_token``, ``token``, ``api_key`` ... fields
    of its answers) cannot be guessed.

    **Probe.** The baseline answer's token fields (top level and one level down; JWTs are
    skipped, their strength is their signature) are measured: length x log2 of the alphabet
    they use. A safe operation that issued one is asked once more to compare two issues.

    **Breach.** Under 128 bits of estimated entropy, or two issues that differ only by a small
    step in a trailing counter (``tok-1041``, ``tok-1042``).

    **Quiet when.** No token field; a JWT; 128 bits or more and unrelated issues.

    **Remediation.** Generate tokens from a CSPRNG with at least 128 bits:
    ``secrets.token_urlsafe(32)`` in Python.
    """

    code = "SD213"
    variants = frozenset({VariantKind.SECOND_ISSUE})
    remediation = (
        "Issue tokens from a cryptographic random source with at least 128 bits of entropy, "
        "e.g. secrets.token_urlsafe(32); never counters, timestamps or short codes."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not ctx.baseline_ok or ctx.baseline is None or not op.safe:
            return
        assert ctx.baseline_exchange is not None
        if _issued_tokens(ctx.baseline_exchange.json()):
            yield dataclasses.replace(
                ctx.baseline, probe=self.code, variant=Variant(VariantKind.SECOND_ISSUE)
            )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not ctx.baseline_ok or ctx.baseline_exchange is None:
            return
        base = ctx.baseline_exchange
        first = _issued_tokens(base.json())
        second = next((_issued_tokens(ex.json()) for ex in exchanges if ex.ok), {})
        for path, value in sorted(first.items()):
            bits = entropy_bits(value)
            again = second.get(path)
            if again is not None and _sequential(value, again):
                reason = "two issues differ only by a small step of a trailing counter"
            elif bits < _MIN_BITS:
                reason = f"about {bits:.0f} bits of entropy (under {_MIN_BITS})"
            else:
                continue
            yield self.finding(
                f"{op.key} issues a weak token at {path}: {reason}",
                key=path,
                evidence=evidence(base, f"{path} = {mask_value(value)}"),
            )


PROBES: tuple[type[Probe], ...] = (
    MissingCredentialsAccepted,
    InvalidTokenAccepted,
    TokenInQueryAccepted,
    CheckedAfterValidation,
    ErrorOracle,
    UndocumentedRequirement,
    ScopeNotEnforced,
    BrokenObjectLevelAuthorization,
    WeakIssuedToken,
    CredentialInCookieAccepted,
)
