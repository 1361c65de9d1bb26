"""``specdiff check --app module:app``: the vulnerable twin's Flask app checked in process.

It finds what the served twin finds, except what needs a socket or TLS: SD101 and SD105 (the
plain-HTTP twin),
SD102 (HSTS, HTTPS only), SD104 (cookie flags, HTTPS only), SD406 (the web server's banner);
host-wide keys name the in-process origin. The report's notes say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.demo import vulnerable
from specdiff.demo.serve import RunningTwin
from specdiff.inprocess import IN_PROCESS_NOTE, IN_PROCESS_URL
from tests.e2e.conftest import TwinScan, finding_keys

APP_MODULE = """
from specdiff.demo import vulnerable
from specdiff.demo.capture import RequestLog

app = vulnerable.create_app(RequestLog(), debugger=True, partner_key="partner-key-in-process")
"""
NEEDS_SOCKET_OR_TLS = {"SD101", "SD102", "SD104", "SD105", "SD406"}


def test_check_app_in_process(
    vulnerable_twin: RunningTwin,
    vulnerable_scan: TwinScan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "twin_app.py").write_text(APP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "check",
            str(vulnerable_twin.spec_path),
            "--app",
            "twin_app:app",
            "--header",
            "X-API-Key: partner-key-in-process",
            "-f",
            "json",
            "-o",
            str(out),
        ],
        env={"SPECDIFF_TOKEN": vulnerable.issue("alice", vulnerable.SECRET)},
    )
    assert result.exit_code == 1, result.stderr
    report = json.loads(out.read_text())
    got = {
        (
            f["rule"],
            f"{f['operation']['method']} {f['operation']['path']}" if f["operation"] else "",
            f["key"],
        )
        for f in report["findings"]
    }
    served_origin = vulnerable_twin.https_url
    expected = {
        (rule, op, IN_PROCESS_URL if key == served_origin else key)
        for rule, op, key in finding_keys(vulnerable_scan.report)
        if rule not in NEEDS_SOCKET_OR_TLS
    }
    assert got == expected
    assert report["notes"][-1] == IN_PROCESS_NOTE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --base-url URL, or --app module:app for an in-process app"),
        (["--app", "nocolon"], "--app must look like 'module:app', got 'nocolon'"),
        (
            ["--app", "specdiff.demo:nothing"],
            "--app specdiff.demo:nothing: specdiff.demo has no attribute 'nothing'",
        ),
    ],
)
def test_app_errors_are_one_line(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPECDIFF_BASE_URL", raising=False)
    spec = Path(vulnerable.__file__).with_name("openapi.yaml")
    result = CliRunner().invoke(app, ["check", str(spec), *args])
    assert (result.exit_code, result.stderr) == (2, f"specdiff: error: {message}\n")


def test_an_app_that_raises_answers_500_as_a_wsgi_server_would() -> None:
    """An exception out of a WSGI app (Flask without its debugger propagates them) is what a
    server answers 500 to; in process it is an answer too, not a request that got none (which
    would leave the operation not judged)."""
    import asyncio

    import httpx

    from specdiff.inprocess import app_transport

    def broken(environ: object, start_response: object) -> list[bytes]:
        raise ValueError("badly formed hexadecimal UUID string")

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=app_transport(broken)) as client:
            return await client.get(f"{IN_PROCESS_URL}/orders/x")

    response = asyncio.run(ask())
    assert (response.status_code, response.text) == (500, "Internal Server Error")
