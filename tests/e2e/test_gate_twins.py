"""The CI gate against the vulnerable twin: every format from one run, baselines, suppressions.

Runs the real CLI in-process (typer's CliRunner) against the session twin over loopback HTTPS.
The baseline round trip simulates a pull request that adds a leaking endpoint: the baseline is
made from the document without ``GET /me``; the full document then fails naming only ``/me``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.demo.serve import RunningTwin
from specdiff.identity import stable_key
from tests.e2e.conftest import TwinScan

RUNNER = CliRunner()


def _check(twin: RunningTwin, spec: Path, *extra: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(
        app,
        [
            "check",
            str(spec),
            "--base-url",
            twin.https_url,
            "--http-url",
            twin.http_url,
            "--ca-bundle",
            str(twin.ca_pem),
            "--header",
            f"X-API-Key: {twin.api_key}",
            *extra,
        ],
        env={"SPECDIFF_TOKEN": twin.token},
    )
    return result.exit_code, result.stdout, result.stderr


def _without_me(twin: RunningTwin, tmp_path: Path) -> Path:
    doc = yaml.safe_load(twin.spec_path.read_text())
    del doc["paths"]["/me"]
    path = tmp_path / "before.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_every_format_at_once_and_none_leaks_the_token(
    vulnerable_twin: RunningTwin, tmp_path: Path
) -> None:
    code, stdout, stderr = _check(
        vulnerable_twin,
        vulnerable_twin.spec_path,
        *("-f", "json", "-f", "sarif", "-f", "junit", "-f", "markdown", "-f", "html"),
        "--output-dir",
        str(tmp_path / "out"),
    )
    assert code == 1, stderr
    assert stdout == ""
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [
        "specdiff.html",
        "specdiff.json",
        "specdiff.junit.xml",
        "specdiff.md",
        "specdiff.sarif",
    ]
    for path in (tmp_path / "out").iterdir():
        text = path.read_text()
        assert vulnerable_twin.token not in text, path.name
        assert vulnerable_twin.token.split(".")[2] not in text, path.name  # nor its signature
    report = json.loads((tmp_path / "out" / "specdiff.json").read_text())
    sarif = json.loads((tmp_path / "out" / "specdiff.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert len(results) == len(report["findings"])
    # the spec lives inside this repository: its path is relative to the git root
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"specdiff/demo/openapi.yaml"}
    ET.fromstring((tmp_path / "out" / "specdiff.junit.xml").read_text())


def test_output_pairs_with_format_in_order(vulnerable_twin: RunningTwin, tmp_path: Path) -> None:
    a, b = tmp_path / "a.sarif", tmp_path / "b.md"
    code, stdout, _ = _check(
        vulnerable_twin,
        vulnerable_twin.spec_path,
        "-f",
        "sarif",
        "-o",
        str(a),
        "-f",
        "markdown",
        "-o",
        str(b),
    )
    assert code == 1
    assert stdout == ""
    assert json.loads(a.read_text())["version"] == "2.1.0"
    assert b.read_text().startswith("## specdiff\n")


def test_unpaired_outputs_are_one_line_errors(vulnerable_twin: RunningTwin, tmp_path: Path) -> None:
    code, _, stderr = _check(
        vulnerable_twin, vulnerable_twin.spec_path, "-f", "json", "-f", "sarif", "-o", "x.json"
    )
    assert (code, stderr.strip()) == (
        2,
        "specdiff: error: each --format needs its own --output, in order: "
        "got 2 format(s) and 1 output(s)",
    )
    code, _, stderr = _check(vulnerable_twin, vulnerable_twin.spec_path, "-f", "json", "-f", "html")
    assert code == 2
    assert stderr.strip().endswith(
        "several --format values need --output for each, or --output-dir"
    )


def test_baseline_round_trip(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan, tmp_path: Path
) -> None:
    before = _without_me(vulnerable_twin, tmp_path)
    baseline = tmp_path / "specdiff-baseline.json"
    created = RUNNER.invoke(
        app,
        [
            "baseline",
            "create",
            str(before),
            "--base-url",
            vulnerable_twin.https_url,
            "--http-url",
            vulnerable_twin.http_url,
            "--ca-bundle",
            str(vulnerable_twin.ca_pem),
            "--header",
            f"X-API-Key: {vulnerable_twin.api_key}",
            "-o",
            str(baseline),
        ],
        env={"SPECDIFF_TOKEN": vulnerable_twin.token},
    )
    assert created.exit_code == 0, created.stderr
    entries = json.loads(baseline.read_text())["findings"]
    assert entries and all(e["path"] != "/me" for e in entries)
    assert vulnerable_twin.token not in baseline.read_text()
    assert vulnerable_twin.api_key not in baseline.read_text()

    # the same document again: everything is known, the gate passes, findings stay visible
    code, stdout, stderr = _check(
        vulnerable_twin, before, "--baseline", str(baseline), "-f", "json"
    )
    assert code == 0, stderr
    again = json.loads(stdout)
    assert again["findings"] and all(
        f["suppressed"]["source"] == "baseline" for f in again["findings"]
    )
    assert again["summary"]["score"] == 100

    # the pull request adds GET /me, which leaks: only its findings count
    code, stdout, _ = _check(
        vulnerable_twin, vulnerable_twin.spec_path, "--baseline", str(baseline), "-f", "json"
    )
    assert code == 1
    new = {
        (f["rule"], f["operation"]["path"] if f["operation"] else "", f["key"])
        for f in json.loads(stdout)["findings"]
        if f["suppressed"] is None
    }
    # exactly what a plain scan finds beyond the baseline: GET /me's findings (every family)
    # and the host-wide ones only GET /me reveals (its session cookie)
    # (baselines keep keys without the address: SD101's listener is "" there)
    known = {(e["rule"], e["path"], e["key"]) for e in entries}
    expected = {
        (f.rule, f.operation.path if f.operation else "", f.key)
        for f in vulnerable_scan.report.findings
        if (f.rule, f.operation.path if f.operation else "", stable_key(f.key)) not in known
    }
    assert ("SD303", "/me", "$.api_key") in expected and ("SD301", "/me", "$.theme") in expected
    assert new == expected


def test_baseline_from_a_json_report(vulnerable_twin: RunningTwin, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, _, _ = _check(vulnerable_twin, vulnerable_twin.spec_path, "-f", "json", "-o", str(report))
    assert code == 1
    baseline = tmp_path / "b.json"
    created = RUNNER.invoke(app, ["baseline", "create", "--from", str(report), "-o", str(baseline)])
    assert created.exit_code == 0, created.stderr
    count = len(json.loads(report.read_text())["findings"])
    assert created.stderr.strip() == f"specdiff: baseline of {count} findings written to {baseline}"
    code, _, _ = _check(vulnerable_twin, vulnerable_twin.spec_path, "--baseline", str(baseline))
    assert code == 0


def test_bad_baseline_is_a_one_line_error(vulnerable_twin: RunningTwin, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    code, _, stderr = _check(vulnerable_twin, vulnerable_twin.spec_path, "--baseline", str(bad))
    assert (code, stderr.strip()) == (
        2,
        f"specdiff: error: --baseline {bad}: not a specdiff JSON report or baseline "
        "(no 'findings' list)",
    )


def test_spec_ignore_suppresses_in_source_and_needs_a_reason(
    vulnerable_twin: RunningTwin, tmp_path: Path
) -> None:
    doc = yaml.safe_load(vulnerable_twin.spec_path.read_text())
    doc["paths"]["/me"]["get"]["x-specdiff-ignore"] = [
        {"rule": "SD301", "reason": "theme is a UI preference, documented soon"}
    ]
    spec = tmp_path / "ignored.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, stdout, _ = _check(vulnerable_twin, spec, "-f", "sarif", "--fail-on", "low")
    assert code == 1  # the other findings still count
    results = json.loads(stdout)["runs"][0]["results"]
    theme = [r for r in results if r["ruleId"] == "SD301"]
    assert [r["suppressions"] for r in theme] == [
        [
            {
                "kind": "inSource",
                "justification": "theme is a UI preference, documented soon",
                "properties": {"source": "spec"},
            }
        ]
    ]
    doc["paths"]["/me"]["get"]["x-specdiff-ignore"] = [{"rule": "SD301"}]
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, _, stderr = _check(vulnerable_twin, spec)
    assert (code, stderr.strip()) == (
        2,
        "specdiff: error: GET /me: x-specdiff-ignore of SD301 needs a reason",
    )


def test_min_score_gate(vulnerable_twin: RunningTwin) -> None:
    code, _, _ = _check(
        vulnerable_twin, vulnerable_twin.spec_path, "--fail-on", "none", "--min-score", "0"
    )
    assert code == 0
    code, _, _ = _check(
        vulnerable_twin, vulnerable_twin.spec_path, "--fail-on", "none", "--min-score", "50"
    )
    assert code == 1
    code, _, stderr = _check(vulnerable_twin, vulnerable_twin.spec_path, "--min-score", "101")
    assert (code, stderr.strip()) == (2, "specdiff: error: --min-score must be between 0 and 100")
