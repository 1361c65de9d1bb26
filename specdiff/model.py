"""Frozen values shared by every stage of the pipeline.

spec -> derive (:class:`ApiModel`, :class:`Operation`) -> synth/plan (:class:`PlannedRequest`)
-> run (:class:`Exchange`) -> judge (:class:`Finding`) -> :class:`Report`.

Nothing here does I/O. Schemas are the one lazily resolved value: see :mod:`specdiff.schema`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from specdiff.variant import BASELINE, Variant

if TYPE_CHECKING:
    from specdiff.schema import Schema

__all__ = [
    "ORIGIN_PARAM",
    "ORIGIN_TOKEN",
    "SAFE_METHODS",
    "ApiModel",
    "AuthMode",
    "Confidence",
    "Coverage",
    "CoverageStatus",
    "CreatedObject",
    "Evidence",
    "Exchange",
    "Finding",
    "IdentityUse",
    "Link",
    "Location",
    "MediaType",
    "NotSent",
    "Operation",
    "OperationRef",
    "Parameter",
    "PlannedRequest",
    "Report",
    "RequestBody",
    "Response",
    "SecurityRequirement",
    "SecurityScheme",
    "Server",
    "Severity",
    "Summary",
    "Suppression",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

ORIGIN_TOKEN = "token"
"""Where an identifier came from: identity A's own token claims (see ``specdiff.synth``)."""
ORIGIN_PARAM = "--param"
"""Where an identifier came from: the user's ``--param``, by the user's word one of A's objects."""


class Severity(str, enum.Enum):
    """How bad a finding is; ordered: ``Severity.CRITICAL > Severity.LOW``."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info."""
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Confidence(str, enum.Enum):
    """How sure the evidence makes us."""

    CERTAIN = "certain"
    FIRM = "firm"
    TENTATIVE = "tentative"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------- the document


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the OpenAPI document."""

    file: str
    """The spec file as the user named it (or relative to the root document)."""
    line: int | None
    """1-based line, when the loader could tell."""
    pointer: str = ""
    """JSON pointer inside ``file`` (``/paths/~1users/get``)."""
    find: Callable[[], int | None] | None = field(
        default=None, compare=False, repr=False, kw_only=True
    )
    """Looks ``line`` up on its first read (then None): GitHub's document has 1,223 operations,
    finding all their lines costs more than loading it, and a report shows a few."""


def _lazy(slot: Any) -> property:
    """``Location.line`` read through ``find`` first; kept in its slot as before."""

    def get(self: Location) -> int | None:
        find = self.find
        if find is not None:
            object.__setattr__(self, "find", None)
            slot.__set__(self, find())
        line: int | None = slot.__get__(self, Location)
        return line

    return property(get, slot.__set__, doc=slot.__doc__)


setattr(Location, "line", _lazy(Location.__dict__["line"]))  # noqa: B010 (mypy: a field)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One operation parameter (path, query, header or cookie)."""

    name: str
    location: Literal["path", "query", "header", "cookie"]
    required: bool
    schema: Schema | None
    example: Any = None
    """An example value from the document (``example`` or the first of ``examples``), or None."""


@dataclass(frozen=True, slots=True)
class MediaType:
    """One media type of a request or response body."""

    media_type: str
    schema: Schema | None
    example: Any = None


@dataclass(frozen=True, slots=True)
class RequestBody:
    """A documented request body."""

    required: bool
    content: tuple[MediaType, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI ``links`` entry of a response: how its body feeds another operation."""

    operation_id: str
    """The target operation's ``operationId`` (``operationRef`` links are not followed)."""
    parameters: tuple[tuple[str, str], ...]
    """(target parameter name, runtime expression such as ``$response.body#/id``)."""


@dataclass(frozen=True, slots=True)
class Response:
    """A documented response: ``status`` is ``"200"``, ``"2XX"`` or ``"default"``."""

    status: str
    content: tuple[MediaType, ...]
    headers: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()

    def media(self, media_type: str, *, suffixes: bool = True) -> MediaType | None:
        """The documented media type that covers ``media_type``: the same type, a wildcard
        (``*/*``, ``application/*``) and, with ``suffixes``, a structured suffix
        (``application/problem+json`` read with the ``application/json`` schema)."""
        wanted = media_type.split(";", 1)[0].strip().lower()
        best: MediaType | None = None
        for mt in self.content:
            declared = mt.media_type.split(";", 1)[0].strip().lower()
            if declared == wanted:
                return mt
            if best is None and _media_covers(declared, wanted, suffixes):
                best = mt
        return best


def _media_covers(declared: str, actual: str, suffixes: bool) -> bool:
    if declared in ("*/*", ""):
        return True
    d_type, _, d_sub = declared.partition("/")
    a_type, _, a_sub = actual.partition("/")
    if d_sub == "*":
        return d_type == a_type
    # application/json documented, application/problem+json sent: same structure family.
    return suffixes and d_type == a_type and a_sub.endswith("+" + d_sub)


SecurityRequirement = tuple[tuple[str, tuple[str, ...]], ...]
"""One alternative of a ``security`` list: (scheme name, scopes) pairs that must all hold.
An empty tuple is the ``{}`` alternative: anonymous access allowed."""


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A declared security scheme, normalised across Swagger 2.0 and OpenAPI 3."""

    name: str
    type: Literal["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"]
    scheme: str | None = None
    """For ``http``: ``bearer`` or ``basic`` (lower case)."""
    param_name: str | None = None
    """For ``apiKey``: the header, query or cookie name."""
    param_location: Literal["header", "query", "cookie"] | None = None
    bearer_format: str | None = None
    scopes: tuple[str, ...] = ()
    open_id_connect_url: str | None = None
    location: Location | None = None

    @property
    def takes_bearer(self) -> bool:
        """The credential is a bearer token: HTTP bearer, OAuth2 and OpenID Connect."""
        return self.type in ("oauth2", "openIdConnect") or (
            self.type == "http" and self.scheme == "bearer"
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation with everything probes need; nothing reads the raw dict."""

    method: str
    """Upper case: ``GET``."""
    path: str
    """The path template as in the document: ``/users/{id}``."""
    operation_id: str | None
    location: Location
    parameters: tuple[Parameter, ...] = ()
    request_body: RequestBody | None = None
    responses: tuple[Response, ...] = ()
    security: tuple[SecurityRequirement, ...] = ()
    """Effective requirement alternatives (operation level over top level)."""
    summary: str | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    ignore: tuple[tuple[str, str], ...] = ()
    """(rule code, reason) pairs from the operation's ``x-specdiff-ignore``."""

    @property
    def key(self) -> str:
        """``GET /users/{id}``: unique within a document."""
        return f"{self.method} {self.path}"

    @property
    def secured(self) -> bool:
        """Non-empty effective security with no anonymous (``{}``) alternative."""
        return bool(self.security) and all(req for req in self.security)

    @property
    def safe(self) -> bool:
        """GET/HEAD/OPTIONS/TRACE: may be sent without ``--unsafe``."""
        return self.method in SAFE_METHODS

    @property
    def ref(self) -> OperationRef:
        return OperationRef(self.method, self.path, self.operation_id)

    def response_for(self, status: int) -> Response | None:
        """The documented response covering ``status``: exact, then ``2XX`` range, then default."""
        by_status = {r.status.upper(): r for r in self.responses}
        return (
            by_status.get(str(status))
            or by_status.get(f"{str(status)[0]}XX")
            or by_status.get("DEFAULT")
        )


@dataclass(frozen=True, slots=True)
class Server:
    """One entry of ``servers`` (or Swagger ``schemes`` x ``host`` + ``basePath``)."""

    url: str
    location: Location


@dataclass(frozen=True, slots=True)
class ApiModel:
    """The derived document: what every stage after ``derive`` reads."""

    source: str
    title: str
    version: str
    openapi_version: str
    """``2.0``, ``3.0.x`` or ``3.1.x`` as written in the document."""
    operations: tuple[Operation, ...]
    servers: tuple[Server, ...]
    security_schemes: Mapping[str, SecurityScheme]
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- requests


class AuthMode(str, enum.Enum):
    """Which credentials the runner attaches to a planned request."""

    USER = "user"
    """The user's credentials (identity A); only to the target's own origin, never plain HTTP."""
    NONE = "none"
    """No credentials at all: the runner strips every credential header, query and cookie."""
    CUSTOM = "custom"
    """The probe put its own (fake) credential in the request; the user's are not added."""


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """A request a probe wants sent: pure data, relative to a target."""

    method: str
    path: str
    """The concrete path, parameters filled: ``/users/42``."""
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    auth: AuthMode = AuthMode.USER
    target: Literal["primary", "http"] = "primary"
    """``primary`` is ``--base-url``; ``http`` is its plain-HTTP twin."""
    probe: str = "baseline"
    """The rule code that planned it, or ``baseline`` (the plan stage stamps it)."""
    variant: Variant = BASELINE
    """What the request tests, in the typed vocabulary of :mod:`specdiff.variant`."""
    identity: Literal["a", "b", "low"] = "a"
    """Whose credentials ``AuthMode.USER`` attaches: the user's (A), a second user's (B,
    ``--token-b``) or a low-privilege one (``--token-low``)."""
    changes_data: bool = False
    """The request may change data. A probe sets it for a request it knows to write; the plan
    stage sets it for every request its safety policy cannot prove harmless (see
    :mod:`specdiff.safety`), and without ``--unsafe`` such a request is never sent."""
    operation: str = ""
    """The key of the operation the request was planned for (``GET /users/{id}``), stamped by
    the plan stage; the runner's safety check reads that operation's facts."""
    credential: str | None = None
    """The credential value a probe placed itself (``AuthMode.CUSTOM``: a forged, tampered,
    random, canary or moved one). Once the API answers it 2xx it works like the user's own, and
    every output redacts it (the runner reports it, the report step adds it to the redactor)."""

    @property
    def purpose(self) -> str:
        """The variant's label, e.g. ``no-credentials`` or ``alg-None`` (a finding key)."""
        return str(self.variant)


NotSent = Literal["budget", "time", "credentials", "policy", "config"]
"""Why specdiff itself did not send a request: the request budget or the time budget was spent,
the identity's credentials had stopped working, the safety policy refused it, or the run has no
such target or identity."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request as sent and what came back (or why nothing came back)."""

    request: PlannedRequest
    url: str
    """The absolute URL that was requested."""
    sent_headers: tuple[tuple[str, str], ...]
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False
    elapsed: float = 0.0
    error: str | None = None
    """Why there is no response (timeout, refused, budget exhausted ...)."""
    not_sent: NotSent | None = None
    """Set when specdiff did not send the request at all (``error`` says why in words)."""

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        """First response header called ``name`` (case-insensitive)."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def media_type(self) -> str:
        """The response media type without parameters, lower case ('' if none)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        mt = self.media_type
        return mt == "application/json" or mt.endswith("+json")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON or truncated."""
        if self.truncated or not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class OperationRef:
    """The operation a finding is about."""

    method: str
    path: str
    operation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What proves a finding; redacted before it reaches any report."""

    request: str = ""
    """The request as sent: ``GET https://host/users/1`` plus headers, credentials redacted."""
    status: int | None = None
    snippet: str = ""
    """The smallest part of the response that proves the breach."""
    curl: str = ""
    """A curl command that reproduces it, credentials as ``$SPECDIFF_TOKEN``-style variables."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding does not count for the gate; it still appears, marked, in every report."""

    kind: Literal["inSource", "external"]
    """SARIF's suppression kind: ``inSource`` for the document's ``x-specdiff-ignore``,
    ``external`` for the config file and the baseline."""
    source: Literal["spec", "config", "baseline"]
    justification: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A claim with evidence: one rule broken by one operation (or host, or document)."""

    rule: str
    kind: str
    title: str
    severity: Severity
    confidence: Confidence
    message: str
    cwe: int | None = None
    owasp: str | None = None
    operation: OperationRef | None = None
    location: Location | None = None
    evidence: Evidence | None = None
    remediation: str = ""
    key: str = ""
    """Stable evidence key (a JSON path, a header or cookie name) for baselines and dedup."""
    suppression: Suppression | None = None
    """Set when a spec ignore, a config suppression or the baseline accepts this finding."""

    @property
    def sort_key(self) -> tuple[int, str, str, str, str, str]:
        """Report order: severity (critical first), rule, method, path, key, message."""
        op = self.operation
        return (
            -self.severity.rank,
            self.rule,
            op.method if op else "",
            op.path if op else "",
            self.key,
            self.message,
        )

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(rule, method, path, key): the same breach found twice is one finding."""
        op = self.operation
        return (self.rule, op.method if op else "", op.path if op else "", self.key)


CoverageStatus = Literal["probed", "not reached", "not judged", "skipped"]
"""``probed``: every planned request was answered and judged. ``not reached``: the baseline got
no answer. ``not judged``: some planned request was not sent or not answered (credentials that
stopped working, the request or time budget, a network failure). ``skipped``: by design (an
unsafe or destructive-looking operation without ``--unsafe``, no object specdiff created)."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What happened to one operation."""

    operation: OperationRef
    status: CoverageStatus
    reason: str = ""
    baseline_status: int | None = None
    requests: int = 0
    """Requests sent for this operation (answers shared with another operation not counted)."""
    planned: int = 0
    """Distinct requests planned for it, after the safety policy."""


@dataclass(frozen=True, slots=True)
class IdentityUse:
    """How one identity's credentialed requests were answered (run integrity)."""

    identity: Literal["a", "b", "low"]
    ok: int = 0
    """2xx answers."""
    unauthorized: int = 0
    """401 answers."""
    forbidden: int = 0
    """403 answers."""
    other: int = 0
    """Any other status, or no answer."""
    not_sent: int = 0
    """Requests not sent because the credentials had stopped working."""
    stopped: str = ""
    """Empty while the credentials worked to the end; else e.g. ``credentials stopped working
    at 14:02:11 (12 requests refused)``."""
    relogins: int = 0
    """Times the login step obtained a new token mid-run (``--login``)."""


@dataclass(frozen=True, slots=True)
class CreatedObject:
    """An object that ``--unsafe`` created through the API's own create operation."""

    path: str
    """The object's own path (``/items/42``), or the create request's when it is unknown."""
    created_by: str
    """The create operation's key (``POST /items``)."""
    cleaned: bool
    """Deleted again (or found gone) at the end of the run."""
    note: str = ""
    """Why it was not cleaned up, when it was not."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the report header."""

    operations: int
    probed: int
    requests: int
    duration: float


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a reporter needs; already redacted."""

    tool_version: str
    spec: str
    target: str | None
    started_at: str
    findings: tuple[Finding, ...]
    coverage: tuple[Coverage, ...]
    summary: Summary
    notes: tuple[str, ...] = ()
    """Warnings for the user (document problems, pre-flight remarks)."""
    rules: tuple[str, ...] = ()
    """Codes of the probes that ran (empty when unknown, e.g. a report read back from JSON)."""
    complete: bool = True
    """Every operation the mode covers was judged (or enough of them for ``--min-coverage``).
    An incomplete report has no score (:func:`specdiff.score.score_line`)."""
    incomplete: str = ""
    """Why not, e.g. ``7 of 19 operations not judged (credentials stopped working)``; also set
    on a complete report that ``--min-coverage`` accepted with gaps."""
    identities: tuple[IdentityUse, ...] = ()
    """Per identity that had credentials: how its requests were answered."""
    created: tuple[CreatedObject, ...] = ()
    """What ``--unsafe`` created, and whether it was cleaned up."""
    anonymous: str = ""
    """Set when the document has secured operations and the run had no credentials at all:
    an anonymous check is allowed, but every format says so first (``no credentials given:
    ...``), since a clean report then speaks only of what an anonymous caller can see."""
