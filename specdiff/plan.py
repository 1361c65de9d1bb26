"""``specdiff check --plan``: what a run would send, counted per operation and rule family.

The counting is the engine's own planning (:func:`specdiff.engine.plan_scan` calls each probe's
``plan`` exactly as a run does); this module holds the values and renders them. Nothing is sent,
so the baseline answers the engine plans from are assumed: see :data:`ASSUMED_BASELINE`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from specdiff.model import Exchange, OperationRef, PlannedRequest
from specdiff.probe import Probe

__all__ = ["ASSUMED_BASELINE", "OperationPlan", "ScanPlan", "assumed_exchange", "family", "render"]

ASSUMED_BASELINE = (
    "every baseline that would be sent is assumed to answer 200 with an empty JSON object ({}); "
    "a real run plans from the real answers, so rules that react to the body or status may send "
    "more or fewer requests"
)


def assumed_exchange(planned: PlannedRequest) -> Exchange:
    """The baseline answer a plan assumes: 200, ``application/json``, ``{}``."""
    return Exchange(
        request=planned,
        url=planned.path,
        sent_headers=planned.headers,
        status=200,
        headers=(("content-type", "application/json"),),
        body=b"{}",
    )


def family(probe: Probe) -> str:
    """A probe's rule family: the last part of its module's name (``auth``, ``exposure``)."""
    return type(probe).__module__.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """The requests planned for one operation."""

    operation: OperationRef
    baseline: int
    """1 when the baseline would be sent (safe method or ``--unsafe``), else 0."""
    probes: tuple[tuple[Probe, int], ...]
    """(probe, variant requests it plans)."""

    @property
    def total(self) -> int:
        return self.baseline + sum(n for _, n in self.probes)

    def by_family(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for probe, n in self.probes:
            counts[family(probe)] += n
        return counts


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """The plan of one run."""

    spec: str
    operations: tuple[OperationPlan, ...]
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(op.total for op in self.operations)


def render(plan: ScanPlan) -> str:
    """A table: one row per operation, one column per rule family, then totals per rule."""
    planned: Counter[str] = Counter()
    for op in plan.operations:
        planned.update(op.by_family())
    # a family that plans nothing anywhere would only add a column of zeros
    families = sorted(f for f, n in planned.items() if n)
    width = max([len("operation"), *(len(_name(op)) for op in plan.operations)])
    head = f"{'operation':<{width}}  {'baseline':>8}" + "".join(f"  {f:>9}" for f in families)
    lines = [
        f"specdiff plan for {plan.spec}: nothing is sent.",
        f"Assumption: {ASSUMED_BASELINE}.",
        "",
        head + f"  {'total':>6}",
    ]
    per_rule: Counter[str] = Counter()
    per_family: Counter[str] = Counter()
    baselines = 0
    for op in plan.operations:
        fam = op.by_family()
        per_family.update(fam)
        baselines += op.baseline
        per_rule.update({p.code: n for p, n in op.probes})
        row = f"{_name(op):<{width}}  {op.baseline:>8}" + "".join(
            f"  {fam[f]:>9}" for f in families
        )
        lines.append(row + f"  {op.total:>6}")
    count = len(plan.operations)
    totals = f"{'all operations':<{width}}  {baselines:>8}" + "".join(
        f"  {per_family[f]:>9}" for f in families
    )
    lines += ["", totals + f"  {plan.total:>6}"]
    if count:
        worst = max(plan.operations, key=lambda o: o.total)
        lines.append(
            f"{plan.total} requests for {count} operations: {plan.total / count:.1f} per operation "
            f"on average, at most {worst.total} ({_name(worst)})"
        )
    lines.append(
        "per rule: " + ", ".join(f"{code} {n}" for code, n in sorted(per_rule.items()) if n)
    )
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def _name(op: OperationPlan) -> str:
    return f"{op.operation.method} {op.operation.path}"
