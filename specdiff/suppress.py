"""Suppressions and baselines: accepted findings stay in every report, marked, but do not fail.

Three sources, in this order of precedence when more than one matches a finding:

- the document: ``x-specdiff-ignore`` on an operation, a list of ``{rule, reason}``
  (SARIF kind ``inSource``);
- the config file: ``suppress = [{rule, reason, method?, path?, key?}]`` (kind ``external``);
- a baseline file written by ``specdiff baseline create`` (kind ``external``): the findings of
  an earlier run, matched on :func:`specdiff.identity.stable_identity` (rule, method, path
  template, evidence key without hosts, ports, schemes and per-run values), never on bodies,
  timestamps or canary values. Baselines written before keys were made stable (their SD101,
  SD102, SD406 ... keys name ``https://127.0.0.1:8443``) still match: every key read from a
  file goes through the same :func:`~specdiff.identity.stable_key`.

Matching is pure; reading and writing baseline files is the only I/O here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specdiff.errors import ConfigError
from specdiff.identity import stable_identity, stable_key
from specdiff.model import Finding, Operation, Suppression

__all__ = [
    "BASELINE_VERSION",
    "Identity",
    "Suppress",
    "apply_suppressions",
    "baseline_document",
    "identities_from_report",
    "load_baseline",
    "parse_suppress",
]

BASELINE_VERSION = "1"

Identity = tuple[str, str, str, str]
"""(rule, METHOD, path template, stable key): what a baseline remembers of a finding."""


@dataclass(frozen=True, slots=True)
class Suppress:
    """One ``suppress`` entry of the config file; ``None`` fields match anything."""

    rule: str
    reason: str
    method: str | None = None
    path: str | None = None
    key: str | None = None

    def matches(self, f: Finding) -> bool:
        rule, method, path, key = f.identity
        return (
            self.rule == rule
            and self.method in (None, method)
            and self.path in (None, path)
            and self.key in (None, key, stable_key(key))
        )


def parse_suppress(entries: object, where: str) -> tuple[Suppress, ...]:
    """Config ``suppress`` entries -> :class:`Suppress`; ConfigError naming the bad entry."""
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise ConfigError(f"{where}: 'suppress' must be a list of {{rule, reason}} tables")
    out = []
    allowed = {"rule", "reason", "method", "path", "key"}
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: suppress[{i}] must be a table with rule and reason")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ConfigError(f"{where}: suppress[{i}]: unknown key {unknown[0]!r}")
        rule, reason = entry.get("rule"), entry.get("reason")
        if not isinstance(rule, str) or not rule.strip():
            raise ConfigError(f"{where}: suppress[{i}] needs a rule code")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: suppress[{i}] ({rule}) needs a reason")
        method = entry.get("method")
        out.append(
            Suppress(
                rule=rule.strip().upper(),
                reason=reason.strip(),
                method=str(method).upper() if method is not None else None,
                path=_opt_str(entry.get("path")),
                key=_opt_str(entry.get("key")),
            )
        )
    return tuple(out)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def apply_suppressions(
    findings: Iterable[Finding],
    operations: Iterable[Operation] = (),
    config: Sequence[Suppress] = (),
    baseline: frozenset[Identity] = frozenset(),
) -> list[Finding]:
    """``findings`` with :attr:`Finding.suppression` set where a source accepts them.

    Nothing is dropped: the result has exactly as many findings, in the same order.
    """
    ignores = {(op.method, op.path): dict(op.ignore) for op in operations if op.ignore}
    out = []
    for f in findings:
        out.append(dataclasses.replace(f, suppression=_why(f, ignores, config, baseline)))
    return out


def _why(
    f: Finding,
    ignores: Mapping[tuple[str, str], Mapping[str, str]],
    config: Sequence[Suppress],
    baseline: frozenset[Identity],
) -> Suppression | None:
    rule, method, path, _ = f.identity
    reason = ignores.get((method, path), {}).get(rule)
    if reason is not None:
        return Suppression("inSource", "spec", reason)
    for s in config:
        if s.matches(f):
            return Suppression("external", "config", s.reason)
    if stable_identity(f) in baseline:
        return Suppression("external", "baseline", "in the baseline (known before this change)")
    return f.suppression


def baseline_document(identities: Iterable[Identity]) -> dict[str, Any]:
    """The JSON document of a baseline file: sorted, deterministic, nothing but identities."""
    return {
        "baseline_version": BASELINE_VERSION,
        "tool": "specdiff",
        "findings": [
            {"rule": r, "method": m, "path": p, "key": k} for r, m, p, k in sorted(set(identities))
        ],
    }


def identities_from_report(doc: object, where: str) -> frozenset[Identity]:
    """The identities of a specdiff JSON report (``--format json``) or of a baseline file."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{where}: not a specdiff JSON report or baseline (no 'findings' list)")
    out = set()
    for item in doc["findings"]:
        if not isinstance(item, Mapping) or not isinstance(item.get("rule"), str):
            raise ConfigError(f"{where}: a finding without a rule code")
        op = item.get("operation")
        if isinstance(op, Mapping):  # a JSON report
            method, path = str(op.get("method") or ""), str(op.get("path") or "")
        else:  # a baseline file (or a host-wide finding of a report)
            method, path = str(item.get("method") or ""), str(item.get("path") or "")
        out.add((item["rule"], method, path, stable_key(str(item.get("key") or ""))))
    return frozenset(out)


def load_baseline(path: str | Path) -> frozenset[Identity]:
    """Read a baseline (or a JSON report used as one); ConfigError with one line otherwise."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--baseline {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"--baseline {path}: not JSON ({exc})") from None
    return identities_from_report(doc, f"--baseline {path}")
