"""The typed vocabulary of the requests specdiff sends: what each one asks, whoever plans it.

Every planned request carries a :class:`Variant`: a :class:`VariantKind` (what the request
tests: no credentials, a random token, a JWT with ``alg: none`` ...) and, where one kind has
several instances, a label (``alg-None``, ``wrong-type:query.limit``) that the planning probe
uses as its finding key. Probes read each other's answers by kind only, from the operation's
evidence pool (:attr:`specdiff.probe.ProbeContext.pool`); a label belongs to the probe that
planned it. Adding a variant a rule needs means adding a kind here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "BASELINE",
    "HOST_WIDE",
    "MADE_UP_CREDENTIALS",
    "PROVOCATIONS",
    "Variant",
    "VariantKind",
]


class VariantKind(str, enum.Enum):
    """What a request tests. The values are the default labels (and the historical keys)."""

    BASELINE = "baseline"
    """The valid request with identity A's credentials (or none, when the user gave none)."""

    # ---------------------------------------------------------------- who asks
    NO_CREDENTIALS = "no-credentials"
    """The baseline without any credential."""
    INVALID_INPUT_ANONYMOUS = "no-credentials-invalid-input"
    """An unsafe operation asked without credentials and with input no server can act on (a body
    no parser accepts, or a path identifier that violates its schema)."""
    ABSENT_OBJECT_ANONYMOUS = "no-credentials-absent-object"
    """An unsafe operation asked without credentials for an object that certainly does not exist
    (every path identifier a well-formed value no server issued), otherwise valid: what its
    handler does before it checks the caller."""
    ABSENT_OBJECT_READ = "no-credentials-absent-object-read"
    """The same path's documented GET, asked without credentials for the same absent object: how
    that path turns strangers away (the control SD208 compares with)."""
    PLAIN_HTTP = "plain-http"
    """The baseline sent to the plain-HTTP twin, without credentials."""
    IDENTITY_B = "identity-b"
    """The baseline sent as identity B (``--token-b``)."""
    IDENTITY_B_LISTING = "identity-b-listing"
    """A listing that revealed one of A's ids, asked as identity B (SD212's ownership proof)."""
    LOW_SCOPE = "low-privilege"
    """The baseline sent as the low-privilege identity (``--token-low``)."""

    # ---------------------------------------------------------------- credentials specdiff made up
    RANDOM_TOKEN = "random-token"
    MALFORMED_TOKEN = "malformed-token"
    WRONG_SCHEME_WORD = "wrong-scheme-word"
    WRONG_BASIC_PAIR = "wrong-basic-pair"
    RANDOM_API_KEY = "random-api-key"
    CANARY_CREDENTIAL = "canary-credential"
    """A unique canary value in place of the credential (SD404 looks for it in answers)."""

    # ---------------------------------------------------------------- the user's credential, moved
    TOKEN_IN_QUERY = "token-in-query"
    """Label: the query parameter name (``access_token``)."""
    CREDENTIAL_IN_COOKIE = "credential-in-cookie"
    """Label: the cookie name (SD217)."""

    # ---------------------------------------------------------------- the user's JWT, forged
    ALG_NONE = "alg-none"
    """Labels ``alg-none``, ``alg-None``, ``alg-NONE``."""
    FORGED_PAYLOAD = "forged-payload"
    FLIPPED_SIGNATURE = "flipped-signature"
    EXPIRED_TOKEN = "expired-token"
    """The user's own expired token (``--expired-token``)."""
    EXP_PAST = "exp-past"
    """The user's JWT re-signed with ``exp`` in the past (``--jwt-secret``)."""
    CLAIM_FORGERY = "claim-forgery"
    """Other claim changes re-signed with ``--jwt-secret``: labels ``nbf-future``, ``no-exp``,
    ``wrong-aud``, ``wrong-iss``."""
    KEY_INJECTION = "key-injection"
    """Labels ``embedded-jwk`` and the ``kid-*`` injections."""
    ALG_CONFUSION = "hs256-public-key"

    # ---------------------------------------------------------------- invalid input (label kind:target)
    WRONG_TYPE = "wrong-type"
    MALFORMED_JSON = "malformed-json"
    MISSING_REQUIRED = "missing-required"
    QUOTE = "quote"
    OVERLONG = "overlong"
    BAD_CONTENT_TYPE = "bad-content-type"
    BAD_FORMAT = "bad-format"
    NUMBER_EDGE = "number-edge"

    # ---------------------------------------------------------------- the rest
    UNDOCUMENTED_METHOD = "undocumented-method"
    CORS_ORIGIN = "cors-origin"
    """Label ``cors-origin:<origin sent>``."""
    SECOND_ISSUE = "second-issue"
    """The baseline asked once more (two issues of a token, SD213)."""
    DEBUGGER_PATH = "debugger-path"
    WELL_KNOWN_PATH = "well-known-path"
    ABSENT_PATH = "absent-path"

    # ---------------------------------------------------------------- the engine's and runner's own
    CREATE = "create"
    """The create operation's baseline, sent again for an object a destructive variant needs."""
    CLEANUP = "cleanup"
    """The DELETE of an object specdiff created, at the end of a ``--unsafe`` run."""
    CREDENTIAL_CHECK = "credential-check"
    """An identity's proven request asked again: do its credentials still work?"""
    LOGIN = "login"
    DISCOVERY = "discovery"


@dataclass(frozen=True, slots=True)
class Variant:
    """A kind and, where the kind has several instances, the planning probe's label."""

    kind: VariantKind
    label: str = ""

    def __str__(self) -> str:
        return self.label or self.kind.value


BASELINE = Variant(VariantKind.BASELINE)

HOST_WIDE = frozenset(
    {VariantKind.DEBUGGER_PATH, VariantKind.WELL_KNOWN_PATH, VariantKind.ABSENT_PATH}
)
"""Requests about the host, not about the operation that planned them (the same for all)."""

MADE_UP_CREDENTIALS = frozenset(
    {VariantKind.RANDOM_TOKEN, VariantKind.MALFORMED_TOKEN, VariantKind.WRONG_SCHEME_WORD}
)
"""Bearer credentials no server issued: accepted, the operation checks no token at all."""

PROVOCATIONS = frozenset(
    {
        VariantKind.WRONG_TYPE,
        VariantKind.MALFORMED_JSON,
        VariantKind.MISSING_REQUIRED,
        VariantKind.QUOTE,
        VariantKind.OVERLONG,
        VariantKind.BAD_CONTENT_TYPE,
        VariantKind.BAD_FORMAT,
        VariantKind.NUMBER_EDGE,
    }
)
"""Deliberately invalid input (see :mod:`specdiff.mutate`)."""
