"""Scale: --shard splits a run, merge joins the shards' JSON reports, --plan sends nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from specdiff.demo.serve import RunningTwin
from specdiff.engine import plan_scan, scan
from specdiff.plan import family
from specdiff.reporters.json import from_dict, render
from specdiff.shard import shard_of
from tests.e2e.conftest import TwinScan, finding_keys, twin_config

REPO = Path(__file__).parents[2]
GITHUB = REPO.parent / "shared" / "corpus" / "github-api.github.com.json"


def _specdiff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specdiff", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_shards_split_the_operations_and_merge_gives_the_whole_run(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan, tmp_path: Path
) -> None:
    paths = []
    covered: list[set[str]] = []
    for i in (1, 2):
        report = scan(twin_config(vulnerable_twin, shard=(i, 2)))
        keys = {f"{c.operation.method} {c.operation.path}" for c in report.coverage}
        assert all(shard_of(key, 2) == i for key in keys)
        covered.append(keys)
        paths.append(tmp_path / f"shard-{i}.json")
        paths[-1].write_text(render(report), encoding="utf-8")
    whole = {f"{c.operation.method} {c.operation.path}" for c in vulnerable_scan.report.coverage}
    assert covered[0] | covered[1] == whole and not covered[0] & covered[1]
    assert covered[0] and covered[1]

    merged = _specdiff("merge", *map(str, paths), "--format", "json")
    assert merged.returncode == 1, merged.stderr  # high findings, default --fail-on high
    report = from_dict(json.loads(merged.stdout))
    assert finding_keys(report) == finding_keys(vulnerable_scan.report)
    assert report.summary.operations == vulnerable_scan.report.summary.operations
    text = _specdiff("merge", *map(str, paths), "--fail-on", "none")
    assert text.returncode == 0 and "COVERAGE" in text.stdout


def test_merge_rejects_what_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"report_version": "1"}', encoding="utf-8")
    result = _specdiff("merge", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"specdiff: error: {bad} is not a specdiff JSON report: KeyError('summary')"
    ]


def test_plan_sends_nothing_and_counts_what_the_engine_plans(
    vulnerable_twin: RunningTwin,
) -> None:
    vulnerable_twin.log.clear()
    plan = plan_scan(twin_config(vulnerable_twin))
    assert vulnerable_twin.log.entries() == ()
    for op in plan.operations:
        assert op.baseline == int(op.operation.method in ("GET", "HEAD", "OPTIONS"))
        # SD101 asks every operation once over plain HTTP: a sent baseline, or (POST /users,
        # DELETE /orders/{order_id}, POST /auth/login) a copy no server can act on
        assert dict((p.code, n) for p, n in op.probes)["SD101"] == 1
    assert plan.total == sum(op.total for op in plan.operations) > len(plan.operations)
    assert {family(p) for p, _ in plan.operations[0].probes} >= {"auth", "exposure", "transport"}


def test_plan_on_githubs_document_is_under_25_requests_per_operation() -> None:
    if not GITHUB.exists():  # the large corpus lives beside the repository, not in it
        pytest.skip(f"corpus document {GITHUB.name} is not available")
    result = _specdiff("check", str(GITHUB), "--base-url", "https://api.example.com", "--plan")
    assert result.returncode == 0, result.stderr
    match = re.search(r"(\d+) requests for (\d+) operations", result.stdout)
    assert match, result.stdout[-500:]
    requests, operations = int(match[1]), int(match[2])
    assert operations == 1223
    assert requests < 25 * operations
    assert "Assumption: every baseline" in result.stdout


def test_bad_shard_and_max_duration_are_one_line_errors() -> None:
    spec = str(REPO / "specdiff" / "demo" / "openapi.yaml")
    for option, value, message in (
        ("--shard", "3/2", "--shard must look like 'i/n' with 1 <= i <= n, got '3/2'"),
        ("--max-duration", "0", "--max-duration must be positive"),
    ):
        result = _specdiff("check", spec, "--base-url", "https://127.0.0.1:9", option, value)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [f"specdiff: error: {message}"]
