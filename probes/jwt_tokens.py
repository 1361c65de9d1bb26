"""JWT rules (SD203-SD206, SD214-SD216): the user's own token, taken apart and forged.

Every rule here needs identity A's credential to be a JWT in ``Authorization: Bearer``; with
any other credential they stay silent. Crafting is in :mod:`specdiff.jwtkit` (pure); tokens that
a vulnerable server would take as valid (re-signed with the user's secret or the public key) are
masked in evidence, since they work as credentials.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from typing import ClassVar

from specdiff.classify import classify_field
from specdiff.jwtkit import (
    KID_INJECTIONS,
    Jwt,
    alg_none,
    flipped_signature,
    forged_payload,
    hs256_with_public_key,
    in_wordlist,
    jwk_injected,
    kid_injected,
    parse_jwt,
    resign,
    verifies_with,
    weak_secret,
)
from specdiff.model import (
    ApiModel,
    AuthMode,
    Confidence,
    Evidence,
    Exchange,
    Finding,
    Location,
    Operation,
    PlannedRequest,
)
from specdiff.probe import (
    Probe,
    ProbeContext,
    ProbeOptions,
    accepted,
    body_snippet,
    evidence,
    snippet,
)
from specdiff.redact import MASK, mask_value
from specdiff.variant import MADE_UP_CREDENTIALS, Variant, VariantKind

__all__ = [
    "PROBES",
    "AlgConfusionAccepted",
    "ExpiredTokenAccepted",
    "ForgedJwtAccepted",
    "KeyInjectionAccepted",
    "SensitiveJwtClaims",
    "UnsignedJwtAccepted",
    "WeakJwtSecret",
    "forgery",
]

_REGISTERED_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "scope", "scp"})


def _user_jwt(options: ProbeOptions) -> Jwt | None:
    return parse_jwt(options.auth.credentials.bearer_token)


def _takes_bearer(ctx: ProbeContext, op: Operation) -> bool:
    """Some security alternative of ``op`` reads a bearer token (or names an undeclared scheme).

    A forged JWT means nothing to an operation secured only by an API key or HTTP Basic: it
    would go without the key and be refused whatever the server does with tokens.
    """
    names = {name for alt in op.security for name, _ in alt}
    schemes = [ctx.api.security_schemes.get(name) for name in names]
    return any(s is None or s.takes_bearer for s in schemes)


def _with_token(ctx: ProbeContext, probe: str, variant: Variant, token: str) -> PlannedRequest:
    assert ctx.baseline is not None
    return dataclasses.replace(
        ctx.baseline,
        headers=(*ctx.baseline.headers, ("Authorization", f"Bearer {token}")),
        auth=AuthMode.CUSTOM,
        credential=token,
        probe=probe,
        variant=variant,
    )


def forgery(token: str, how: str) -> str:
    """What a forged JWT was, without the token: its decoded header and claims (personal or
    secret claim values masked) and how it was made. A forgery the API accepts is a working
    credential; evidence describes it and never carries it."""
    parsed = parse_jwt(token)
    if parsed is None:
        return f"forged credential ({how}), withheld"
    claims = {
        name: mask_value(value) if classify_field(name, value) is not None else value
        for name, value in parsed.claims.items()
    }
    header = snippet(json.dumps(parsed.header, sort_keys=True), 300)
    return (
        f"forged JWT ({how}), withheld: header {header}, "
        f"claims {snippet(json.dumps(claims, sort_keys=True), 400)}"
    )


def _masked(ev: Evidence, secret_tokens: Iterable[str]) -> Evidence:
    """``ev`` with working forged tokens replaced by the mask."""
    request, curl = ev.request, ev.curl
    for token in secret_tokens:
        request, curl = request.replace(token, MASK), curl.replace(token, MASK)
    return dataclasses.replace(ev, request=request, curl=curl)


_SIGNATURE_IGNORED = MADE_UP_CREDENTIALS | {VariantKind.FLIPPED_SIGNATURE}
"""Accepted, the operation does not check the signature: anyone can mint any token."""


class _JwtVariantProbe(Probe):
    """Plans variants of the user's JWT on secured operations with a 2xx baseline; judges 2xx.

    A rule stays silent where a simpler attack already got in (``said_by``): one root cause,
    one finding family, and fewer requests. It plans after those variants were answered
    (``plan_after``), whichever probe asked for them.
    """

    what: str = ""
    masks_tokens: bool = False
    """The variants are validly signed for a vulnerable server: never show them."""
    said_by: ClassVar[frozenset[VariantKind]] = MADE_UP_CREDENTIALS
    """Variants whose acceptance already says all this rule would (besides no credential)."""
    plan_after = MADE_UP_CREDENTIALS | {VariantKind.NO_CREDENTIALS}

    def said_already(self, ctx: ProbeContext) -> bool:
        """No credential or a weaker forgery (``said_by``) already answered like the baseline
        on this operation."""
        return ctx.anonymous_ok or ctx.accepted_any(*self.said_by)

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        """(variant, forged token) pairs."""
        return ()

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        token = _user_jwt(ctx.options)
        if token is None or not op.secured or not ctx.baseline_ok or ctx.baseline is None:
            return
        if self.said_already(ctx) or not _takes_bearer(ctx, op):
            return
        for variant, forged in self.forgeries(token, ctx):
            yield _with_token(ctx, self.code, variant, forged)

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not op.secured or not ctx.baseline_ok or self.said_already(ctx):
            return
        for ex in exchanges:
            if not accepted(ctx, ex):
                continue
            sent = dict(ex.sent_headers).get("Authorization", "").removeprefix("Bearer ")
            how = f"{self.what}: {ex.request.purpose}"
            ev = evidence(ex, f"{forgery(sent, how)}\n{body_snippet(ex, 300)}")
            if self.masks_tokens:
                ev = _masked(ev, [sent])
            yield self.finding(
                f"{op.key} answered {ex.status} to {self.what} ({ex.request.purpose})",
                key=ex.request.purpose,
                evidence=ev,
                confidence=Confidence.CERTAIN,
            )


class UnsignedJwtAccepted(_JwtVariantProbe):
    """SD203 auth.unsigned-jwt-accepted: the user's JWT re-issued with ``alg: none`` works.

    **Promise.** The API's JWTs are signed; an unsigned token proves nothing.

    **Probe.** After a 2xx baseline, the user's JWT is re-issued with the header ``alg`` set to
    ``none``, ``None`` and ``NONE`` and an empty signature (crafted by hand: JWT libraries
    refuse to), one request each.

    **Breach.** A variant answers 2xx (JSON when the baseline was JSON). Key: the variant.

    **Quiet when.** The credential is not a JWT; the baseline failed; the operation
    answers without any credential (SD201) or to a made-up one (SD202); all are refused.

    **Remediation.** Pin the algorithms when verifying: ``jwt.decode(token, key,
    algorithms=["HS256"])`` (PyJWT), never the token's own ``alg`` and never ``none``.
    """

    code = "SD203"
    variants = frozenset({VariantKind.ALG_NONE})
    what = "an unsigned (alg none) copy of the user's JWT"
    remediation = (
        'Verify with a fixed algorithm list, e.g. jwt.decode(token, key, algorithms=["HS256"]) '
        "with PyJWT; never trust the token's alg header, never accept alg none."
    )

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        for word in ("none", "None", "NONE"):
            yield Variant(VariantKind.ALG_NONE, f"alg-{word}"), alg_none(token, word)


class ForgedJwtAccepted(_JwtVariantProbe):
    """SD204 auth.forged-jwt-accepted: an edited or badly signed JWT is accepted.

    **Promise.** A JWT's signature covers its header and claims; any change invalidates it.

    **Probe.** After a 2xx baseline, two variants of the user's JWT: its claims edited (a
    ``specdiff`` claim added, the identity kept) under the old signature, and its signature with
    the first byte inverted. Both carry the user's real signature, so evidence masks them.

    **Breach.** A variant answers 2xx (JSON when the baseline was JSON): the server does not
    verify signatures (e.g. PyJWT called with ``options={"verify_signature": False}``).

    **Quiet when.** The credential is not a JWT; the baseline failed; the operation
    answers without any credential (SD201) or to a made-up one (SD202); both are refused.

    **Remediation.** Always verify the signature: ``jwt.decode(token, key,
    algorithms=["HS256"])``; ``verify_signature: False`` belongs in no request path.
    """

    code = "SD204"
    variants = frozenset({VariantKind.FORGED_PAYLOAD, VariantKind.FLIPPED_SIGNATURE})
    what = "a forged copy of the user's JWT"
    masks_tokens = True  # both variants carry (most of) the user's real signature
    remediation = (
        "Always verify JWT signatures: jwt.decode(token, key, algorithms=[...]); remove every "
        'options={"verify_signature": False} and jwt.get_unverified_claims() from request paths.'
    )

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        if token.alg.lower() == "none":
            return
        yield Variant(VariantKind.FORGED_PAYLOAD), forged_payload(token)
        yield Variant(VariantKind.FLIPPED_SIGNATURE), flipped_signature(token)


class ExpiredTokenAccepted(_JwtVariantProbe):
    """SD205 auth.expired-token-accepted: an expired or otherwise invalid-by-claims JWT works.

    **Promise.** A JWT is valid only within its ``exp``/``nbf`` window and for its ``aud`` and
    ``iss``; one without ``exp`` should not be accepted at all.

    **Probe.** Needs input. With ``--jwt-secret`` (and only when that secret verifies the
    user's token), re-signed copies: ``exp`` an hour ago, ``nbf`` an hour ahead, ``exp`` removed,
    and ``aud``/``iss`` changed to ``specdiff.invalid`` when the token carries them (a server
    that uses neither claim has nothing to check). With ``--expired-token``, that token
    as is.

    **Breach.** A variant answers 2xx (JSON when the baseline was JSON). Key: the variant.
    The re-signed tokens are masked in the evidence (they are valid on this server).

    **Quiet when.** Neither input is given; the secret does not verify the user's token; the
    operation answers without any credential (SD201), to a made-up one (SD202) or to a flipped
    signature (SD204): it ignores the signature, so anyone can mint any claims; the
    variants are refused.

    **Remediation.** Let the library verify the claims: PyJWT checks ``exp``/``nbf`` by default
    (never ``verify_exp: False``); pass ``audience=``/``issuer=`` and
    ``options={"require": ["exp"]}``.
    """

    code = "SD205"
    variants = frozenset(
        {VariantKind.EXPIRED_TOKEN, VariantKind.EXP_PAST, VariantKind.CLAIM_FORGERY}
    )
    said_by = _SIGNATURE_IGNORED
    plan_after = _SIGNATURE_IGNORED | {VariantKind.NO_CREDENTIALS}
    what = "a JWT that is expired or invalid by its claims"
    masks_tokens = True
    remediation = (
        "Verify the time and audience claims: jwt.decode(token, key, algorithms=[...], "
        'audience=..., issuer=..., options={"require": ["exp"]}) and never verify_exp=False.'
    )

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        auth = ctx.options.auth
        if auth.expired_token:
            yield Variant(VariantKind.EXPIRED_TOKEN), auth.expired_token
        secret = auth.jwt_secret
        if not secret or not verifies_with(token, secret):
            return
        now = int(time.time())
        claims = token.claims
        yield Variant(VariantKind.EXP_PAST), resign(token, secret, {**claims, "exp": now - 3600})
        forged = Variant(VariantKind.CLAIM_FORGERY, "nbf-future")
        yield forged, resign(token, secret, {**claims, "nbf": now + 3600})
        without_exp = {k: v for k, v in claims.items() if k != "exp"}
        yield Variant(VariantKind.CLAIM_FORGERY, "no-exp"), resign(token, secret, without_exp)
        for claim in ("aud", "iss"):
            if claim in claims:
                wrong = {**claims, claim: "specdiff.invalid"}
                yield (
                    Variant(VariantKind.CLAIM_FORGERY, f"wrong-{claim}"),
                    resign(token, secret, wrong),
                )


class KeyInjectionAccepted(_JwtVariantProbe):
    """SD215 auth.jwt-key-injection-accepted: a JWT signed with a key the token chooses works.

    **Promise.** Only the server's own keys verify its tokens.

    **Probe.** After a 2xx baseline, three requests with the user's claims signed by a key of
    specdiff's choosing: ES256 with a fresh key specdiff generated, whose public JWK rides in the
    token's ``jwk`` header (``kid: specdiff``); HS256 with the empty key, ``kid`` pointing at
    ``../../(...)/dev/null`` (a server reading the key file named by ``kid``); HS256 with the key
    ``specdiff``, ``kid`` being ``x' UNION SELECT 'specdiff'--`` (a server looking the key up
    by SQL string formatting).

    **Breach.** 2xx (JSON when the baseline was JSON): the server trusts keys from the token
    (CVE-2018-0114 class), resolves ``kid`` as a path or inside SQL, or does not verify at all.

    **Quiet when.** The credential is not a JWT; the baseline failed; the operation
    answers without any credential (SD201), to a made-up one (SD202) or to a flipped
    signature (SD204), which says more; the token is refused.

    **Remediation.** Verify with keys from your own configuration or JWKS only; ignore the
    ``jwk``/``jku``/``x5u`` headers, use ``kid`` only as a key into a fixed table of your keys
    (never a file path or SQL text), and pin ``algorithms``.
    """

    code = "SD215"
    variants = frozenset({VariantKind.KEY_INJECTION})
    said_by = _SIGNATURE_IGNORED
    plan_after = _SIGNATURE_IGNORED | {VariantKind.NO_CREDENTIALS}
    what = "a JWT signed with a key of specdiff's choosing"
    remediation = (
        "Verify tokens only with keys from your own configuration or JWKS; ignore jwk, jku and "
        "x5u headers, treat kid as a key into a fixed table of your keys (never a file path or "
        "SQL text), and pin the accepted algorithms."
    )

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        yield Variant(VariantKind.KEY_INJECTION, "embedded-jwk"), jwk_injected(token)
        for label, kid, key in KID_INJECTIONS:
            yield Variant(VariantKind.KEY_INJECTION, label), kid_injected(token, kid, key)


class AlgConfusionAccepted(_JwtVariantProbe):
    """SD216 auth.jwt-alg-confusion-accepted: RS/ES token re-signed HS256 with the public key.

    **Promise.** Asymmetric tokens verify only with the public key under their own algorithm.

    **Probe.** Needs a user JWT signed RS*/PS*/ES* and the server's JWKS: ``--jwks FILE``, or
    fetched before probing through the document's ``openIdConnect`` discovery URL and its
    ``jwks_uri`` (base URL's origin only, no credentials). The user's claims are signed HS256
    with the PEM of the JWKS key (the one whose ``kid`` matches, else the first): crafted by
    hand, since PyJWT refuses an asymmetric key as HMAC secret. One request.

    **Breach.** 2xx (JSON when the baseline was JSON). The forged token is masked.

    **Quiet when.** No JWKS (none given, none discovered: a report note says why); an HS* token; the baseline failed; the operation
    answers without any credential (SD201), to a made-up one (SD202) or to a flipped
    signature (SD204), which says more; the token is refused.

    **Remediation.** Pin the algorithm per key: ``jwt.decode(token, public_key,
    algorithms=["RS256"])``, never a list mixing HS* and RS*.
    """

    code = "SD216"
    variants = frozenset({VariantKind.ALG_CONFUSION})
    said_by = _SIGNATURE_IGNORED
    plan_after = _SIGNATURE_IGNORED | {VariantKind.NO_CREDENTIALS}
    what = "the user's JWT re-signed HS256 with the server's public key"
    masks_tokens = True
    remediation = (
        "Pin asymmetric algorithms when verifying: jwt.decode(token, public_key, "
        'algorithms=["RS256"]); never allow HS* with a key that is public.'
    )

    def forgeries(self, token: Jwt, ctx: ProbeContext) -> Iterable[tuple[Variant, str]]:
        keys = ctx.options.auth.jwks
        if not keys or token.alg[:2] not in ("RS", "PS", "ES"):
            return
        kid = token.header.get("kid")
        key = next((k for k in keys if kid is not None and k.get("kid") == kid), keys[0])
        forged = hs256_with_public_key(token, key)
        if forged is not None:
            yield Variant(VariantKind.ALG_CONFUSION), forged


def _scheme_location(api: ApiModel) -> Location | None:
    """Where the document declares its bearer scheme (findings about the token point there)."""
    for scheme in api.security_schemes.values():
        if scheme.type in ("oauth2", "openIdConnect") or scheme.scheme == "bearer":
            return scheme.location
    return None


class WeakJwtSecret(Probe):
    """SD206 auth.weak-jwt-secret: the user's JWT is signed with a publicly known secret.

    **Promise.** HMAC-signed tokens are only as strong as their secret.

    **Probe.** Offline, no request: the user's HS256/384/512 JWT is verified against the public
    wordlist attackers try first (52,731 secrets: tutorial and framework defaults, SecLists'
    scraped JWT secrets, the secret keys of Flask-Unsign-Wordlist found in public code, and case
    variants of the most common; ``specdiff/wordlists/NOTICE.md``), one HMAC of the token's
    signing input per secret (0.1-0.2 s of CPU, ``bench/jwt_wordlist.py``). The ``--jwt-secret``
    the user passed is looked up in the same list. Reported once per run.

    **Breach.** A listed secret verifies the token's signature: anyone can mint tokens for any
    user. Or the ``--jwt-secret`` itself is a listed secret (key ``--jwt-secret``), even when no
    token shows it (an RS256 token, an opaque one, none at all).

    **Quiet when.** The credential is not an HS* JWT or no listed secret verifies it, and no
    ``--jwt-secret`` was passed or it is not in the list; the token already showed the secret
    (one finding, not two).

    **Remediation.** Rotate to a random secret of at least 32 bytes
    (``secrets.token_urlsafe(32)``) kept out of the code, or sign with an asymmetric key.
    """

    code = "SD206"
    confidence = Confidence.CERTAIN
    remediation = (
        "Rotate the signing secret to a random value of 32+ bytes (secrets.token_urlsafe(32)) "
        "loaded from the environment, and invalidate every token signed with the old one."
    )

    def check_credentials(self, api: ApiModel, options: ProbeOptions) -> Iterable[Finding]:
        token = _user_jwt(options)
        found = weak_secret(token) if token is not None else None
        if found is not None and token is not None:
            yield self.finding(
                f"the user's {token.alg} JWT verifies with a publicly known secret "
                f"({len(found)} characters, in specdiff's wordlist of JWT secrets)",
                location=_scheme_location(api),
                evidence=Evidence(snippet=f"secret: {mask_value(found)}"),
            )
            return
        given = options.auth.jwt_secret
        if given and in_wordlist(given):
            yield self.finding(
                f"the signing secret passed with --jwt-secret ({len(given)} characters) is a "
                "publicly known secret, in specdiff's wordlist of JWT secrets",
                key="--jwt-secret",
                location=_scheme_location(api),
                evidence=Evidence(snippet=f"--jwt-secret: {mask_value(given)}"),
            )


class SensitiveJwtClaims(Probe):
    """SD214 auth.sensitive-jwt-claims: the user's JWT carries personal data or secrets.

    **Promise.** A JWT is only signed, not encrypted: anyone holding it reads its claims.

    **Probe.** Passive, no request: each claim of the user's JWT (beyond ``iss``,
    ``aud``, ``exp``, ``nbf``, ``iat``, ``jti``, scopes) goes through specdiff's classifier of
    personal data and secrets (SD302/SD303 classes); ``sub`` too, since an e-mail there is
    personal data. Once per run; key: the claim.

    **Breach.** A claim is personal data (e-mail, phone, national id ...) or a secret.

    **Quiet when.** The credential is not a JWT; its claims are identifiers and metadata only.

    **Remediation.** Put an opaque user id in ``sub`` and look personal data up server-side;
    use JWE if claims must carry it.
    """

    code = "SD214"
    confidence = Confidence.FIRM
    remediation = (
        "Keep JWT claims to opaque identifiers and metadata; look personal data up on the "
        "server by sub, or encrypt the token (JWE) if it must carry it."
    )

    def check_credentials(self, api: ApiModel, options: ProbeOptions) -> Iterable[Finding]:
        token = _user_jwt(options)
        if token is None:
            return
        for name, value in sorted(token.claims.items()):
            if name in _REGISTERED_CLAIMS:
                continue
            found = classify_field(name, value)
            if found is None:
                continue
            yield self.finding(
                f"the user's JWT carries {found.category} in its claim {name!r} "
                f"({found.kind}), readable by anyone who holds the token",
                key=f"$.{name}",
                location=_scheme_location(api),
                evidence=Evidence(snippet=f"$.{name} = {mask_value(value)}"),
            )


PROBES: tuple[type[Probe], ...] = (
    UnsignedJwtAccepted,
    ForgedJwtAccepted,
    ExpiredTokenAccepted,
    WeakJwtSecret,
    SensitiveJwtClaims,
    KeyInjectionAccepted,
    AlgConfusionAccepted,
)
