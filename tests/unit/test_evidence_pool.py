"""The evidence pool and its typed vocabulary: planning levels, reading by kind, judged once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from probes.auth import InvalidTokenAccepted, MissingCredentialsAccepted, TokenInQueryAccepted
from probes.jwt_tokens import (
    AlgConfusionAccepted,
    ExpiredTokenAccepted,
    ForgedJwtAccepted,
    KeyInjectionAccepted,
    UnsignedJwtAccepted,
)
from specdiff.config import Credentials, ScanConfig
from specdiff.engine import scan
from specdiff.errors import ProbeError
from specdiff.model import AuthMode, Exchange, Finding, Operation, PlannedRequest
from specdiff.plan import levels
from specdiff.probe import Probe, ProbeContext, ProbeOptions, load_probes
from specdiff.variant import Variant, VariantKind
from tests.builders import exchange, minimal_doc, ok_json, write_spec


def _codes(probes: Sequence[Probe]) -> list[list[str]]:
    return [sorted(p.code for p in level) for level in levels(probes)]


def test_levels_follow_declared_dependencies_not_code_order() -> None:
    # a simpler attack that got in silences the stronger ones: no credential (SD201), then a
    # made-up token (SD202), then a flipped signature (SD204); declared, not by rule number
    built_in = levels(load_probes())
    level = {p.code: n for n, lv in enumerate(built_in) for p in lv}
    assert level["SD201"] == 0 and level["SD210"] == 0
    assert level["SD202"] == level["SD207"] == 1
    assert level["SD203"] == level["SD204"] == 2
    assert level["SD205"] == level["SD215"] == level["SD216"] == 3
    # SD208 asks the path's GET only once SD201's request for an absent object got 404
    assert level["SD208"] == 1
    # judge-only and independent rules plan at once
    assert level["SD209"] == level["SD402"] == level["SD101"] == 0
    reordered = [AlgConfusionAccepted(), ForgedJwtAccepted(), InvalidTokenAccepted()]
    reordered += [MissingCredentialsAccepted(), UnsignedJwtAccepted(), ExpiredTokenAccepted()]
    reordered += [KeyInjectionAccepted(), TokenInQueryAccepted()]
    assert _codes(reordered) == [
        ["SD201"],
        ["SD202", "SD207"],
        ["SD203", "SD204"],
        ["SD205", "SD215", "SD216"],
    ]


class _Chicken(Probe):
    """Plans A after B."""

    code = "SD298"
    variants: ClassVar = frozenset({VariantKind.QUOTE})
    plan_after: ClassVar = frozenset({VariantKind.OVERLONG})


class _Egg(Probe):
    """Plans B after A."""

    code = "SD297"
    variants: ClassVar = frozenset({VariantKind.OVERLONG})
    plan_after: ClassVar = frozenset({VariantKind.QUOTE})


def test_a_cycle_of_declarations_is_a_probe_error() -> None:
    with pytest.raises(ProbeError, match="plan after each other's variants"):
        levels([_Chicken(), _Egg()])


def test_the_pool_is_read_by_kind(tmp_path: Path) -> None:
    refused = exchange(
        401, {}, request=PlannedRequest("GET", "/", variant=Variant(VariantKind.NO_CREDENTIALS))
    )
    got_in = exchange(
        200,
        {"id": 1},
        request=PlannedRequest("GET", "/", variant=Variant(VariantKind.ALG_NONE, "alg-None")),
    )
    base = exchange(200, {"id": 1})
    options = ProbeOptions(has_credentials=True)
    ctx = ProbeContext(None, options, base.request, base, pool=(refused, got_in))  # type: ignore[arg-type]
    assert ctx.answers_to(VariantKind.ALG_NONE) == (got_in,)
    assert ctx.answers_to(VariantKind.NO_CREDENTIALS, VariantKind.ALG_NONE) == (refused, got_in)
    assert ctx.accepted_any(VariantKind.ALG_NONE) and not ctx.anonymous_ok
    assert str(got_in.request.variant) == "alg-None" and got_in.request.purpose == "alg-None"
    assert str(refused.request.variant) == "no-credentials"


# --------------------------------------------------------------------------- judged once


class _Witness(Probe):
    """Records every exchange a pool-wide rule is given."""

    code = "SD296"
    evidence = "pool"
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        self.seen.extend((op.key, e.request.method, e.request.path) for e in exchanges)
        return ()


class _HostWitness(_Witness):
    """The same, host-scope: it also gets host-wide requests."""

    code = "SD295"
    scope = "host"
    seen: ClassVar[list[tuple[str, str, str]]] = []


class _Asker(Probe):
    """Plans one anonymous request per operation, the same for both operations of a path."""

    code = "SD294"
    variants: ClassVar = frozenset({VariantKind.UNDOCUMENTED_METHOD})

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        assert ctx.baseline is not None
        yield PlannedRequest(
            "OPTIONS",
            "/things",
            auth=AuthMode.NONE,
            variant=Variant(VariantKind.UNDOCUMENTED_METHOD),
        )
        yield PlannedRequest(
            "GET", "/console", auth=AuthMode.NONE, variant=Variant(VariantKind.DEBUGGER_PATH)
        )


def test_each_distinct_exchange_is_judged_once_per_pool_wide_rule(tmp_path: Path) -> None:
    doc = minimal_doc(
        {
            "/things": {
                "get": {"responses": ok_json({"type": "object"})},
                "head": {"responses": {"200": {"description": "ok"}}},
            }
        }
    )
    spec = write_spec(tmp_path, doc)
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json={})

    config = ScanConfig(
        spec=str(spec), base_url="https://api.test", credentials=Credentials.build(token="t")
    )
    _Witness.seen.clear()
    _HostWitness.seen.clear()
    scan(
        config,
        transport=httpx.MockTransport(answer),
        probes=[_Witness(), _HostWitness(), _Asker()],
    )
    # the OPTIONS both operations planned went once; each rule judged it once, with the
    # baselines; the host-wide GET /console only reached the host-scope rule
    assert sorted(sent) == ["GET /console", "GET /things", "HEAD /things", "OPTIONS /things"]
    by_request = [(m, p) for _, m, p in _Witness.seen]
    assert sorted(by_request) == [("GET", "/things"), ("HEAD", "/things"), ("OPTIONS", "/things")]
    assert sorted((m, p) for _, m, p in _HostWitness.seen) == sorted(
        [*by_request, ("GET", "/console")]
    )


def test_a_simpler_attack_that_got_in_silences_the_stronger_ones_in_a_run(
    tmp_path: Path,
) -> None:
    """SD202's made-up token gets in: no JWT forgery is sent at all (the pool said it)."""
    import jwt

    token = jwt.encode({"sub": "alice"}, "s3cr3t-but-not-in-any-list-424242", algorithm="HS256")
    doc = minimal_doc(
        {"/me": {"get": {"responses": ok_json({"type": "object"})}}},
        security=[{"bearer": []}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    spec = write_spec(tmp_path, doc)
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        sent.append(auth)
        return httpx.Response(200 if auth.startswith("Bearer ") else 401, json={"id": 1})

    config = ScanConfig(
        spec=str(spec), base_url="https://api.test", credentials=Credentials.build(token=token)
    )
    report = scan(config, transport=httpx.MockTransport(answer))
    rules = {f.rule for f in report.findings}
    assert "SD202" in rules and not rules & {"SD203", "SD204", "SD205", "SD215", "SD216"}
    forged = [a for a in sent if a.startswith("Bearer ey") and a != f"Bearer {token}"]
    assert forged == []


def _silenced(kind: VariantKind, status: int) -> ProbeContext:
    import jwt

    token = jwt.encode({"sub": "alice"}, "k" * 32, algorithm="HS256")
    from specdiff.config import AuthMaterial
    from specdiff.probe import ProbeOptions

    base = exchange(200, {"id": 1})
    options = ProbeOptions(
        has_credentials=True, auth=AuthMaterial(credentials=Credentials.build(token=token))
    )
    earlier = exchange(status, {"id": 1}, request=PlannedRequest("GET", "/", variant=Variant(kind)))
    return ProbeContext(None, options, base.request, base, pool=(earlier,))  # type: ignore[arg-type]


def test_silencing_reads_kinds_whoever_asked(tmp_path: Path) -> None:
    doc = minimal_doc(
        {"/": {"get": {"responses": ok_json({"type": "object"})}}},
        security=[{"bearer": []}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    from tests.builders import api_of, operation

    api = api_of(tmp_path, doc)
    op = operation(api, "GET /")

    def planned(probe: Probe, kind: VariantKind, status: int) -> list[Any]:
        ctx = dataclasses.replace(_silenced(kind, status), api=api)
        return list(probe.plan(op, ctx))

    assert planned(UnsignedJwtAccepted(), VariantKind.RANDOM_TOKEN, 200) == []
    assert planned(UnsignedJwtAccepted(), VariantKind.RANDOM_TOKEN, 401) != []
    assert planned(KeyInjectionAccepted(), VariantKind.FLIPPED_SIGNATURE, 200) == []
    assert planned(UnsignedJwtAccepted(), VariantKind.FLIPPED_SIGNATURE, 200) != []
    assert planned(InvalidTokenAccepted(), VariantKind.NO_CREDENTIALS, 200) == []


# --------------------------------------------------------------------------- completeness


def _coverage(*statuses: str) -> list[Any]:
    from specdiff.model import Coverage, OperationRef

    return [Coverage(OperationRef("GET", f"/op{i}"), s) for i, s in enumerate(statuses)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "min_coverage", "complete", "why"),
    [
        (("probed", "probed", "skipped"), None, True, ""),  # skipped by design does not count
        (
            ("probed", "not judged", "not judged", "skipped"),
            None,
            False,
            "2 of 3 operations not judged (credentials stopped working)",
        ),
        (
            ("probed", "probed", "probed", "not judged"),
            75,
            True,
            "1 of 4 operations not judged (credentials stopped working), "
            "accepted by --min-coverage 75",
        ),
        (("probed", "not judged", "not judged", "probed"), 75, False, "2 of 4 operations"),
    ],
)
def test_completeness_and_min_coverage(
    statuses: tuple[str, ...], min_coverage: float | None, complete: bool, why: str
) -> None:
    from specdiff.engine import _completeness

    coverage = _coverage(*statuses)
    causes = {f"GET /op{i}": "credentials" for i, s in enumerate(statuses) if s == "not judged"}
    config = ScanConfig(spec="x.yaml", min_coverage=min_coverage)
    got = _completeness(config, coverage, causes, None)
    assert got[0] is complete and got[1].startswith(why)


def test_incomplete_reports_have_no_score_and_exit_3() -> None:
    from specdiff.engine import exit_code
    from specdiff.model import Report, Severity, Summary
    from specdiff.score import report_score, score_line

    report = Report(
        "0", "x.yaml", None, "", (), (), Summary(1, 0, 0, 0.0), complete=False,
        incomplete="1 of 1 operations not judged (request budget spent)",
    )  # fmt: skip
    assert report_score(report) is None
    assert score_line(report) == "incomplete: 1 of 1 operations not judged (request budget spent)"
    assert exit_code(report, Severity.HIGH) == 3
    assert exit_code(report, Severity.HIGH, 90, allow_incomplete=True) == 0  # no score to miss
    done = dataclasses.replace(report, complete=True, incomplete="")
    assert score_line(done) == "risk score 100/100, grade A" and exit_code(done, None, 90) == 0
