"""The one orchestrator: load -> derive -> synthesize -> plan -> run -> judge -> Report.

Used by the CLI and the demo; a third-party caller uses :func:`scan`. Per operation, the
baseline request (with the user's credentials) goes first; operations whose path has more
parameters run later, so ids harvested from list endpoints reach item endpoints. Then the plan
stage (:mod:`specdiff.plan`) has the probes plan their variants level by level through the one
safety filter, the runner sends each distinct request once, every answer joins the operation's
evidence pool, and each probe judges its own answers (or, for pool-wide rules, every answer of
the pool, each distinct one once per rule in the run).

The engine also keeps the run honest (:attr:`specdiff.model.Report.complete`): per operation it
counts what was planned, sent and answered; an operation whose requests were not all sent (the
request or time budget, credentials that stopped working) or not answered is "not judged", and
a run with such operations is incomplete. Under ``--unsafe`` destructive operations act only on
objects the run created (:mod:`specdiff.objects`), which it deletes again at the end; operations
that look destructive run last, one request at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from specdiff import __version__
from specdiff.config import AuthMaterial, Credentials, ScanConfig, request_budget
from specdiff.derive import derive
from specdiff.errors import ConfigError, PreflightError, TargetUnreachable
from specdiff.lint import spec_notes
from specdiff.model import (
    ApiModel,
    Coverage,
    CoverageStatus,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    Report,
    Severity,
    Summary,
)
from specdiff.objects import CreatedObjects
from specdiff.oidc import discover_jwks, wants_jwks
from specdiff.plan import (
    Guard,
    OperationPlan,
    PlanStage,
    Refused,
    ScanPlan,
    assumed_answers,
    assumed_exchange,
    question,
)
from specdiff.probe import Listing, Probe, ProbeContext, ProbeOptions, load_probes
from specdiff.redact import Redactor
from specdiff.runner import OUT_OF_TIME, Runner, RunnerLimits, make_client
from specdiff.safety import SafetyPolicy, looks_destructive
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
)
from specdiff.variant import HOST_WIDE, Variant, VariantKind

__all__ = ["WORKING_CREDENTIAL_ENV", "exit_code", "plan_scan", "run_scan", "scan"]

WORKING_CREDENTIAL_ENV = "SPECDIFF_FORGED_CREDENTIAL"
"""How curl lines name a credential specdiff made that the API accepted (never its value)."""

ProgressCallback = Callable[[int, int], None]
"""Called with (operations done, operations in all) as the scan advances."""


def scan(
    config: ScanConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
    probes: Sequence[Probe] | None = None,
) -> Report:
    """Run one check synchronously; see :func:`run_scan`."""
    return asyncio.run(run_scan(config, transport=transport, progress=progress, probes=probes))


async def run_scan(
    config: ScanConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
    probes: Sequence[Probe] | None = None,
) -> Report:
    """Check the target of ``config`` against its document.

    ``transport`` replaces the network for both targets (unit tests, in-process apps);
    ``probes`` replaces the registered probes (default: every one, :func:`load_probes`).
    Raises :class:`SpecError`/:class:`ConfigError` (exit 2) and :class:`TargetUnreachable` (3).
    """
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    spec = load_spec(config.spec, allow_remote_refs=config.allow_remote_refs)
    api = shard_api(derive(spec), config.shard)
    _check_included(config, api)
    probes = tuple(probes) if probes is not None else load_probes()
    redactor = config.redactor()
    rule_codes = tuple(sorted(p.code for p in probes))
    notes: list[str] = list(api.warnings)
    guard = Guard(notes, debug=config.debug)
    findings: list[Finding] = []
    for probe in probes:
        findings += guard(probe.code, "the document", probe.check_spec, api)

    if config.base_url is None:
        notes += spec_notes(api)
        return _report(
            config, api, findings, [], notes, redactor, started, started_at, 0, rule_codes
        )

    objects = CreatedObjects(api)
    policy = SafetyPolicy(
        api, unsafe=config.unsafe, include=config.include_ops, created=objects.names
    )
    stage = PlanStage(probes, policy, guard)
    http_url = config.effective_http_url
    log = _ExchangeLog() if config.har else None
    async with (
        make_client(verify=_verify(config), timeout=config.timeout, transport=transport) as client,
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
                max_requests=request_budget(config, len(api.operations)),
                max_body_bytes=config.max_body_bytes,
                max_duration=config.max_duration,
            ),
            policy=policy,
        )
        engine = _Engine(config, api, stage, runner, objects, notes, progress)
        unreachable: TargetUnreachable | None = None
        try:
            op_findings = await engine.run(http_twin=http_url is not None)
        except TargetUnreachable as exc:  # the report still says what happened to each operation
            unreachable, op_findings = exc, []
        findings += op_findings
        coverage = [engine.coverage(op) for op in api.operations]
        requests = runner.requests_sent
    if log is not None and config.har:
        log.write(config.har, redactor)
    complete, why = _completeness(config, coverage, engine.causes, unreachable)
    report = _report(
        config, api, findings, coverage, notes, redactor, started, started_at, requests, rule_codes
    )
    report = dataclasses.replace(
        report,
        complete=complete,
        incomplete=why,
        identities=runner.identity_uses(),
        created=objects.report(),
        anonymous=_anonymous(config, api),
    )
    if unreachable is not None:
        raise TargetUnreachable(str(unreachable), report)
    return report


def _anonymous(config: ScanConfig, api: ApiModel) -> str:
    """The first line of every format when a secured API is checked without any credential."""
    secured = sum(1 for op in api.operations if op.secured)
    if config.credentials or config.login is not None or not secured:
        return ""
    return (
        f"no credentials given: the {secured} secured operations were checked only as an "
        "anonymous caller sees them (give --token, --header or --login to check them in depth)"
    )


def _check_included(config: ScanConfig, api: ApiModel) -> None:
    keys = {op.key for op in api.operations}
    for key in config.include_ops:
        if key not in keys:
            raise ConfigError(f"--include-op {key!r}: no such operation in the document")


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


def plan_scan(config: ScanConfig, *, probes: Sequence[Probe] | None = None) -> ScanPlan:
    """What a run of ``config`` would send, per operation and probe; sends nothing.

    The very plan stage of a run (:class:`specdiff.plan.PlanStage`), with assumed answers (see
    :data:`specdiff.plan.ASSUMED_BASELINE` and :data:`specdiff.plan.ASSUMED_ANSWERS`).
    """
    api = shard_api(
        derive(load_spec(config.spec, allow_remote_refs=config.allow_remote_refs)), config.shard
    )
    _check_included(config, api)
    probes = tuple(probes) if probes is not None else load_probes()
    notes: list[str] = list(api.warnings)
    objects = CreatedObjects(api)
    # a run aims destructive requests at objects it created: assume it has one for each
    policy = SafetyPolicy(
        api, unsafe=config.unsafe, include=config.include_ops, created=lambda path: True
    )
    stage = PlanStage(probes, policy, Guard(notes, debug=config.debug))
    options = _options(config, config.credentials, http_twin=config.effective_http_url is not None)
    harvest = IdHarvest()
    harvest.record_token(config.credentials.bearer_token, config.credentials_b.bearer_token)
    asked: set[PlannedRequest] = set()  # as the engine sends them: one question, one request

    async def plan_all() -> list[OperationPlan]:
        operations: list[OperationPlan] = []
        for op in api.operations:
            skipped = _skipped(config, policy, objects, op)
            if skipped:
                operations.append(OperationPlan(op.ref, 0, (), skipped=skipped))
                continue
            planned = baseline_request(api, op, overrides=dict(config.params), harvest=harvest)
            admitted = stage.admit(planned, "baseline", op)
            sent = not isinstance(admitted, Refused)
            exchange = assumed_exchange(planned) if sent else None
            answer = _Assumed(asked)
            run = await stage.run(op, ProbeContext(api, options, planned, exchange), answer)
            per_probe = tuple((p, answer.counts[p.code]) for p in probes)
            operations.append(OperationPlan(op.ref, int(sent), per_probe, len(run.refused)))
        return operations

    return ScanPlan(
        api.source,
        tuple(asyncio.run(plan_all())),
        tuple(notes),
        max_requests=request_budget(config, len(api.operations)),
        max_duration=config.max_duration,
        concurrency=config.concurrency,
    )


class _Assumed:
    """``--plan``'s answers (:func:`specdiff.plan.assumed_answers`), counting per probe each
    request the first time the run would send it (``asked`` is shared by the operations)."""

    def __init__(self, asked: set[PlannedRequest]) -> None:
        self.asked = asked
        self.counts: Counter[str] = Counter()

    async def __call__(self, requests: Sequence[PlannedRequest]) -> list[Exchange]:
        for req in requests:
            key = question(req)
            self.counts[req.probe] += key not in self.asked
            self.asked.add(key)
        return assumed_answers(requests)


def _skipped(
    config: ScanConfig, policy: SafetyPolicy, objects: CreatedObjects, op: Operation
) -> str:
    """Why nothing at all of ``op`` is sent, by design; "" when it is probed."""
    if policy.skips(op):
        return f"looks destructive: {op.key}; pass --include-op to probe it"
    if config.unsafe and objects.needs_object(op) and objects.create_operation(op) is None:
        parent = op.path.rsplit("/", 1)[0]
        return (
            f"{op.method} acts on one object and the document has no POST {parent} to create "
            "one: --unsafe touches only objects specdiff created"
        )
    return ""


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


def exit_code(
    report: Report,
    fail_on: Severity | None,
    min_score: int | None = None,
    *,
    allow_incomplete: bool = False,
) -> int:
    """3 when the run is incomplete (unless ``allow_incomplete``); else 1 when a counted finding
    reaches ``fail_on`` (None: never) or the risk score is below ``min_score`` (an incomplete
    run has no score: ``min_score`` is not applied to it); else 0. Suppressed and baselined
    findings never count."""
    if not report.complete and not allow_incomplete:
        return 3
    counted = [f for f in report.findings if f.suppression is None]
    if fail_on is not None and any(f.severity >= fail_on for f in counted):
        return 1
    if min_score is None or not report.complete:
        return 0
    return 1 if risk_score(counted).value < min_score else 0


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


@dataclass
class _Tally:
    """What happened to one operation's requests: the run-integrity ledger."""

    planned: set[int] = field(default_factory=set)
    """Hashes of the distinct requests planned for it (the baseline included)."""
    sent: int = 0
    unsent: Counter[str] = field(default_factory=Counter)
    """Requests specdiff did not send, by reason (``budget``, ``time``, ``credentials``)."""
    unanswered: str = ""
    """The first network failure of a request about this operation (not the plain-HTTP twin's,
    not a host-wide one's), after the runner's one retry."""
    refused: Counter[str] = field(default_factory=Counter)
    """Requests the safety policy refused, by reason."""


_CAUSES = {
    "credentials": "credentials stopped working",
    "budget": "request budget spent",
    "time": "time budget spent",
    "answer": "requests got no answer",
}


class _Engine:
    """One run's mutable state: harvested ids, baselines, shared answers, coverage."""

    def __init__(
        self,
        config: ScanConfig,
        api: ApiModel,
        stage: PlanStage,
        runner: Runner,
        objects: CreatedObjects,
        notes: list[str],
        progress: ProgressCallback | None,
    ) -> None:
        self.config = config
        self.api = api
        self.stage = stage
        self.probes = stage.probes
        self.runner = runner
        self.objects = objects
        self.notes = notes
        self.progress = progress
        self.harvest = IdHarvest()
        self.baselines: dict[str, tuple[PlannedRequest, Exchange | None]] = {}
        self.skipped: dict[str, str] = {}
        """Operations of which nothing is sent, by design, and why."""
        self.tally: dict[str, _Tally] = {}
        self.judged: set[str] = set()
        self.causes: dict[str, str] = {}
        """Operation key -> why it was not judged (a key of :data:`_CAUSES`)."""
        self.once: list[Finding] = []
        self.shared: dict[PlannedRequest, _Shared] = {}
        self.seen_by_rule: set[tuple[str, int]] = set()
        """(pool-wide rule, request hash): each distinct exchange is judged once per rule."""
        self.spares: dict[str, PlannedRequest | None] = {}
        self.fed: dict[str, Fed] = {}
        """Per operation: (parameter, value, origin) of its baseline's identifiers of known
        owner (see :data:`specdiff.synth.Fed`)."""
        self.tried: dict[str, set[PlannedRequest]] = {}
        """Per operation: the baseline attempts already sent (each at most once per run)."""
        self.listings_b: dict[str, Exchange] = {}
        self.refusals: dict[str, tuple[int, str]] = {}
        """Probe code -> (requests the safety policy refused, the first reason)."""
        self.done = 0

    async def run(self, *, http_twin: bool) -> list[Finding]:
        ops = self.api.operations
        policy = self.stage.policy
        for op in ops:
            why = _skipped(self.config, policy, self.objects, op)
            if why:
                self.skipped[op.key] = why
        live = [op for op in ops if op.key not in self.skipped]
        # destructive-looking operations (under --unsafe or --include-op): last, and alone; a
        # POST that creates is what POSTs are for
        alone = [op for op in live if looks_destructive(op, creating=op.safe)]
        # DELETEs after everything else: a DELETE removes an object other operations probe
        deletes = [op for op in live if op.method == "DELETE" and op not in alone]
        lasting = [op for op in live if op not in alone and op not in deletes]
        if self.config.login is not None:
            await self.runner.login()
        self.harvest.record_token(
            self.runner.credentials.bearer_token, self.config.credentials_b.bearer_token
        )
        for depth in sorted({op.path.count("{") for op in lasting}):
            await asyncio.gather(
                *(self._baseline(op) for op in lasting if op.path.count("{") == depth)
            )
        # ids seen only in answers of the same wave (an order number in /users/{id}/orders)
        await asyncio.gather(
            *(self._baseline(op) for op in lasting if op.safe and self._missed_object(op))
        )
        by_key = {op.key: op for op in lasting}
        for key in await self.runner.settle():  # A logged in anew: its refused baselines again
            if key in by_key:
                self.tried.pop(key, None)
                await self._baseline(by_key[key])
        self._preflight()
        await self._discover_jwks()
        options = self._options(http_twin)
        if "b" in options.identities:
            await self._listings_b(lasting)
        for probe in self.probes:
            self.once += self.stage.guard(
                probe.code, "the credentials", probe.check_credentials, self.api, options
            )
        results = await asyncio.gather(*(self._probe(op, options) for op in lasting))
        # only now may a DELETE baseline remove an object: everything else has been probed
        await asyncio.gather(*(self._baseline(op) for op in deletes))
        results += await asyncio.gather(*(self._probe(op, options) for op in deletes))
        await self._clean_up()
        for op in alone:
            await self._baseline(op)
            results.append(await self._probe(op, options, sequential=True))
        await self.runner.settle()  # refusals no credential check has covered yet
        self.notes += [
            f"probe {code} planned {n} request(s) the safety policy refused ({reason})"
            for code, (n, reason) in sorted(self.refusals.items())
        ]
        return self.once + [f for batch in results for f in batch]

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

    # ------------------------------------------------------------------------ baselines

    async def _baseline(self, op: Operation) -> None:
        """Send ``op``'s baseline through the safety policy. Under ``--unsafe`` an operation that
        acts on one object is aimed at an object this run created; a safe item operation whose
        answer says "no such object" is tried with other identifiers (:meth:`_reach`)."""
        overrides = dict(self.config.params)
        attempts = baseline_attempts(self.api, op, overrides=overrides, harvest=self.harvest)
        if not op.safe:  # a write goes to one object only, never to a few
            attempts = attempts[:1]
        if self.config.unsafe and self.objects.needs_object(op):
            planned, fed = attempts[0]
            aimed = await self._aim(op, planned)
            if aimed is None:
                return
            # its path names the object this run created, not the harvested one
            in_path = {p.name for p in op.parameters if p.location == "path"}
            attempts = [(aimed, tuple(f for f in fed if f[0] not in in_path))]
        await self._reach(op, attempts)

    async def _reach(self, op: Operation, attempts: Sequence[tuple[PlannedRequest, Fed]]) -> None:
        """Send the first attempt; while it answers "no such object" (:data:`_NO_OBJECT`), the
        next (the same request aimed at other harvested identifiers), each sent once per run and
        each planned, admitted and counted like every request. The first 2xx is the baseline,
        and its JSON feeds the harvest."""
        tried = self.tried.setdefault(op.key, set())
        for planned, fed in attempts:
            if planned in tried:
                continue
            tried.add(planned)
            admitted = self.stage.admit(planned, "baseline", op)
            if isinstance(admitted, Refused):  # an unsafe method without --unsafe: by design
                if op.key not in self.baselines:
                    self.baselines[op.key] = (planned, None)
                break
            exchange = await self._send(op, "baseline", admitted, share=False)
            self.baselines[op.key] = (admitted, exchange)
            self.fed[op.key] = fed
            if exchange.ok or exchange.status not in _NO_OBJECT:
                break
        answer = self.baselines.get(op.key, (None, None))[1]
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

    async def _aim(self, op: Operation, planned: PlannedRequest) -> PlannedRequest | None:
        """``planned`` aimed at an object this run created (creating one with the API's own
        create operation when none is left); a DELETE also gets a spare for its variants.
        None, with the reason in the coverage, when there is none."""
        create = self.objects.create_operation(op)
        assert create is not None  # _skipped() set those aside
        path = self.objects.take(op) or (await self._create(op, create) and self.objects.take(op))
        if not path:
            self.skipped[op.key] = (
                f"no object specdiff created to aim {op.method} at ({create.key} created none "
                "it could name): --unsafe touches only objects specdiff created"
            )
            return None
        if op.method == "DELETE":
            spare = self.objects.take(op) or (
                await self._create(op, create) and self.objects.take(op)
            )
            self.spares[op.key] = dataclasses.replace(planned, path=spare) if spare else None
        return dataclasses.replace(planned, path=path)

    async def _create(self, op: Operation, create: Operation) -> bool:
        """One more object from ``create``'s baseline, for ``op``."""
        planned = baseline_request(
            self.api, create, overrides=dict(self.config.params), harvest=self.harvest
        )
        req = dataclasses.replace(planned, variant=Variant(VariantKind.CREATE))
        admitted = self.stage.admit(req, "create", create)
        if isinstance(admitted, Refused):
            return False
        exchange = await self._send(op, "create", admitted, share=False)
        self.objects.observe(create, exchange)
        return exchange.ok

    async def _listings_b(self, ops: Sequence[Operation]) -> None:
        """SD212's ownership evidence: every secured, safe operation whose answer to A fed a path
        parameter of a secured operation's 2xx baseline is asked once more as identity B (one
        request per such listing, only when B is given)."""
        by_key = {op.key: op for op in self.api.operations}
        wanted = {
            origin
            for op in ops
            if op.secured
            and (ex := self.baselines.get(op.key, (None, None))[1]) is not None
            and ex.ok
            for _, _, origin in self.fed.get(op.key, ())
        }
        listings = [
            by_key[key]
            for key in sorted(wanted)
            if key in by_key
            and self._about_own_object(key) is None
            and by_key[key].secured
            and by_key[key].safe
            and (ex := self.baselines.get(key, (None, None))[1]) is not None
            and ex.ok
        ]
        answers = await asyncio.gather(
            *(
                self._send(
                    op,
                    "SD212",
                    dataclasses.replace(
                        self.baselines[op.key][0],
                        identity="b",
                        probe="SD212",
                        variant=Variant(VariantKind.IDENTITY_B_LISTING),
                    ),
                )
                for op in listings
            )
        )
        for op, answer in zip(listings, answers, strict=True):
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
        answered = [(op, ex) for op, ex in sent if ex.not_sent is None]
        if answered and all(ex.status is None for _, ex in answered):
            first = answered[0][1]
            raise TargetUnreachable(f"{self.config.base_url} is unreachable: {first.error}")
        secured = [(op, ex) for op, ex in answered if op.secured and ex.status is not None]
        if not self.runner.credentials:
            return  # an anonymous check: the report says so first (Report.anonymous)
        if secured and not any(ex.ok for _, ex in secured) and not self.runner.stopped("a"):
            seen = ", ".join(f"{op.key} -> {ex.status}" for op, ex in secured[:3])
            raise PreflightError(
                "the supplied credentials did not work: no secured operation answered 2xx "
                f"({seen}{', ...' if len(secured) > 3 else ''}); "
                + (_expired(self.runner.credentials.bearer_token) or "check --token / --header")
            )

    # ------------------------------------------------------------------------ probing

    async def _probe(
        self, op: Operation, options: ProbeOptions, *, sequential: bool = False
    ) -> list[Finding]:
        if op.key in self.skipped or (self.runner.stopped("a") and bool(self.runner.credentials)):
            self._finish(op)
            return []
        planned, exchange = self.baselines[op.key]
        ctx = ProbeContext(
            self.api,
            options,
            planned,
            exchange,
            spare=self.spares.get(op.key),
            listings=self._listings(op),
        )

        async def answer(requests: Sequence[PlannedRequest]) -> list[Exchange]:
            if sequential:
                return [await self._send(op, req.probe, req) for req in requests]
            return list(await asyncio.gather(*(self._send(op, r.probe, r) for r in requests)))

        run = await self.stage.run(op, ctx, answer)
        tally = self._tally(op)
        for refused in run.refused:
            tally.refused[refused.reason] += 1
            count, first = self.refusals.get(refused.request.probe, (0, refused.reason))
            self.refusals[refused.request.probe] = (count + 1, first)
        pool = self._pool(run.ctx)
        findings: list[Finding] = []
        for probe in self.probes:
            if probe.evidence == "pool":
                mine = self._unjudged(probe, pool)
            else:
                mine = run.own.get(probe.code, [])
            judged = self.stage.guard(probe.code, op.key, probe.judge, op, run.ctx, mine)
            if probe.scope == "host":
                findings += judged
                continue
            findings += [
                dataclasses.replace(
                    f, operation=f.operation or op.ref, location=f.location or op.location
                )
                for f in judged
            ]
        if exchange is not None:  # judged: coverage needs its status, not its body
            self.baselines[op.key] = (planned, dataclasses.replace(exchange, body=b""))
        self.judged.add(op.key)
        self._forget(op)
        self._finish(op)
        return findings

    def _finish(self, op: Operation) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.api.operations))

    def _pool(self, ctx: ProbeContext) -> list[tuple[Exchange, int]]:
        """The operation's answers, the baseline's first, each with its request's hash."""
        answers = [ctx.baseline_exchange] if ctx.baseline_exchange is not None else []
        return [(ex, hash(question(ex.request))) for ex in (*answers, *ctx.pool)]

    def _unjudged(self, probe: Probe, pool: list[tuple[Exchange, int]]) -> list[Exchange]:
        """The answers of ``pool`` this pool-wide rule has not judged yet in the run; host-wide
        requests only for a host-scope rule."""
        found: list[Exchange] = []
        for exchange, key in pool:
            if probe.scope == "operation" and exchange.request.variant.kind in HOST_WIDE:
                continue
            if (probe.code, key) in self.seen_by_rule:
                continue
            self.seen_by_rule.add((probe.code, key))
            found.append(exchange)
        return found

    async def _send(
        self, op: Operation, code: str, req: PlannedRequest, *, share: bool = True
    ) -> Exchange:
        """Send ``req``, or reuse the answer to the very same request asked by another probe (or
        by this probe for another operation): one question, one request. A probe that asks the
        same thing twice for one operation means it (a repeat), and gets a fresh send; so does
        a request not to ``share`` (a baseline: SD213 asks it again on purpose)."""
        key = question(req)
        tally = self._tally(op)
        tally.planned.add(hash(key))
        asker = (code, op.key)
        shared = self.shared.get(key) if share else None
        fresh = shared is None or asker in shared.askers
        if shared is None or fresh:
            shared = _Shared(asyncio.ensure_future(self.runner.send(req)), {asker})
            if share:
                self.shared[key] = shared
        else:
            shared.askers.add(asker)
        exchange = await shared.answer
        if exchange.not_sent in ("policy", "config"):  # by design: not a gap in the run
            tally.refused[exchange.error or "refused"] += 1
        elif exchange.not_sent is not None:
            tally.unsent[exchange.not_sent] += 1
        elif fresh:
            tally.sent += 1
        if exchange.status is None and exchange.not_sent is None and _about(req):
            tally.unanswered = tally.unanswered or exchange.error or "no answer"
        if fresh and self.config.unsafe:
            self.objects.observe(op, exchange)
        return dataclasses.replace(exchange, request=req)

    def _forget(self, op: Operation) -> None:
        """Drop the answers only ``op`` asked for: memory stays bounded on long runs."""
        for key, shared in list(self.shared.items()):
            if shared.answer.done() and all(asker[1] == op.key for asker in shared.askers):
                del self.shared[key]

    def _tally(self, op: Operation) -> _Tally:
        return self.tally.setdefault(op.key, _Tally())

    # ------------------------------------------------------------------------ the end

    async def _clean_up(self) -> None:
        """Delete what this run created and is still there, where the document allows it."""
        for path, delete in self.objects.leftovers():
            if delete is None:
                self.objects.fail(path, "the document has no DELETE for it")
                continue
            planned = baseline_request(
                self.api, delete, overrides=dict(self.config.params), harvest=self.harvest
            )
            req = dataclasses.replace(planned, path=path, variant=Variant(VariantKind.CLEANUP))
            admitted = self.stage.admit(req, "cleanup", delete)
            if isinstance(admitted, Refused):
                self.objects.fail(path, admitted.reason)
                continue
            exchange = await self.runner.send(admitted)
            self.objects.observe(delete, exchange)
            if not (exchange.ok or exchange.status in (404, 410)):
                got = exchange.error or f"HTTP {exchange.status}"
                self.objects.fail(path, f"{delete.method} {path} answered {got}")

    def coverage(self, op: Operation) -> Coverage:
        """What happened to ``op``; sets :attr:`causes` for an operation not judged."""
        tally = self.tally.get(op.key, _Tally())
        planned_req, exchange = self.baselines.get(op.key, (None, None))

        def row(status: CoverageStatus, reason: str, cause: str = "") -> Coverage:
            if cause:
                self.causes[op.key] = cause
            base = exchange.status if exchange is not None else None
            return Coverage(op.ref, status, reason, base, tally.sent, len(tally.planned))

        a_stopped = self.runner.stopped("a") and bool(self.runner.credentials)
        if op.key in self.skipped:
            return row("skipped", self.skipped[op.key])
        stopped = self.runner.affected(op.key)
        if stopped:
            return row("not judged", f"not judged: {stopped[0]}", "credentials")
        if exchange is None:
            # the policy kept the baseline back (or would have, had its turn come): by design
            if planned_req is not None or not (op.safe or self.config.unsafe):
                # what may change data waits for --unsafe; anonymous variants that cannot went
                reason = (
                    f"a valid {op.method} needs --unsafe"
                    if tally.sent
                    else f"{op.method} is not sent without --unsafe"
                ) + _refused(tally)
                return row("skipped", reason)
            if a_stopped:
                return row("not judged", f"not judged: {self.runner.stop_note('a')}", "credentials")
            return row("not reached", "not sent: the target is unreachable", "answer")
        if exchange.not_sent is not None:
            return row("not judged", f"not judged: {exchange.error}", exchange.not_sent)
        if exchange.status is None:
            cause = "time" if exchange.error == OUT_OF_TIME else "answer"
            return row("not reached", exchange.error or "no response", cause)
        if op.key not in self.judged:
            if a_stopped:
                return row("not judged", f"not judged: {self.runner.stop_note('a')}", "credentials")
            return row("not judged", "not judged: the run stopped before its turn", "answer")
        if tally.unsent:
            (reason, _), *_ = tally.unsent.most_common(1)
            missing = sum(tally.unsent.values())
            return row(
                "not judged",
                f"not judged: {missing} of {len(tally.planned)} planned requests not sent "
                f"({_CAUSES.get(reason, reason)})",
                reason,
            )
        if tally.unanswered:
            cause = "time" if tally.unanswered == OUT_OF_TIME else "answer"
            return row(
                "not judged", f"not judged: a request got no answer ({tally.unanswered})", cause
            )
        if self._missed_object(op):  # judged all the same: not a gap in the run
            names = " ".join(f"-p {p.name}=VALUE" for p in op.parameters if p.location == "path")
            reason = f"no real object reached (baseline {exchange.status}): pass {names}"
            return row("not reached", reason + _refused(tally))
        reason = (
            f"response body cut at {self.config.max_body_bytes} bytes" if exchange.truncated else ""
        )
        return row("probed", reason + _refused(tally))


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


def _refused(tally: _Tally) -> str:
    """The safety policy's refusals, as a coverage remark."""
    if not tally.refused:
        return ""
    (reason, _), *_ = tally.refused.most_common(1)
    count = sum(tally.refused.values())
    return f"; {count} planned request(s) not sent by design ({reason})"


def _about(req: PlannedRequest) -> bool:
    """A request whose answer the operation's judgement needs: to the target itself (the
    plain-HTTP twin's refused connection is its correct answer), about the operation."""
    return req.target == "primary" and req.variant.kind not in HOST_WIDE


def _completeness(
    config: ScanConfig,
    coverage: Sequence[Coverage],
    causes: dict[str, str],
    unreachable: TargetUnreachable | None,
) -> tuple[bool, str]:
    """(complete, why not): see ``Report.complete``. The gaps are the operations with a cause
    (:meth:`_Engine.coverage`); an item operation whose baseline reached no real object was
    judged all the same (every request planned for it was sent and answered)."""
    covered = [c for c in coverage if c.status != "skipped"]
    gaps = [c for c in covered if f"{c.operation.method} {c.operation.path}" in causes]
    if unreachable is not None:
        return (
            False,
            f"the target is unreachable ({len(gaps)} of {len(covered)} operations not reached)",
        )
    if not gaps:
        return True, ""
    why = dict.fromkeys(
        _CAUSES.get(cause, cause)
        for c in gaps
        for cause in [causes[f"{c.operation.method} {c.operation.path}"]]
    )
    text = f"{len(gaps)} of {len(covered)} operations not judged ({'; '.join(why)})"
    judged = 100 * (len(covered) - len(gaps)) / len(covered)
    if config.min_coverage is not None and judged >= config.min_coverage:
        return True, f"{text}, accepted by --min-coverage {config.min_coverage:g}"
    return False, text


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
