"""What makes two findings the same: across runs, and across operations (one root cause).

Two questions, answered here once for every format, the baseline and the merge:

- **Is this the finding of an earlier run?** :func:`stable_identity` is (rule, METHOD, path
  template, :func:`stable_key`): the evidence key with every scheme, host and port removed and
  every per-run value (canary credential, timestamp, random id) replaced by a placeholder. A
  baseline made against ``https://127.0.0.1:8443`` therefore matches the same API checked as
  ``https://localhost:9443`` or ``https://staging.example.com``; SARIF's
  ``partialFingerprints`` are :func:`fingerprint` of the same tuple, so code-scanning alerts
  survive a change of environment.
- **Is this the same root cause as that finding?** :func:`group_cause` is what a group is
  keyed by, besides the rule: the stable key for rules whose key names a *place* (a field, a
  header, a cookie, a parameter), nothing for rules whose key names a *variant* of one attack
  (``alg: none``/``None``/``NONE`` is one missing signature check). :func:`group_findings`
  gathers a report's findings into :class:`Group` values: one per (rule, cause), with every
  affected operation, most severe first. Human formats show groups; JSON and SARIF keep one
  entry per finding, each naming its :func:`group_id`.

Everything here is pure and depends on :mod:`specdiff.model` alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from specdiff.model import Finding, OperationRef, Severity

__all__ = [
    "VARIANT_KEYED",
    "Group",
    "StableIdentity",
    "fingerprint",
    "group_cause",
    "group_findings",
    "group_id",
    "stable_identity",
    "stable_key",
    "top_groups",
]

StableIdentity = tuple[str, str, str, str]
"""(rule, METHOD, path template, stable key): a finding across runs and addresses."""

VARIANT_KEYED = frozenset({"SD202", "SD203", "SD204", "SD205", "SD215", "SD216", "SD401", "SD504"})
"""Rules whose key names the variant that got in (``alg-none``, ``random-token``, the
``Origin`` CORS reflected, the debugger page that answered), not a place: every variant on
every operation is one root cause (no signature check, debug mode on), so they group by rule
alone."""

# scheme://authority, e.g. https://127.0.0.1:8443, http://[::1]:80, https://user@host
_ORIGIN = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s?#\"'<>]*")
_CANARY = re.compile(r"sdcanary-?[0-9a-f]{8,}")
_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?|\b1[5-9]\d{8}(?:\d{3})?\b"
)
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_HEX_ID = re.compile(r"\b[0-9a-fA-F]{16,}\b")


def stable_key(key: str) -> str:
    """``key`` without what changes between runs or addresses of one API.

    ``https://127.0.0.1:8443`` -> ``""`` (a host-wide finding keyed by its origin);
    ``http://host:80/v1`` -> ``/v1``; canaries -> ``<canary>``; timestamps -> ``<time>``;
    UUIDs and long hex ids -> ``<id>``. Keys naming a field, a header or a variant are kept.
    """
    out = _ORIGIN.sub("", key)
    out = _CANARY.sub("<canary>", out)
    out = _TIMESTAMP.sub("<time>", out)
    out = _UUID.sub("<id>", out)
    return _HEX_ID.sub("<id>", out)


def stable_identity(f: Finding) -> StableIdentity:
    """(rule, METHOD, path template, :func:`stable_key`): what baselines remember."""
    op = f.operation
    return (f.rule, op.method if op else "", op.path if op else "", stable_key(f.key))


def fingerprint(f: Finding) -> str:
    """SHA-256 of :func:`stable_identity`: SARIF's ``partialFingerprints`` value.

    For a key without an address or per-run value this is the hash of the raw identity, as
    before stable keys existed, so such alerts keep their fingerprint."""
    return hashlib.sha256("\x1f".join(stable_identity(f)).encode("utf-8")).hexdigest()


def group_cause(f: Finding) -> str:
    """The root cause within the rule: ``""`` for :data:`VARIANT_KEYED` rules, else the stable
    key (case folded: ``Session`` and ``session`` are one cookie)."""
    if f.rule in VARIANT_KEYED:
        return ""
    return stable_key(f.key).casefold()


def group_id(f: Finding) -> str:
    """``SD101-3f2a9c1e``: the rule and 8 hex digits of (rule, cause). Operation-free, so the
    same cause on more operations keeps its id."""
    digest = hashlib.sha256(f"{f.rule}\x1f{group_cause(f)}".encode()).hexdigest()[:8]
    return f"{f.rule}-{digest}"


@dataclass(frozen=True, slots=True)
class Group:
    """One root cause: every finding of one rule and cause, in report order."""

    id: str
    findings: tuple[Finding, ...]
    """At least one, most severe first (:attr:`Finding.sort_key`)."""

    @property
    def first(self) -> Finding:
        """The representative instance: the most severe; among those, one whose evidence is a
        2xx answer (the plain-HTTP twin serving ``GET /me`` shows the breach better than it
        answering 404 to a made-up id); then the first in report order."""
        top = self.findings[0].severity
        return next(
            (
                f
                for f in self.findings
                if f.severity == top and f.evidence and 200 <= (f.evidence.status or 0) < 300
            ),
            self.findings[0],
        )

    @property
    def rule(self) -> str:
        return self.first.rule

    @property
    def severity(self) -> Severity:
        return self.first.severity

    @property
    def operations(self) -> tuple[OperationRef | None, ...]:
        """Every distinct affected operation (None: host-wide), in report order."""
        seen: dict[tuple[str, str], OperationRef | None] = {}
        for f in self.findings:
            op = f.operation
            seen.setdefault((op.method, op.path) if op else ("", ""), op)
        return tuple(seen.values())

    @property
    def counted(self) -> tuple[Finding, ...]:
        """The instances that count for the gate (not suppressed)."""
        return tuple(f for f in self.findings if f.suppression is None)

    @property
    def sort_key(self) -> tuple[int, int, str, int, str]:
        """Most severe first; then groups with counted instances; then rule; the larger group
        of one rule first; then id."""
        return (
            -self.severity.rank,
            0 if self.counted else 1,
            self.rule,
            -len(self.findings),
            self.id,
        )


def group_findings(findings: Iterable[Finding]) -> tuple[Group, ...]:
    """``findings`` gathered by (rule, :func:`group_cause`), most severe group first."""
    by_id: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.sort_key):
        by_id.setdefault(group_id(f), []).append(f)
    groups = [Group(gid, tuple(members)) for gid, members in by_id.items()]
    return tuple(sorted(groups, key=lambda g: g.sort_key))


def top_groups(groups: Iterable[Group], n: int) -> list[Group]:
    """The ``n`` groups to show first (a report's first screen): counted groups by severity,
    no rule twice until every rule with a counted group has been shown once, then the rest."""
    counted = [g for g in sorted(groups, key=lambda g: g.sort_key) if g.counted]
    seen: set[str] = set()
    first: list[Group] = []
    for g in counted:
        if g.rule not in seen:
            seen.add(g.rule)
            first.append(g)
    return (first + [g for g in counted if g not in first])[:n]
