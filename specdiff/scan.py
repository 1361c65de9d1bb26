"""The one orchestrator: load -> derive -> synthesize -> run -> judge -> Report.

Used by the CLI and the demo; a third-party caller uses :func:`scan`. Per operation, the
baseline request (with the user's credentials) goes first; operations whose path has more
parameters run later, so ids harvested from list endpoints reach item endpoints. Then every
probe plans its variants against that baseline, the runner sends them, and the probe judges.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from specdiff import __version__
from specdiff.config import ScanConfig
from specdiff.derive import derive
from specdiff.errors import ConfigError, PreflightError, TargetUnreachable
from specdiff.lint import spec_notes
from specdiff.model import (
    ApiModel,
    Coverage,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    Report,
    Severity,
    Summary,
)
from specdiff.probe import Probe, ProbeContext, ProbeOptions, load_probes
from specdiff.redact import Redactor
from specdiff.runner import Runner, RunnerLimits, make_client
from specdiff.spec import load_spec
from specdiff.synth import IdHarvest, baseline_request

__all__ = ["exit_code", "run_scan", "scan"]

_T = TypeVar("_T")

ProgressCallback = Callable[[int, int], None]
"""Called with (operations done, operations in all) as the scan advances."""


def scan(
    config: ScanConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Run one check synchronously; see :func:`run_scan`."""
    return asyncio.run(run_scan(config, transport=transport, progress=progress))


async def run_scan(
    config: ScanConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Check the target of ``config`` against its document.

    ``transport`` replaces the network for both targets (unit tests, in-process apps).
    Raises :class:`SpecError`/:class:`ConfigError` (exit 2) and :class:`TargetUnreachable` (3).
    """
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    spec = load_spec(config.spec, allow_remote_refs=config.allow_remote_refs)
    api = derive(spec)
    probes = load_probes()
    redactor = config.credentials.redactor()
    findings: list[Finding] = []
    notes: list[str] = list(api.warnings)
    for probe in probes:
        findings += _guard(config, notes, probe.code, "the document", probe.check_spec, api)

    if config.base_url is None:
        notes += spec_notes(api)
        return _report(config, api, findings, [], notes, redactor, started, started_at, 0)

    verify = _verify(config)
    http_url = config.effective_http_url
    async with (
        make_client(verify=verify, timeout=config.timeout, transport=transport) as client,
        make_client(timeout=config.timeout, transport=transport) as http_client,
    ):
        runner = Runner(
            client,
            base_url=config.base_url,
            http_url=http_url,
            http_client=http_client,
            credentials=config.credentials,
            limits=RunnerLimits(
                concurrency=config.concurrency,
                timeout=config.timeout,
                max_requests=config.max_requests,
                max_body_bytes=config.max_body_bytes,
            ),
        )
        engine = _Engine(config, api, probes, runner, notes, progress)
        coverage, op_findings = await engine.run(http_twin=http_url is not None)
        findings += op_findings
        requests = runner.requests_sent
    return _report(config, api, findings, coverage, notes, redactor, started, started_at, requests)


def exit_code(report: Report, fail_on: Severity | None) -> int:
    """0 when no finding reaches ``fail_on`` (None: never fail), else 1."""
    if fail_on is None:
        return 0
    return 1 if any(f.severity >= fail_on for f in report.findings) else 0


def _verify(config: ScanConfig) -> ssl.SSLContext | bool:
    if config.insecure:
        return False
    if config.ca_bundle:
        if not Path(config.ca_bundle).is_file():
            raise ConfigError(f"--ca-bundle {config.ca_bundle}: no such file")
        try:
            return ssl.create_default_context(cafile=config.ca_bundle)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"--ca-bundle {config.ca_bundle}: {exc}") from None
    return True


class _Engine:
    """One run's mutable state: harvested ids, baselines, coverage."""

    def __init__(
        self,
        config: ScanConfig,
        api: ApiModel,
        probes: Sequence[Probe],
        runner: Runner,
        notes: list[str],
        progress: ProgressCallback | None,
    ) -> None:
        self.config = config
        self.api = api
        self.probes = probes
        self.runner = runner
        self.notes = notes
        self.progress = progress
        self.harvest = IdHarvest()
        self.baselines: dict[str, tuple[PlannedRequest, Exchange | None]] = {}
        self.requests: dict[str, int] = {}
        self.done = 0

    async def run(self, *, http_twin: bool) -> tuple[list[Coverage], list[Finding]]:
        ops = self.api.operations
        # waves by number of path parameters: /users before /users/{id}
        waves = sorted({op.path.count("{") for op in ops})
        for depth in waves:
            await asyncio.gather(*(self._baseline(op) for op in ops if op.path.count("{") == depth))
        self._preflight()
        options = ProbeOptions(
            unsafe=self.config.unsafe,
            has_credentials=bool(self.config.credentials),
            http_twin=http_twin,
        )
        results = await asyncio.gather(*(self._probe(op, options) for op in ops))
        findings = [f for batch in results for f in batch]
        return [self._coverage(op) for op in ops], findings

    async def _baseline(self, op: Operation) -> None:
        planned = baseline_request(
            self.api, op, overrides=dict(self.config.params), harvest=self.harvest
        )
        if not (op.safe or self.config.unsafe):
            self.baselines[op.key] = (planned, None)
            return
        exchange = await self.runner.send(planned)
        self._count(op)
        self.baselines[op.key] = (planned, exchange)
        if exchange.ok and exchange.is_json:
            self.harvest.record(op, exchange.json())

    def _preflight(self) -> None:
        sent = [(op, ex) for op in self.api.operations if (ex := self.baselines[op.key][1])]
        if sent and all(ex.status is None for _, ex in sent):
            first = sent[0][1]
            raise TargetUnreachable(f"{self.config.base_url} is unreachable: {first.error}")
        secured = [(op, ex) for op, ex in sent if op.secured and ex.status is not None]
        if not self.config.credentials:
            if secured:
                self.notes.append(
                    "no credentials given: baselines went without them, so only operations "
                    "that answer anonymously were checked in depth"
                )
            return
        if secured and not any(ex.ok for _, ex in secured):
            seen = ", ".join(f"{op.key} -> {ex.status}" for op, ex in secured[:3])
            raise PreflightError(
                "the supplied credentials did not work: no secured operation answered 2xx "
                f"({seen}{', ...' if len(secured) > 3 else ''}); check --token / --header"
            )

    async def _probe(self, op: Operation, options: ProbeOptions) -> list[Finding]:
        planned, exchange = self.baselines[op.key]
        ctx = ProbeContext(self.api, options, planned, exchange)
        findings: list[Finding] = []
        for probe in self.probes:
            requests = _guard(self.config, self.notes, probe.code, op.key, probe.plan, op, ctx)
            exchanges = list(await asyncio.gather(*(self.runner.send(r) for r in requests)))
            self._count(op, len(exchanges))
            judged = _guard(
                self.config, self.notes, probe.code, op.key, probe.judge, op, ctx, exchanges
            )
            findings += [
                dataclasses.replace(
                    f, operation=f.operation or op.ref, location=f.location or op.location
                )
                for f in judged
            ]
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.api.operations))
        return findings

    def _count(self, op: Operation, n: int = 1) -> None:
        self.requests[op.key] = self.requests.get(op.key, 0) + n

    def _coverage(self, op: Operation) -> Coverage:
        planned, exchange = self.baselines[op.key]
        del planned
        sent = self.requests.get(op.key, 0)
        if exchange is None:
            return Coverage(
                op.ref, "skipped", f"{op.method} is not sent without --unsafe", None, sent
            )
        if exchange.status is None:
            return Coverage(op.ref, "not reached", exchange.error or "no response", None, sent)
        return Coverage(op.ref, "probed", "", exchange.status, sent)


def _guard(
    config: ScanConfig,
    notes: list[str],
    code: str,
    where: str,
    call: Callable[..., Iterable[_T]],
    *args: Any,
) -> list[_T]:
    """Run a probe's plan/judge; a crash is noted and the run goes on (``--debug`` re-raises)."""
    try:
        return list(call(*args))
    except Exception as exc:
        if config.debug:
            raise
        notes.append(f"probe {code} failed on {where}: {type(exc).__name__}: {exc}")
        return []


def _report(
    config: ScanConfig,
    api: ApiModel,
    findings: list[Finding],
    coverage: list[Coverage],
    notes: list[str],
    redactor: Redactor,
    started: float,
    started_at: str,
    requests: int,
) -> Report:
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        current = unique.get(f.identity)
        if current is None or f.severity > current.severity:
            unique[f.identity] = redactor.finding(f)
    ordered = sorted(unique.values(), key=lambda f: f.sort_key)
    summary = Summary(
        operations=len(api.operations),
        probed=sum(1 for c in coverage if c.status == "probed"),
        requests=requests,
        duration=time.perf_counter() - started,
    )
    return Report(
        tool_version=__version__,
        spec=api.source,
        target=config.base_url,
        started_at=started_at,
        findings=tuple(ordered),
        coverage=tuple(coverage),
        summary=summary,
        notes=tuple(redactor.redact(n) for n in notes),
    )
