"""The risk score: one number (0-100) and a grade (A-F) that summarise a report's findings.

Only findings that count for the gate (not suppressed, not in the baseline) lower the score, so
``--min-score`` and ``--fail-on`` judge the same set. Per rule, the worst finding costs its full
severity weight and every further finding of that rule a quarter of its own weight, the rule's
total capped at twice the worst weight: one sin repeated on forty operations is one sin, not
forty, yet it still costs more than a single occurrence.

    score = max(0, 100 - round(sum over rules of the rule's cost))
    weights: critical 40, high 20, medium 8, low 3, info 0
    grades:  A >= 90, B >= 75, C >= 60, D >= 40, F below 40

An incomplete run (:attr:`specdiff.model.Report.complete`) has no score: what was not judged
cannot be graded. Every reporter takes its score line from :func:`score_line`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from specdiff.model import Finding, Report, Severity

__all__ = ["GRADES", "WEIGHTS", "Score", "report_score", "risk_score", "score_line"]

WEIGHTS = {
    Severity.CRITICAL: 40.0,
    Severity.HIGH: 20.0,
    Severity.MEDIUM: 8.0,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}
GRADES = (("A", 90), ("B", 75), ("C", 60), ("D", 40), ("F", 0))
"""(grade, lowest score with that grade), best first."""


@dataclass(frozen=True, slots=True)
class Score:
    """A report's risk score: 100 is no counted finding, 0 is as bad as it gets."""

    value: int
    grade: str


def risk_score(findings: Iterable[Finding]) -> Score:
    """The score of the findings that count for the gate (see the module docstring)."""
    by_rule: dict[str, list[float]] = defaultdict(list)
    for f in findings:
        if f.suppression is None:
            by_rule[f.rule].append(WEIGHTS[f.severity])
    penalty = 0.0
    for weights in by_rule.values():
        worst, *rest = sorted(weights, reverse=True)
        penalty += min(worst + sum(rest) / 4, 2 * worst)
    value = max(0, 100 - round(penalty))
    grade = next(g for g, floor in GRADES if value >= floor)
    return Score(value, grade)


def report_score(report: Report) -> Score | None:
    """The report's score; None for an incomplete run, which has none."""
    return risk_score(report.findings) if report.complete else None


def score_line(report: Report) -> str:
    """The one line every format shows for the score: ``risk score 35/100, grade F`` (and
    ``; 2 suppressed`` when findings were accepted), or for an incomplete run ``incomplete: 7
    of 19 operations not judged (credentials stopped working)`` and no score at all."""
    score = report_score(report)
    if score is None:
        return f"incomplete: {report.incomplete or 'not every operation was judged'}"
    accepted = sum(1 for f in report.findings if f.suppression is not None)
    suppressed = f"; {accepted} suppressed" if accepted else ""
    return f"risk score {score.value}/100, grade {score.grade}{suppressed}"
