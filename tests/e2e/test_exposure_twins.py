"""The SD304-SD309 family against the demo twins, and `specdiff lint` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from specdiff.demo.data import USERS
from specdiff.probe import Probe, load_probes
from specdiff.reporters import Format, render
from tests.e2e.conftest import TwinScan, finding_keys

REPO = Path(__file__).parents[2]
FAMILY = ("SD304", "SD305", "SD306", "SD307", "SD308", "SD309")


def test_vulnerable_twin_gives_exactly_the_expected_findings(vulnerable_scan: TwinScan) -> None:
    assert finding_keys(vulnerable_scan.report, FAMILY) == {
        ("SD305", "GET /stats", "$.products"),
        ("SD306", "GET /reports/daily", "500"),
        ("SD307", "GET /announcements", "text/html"),
        ("SD309", "GET /assistant/answer", "$.completion"),
    }


def test_the_echoed_key_is_masked_everywhere(vulnerable_scan: TwinScan) -> None:
    [answer] = [f for f in vulnerable_scan.report.findings if f.rule == "SD309"]
    assert "Stripe secret key" in answer.message and answer.evidence is not None
    assert "sk_" not in answer.evidence.snippet
    for fmt in Format:
        text = render(vulnerable_scan.report, fmt)
        assert all(u.api_key and u.api_key not in text for u in USERS)


def test_hardened_twin_gives_none_of_them(hardened_scan: TwinScan) -> None:
    assert finding_keys(hardened_scan.report, FAMILY) == set()


def test_the_family_sends_no_request_of_its_own() -> None:
    # SD304-SD309 judge the document and the baselines: they add no request to a scan
    family = [p for p in load_probes() if p.code in FAMILY]
    assert [p.code for p in family] == list(FAMILY)
    assert all(type(p).plan is Probe.plan for p in family)


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specdiff", "lint", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_lint_command_exit_codes_and_reporters() -> None:
    demo = _lint("specdiff/demo/openapi.yaml", "--fail-on", "low")
    assert demo.returncode == 0, demo.stdout + demo.stderr  # the shared document is clean
    fixture = _lint("specs/sensitive-urls.yaml", "--fail-on", "medium", "--format", "json")
    assert fixture.returncode == 1, fixture.stderr
    assert '"SD308"' in fixture.stdout and '"SD304"' in fixture.stdout
    assert "'unused' is declared but no operation requires it" in fixture.stdout
    missing = _lint("specs/no-such-file.yaml")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "specdiff: error: specs/no-such-file.yaml: no such file"
