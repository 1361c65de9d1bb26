"""The face every probe has, and the registry that finds them.

A probe is a small class for one rule of the catalogue: it declares its ``code``, plans the
requests it needs for an operation (pure), and judges the exchanges that came back (pure). The
runner does all I/O; the engine adds location, operation and redaction afterwards. Built-in
probes register exactly like third-party ones: an entry point in the ``specdiff.probes`` group
names a module whose ``PROBES`` tuple lists its classes.

Every request carries a :class:`specdiff.variant.Variant` (what it tests). All answers for one
operation form its evidence pool (:attr:`ProbeContext.pool`): a probe reads other probes'
answers by variant kind (``ctx.answers_to(VariantKind.NO_CREDENTIALS)``), never by another
probe's label. A probe whose plan reads such answers declares them in ``plan_after``; the plan
stage then plans it once every probe that plans those kinds (its ``variants``) was answered.

The class docstring is the rule's documentation page (``specdiff explain SD201`` prints it).
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

from specdiff.catalogue import CATALOGUE, Rule, rule
from specdiff.classify import classify_field, classify_value
from specdiff.config import AuthMaterial
from specdiff.errors import ProbeError
from specdiff.model import (
    ApiModel,
    Confidence,
    Evidence,
    Exchange,
    Finding,
    Location,
    Operation,
    PlannedRequest,
    Severity,
)
from specdiff.redact import mask_value
from specdiff.variant import VariantKind

__all__ = [
    "ENTRY_POINT_GROUP",
    "Listing",
    "Probe",
    "ProbeContext",
    "ProbeOptions",
    "accepted",
    "asked",
    "body_snippet",
    "evidence",
    "load_probes",
    "snippet",
]

ENTRY_POINT_GROUP = "specdiff.probes"


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """What the user allowed and supplied, as far as planning needs to know."""

    unsafe: bool = False
    """``--unsafe``: requests that may change data (valid bodies on POST/PUT/PATCH/DELETE)."""
    has_credentials: bool = False
    """The user gave credentials, so the baseline carried them."""
    http_twin: bool = False
    """A plain-HTTP twin of the base URL is known (``--http-url`` or derived)."""
    identities: frozenset[str] = frozenset()
    """Extra identities the runner can attach: ``"b"`` and/or ``"low"``, each only when given
    and different from identity A's credentials."""
    auth: AuthMaterial = field(default_factory=AuthMaterial)
    """Credential material for mutation probes (JWT attacks, moved tokens)."""
    extra_paths: tuple[str, ...] = ()
    """``--extra-paths``: more well-known paths for SD407 to try, beyond the built-in list."""


@dataclass(frozen=True, slots=True)
class Listing:
    """Where an identifier of the baseline came from, as evidence of whose object it names
    (SD212): an operation whose answer to identity A showed it as an object's own identifier,
    asked once more as identity B (whether B's own answer shows it tells A's own objects from
    shared ones); or A's own token claims; or the user's ``--param``."""

    param: str
    """The parameter the value filled (``order_id``)."""
    value: str | int
    """The value."""
    operation: str
    """The operation's key (``GET /orders``), or ``token`` (A's claims) or ``--param``."""
    answer_b: Exchange | None = None
    """What the same operation answered identity B; None for ``token`` and ``--param``, and
    when the operation's request itself named an object of A's (see ``within``)."""
    within: tuple[str, str | int, str] | None = None
    """When the operation's answer was about one of A's own objects (``GET /users/7/orders``
    with 7 from A's token): that object's (parameter, value, ``token`` or ``--param``). B's
    answer to the same request would be no listing of B's own, so it is not asked."""


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What a probe may read when it plans and judges one operation."""

    api: ApiModel
    options: ProbeOptions
    baseline: PlannedRequest | None = None
    """The synthesized valid request for the operation (sent only if safe or ``--unsafe``)."""
    baseline_exchange: Exchange | None = None
    """What the baseline got back, with the user's credentials; None when it was not sent."""
    pool: tuple[Exchange, ...] = ()
    """The operation's evidence pool: every answer to a variant planned for it so far (by any
    probe; the baseline's is ``baseline_exchange``). While planning: the answers of the probes
    this one plans after (``Probe.plan_after``); while judging: all of them."""
    spare: PlannedRequest | None = None
    """For a DELETE under ``--unsafe``: the baseline aimed at a second object specdiff created,
    since the baseline removes its own."""
    listings: tuple[Listing, ...] = ()
    """Where the baseline's identifiers of known owner came from (SD212): the operation that
    revealed each one and its answer to identity B, A's token claims, or ``--param``."""

    def answers_to(self, *kinds: VariantKind) -> tuple[Exchange, ...]:
        """The pool's answers to variants of these kinds, in the order they were planned."""
        wanted = frozenset(kinds)
        return tuple(ex for ex in self.pool if ex.request.variant.kind in wanted)

    def accepted_any(self, *kinds: VariantKind) -> bool:
        """Some variant of these kinds was answered like the baseline (:func:`accepted`)."""
        return any(accepted(self, ex) for ex in self.answers_to(*kinds))

    @property
    def anonymous_ok(self) -> bool:
        """The request without credentials already answered like the baseline (or, in a run
        without credentials, the baseline itself went anonymous and answered 2xx): the operation
        checks no credential at all, so mutated credentials prove nothing more."""
        if not self.options.has_credentials:
            return self.baseline_ok
        return self.accepted_any(VariantKind.NO_CREDENTIALS)

    def answers(self, exchanges: Sequence[Exchange]) -> list[Exchange]:
        """The baseline's answer (when it was sent) followed by ``exchanges``."""
        return [self.baseline_exchange, *exchanges] if self.baseline_exchange else list(exchanges)

    def credential_matters(self, op: Operation) -> bool:
        """A secured operation whose baseline answered 2xx and that refuses anonymous callers:
        only there can a mutated or moved credential prove anything (else SD201 says it)."""
        return op.secured and self.baseline_ok and not self.anonymous_ok

    @property
    def baseline_ok(self) -> bool:
        """The baseline was sent and answered 2xx: differential rules may judge."""
        return self.baseline_exchange is not None and self.baseline_exchange.ok


class Probe:
    """Base class of probes: subclasses set ``code`` and override what they need."""

    code: ClassVar[str]
    """A catalogue code (``SD201``); kind, title, severity, CWE and OWASP come from there."""
    variants: ClassVar[frozenset[VariantKind]] = frozenset()
    """The kinds of variant :meth:`plan` may yield: what a probe waiting on them waits for."""
    plan_after: ClassVar[frozenset[VariantKind]] = frozenset()
    """Kinds whose answers :meth:`plan` reads from ``ctx.pool`` (e.g. no JWT forgery where a
    random token already got in): it is planned after every probe that plans them."""
    evidence: ClassVar[Literal["own", "pool"]] = "own"
    """What :meth:`judge` gets as ``exchanges``: the answers to its own requests (``own``), or
    (``pool``) every answer of the operation's pool that this rule has not judged yet, the
    baseline's included: each distinct exchange is judged once per rule in a run. Host-wide
    requests (well-known paths) reach only host-scope pool rules."""
    confidence: ClassVar[Confidence] = Confidence.FIRM
    remediation: ClassVar[str] = ""
    """What to change, with a Flask example where the fix is framework-specific."""
    scope: ClassVar[Literal["operation", "host"]] = "operation"
    """``host``: findings are about the host (HSTS, a cookie, a banner), not one operation; the
    engine leaves their ``operation`` and ``location`` empty, so one breach seen on every
    operation is reported once per (rule, key)."""

    @property
    def rule(self) -> Rule:
        return rule(self.code)

    def check_spec(self, api: ApiModel) -> Iterable[Finding]:
        """Static findings from the document alone (no request)."""
        return ()

    def check_credentials(self, api: ApiModel, options: ProbeOptions) -> Iterable[Finding]:
        """Findings about the user's credentials themselves, once per run (no request)."""
        return ()

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        """The variant requests this probe needs for ``op`` (pure: no I/O)."""
        return ()

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        """Findings from the baseline and the pool (``ctx``) and ``exchanges`` (its own
        answers, or the pool's, see ``evidence``), pure."""
        return ()

    def finding(
        self,
        message: str,
        *,
        key: str = "",
        evidence: Evidence | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        location: Location | None = None,
    ) -> Finding:
        """A finding of this probe's rule; the engine adds operation and location when absent."""
        r = self.rule
        return Finding(
            rule=r.code,
            kind=r.kind,
            title=r.title,
            severity=severity or r.severity,
            confidence=confidence or self.confidence,
            message=message,
            cwe=r.cwe,
            owasp=r.owasp,
            location=location,
            evidence=evidence,
            remediation=self.remediation,
            key=key,
        )


# --------------------------------------------------------------------------- evidence helpers


def accepted(ctx: ProbeContext, ex: Exchange) -> bool:
    """``ex`` got what the baseline got: 2xx, and JSON when the baseline answered JSON (a login
    page served with 200 is not the resource)."""
    base = ctx.baseline_exchange
    return ex.ok and (base is None or not base.is_json or ex.is_json)


def asked(op: Operation, ex: Exchange) -> str:
    """Who answered, for a message: ``op``'s key, or the request itself when it used another
    method than the operation's (SD501's undeclared ``PUT /notes/x``, judged by pool-wide
    rules with the operation whose path it asked)."""
    req = ex.request
    if req.method == op.method:
        return op.key
    return f"{req.method} {req.path} (an undeclared method on {op.path})"


_SNIPPET_LIMIT = 400


def snippet(text: str, limit: int = _SNIPPET_LIMIT) -> str:
    """The start of ``text``, cut at ``limit`` characters with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def body_snippet(exchange: Exchange, limit: int = 300) -> str:
    """The start of a response body with every personal or secret value masked.

    Evidence must prove a breach without copying the leaked data into CI logs: JSON values the
    classifier recognises are shown as :func:`specdiff.redact.mask_value`; a non-JSON body that
    holds such a value is withheld.
    """
    data = exchange.json() if exchange.is_json else None
    if data is not None:
        return snippet(json.dumps(_masked(data, None), ensure_ascii=False), limit)
    text = exchange.text
    found = classify_value(text[:20_000])
    if found is not None:
        return (
            f"<{len(exchange.body)} bytes withheld: the body holds {found.category} ({found.kind})>"
        )
    return snippet(text, limit)


_MASKED_ITEMS = 20


def _masked(value: Any, name: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, name) for v in value[:_MASKED_ITEMS]]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        if name is not None:
            found = classify_field(name, value)
        else:
            found = classify_value(value) if isinstance(value, str) else None
        if found is not None:
            return mask_value(value)
    return value


def evidence(exchange: Exchange, proof: str | None = None) -> Evidence:
    """Evidence for ``exchange``: the request as sent, the status, a proof snippet and curl.

    Credentials still appear raw here; the engine redacts every report field once, and rewrites
    them in the curl line as environment variables.
    """
    lines = [f"{exchange.request.method} {exchange.url}"]
    lines += [f"{name}: {value}" for name, value in exchange.sent_headers]
    if exchange.request.body:
        lines += ["", snippet(exchange.request.body.decode("utf-8", "replace"), 300)]
    return Evidence(
        request="\n".join(lines),
        status=exchange.status,
        snippet=proof if proof is not None else body_snippet(exchange),
        curl=curl_command(exchange),
    )


_BORING_HEADERS = frozenset(
    {"host", "user-agent", "accept-encoding", "connection", "content-length"}
)


def curl_command(exchange: Exchange) -> str:
    """A curl line that sends the same request (headers in double quotes for ``$VAR``s)."""
    req = exchange.request
    parts = ["curl", "-sS", "-i"]
    if req.method != "GET":
        parts += ["-X", req.method]
    parts.append(shlex.quote(exchange.url))
    for name, value in exchange.sent_headers:
        if name.lower() in _BORING_HEADERS:
            continue
        parts += ["-H", _double_quote(f"{name}: {value}")]
    if req.body:
        parts += ["--data-binary", shlex.quote(req.body.decode("utf-8", "replace"))]
    return " ".join(parts)


def _double_quote(text: str) -> str:
    """Shell double quotes, so a redactor can later put ``${SPECDIFF_TOKEN}`` inside."""
    return '"' + re.sub(r'([\\"`$])', r"\\\1", text) + '"'


# --------------------------------------------------------------------------- registry

_CODE = re.compile(r"^SD\d{3}$")


@cache
def load_probes() -> tuple[Probe, ...]:
    """Every registered probe, instantiated once, validated against the catalogue."""
    found: list[Probe] = []
    seen: dict[str, str] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        module = importlib.import_module(ep.value)
        classes: Sequence[type[Probe]] = getattr(module, "PROBES", ())
        for cls in classes:
            code = getattr(cls, "code", "")
            if not _CODE.match(code) or code not in CATALOGUE:
                raise ProbeError(f"probe {cls.__qualname__} in {ep.value}: unknown code {code!r}")
            if code in seen:
                raise ProbeError(f"probe code {code} registered twice ({seen[code]}, {ep.value})")
            if not (cls.__doc__ or "").strip():
                raise ProbeError(f"probe {code} ({cls.__qualname__}) has no docstring")
            seen[code] = ep.value
            found.append(cls())
    return tuple(sorted(found, key=lambda p: p.code))
