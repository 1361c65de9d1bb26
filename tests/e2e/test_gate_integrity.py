"""A gate that cannot lie, and never destroys: run integrity and the safety policy end to end.

Against ``tests/e2e/gate_app.py``, a clean API served on loopback: tokens that wear out mid-run,
a spent request budget, an unreachable target, seeded objects under ``--unsafe``, a GET that
drops the database, and a probe that plans what it must not send. The server's own request log
is the proof of what was (not) sent.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.config import Credentials, ScanConfig
from specdiff.engine import plan_scan, scan
from specdiff.model import Operation, PlannedRequest
from specdiff.probe import Probe, ProbeContext, load_probes
from specdiff.runner import Runner, make_client
from specdiff.safety import SafetyPolicy
from tests.e2e.gate_app import PASSWORD, SEEDED, SPEC, USERNAME, RunningGate, serve_gate
from tests.test_cli import closed_port_url

RUNNER = CliRunner()
LOGIN = ("--login", "POST /auth/login", "--login-body", json.dumps(
    {"username": USERNAME, "password": PASSWORD}
))  # fmt: skip
SCORE = re.compile(r"risk score|grade [A-F]|\d+/100")


@pytest.fixture(scope="module")
def gate() -> Iterator[RunningGate]:
    with serve_gate() as running:
        yield running


def _check(gate: RunningGate, token: str | None, *args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(
        app,
        ["check", str(SPEC), "--base-url", gate.base_url, *args],
        env={"SPECDIFF_TOKEN": token} if token else {},
    )
    return result.exit_code, result.stdout, result.stderr


def _formats(tmp_path: Path) -> list[str]:
    args = []
    for fmt in ("json", "sarif", "junit", "markdown", "html", "text"):
        args += ["-f", fmt]
    return [*args, "--output-dir", str(tmp_path)]


def _assert_no_score_anywhere(out: Path, why: str) -> None:
    """Every format says the run is incomplete and why, and none shows a score or a grade."""
    report = json.loads((out / "specdiff.json").read_text())
    summary = report["summary"]
    assert (summary["complete"], summary["score"], summary["grade"]) == (False, None, None)
    assert why in summary["incomplete"]
    sarif = json.loads((out / "specdiff.sarif").read_text())["runs"][0]["properties"]
    assert set(sarif) - {"anonymous"} == {"incomplete"} and why in sarif["incomplete"]
    junit = {
        p.get("name"): p.get("value")
        for p in ET.fromstring((out / "specdiff.junit.xml").read_text()).iter("property")
    }
    assert "score" not in junit and why in (junit["incomplete"] or "")
    for name in ("specdiff.md", "specdiff.html", "specdiff.txt"):
        text = (out / name).read_text()
        line = f"incomplete: {summary['incomplete']}"
        assert (line if name != "specdiff.md" else "**incomplete: ") in text, name
        assert not SCORE.search(text), (name, SCORE.search(text))


# --------------------------------------------------------------------------- credentials


def test_a_clean_api_is_complete_and_passes(gate: RunningGate, tmp_path: Path) -> None:
    token = gate.reset()
    code, _, stderr = _check(gate, token, *_formats(tmp_path))
    assert code == 0, stderr
    report = json.loads((tmp_path / "specdiff.json").read_text())
    assert report["findings"] == [] and report["summary"]["complete"] is True
    assert report["summary"]["score"] == 100
    [identity] = report["identities"]
    assert identity["identity"] == "a" and identity["unauthorized"] == 0 and identity["ok"] > 5


def test_a_token_that_stops_working_ends_incomplete(gate: RunningGate, tmp_path: Path) -> None:
    token = gate.reset(uses_per_token=8)
    code, _, stderr = _check(gate, token, *_formats(tmp_path))
    assert code == 3
    why = "operations not judged (credentials stopped working)"
    last = stderr.strip().splitlines()[-1]
    assert re.match(rf"specdiff: incomplete: \d+ of 4 {re.escape(why)}$", last)
    _assert_no_score_anywhere(tmp_path, why)
    report = json.loads((tmp_path / "specdiff.json").read_text())
    stopped = [c for c in report["coverage"] if c["status"] == "not judged"]
    assert stopped and all(
        re.match(
            r"not judged: identity A's credentials stopped working at \d\d:\d\d:\d\d UTC "
            r"\(\d+ requests refused\)$",
            c["reason"],
        )
        for c in stopped
    )
    [identity] = report["identities"]
    assert identity["stopped"].startswith("credentials stopped working at")
    assert identity["not_sent"] > 0
    # after the check that found the token dead, nothing more was sent with it
    used = [e for e in gate.log if e.header("Authorization") == f"Bearer {token}"]
    assert len(used) <= 8 + 8  # its 8 uses, then refusals in flight and one check each
    code, _, _ = _check(gate, gate.reset(uses_per_token=8), "--allow-incomplete", "-f", "json")
    assert code == 0  # accepted on request: the findings decide (there are none)


def test_with_a_login_step_it_logs_in_again_and_ends_complete(
    gate: RunningGate, tmp_path: Path
) -> None:
    gate.reset(uses_per_token=5)
    code, _, stderr = _check(gate, None, *LOGIN, *_formats(tmp_path))
    assert code == 0, stderr
    report = json.loads((tmp_path / "specdiff.json").read_text())
    assert report["summary"]["complete"] is True and report["findings"] == []
    [identity] = report["identities"]
    assert identity["relogins"] >= 2 and identity["stopped"] == ""
    assert "logged in again" in (tmp_path / "specdiff.txt").read_text()
    assert len(gate.log.filter(method="POST", path="/auth/login")) == identity["relogins"] + 1


# --------------------------------------------------------------------------- budgets, outages


def test_a_spent_request_budget_ends_incomplete(gate: RunningGate, tmp_path: Path) -> None:
    token = gate.reset()
    code, _, stderr = _check(gate, token, "--max-requests", "5", *_formats(tmp_path))
    assert code == 3, stderr
    assert len(gate.log) == 5
    report = json.loads((tmp_path / "specdiff.json").read_text())
    assert report["summary"]["requests"] == 5
    assert sum(c["requests"] for c in report["coverage"]) <= 5  # sent, never planned, counts
    assert any(c["planned"] > c["requests"] for c in report["coverage"])
    _assert_no_score_anywhere(tmp_path, "request budget spent")


def test_an_unreachable_target_has_no_score_in_any_format(tmp_path: Path) -> None:
    url = closed_port_url()
    result = RUNNER.invoke(app, ["check", str(SPEC), "--base-url", url, *_formats(tmp_path)])
    assert result.exit_code == 3
    _assert_no_score_anywhere(tmp_path, "the target is unreachable")


def test_the_plan_warns_when_it_exceeds_the_budgets(gate: RunningGate) -> None:
    code, stdout, stderr = _check(
        gate, "x", "--plan", "--max-requests", "20", "--max-duration", "0.5"
    )
    assert code == 0
    total = int(re.search(r"(\d+) requests for 7 operations", stdout)[1])  # type: ignore[index]
    assert stderr.splitlines() == [
        f"specdiff: warning: the plan needs {total} requests, more than --max-requests 20: the "
        "run would end incomplete (raise the budget, or split it with --shard)",
        f"specdiff: warning: at 100 ms a request and --concurrency 8, the plan needs about "
        f"{total * 0.1 / 8:.0f} s, more than --max-duration 0.5: the run would end incomplete",
    ]
    assert "warning: the plan needs" in stdout


# --------------------------------------------------------------------------- safety


def test_a_destructive_looking_get_is_never_sent_in_safe_mode(
    gate: RunningGate, tmp_path: Path
) -> None:
    token = gate.reset()
    code, stdout, _ = _check(gate, token, "-f", "json")
    assert code == 0
    assert not [e for e in gate.log if e.path.startswith("/admin")]
    rows = {
        f"{c['operation']['method']} {c['operation']['path']}": c
        for c in json.loads(stdout)["coverage"]
    }
    assert rows["GET /admin/reset-db"] == {
        **rows["GET /admin/reset-db"],
        "status": "skipped",
        "requests": 0,
        "reason": "looks destructive: GET /admin/reset-db; pass --include-op to probe it",
    }
    # the decoy only mentions "created": probed as usual
    assert rows["GET /users/{user_id}/created-at"]["status"] == "probed"
    assert gate.log.filter(method="GET", path="/users/1/created-at")


def test_an_included_destructive_get_runs_last_and_alone(gate: RunningGate) -> None:
    token = gate.reset()
    code, stdout, stderr = _check(gate, token, "--include-op", "GET /admin/reset-db", "-f", "json")
    assert code == 0, stderr
    spans = sorted(gate.state.spans)
    first = next(i for i, s in enumerate(spans) if s[3] == "/admin/reset-db")
    before, during = spans[:first], spans[first:]
    assert all(path == "/admin/reset-db" or "reset-db" in path for *_, path in during), during
    # nothing else was in flight while it ran, and its own requests went one at a time
    assert max(end for _, end, *_ in before) <= during[0][0]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(during))
    report = json.loads(stdout)
    row = next(c for c in report["coverage"] if c["operation"]["path"] == "/admin/reset-db")
    assert row["status"] == "probed"


def test_unsafe_touches_only_what_specdiff_created(gate: RunningGate, tmp_path: Path) -> None:
    token = gate.reset()
    code, _, stderr = _check(
        gate, token, "--unsafe", "-f", "json", "-f", "text", "--output-dir", str(tmp_path)
    )
    assert code == 0, stderr
    report = json.loads((tmp_path / "specdiff.json").read_text())
    assert report["findings"] == [] and report["summary"]["complete"] is True
    # every seeded item survived; nothing destructive was aimed at one
    assert {k: v for k, v in gate.state.items.items() if k in SEEDED} == SEEDED
    touched = [e for e in gate.log if e.method in ("DELETE", "PUT", "PATCH")]
    assert touched and not [e for e in touched if e.path in ("/items/1", "/items/2")]
    # what it created it deleted again, and says so
    created = report["created"]
    assert created and all(c["cleaned"] and c["created_by"] == "POST /items" for c in created)
    assert set(gate.state.items) == set(SEEDED)
    removed = {e.path for e in gate.log if e.method == "DELETE" and e.header("Authorization")}
    assert {c["path"] for c in created} <= removed
    text = (tmp_path / "specdiff.txt").read_text()
    assert all(f"created {c['path']} (POST /items): deleted again" in text for c in created)
    row = next(c for c in report["coverage"] if c["operation"]["method"] == "DELETE")
    assert row["status"] == "probed"


# --------------------------------------------------------------------------- a rogue probe


class _Rogue(Probe):
    """A third-party probe that plans what safe mode forbids (registered only by this test)."""

    code = "SD299"

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if op.key != "GET /items/{item_id}":
            return
        # it even claims the write is harmless: the policy judges the request, not the claim
        yield PlannedRequest("DELETE", "/items/1", changes_data=False)
        yield PlannedRequest(
            "POST", "/items", headers=(("Content-Type", "application/json"),), body=b'{"name":"x"}'
        )


def test_the_runner_refuses_a_rogue_probes_unsafe_request(gate: RunningGate) -> None:
    token = gate.reset()
    config = ScanConfig(
        spec=str(SPEC), base_url=gate.base_url, credentials=Credentials.build(token=token)
    )
    report = scan(config, probes=(*load_probes(), _Rogue()))
    assert not [e for e in gate.log if e.method in ("DELETE", "POST") and e.header("Authorization")]
    assert set(gate.state.items) == set(SEEDED)
    row = next(
        c
        for c in report.coverage
        if c.operation.path == "/items/{item_id}" and c.operation.method == "GET"
    )
    assert row.status == "probed"
    assert "2 planned request(s) not sent by design (DELETE /items/1 may change data" in row.reason
    assert report.notes == (
        "probe SD299 planned 2 request(s) the safety policy refused (DELETE /items/1 may change "
        "data: not sent without --unsafe)",
    )
    # the runner itself, asked directly (defence in depth): refused, nothing reaches the server
    gate.log.clear()
    exchanges = _send_directly(
        gate, config, [PlannedRequest("DELETE", "/items/1", operation="GET /items/{item_id}")]
    )
    assert exchanges[0].not_sent == "policy" and exchanges[0].status is None
    assert "may change data: not sent without --unsafe" in (exchanges[0].error or "")
    assert len(gate.log) == 0


def _send_directly(
    gate: RunningGate, config: ScanConfig, requests: Sequence[PlannedRequest]
) -> list:  # type: ignore[type-arg]
    import asyncio

    from specdiff.derive import derive
    from specdiff.spec import load_spec

    policy = SafetyPolicy(derive(load_spec(str(SPEC))))

    async def main() -> list:  # type: ignore[type-arg]
        async with make_client() as client:
            runner = Runner(
                client, base_url=gate.base_url, credentials=config.credentials, policy=policy
            )
            return [await runner.send(r) for r in requests]

    return asyncio.run(main())


def test_the_plan_counts_what_the_run_sends(gate: RunningGate) -> None:
    config = ScanConfig(
        spec=str(SPEC), base_url=gate.base_url, credentials=Credentials.build(token="x")
    )
    plan = plan_scan(config)
    reset = next(op for op in plan.operations if op.operation.path == "/admin/reset-db")
    assert (reset.total, reset.skipped) == (
        0,
        "looks destructive: GET /admin/reset-db; pass --include-op to probe it",
    )
    unsafe = plan_scan(dataclasses.replace(config, unsafe=True))
    reset = next(op for op in unsafe.operations if op.operation.path == "/admin/reset-db")
    assert reset.total > 0 and not reset.skipped
