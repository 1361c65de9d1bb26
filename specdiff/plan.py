"""The plan stage: probes' requests become the run's plan, through one safety filter.

For each operation the probes plan in levels: a probe whose plan reads other variants' answers
(its ``plan_after``: no JWT forgery where a made-up token already got in) plans after every
probe that plans those kinds (their ``variants``), so the order is declared, never the order of
rule codes. Every planned request is stamped with its probe, its operation and whether it may
change data, and the safety policy (:mod:`specdiff.safety`) refuses what the mode does not
allow, whichever probe planned it. The answers of each level join the operation's evidence pool,
which the next level plans from and every judge reads.

One loop, :meth:`PlanStage.run`, serves a real run (the engine answers from the network) and
``specdiff check --plan`` (:func:`specdiff.engine.plan_scan` answers with assumptions and sends
nothing); this module also holds the plan's values and renders them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from specdiff.errors import ProbeError
from specdiff.model import Exchange, Operation, OperationRef, PlannedRequest
from specdiff.probe import Probe, ProbeContext
from specdiff.safety import SafetyPolicy
from specdiff.variant import BASELINE

__all__ = [
    "ASSUMED_ANSWERS",
    "ASSUMED_BASELINE",
    "Guard",
    "OperationPlan",
    "OperationRun",
    "PlanStage",
    "Refused",
    "ScanPlan",
    "assumed_answers",
    "assumed_exchange",
    "family",
    "levels",
    "question",
    "render",
]

_T = TypeVar("_T")

ASSUMED_BASELINE = (
    "every baseline that would be sent is assumed to answer 200 with an empty JSON object ({}); "
    "a real run plans from the real answers, so rules that react to the body or status may send "
    "more or fewer requests"
)
ASSUMED_ANSWERS = (
    "every other request is assumed to be refused (401), so rules that stay silent where a "
    "simpler attack already got in are counted with everything they could send"
)
ASSUMED_LATENCY = 0.1
"""Seconds per request that ``--plan`` assumes to compare a plan with ``--max-duration``."""


def assumed_exchange(planned: PlannedRequest, status: int = 200) -> Exchange:
    """The answer a plan assumes: ``status``, ``application/json``, ``{}``."""
    return Exchange(
        request=planned,
        url=planned.path,
        sent_headers=planned.headers,
        status=status,
        headers=(("content-type", "application/json"),),
        body=b"{}",
    )


def question(req: PlannedRequest) -> PlannedRequest:
    """What a request asks, whoever asks it and why: the key under which the engine sends
    identical requests once."""
    return dataclasses.replace(req, probe="", variant=BASELINE, operation="", changes_data=False)


def family(probe: Probe) -> str:
    """A probe's rule family: the last part of its module's name (``auth``, ``exposure``)."""
    return type(probe).__module__.rsplit(".", 1)[-1]


def levels(probes: Sequence[Probe]) -> tuple[tuple[Probe, ...], ...]:
    """``probes`` grouped by planning level: level 0 reads no other variant's answer; a probe
    is one level above the highest probe that plans a kind it plans after. A cycle of such
    declarations is a :class:`ProbeError`."""
    depth: dict[str, int] = {}

    def level(probe: Probe, chain: tuple[str, ...]) -> int:
        if probe.code in depth:
            return depth[probe.code]
        if probe.code in chain:
            raise ProbeError(f"probes plan after each other's variants: {' -> '.join(chain)}")
        waits_on = [q for q in probes if q is not probe and q.variants & probe.plan_after]
        found = 1 + max((level(q, (*chain, probe.code)) for q in waits_on), default=-1)
        depth[probe.code] = found
        return found

    for probe in probes:
        level(probe, ())
    top = max(depth.values(), default=-1)
    return tuple(tuple(p for p in probes if depth[p.code] == n) for n in range(top + 1))


class Guard:
    """Runs a probe's plan or judge: a crash becomes a note and the run goes on (``--debug``
    re-raises)."""

    def __init__(self, notes: list[str], *, debug: bool = False) -> None:
        self.notes = notes
        self.debug = debug

    def __call__(
        self, code: str, where: str, call: Callable[..., Iterable[_T]], *args: Any
    ) -> list[_T]:
        try:
            return list(call(*args))
        except Exception as exc:
            if self.debug:
                raise
            self.notes.append(f"probe {code} failed on {where}: {type(exc).__name__}: {exc}")
            return []


@dataclass(frozen=True, slots=True)
class Refused:
    """A planned request the safety policy did not let through."""

    request: PlannedRequest
    reason: str


Answerer = Callable[[Sequence[PlannedRequest]], Awaitable[Sequence[Exchange]]]
"""Answers one level's admitted requests, in order (the network, or assumptions)."""


@dataclass
class OperationRun:
    """What the stage produced for one operation."""

    ctx: ProbeContext
    """The context with the whole pool: what every judge reads."""
    own: dict[str, list[Exchange]] = field(default_factory=dict)
    """Per probe code: the answers to the requests it planned."""
    refused: list[Refused] = field(default_factory=list)


class PlanStage:
    """The run's plan stage: the probes by level, and the one safety filter."""

    def __init__(self, probes: Sequence[Probe], policy: SafetyPolicy, guard: Guard) -> None:
        self.probes = tuple(probes)
        self.levels = levels(self.probes)
        self.policy = policy
        self.guard = guard

    def admit(self, req: PlannedRequest, code: str, op: Operation) -> PlannedRequest | Refused:
        """``req`` stamped with its probe, operation and whether it may change data; or why
        the policy refuses it."""
        harmless = self.policy.cannot_change(req, op)
        stamped = dataclasses.replace(req, probe=code, operation=op.key, changes_data=not harmless)
        reason = self.policy.refusal(stamped, op, harmless=harmless)
        return stamped if reason is None else Refused(stamped, reason)

    async def run(self, op: Operation, ctx: ProbeContext, answer: Answerer) -> OperationRun:
        """Plan ``op`` level by level, each level planned from the answers of the ones before."""
        result = OperationRun(ctx)
        pool: list[Exchange] = []
        for level in self.levels:
            asked: list[tuple[str, PlannedRequest]] = []
            for probe in level:
                for req in self.guard(probe.code, op.key, probe.plan, op, result.ctx):
                    admitted = self.admit(req, probe.code, op)
                    if isinstance(admitted, Refused):
                        result.refused.append(admitted)
                    else:
                        asked.append((probe.code, admitted))
            if not asked:
                continue
            answers = await answer([req for _, req in asked])
            for (code, _), exchange in zip(asked, answers, strict=True):
                result.own.setdefault(code, []).append(exchange)
                pool.append(exchange)
            result.ctx = dataclasses.replace(result.ctx, pool=tuple(pool))
        return result


def assumed_answers(requests: Sequence[PlannedRequest]) -> list[Exchange]:
    """``--plan``'s answers: refused, so every probe that waits on them plans in full."""
    return [assumed_exchange(req, 401) for req in requests]


# --------------------------------------------------------------------------- the plan's values


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """The requests planned for one operation."""

    operation: OperationRef
    baseline: int
    """1 when the baseline would be sent, else 0."""
    probes: tuple[tuple[Probe, int], ...]
    """(probe, variant requests it plans that no earlier probe or operation asked)."""
    refused: int = 0
    """Requests the safety policy refused (not counted in ``total``)."""
    skipped: str = ""
    """Why nothing at all is sent for this operation (a destructive-looking one)."""

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
    max_requests: int | None = None
    max_duration: float | None = None
    concurrency: int = 8

    @property
    def total(self) -> int:
        return sum(op.total for op in self.operations)

    def warnings(self) -> list[str]:
        """What the plan exceeds: the request budget, the time budget (at an assumed
        :data:`ASSUMED_LATENCY` per request and ``concurrency`` in flight)."""
        found: list[str] = []
        if self.max_requests is not None and self.total > self.max_requests:
            found.append(
                f"the plan needs {self.total} requests, more than --max-requests "
                f"{self.max_requests}: the run would end incomplete (raise the budget, or "
                "split it with --shard)"
            )
        seconds = self.total * ASSUMED_LATENCY / max(1, self.concurrency)
        if self.max_duration is not None and seconds > self.max_duration:
            found.append(
                f"at {ASSUMED_LATENCY * 1000:.0f} ms a request and --concurrency "
                f"{self.concurrency}, the plan needs about {seconds:.0f} s, more than "
                f"--max-duration {self.max_duration:g}: the run would end incomplete"
            )
        return found


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
        f"Assumption: {ASSUMED_BASELINE}; {ASSUMED_ANSWERS}.",
        "",
        head + f"  {'total':>6}",
    ]
    per_rule: Counter[str] = Counter()
    per_family: Counter[str] = Counter()
    baselines = refused = 0
    for op in plan.operations:
        fam = op.by_family()
        per_family.update(fam)
        baselines += op.baseline
        refused += op.refused
        per_rule.update({p.code: n for p, n in op.probes})
        row = f"{_name(op):<{width}}  {op.baseline:>8}" + "".join(
            f"  {fam[f]:>9}" for f in families
        )
        lines.append(row + f"  {op.total:>6}" + (f"  skipped: {op.skipped}" if op.skipped else ""))
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
    if refused:
        lines.append(f"{refused} planned requests refused by the safety policy (not counted)")
    lines += [f"warning: {warning}" for warning in plan.warnings()]
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def _name(op: OperationPlan) -> str:
    return f"{op.operation.method} {op.operation.path}"
