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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from specdiff import __version__
from specdiff.config import AuthMaterial, Credentials, ScanConfig
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
from specdiff.oidc import discover_jwks, wants_jwks
from specdiff.plan import OperationPlan, ScanPlan, assumed_exchange
from specdiff.probe import Listing, Probe, ProbeContext, ProbeOptions, load_probes
from specdiff.redact import Redactor
from specdiff.runner import Runner, RunnerLimits, make_client
from specdiff.score import risk_score
from specdiff.shard import shard_api
from specdiff.spec import load_spec
from specdiff.suppress import apply_suppressions
from specdiff.synth import (
    PARAM,
    TOKEN,
    Fed,
    IdHarvest,
    baseline_attempts,
    baseline_request,
    same_principal,
    spare_request,
)

__all__ = ["WORKING_CREDENTIAL_ENV", "exit_code", "plan_scan", "run_scan", "scan"]

WORKING_CREDENTIAL_ENV = "SPECDIFF_FORGED_CREDENTIAL"
"""How curl lines name a credential specdiff made that the API accepted (never its value)."""

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
    api = shard_api(derive(spec), config.shard)
    probes = load_probes()
    redactor = config.redactor()
    rule_codes = tuple(sorted(p.code for p in probes))
    findings: list[Finding] = []
    notes: list[str] = list(api.warnings)
    for probe in probes:
        findings += _guard(config, notes, probe.code, "the document", probe.check_spec, api)

    if config.base_url is None:
        notes += spec_notes(api)
        return _report(
            config, api, findings, [], notes, redactor, started, started_at, 0, rule_codes
        )

    verify = _verify(config)
    http_url = config.effective_http_url
    log = _ExchangeLog() if config.har else None
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
            credentials_b=config.credentials_b,
            credentials_low=config.credentials_low,
            login=config.login,
            on_secret=lambda token: redactor.add(token, "SPECDIFF_TOKEN"),
            on_working_credential=lambda value: redactor.add(value, WORKING_CREDENTIAL_ENV),
            on_exchange=log.record if log is not None else None,
            limits=RunnerLimits(
                concurrency=config.concurrency,
                timeout=config.timeout,
                max_requests=config.max_requests,
                max_body_bytes=config.max_body_bytes,
                max_duration=config.max_duration,
            ),
        )
        engine = _Engine(config, api, probes, runner, notes, progress)
        unreachable: TargetUnreachable | None = None
        try:
            coverage, op_findings = await engine.run(http_twin=http_url is not None)
        except TargetUnreachable as exc:  # the report still says what happened to each operation
            unreachable = exc
            coverage, op_findings = [engine.coverage(op) for op in api.operations], []
        findings += op_findings
        requests = runner.requests_sent
    if log is not None and config.har:
        log.write(config.har, redactor)
    report = _report(
        config, api, findings, coverage, notes, redactor, started, started_at, requests, rule_codes
    )
    if unreachable is not None:
        raise TargetUnreachable(str(unreachable), report)
    return report


class _ExchangeLog:
    """``--har``: every exchange as it is answered (bodies capped), written after the run."""

    def __init__(self) -> None:
        self.entries: list[tuple[datetime, Exchange]] = []

    def record(self, exchange: Exchange) -> None:
        from specdiff.har import MAX_BODY_BYTES

        capped = dataclasses.replace(exchange, body=exchange.body[:MAX_BODY_BYTES])
        self.entries.append((datetime.now(timezone.utc), capped))

    def write(self, path: str, redactor: Redactor) -> None:
        from specdiff.har import render

        try:
            Path(path).write_text(render(self.entries, redactor), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--har {path}: {exc.strerror or exc}") from None


def plan_scan(config: ScanConfig) -> ScanPlan:
    """What a run of ``config`` would send, per operation and probe; sends nothing.

    The engine plans variants from each baseline's answer; here every sent baseline is assumed to
    answer 200 with ``{}`` (see :data:`specdiff.plan.ASSUMED_BASELINE`).
    """
    api = shard_api(
        derive(load_spec(config.spec, allow_remote_refs=config.allow_remote_refs)), config.shard
    )
    probes = load_probes()
    notes: list[str] = list(api.warnings)
    options = _options(config, config.credentials, http_twin=config.effective_http_url is not None)
    harvest = IdHarvest()
    harvest.record_token(config.credentials.bearer_token, config.credentials_b.bearer_token)
    operations: list[OperationPlan] = []
    asked: set[PlannedRequest] = set()  # as the engine sends them: one question, one request
    for op in api.operations:
        planned = baseline_request(api, op, overrides=dict(config.params), harvest=harvest)
        sent = op.safe or config.unsafe
        exchange = assumed_exchange(planned) if sent else None
        ctx = ProbeContext(api, options, planned, exchange)
        counts: list[tuple[Probe, int]] = []
        for probe in probes:
            new = 0
            for req in _guard(config, notes, probe.code, op.key, probe.plan, op, ctx):
                key = _question(req)
                new += key not in asked
                asked.add(key)
            counts.append((probe, new))
        operations.append(OperationPlan(op.ref, int(sent), tuple(counts)))
    return ScanPlan(api.source, tuple(operations), tuple(notes))


def _question(req: PlannedRequest) -> PlannedRequest:
    """What a request asks, whoever asks it: the key under which identical requests are shared."""
    return dataclasses.replace(req, probe="", purpose="")


def _options(config: ScanConfig, credentials: Credentials, *, http_twin: bool) -> ProbeOptions:
    """What probes may know of the run; ``credentials`` are identity A's as they stand now."""
    extra = {"b": config.credentials_b, "low": config.credentials_low}
    a = credentials
    return ProbeOptions(
        unsafe=config.unsafe,
        has_credentials=bool(a),
        http_twin=http_twin,
        extra_paths=config.extra_paths,
        # an identity equal to A's, or a part of A's, proves nothing about authorization
        identities=frozenset(
            k
            for k, c in extra.items()
            if c and not c.covered_by(a) and not same_principal(a.bearer_token, c.bearer_token)
        ),
        auth=AuthMaterial(
            credentials=a,
            credentials_low=config.credentials_low,
            jwt_secret=config.jwt_secret,
            expired_token=config.expired_token,
            jwks=config.jwks,
        ),
    )


def exit_code(report: Report, fail_on: Severity | None, min_score: int | None = None) -> int:
    """1 when a counted finding reaches ``fail_on`` (None: never) or the risk score is below
    ``min_score``; else 0. Suppressed and baselined findings never count."""
    counted = [f for f in report.findings if f.suppression is None]
    if fail_on is not None and any(f.severity >= fail_on for f in counted):
        return 1
    return 1 if min_score is not None and risk_score(counted).value < min_score else 0


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


@dataclass
class _Shared:
    """A request in flight or answered, and who asked for it: (probe code, operation key)."""

    answer: asyncio.Future[Exchange]
    askers: set[tuple[str, str]] = field(default_factory=set)


class _Engine:
    """One run's mutable state: harvested ids, baselines, shared answers, coverage."""

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
        self.once: list[Finding] = []
        self.shared: dict[PlannedRequest, _Shared] = {}
        self.spares: dict[str, PlannedRequest | None] = {}
        self.fed: dict[str, Fed] = {}
        """Per operation: (parameter, value, origin) of its baseline's identifiers of known
        owner (see :data:`specdiff.synth.Fed`)."""
        self.tried: dict[str, set[PlannedRequest]] = {}
        self.listings_b: dict[str, Exchange] = {}
        self.done = 0

    async def run(self, *, http_twin: bool) -> tuple[list[Coverage], list[Finding]]:
        ops = self.api.operations
        if self.config.login is not None:
            await self.runner.login()
        self.harvest.record_token(
            self.runner.credentials.bearer_token, self.config.credentials_b.bearer_token
        )
        # waves by number of path parameters (/users before /users/{id}); destructive operations
        # last of all: under --unsafe a DELETE removes the object other operations probe
        lasting = [op for op in ops if op.method != "DELETE"]
        destructive = [op for op in ops if op.method == "DELETE"]
        for depth in sorted({op.path.count("{") for op in lasting}):
            await asyncio.gather(
                *(self._baseline(op) for op in lasting if op.path.count("{") == depth)
            )
        # ids seen only in answers of the same wave (an order number in /users/{id}/orders)
        await asyncio.gather(
            *(self._reach(op) for op in lasting if op.safe and self._missed_object(op))
        )
        self._preflight()
        await self._discover_jwks()
        options = self._options(http_twin)
        if "b" in options.identities:
            await self._listings_b(lasting)
        for probe in self.probes:
            findings_once = _guard(
                self.config,
                self.notes,
                probe.code,
                "the credentials",
                probe.check_credentials,
                self.api,
                options,
            )
            self.once += findings_once
        results = await asyncio.gather(*(self._probe(op, options) for op in lasting))
        # only now may a DELETE baseline remove an object: everything else has been probed
        await asyncio.gather(*(self._baseline(op) for op in destructive))
        results += await asyncio.gather(*(self._probe(op, options) for op in destructive))
        findings = self.once + [f for batch in results for f in batch]
        return [self.coverage(op) for op in ops], findings

    async def _discover_jwks(self) -> None:
        """SD216's keys from the document's OpenID Connect discovery, when it needs them."""
        if self.config.jwks or not wants_jwks(self.runner.credentials):
            return
        assert self.config.base_url is not None
        keys, notes = await discover_jwks(self.runner.fetch_public, self.api, self.config.base_url)
        self.notes += notes
        if keys:
            self.config = dataclasses.replace(self.config, jwks=keys)

    def _options(self, http_twin: bool) -> ProbeOptions:
        return _options(self.config, self.runner.credentials, http_twin=http_twin)

    async def _baseline(self, op: Operation) -> None:
        overrides = dict(self.config.params)
        if op.method == "DELETE" and self.config.unsafe:
            self.spares[op.key] = spare_request(
                self.api, op, overrides=overrides, harvest=self.harvest
            )
        if not (op.safe or self.config.unsafe):
            planned = baseline_request(self.api, op, overrides=overrides, harvest=self.harvest)
            self.baselines[op.key] = (planned, None)
            return
        await self._reach(op)

    async def _reach(self, op: Operation) -> None:
        """Send the baseline; while it answers "no such object" (:data:`_NO_OBJECT`), the same
        request aimed at other harvested identifiers, a few at most, each sent once per run.
        The first 2xx is the baseline, and its JSON feeds the harvest."""
        overrides = dict(self.config.params)
        tried = self.tried.setdefault(op.key, set())
        attempts = baseline_attempts(self.api, op, overrides=overrides, harvest=self.harvest)
        if not op.safe:  # under --unsafe a write goes to one object only, never to a few
            attempts = attempts[:1]
        for planned, fed in attempts:
            if planned in tried:
                continue
            tried.add(planned)
            exchange = await self.runner.send(planned)
            self._count(op)
            self.baselines[op.key] = (planned, exchange)
            self.fed[op.key] = fed
            if exchange.ok or exchange.status not in _NO_OBJECT:
                break
        answer = self.baselines[op.key][1]
        if answer is not None and answer.ok and answer.is_json:
            self.harvest.record(op, answer.json())

    def _missed_object(self, op: Operation) -> bool:
        """``op`` names an object (a path parameter) and its baseline found none."""
        exchange = self.baselines.get(op.key, (None, None))[1]
        return (
            exchange is not None
            and exchange.status in _NO_OBJECT
            and any(p.location == "path" for p in op.parameters)
        )

    async def _listings_b(self, ops: Sequence[Operation]) -> None:
        """SD212's ownership evidence: every secured, safe operation whose answer to A fed a path
        parameter of a secured operation's 2xx baseline is asked once more as identity B (one
        request per such listing, only when B is given)."""
        by_key = {op.key: op for op in self.api.operations}
        wanted = {
            origin
            for op in ops
            if op.secured and (ex := self.baselines[op.key][1]) is not None and ex.ok
            for _, _, origin in self.fed.get(op.key, ())
        }
        listings = [
            by_key[key]
            for key in sorted(wanted)
            if key in by_key
            and self._about_own_object(key) is None
            and by_key[key].secured
            and by_key[key].safe
            and (ex := self.baselines[key][1]) is not None
            and ex.ok
        ]
        answers = await asyncio.gather(
            *(
                self.runner.send(
                    dataclasses.replace(
                        self.baselines[op.key][0],
                        identity="b",
                        probe="SD212",
                        purpose="identity-b-listing",
                    )
                )
                for op in listings
            )
        )
        for op, answer in zip(listings, answers, strict=True):
            if answer.url:  # counted only when it went out
                self._count(op)
            self.listings_b[op.key] = answer

    def _listings(self, op: Operation) -> tuple[Listing, ...]:
        """Where each identifier of ``op``'s baseline came from; for an operation's answer, what
        that operation answered B (the user's ``-p`` values and A's token claims have none)."""
        found: list[Listing] = []
        for param, value, origin in self.fed.get(op.key, ()):
            within = self._about_own_object(origin)
            if within is not None or origin in self.listings_b or origin in (TOKEN, PARAM):
                found.append(Listing(param, value, origin, self.listings_b.get(origin), within))
        return tuple(found)

    def _about_own_object(self, key: str) -> tuple[str, str | int, str] | None:
        """The identifier from A's token or ``--param`` that operation ``key``'s baseline
        named (its answer is about one of A's own objects), if any."""
        return next((f for f in self.fed.get(key, ()) if f[2] in (TOKEN, PARAM)), None)

    def _preflight(self) -> None:
        sent = [
            (op, ex)
            for op in self.api.operations
            if op.key in self.baselines and (ex := self.baselines[op.key][1])
        ]
        if sent and all(ex.status is None for _, ex in sent):
            first = sent[0][1]
            raise TargetUnreachable(f"{self.config.base_url} is unreachable: {first.error}")
        secured = [(op, ex) for op, ex in sent if op.secured and ex.status is not None]
        if not self.runner.credentials:
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
                f"({seen}{', ...' if len(secured) > 3 else ''}); "
                + (_expired(self.runner.credentials.bearer_token) or "check --token / --header")
            )

    async def _probe(self, op: Operation, options: ProbeOptions) -> list[Finding]:
        planned, exchange = self.baselines[op.key]
        ctx = ProbeContext(
            self.api,
            options,
            planned,
            exchange,
            spare=self.spares.get(op.key),
            listings=self._listings(op),
        )
        findings: list[Finding] = []
        for probe in self.probes:
            requests = _guard(self.config, self.notes, probe.code, op.key, probe.plan, op, ctx)
            exchanges = list(
                await asyncio.gather(*(self._send(op, probe.code, r) for r in requests))
            )
            judged = _guard(
                self.config, self.notes, probe.code, op.key, probe.judge, op, ctx, exchanges
            )
            if probe.scope == "host":
                findings += judged
                continue
            findings += [
                dataclasses.replace(
                    f, operation=f.operation or op.ref, location=f.location or op.location
                )
                for f in judged
            ]
            ctx = dataclasses.replace(ctx, earlier=ctx.earlier + tuple(exchanges))
        if exchange is not None:  # judged: coverage needs its status, not its body
            self.baselines[op.key] = (planned, dataclasses.replace(exchange, body=b""))
        self._forget(op)
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.api.operations))
        return findings

    async def _send(self, op: Operation, code: str, req: PlannedRequest) -> Exchange:
        """Send ``req``, or reuse the answer to the very same request asked by another probe (or
        by this probe for another operation): one question, one request. A probe that asks the
        same thing twice for one operation means it (a repeat), and gets a fresh send."""
        key = _question(req)
        asker = (code, op.key)
        shared = self.shared.get(key)
        fresh = shared is None or asker in shared.askers
        if shared is None or fresh:
            shared = _Shared(asyncio.ensure_future(self.runner.send(req)), {asker})
            self.shared[key] = shared
        else:
            shared.askers.add(asker)
        exchange = await shared.answer
        if fresh and exchange.url:  # counted only when it went out (not refused before sending)
            self._count(op)
        return dataclasses.replace(exchange, request=req)

    def _forget(self, op: Operation) -> None:
        """Drop the answers only ``op`` asked for: memory stays bounded on long runs."""
        for key, shared in list(self.shared.items()):
            if shared.answer.done() and all(asker[1] == op.key for asker in shared.askers):
                del self.shared[key]

    def _count(self, op: Operation, n: int = 1) -> None:
        self.requests[op.key] = self.requests.get(op.key, 0) + n

    def coverage(self, op: Operation) -> Coverage:
        sent = self.requests.get(op.key, 0)
        exchange = self.baselines.get(op.key, (None, None))[1]
        if not (op.safe or self.config.unsafe):
            return Coverage(
                op.ref, "skipped", f"{op.method} is not sent without --unsafe", None, sent
            )
        if exchange is None:  # a DELETE after an outage: the run stopped before its turn
            return Coverage(op.ref, "not reached", "not sent: the target is unreachable", None, 0)
        if exchange.status is None:
            return Coverage(op.ref, "not reached", exchange.error or "no response", None, sent)
        if self._missed_object(op):
            names = " ".join(f"-p {p.name}=VALUE" for p in op.parameters if p.location == "path")
            return Coverage(
                op.ref,
                "not reached",
                f"no real object reached (baseline {exchange.status}): pass {names}",
                exchange.status,
                sent,
            )
        reason = (
            f"response body cut at {self.config.max_body_bytes} bytes" if exchange.truncated else ""
        )
        return Coverage(op.ref, "probed", reason, exchange.status, sent)


_NO_OBJECT = frozenset({400, 403, 404, 410, 422})
"""Baseline answers that may mean "no such object" (a placeholder id): worth another id."""


def _expired(token: str | None) -> str | None:
    """``your token expired at ...`` when ``token`` is a JWT whose ``exp`` has passed."""
    from specdiff.jwtkit import parse_jwt

    jwt = parse_jwt(token)
    exp = jwt.claims.get("exp") if jwt is not None else None
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp > time.time():
        return None
    when = datetime.fromtimestamp(exp, timezone.utc).isoformat(timespec="seconds")
    return f"your token expired at {when} (its exp claim): get a fresh one"


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
    rules: tuple[str, ...] = (),
) -> Report:
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        current = unique.get(f.identity)
        if current is None or f.severity > current.severity:
            unique[f.identity] = redactor.finding(f)
    accepted = apply_suppressions(unique.values(), api.operations, config.suppress, config.baseline)
    ordered = sorted(accepted, key=lambda f: f.sort_key)
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
        rules=rules,
    )
