"""A check of the vulnerable twin driven purely by a ``specdiff.toml``: no option typed.

The file names the spec, the twin's URLs and CA, the report format and file, the token by its
environment variable, and suppresses SD101: the run finds what the shared default scan finds,
with every SD101 marked as suppressed by the config, and the token in no byte of the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.demo.serve import RunningTwin
from tests.e2e.conftest import TwinScan, finding_keys


def test_specdiff_toml_drives_a_whole_check(
    vulnerable_twin: RunningTwin,
    vulnerable_scan: TwinScan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "specdiff.toml").write_text(
        f'spec = "{vulnerable_twin.spec_path}"\n'
        f'base-url = "{vulnerable_twin.https_url}"\n'
        f'http_url = "{vulnerable_twin.http_url}"\n'
        f'ca-bundle = "{vulnerable_twin.ca_pem}"\n'
        'token-env = "TWIN_TOKEN"\n'
        'header-env = "TWIN_HEADERS"\n'
        'format = ["json"]\n'
        'output = ["out/report.json"]\n'
        'suppress = [{rule = "SD101", reason = "plain HTTP is closed at the load balancer"}]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPECDIFF_TOKEN", raising=False)
    env = {
        "TWIN_TOKEN": vulnerable_twin.token,
        "TWIN_HEADERS": f"X-API-Key: {vulnerable_twin.api_key}",
    }
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 1, result.stderr
    text = (tmp_path / "out" / "report.json").read_text()
    assert vulnerable_twin.token not in text and vulnerable_twin.api_key not in text
    report = json.loads(text)
    got = {
        (
            f["rule"],
            f"{f['operation']['method']} {f['operation']['path']}" if f["operation"] else "",
            f["key"],
        )
        for f in report["findings"]
    }
    assert got == finding_keys(vulnerable_scan.report)
    suppressed = {
        (f["rule"], f["suppressed"]["source"]) for f in report["findings"] if f["suppressed"]
    }
    assert suppressed == {("SD101", "config")}
    assert all(f["suppressed"] for f in report["findings"] if f["rule"] == "SD101")
    assert any(f["rule"] == "SD101" for f in report["findings"])


def test_baseline_create_takes_the_file_but_writes_its_own_report(
    vulnerable_twin: RunningTwin,
    vulnerable_scan: TwinScan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "specdiff.toml").write_text(
        f'base-url = "{vulnerable_twin.https_url}"\n'
        f'http-url = "{vulnerable_twin.http_url}"\n'
        f'ca-bundle = "{vulnerable_twin.ca_pem}"\n'
        'token-env = "TWIN_TOKEN"\n'
        'header-env = "TWIN_HEADERS"\n'
        'format = ["sarif"]\n'
        'output = ["never-written.sarif"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPECDIFF_TOKEN", raising=False)
    result = CliRunner().invoke(
        app,
        ["baseline", "create", "-o", "baseline.json", str(vulnerable_twin.spec_path)],
        env={
            "TWIN_TOKEN": vulnerable_twin.token,
            "TWIN_HEADERS": f"X-API-Key: {vulnerable_twin.api_key}",
        },
    )
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "never-written.sarif").exists()
    baseline = json.loads((tmp_path / "baseline.json").read_text())
    assert len(baseline["findings"]) == len({f.identity for f in vulnerable_scan.report.findings})
