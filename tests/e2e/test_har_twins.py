"""``--har FILE`` against the vulnerable twin: every request of the run, HAR 1.2, redacted.

The log has one entry per request the run sent (the JSON report counts them), each credential
is ``[REDACTED]``, and neither the token nor its signature (which forged tokens keep) is in any
byte of the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.demo.serve import RunningTwin


def test_har_logs_every_exchange_redacted(vulnerable_twin: RunningTwin, tmp_path: Path) -> None:
    har, report = tmp_path / "run.har", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "check",
            str(vulnerable_twin.spec_path),
            *("--base-url", vulnerable_twin.https_url, "--http-url", vulnerable_twin.http_url),
            *("--ca-bundle", str(vulnerable_twin.ca_pem), "--har", str(har)),
            *("-f", "json", "-o", str(report)),
        ],
        env={"SPECDIFF_TOKEN": vulnerable_twin.token},
    )
    assert result.exit_code == 1, result.stderr
    text = har.read_text()
    assert vulnerable_twin.token not in text
    assert vulnerable_twin.token.split(".")[2] not in text
    log = json.loads(text)["log"]
    assert (log["version"], log["creator"]["name"]) == ("1.2", "specdiff")
    summary = json.loads(report.read_text())["summary"]
    assert len(log["entries"]) == summary["requests"]
    authorizations = {
        h["value"]
        for e in log["entries"]
        for h in e["request"]["headers"]
        if h["name"].lower() == "authorization"
    }
    assert "Bearer [REDACTED]" in authorizations
    first = log["entries"][0]
    assert set(first) == {
        "startedDateTime",
        "time",
        "request",
        "response",
        "cache",
        "timings",
        "comment",
    }
    assert first["request"]["url"].startswith(vulnerable_twin.https_url)
    assert {e["request"]["url"].split("/")[2] for e in log["entries"]} == {
        vulnerable_twin.https_url.split("/")[2],
        vulnerable_twin.http_url.split("/")[2],
    }
