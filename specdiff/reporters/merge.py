"""Merge the reports of sharded runs (``specdiff merge``) into one :class:`Report`.

Shards check disjoint operations, so coverage is concatenated; the same finding reported by two
shards (a host-wide one, say) is kept once, at its highest severity, exactly as one run dedups.
Shards run side by side, so the merged duration is the longest shard's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from specdiff.model import Coverage, Finding, Report, Summary
from specdiff.reporters import sorted_findings

__all__ = ["merge_reports"]


def merge_reports(reports: Sequence[Report]) -> Report:
    """One report out of ``reports`` (at least one)."""
    if not reports:
        raise ValueError("merge needs at least one report")
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for f in (f for r in reports for f in r.findings):
        current = unique.get(f.identity)
        if current is None or f.severity > current.severity:
            unique[f.identity] = f
    coverage: dict[tuple[str, str], Coverage] = {}
    for c in (c for r in reports for c in r.coverage):
        coverage.setdefault((c.operation.method, c.operation.path), c)
    notes = list(dict.fromkeys(n for r in reports for n in r.notes))
    first = reports[0]
    return Report(
        tool_version=first.tool_version,
        spec=_joined(r.spec for r in reports),
        target=_joined(r.target or "" for r in reports) or None,
        started_at=min(r.started_at for r in reports),
        findings=sorted_findings(unique.values()),
        coverage=tuple(coverage.values()),
        summary=Summary(
            operations=sum(r.summary.operations for r in reports),
            probed=sum(r.summary.probed for r in reports),
            requests=sum(r.summary.requests for r in reports),
            duration=max(r.summary.duration for r in reports),
        ),
        notes=tuple(notes),
        complete=all(r.complete for r in reports),
        incomplete="; ".join(r.incomplete for r in reports if r.incomplete),
        anonymous=next((r.anonymous for r in reports if r.anonymous), ""),
        identities=tuple(i for r in reports for i in r.identities),
        created=tuple(c for r in reports for c in r.created),
    )


def _joined(values: Iterable[str]) -> str:
    """The distinct values in first-seen order, comma-separated (one when all shards agree)."""
    return ", ".join(dict.fromkeys(v for v in values if v))
