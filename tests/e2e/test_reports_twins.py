"""The reports a person reads, on the real demo: grouped, capped, stable across addresses.

- The default scan's text report shows exactly the expected root-cause groups (the exact-set
  tests of each family assert on the instances; this one on the groups a person sees).
- ``specdiff demo``'s reports fit: the text under 400 lines naming every rule that fired, the
  Markdown under 60,000 characters with at least six distinct rules on its first screen.
- A baseline made against ``127.0.0.1`` holds for the same API served on other ports and
  checked as ``localhost``: exit 0; one finding missing from it fails the gate alone.
- Plain TLS and token mistakes get a line that says what to do.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.cli import app
from specdiff.demo.serve import RunningTwin, serve_twin
from specdiff.demo.tokens import issue_token
from specdiff.reporters import Format, render
from tests.e2e.conftest import TwinScan

REPO = Path(__file__).parents[2]

DEFAULT_GROUPS = {
    "[CRITICAL] SD101 API answers over plain HTTP — 19 operations",
    "[CRITICAL] SD203 Unsigned (alg: none) JWT accepted — GET /me (alg-NONE, alg-None, alg-none)",
    "[CRITICAL] SD204 Forged JWT accepted — GET /me (flipped-signature, forged-payload)",
    "[CRITICAL] SD206 JWT signed with a weak secret — host-wide",
    "[CRITICAL] SD215 JWT with injected key accepted — kid-sql-injection on 4 operations",
    "[CRITICAL] SD303 Undocumented secret in response — GET /me ($.password)",
    "[CRITICAL] SD303 Undocumented secret in response — GET /me ($.api_key)",
    "[CRITICAL] SD303 Undocumented secret in response — GET /users/{id} ($.password_hash)",
    "[CRITICAL] SD401 Interactive debugger exposed — host-wide (werkzeug:/console, werkzeug:error page)",
    "[HIGH] SD201 Secured operation answers without credentials — 2 operations",
    "[HIGH] SD202 Invalid credential accepted — 2 operations",
    "[HIGH] SD302 Undocumented personal data in response — GET /orders ($.items[*].card_number)",
    "[HIGH] SD302 Undocumented personal data in response — GET /users/{id} ($.ssn)",
    "[HIGH] SD404 Credential echoed back — body on 5 operations",
    "[HIGH] SD405 Readable secret in cookie — host-wide (session)",
    "[HIGH] SD504 CORS reflects any origin with credentials — host-wide (null)",
    "[MEDIUM] SD102 HSTS missing or too short — host-wide",
    "[MEDIUM] SD104 Cookie without Secure, HttpOnly or SameSite — host-wide (session)",
    "[MEDIUM] SD207 Credential accepted in the query string — token on 5 operations",
    "[MEDIUM] SD207 Credential accepted in the query string — GET /partner/catalog (api_key)",
    "[MEDIUM] SD208 Input validated before authentication — POST /users",
    "[MEDIUM] SD217 Header credential accepted from a cookie — access_token on 5 operations",
    "[MEDIUM] SD213 Weak or predictable issued token — GET /realtime/ticket ($.access_token)",
    "[MEDIUM] SD214 Sensitive data in JWT claims — host-wide ($.email)",
    "[MEDIUM] SD309 Secret or personal data in free text — GET /assistant/answer ($.completion)",
    "[MEDIUM] SD402 Stack trace in response — python on 2 operations",
    "[MEDIUM] SD403 Database error in response — GET /products/search (sqlite)",
    "[MEDIUM] SD407 Undocumented debug or admin endpoint — host-wide (/debug/config)",
    "[MEDIUM] SD408 Sensitive response is cacheable — 9 operations",
    "[MEDIUM] SD501 Undocumented method accepted — PUT /products/{product_id}",
    "[MEDIUM] SD502 Server error — 3 operations",
    "[LOW] SD105 Insecure HTTP redirect — GET /announcements",
    "[LOW] SD209 Authentication errors name their cause — 5 operations",
    "[LOW] SD210 Undocumented authentication requirement — GET /products/{product_id}",
    "[LOW] SD301 Undocumented response field — GET /me ($.theme)",
    "[LOW] SD305 Response violates its schema — GET /stats ($.products)",
    "[LOW] SD306 Undocumented response status — GET /reports/daily (500)",
    "[LOW] SD307 Undocumented response media type — GET /announcements (text/html)",
    "[LOW] SD406 Version banner — host-wide",
    "[LOW] SD503 Invalid input accepted — GET /products/search (query.limit)",
    "[LOW] SD503 Invalid input accepted — query.q on 2 operations",
    "[LOW] SD505 401 without WWW-Authenticate — host-wide",
}


def test_default_scan_shows_exactly_the_expected_groups(vulnerable_scan: TwinScan) -> None:
    text = render(vulnerable_scan.report, Format.TEXT, width=200)
    titles = [line for line in text.splitlines() if line.startswith("[")]
    assert len(titles) == len(set(titles))  # one block per group
    assert set(titles) == DEFAULT_GROUPS
    # every instance is still there for machines, each naming its group
    doc = json.loads(render(vulnerable_scan.report, Format.JSON))
    assert len(doc["findings"]) == len(vulnerable_scan.report.findings)
    assert len({f["group"] for f in doc["findings"]}) == len(DEFAULT_GROUPS)
    http = [f for f in doc["findings"] if f["rule"] == "SD101"]
    assert len(http) == 19 and len({f["group"] for f in http}) == 1


def test_demo_reports_fit_where_they_are_read(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    formats = ["-f", "text", "-f", "json", "-f", "markdown", "--output-dir", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "specdiff", "demo", *formats],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert result.returncode == 1, result.stderr
    text = (out / "specdiff.txt").read_text()
    markdown = (out / "specdiff.md").read_text()
    fired = {f["rule"] for f in json.loads((out / "specdiff.json").read_text())["findings"]}
    assert len(text.splitlines()) <= 400
    assert fired <= set(re.findall(r"\bSD\d{3}\b", text))  # every rule that fired is named
    assert len(fired) >= 35
    assert len(markdown) < 60_000
    first_screen = markdown.split("<details>")[0]
    assert len(set(re.findall(r"\| (SD\d{3}) \|", first_screen))) >= 6


def _check(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, prog_name="specdiff")
    return result.exit_code, result.stderr


def _twin_args(twin: RunningTwin, host: str) -> list[str]:
    https = twin.https_url.replace("127.0.0.1", host)
    http = twin.http_url.replace("127.0.0.1", host)
    return [str(twin.spec_path), "--base-url", https, "--http-url", http]


def test_a_baseline_made_on_one_address_holds_on_another(
    vulnerable_twin: RunningTwin, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    env = {
        "SPECDIFF_TOKEN": vulnerable_twin.token,
        "SPECDIFF_HEADER": f"X-API-Key: {vulnerable_twin.api_key}",
    }
    code, err = _check(
        "baseline",
        "create",
        *_twin_args(vulnerable_twin, "127.0.0.1"),
        "--ca-bundle",
        str(vulnerable_twin.ca_pem),
        "-o",
        str(baseline),
        env=env,
    )
    assert code == 0, err
    entries = json.loads(baseline.read_text())["findings"]
    assert not [e for e in entries if "127.0.0.1" in e["key"]]  # nothing of the address kept
    # the same API on other ports, checked as localhost
    with serve_twin("vulnerable") as other:
        assert other.https_url != vulnerable_twin.https_url
        env = {"SPECDIFF_TOKEN": other.token, "SPECDIFF_HEADER": f"X-API-Key: {other.api_key}"}
        args = [*_twin_args(other, "localhost"), "--ca-bundle", str(other.ca_pem)]
        report = tmp_path / "report.json"
        code, err = _check(
            "check", *args, "--baseline", str(baseline), "-f", "json", "-o", str(report), env=env
        )
        assert code == 0, err
        doc = json.loads(report.read_text())
        assert doc["target"].startswith("https://localhost:")
        assert doc["findings"] and all(f["suppressed"] for f in doc["findings"])
        # one breach the baseline does not know: the gate fails on it, and on it alone
        new = {"rule": "SD303", "method": "GET", "path": "/me", "key": "$.password"}
        assert new in entries
        baseline.write_text(json.dumps({"findings": [e for e in entries if e != new]}))
        code, err = _check(
            "check", *args, "--baseline", str(baseline), "-f", "json", "-o", str(report), env=env
        )
        assert code == 1, err
        counted = [f for f in json.loads(report.read_text())["findings"] if not f["suppressed"]]
        assert [(f["rule"], f["operation"]["path"], f["key"]) for f in counted] == [
            ("SD303", "/me", "$.password")
        ]


def test_an_untrusted_certificate_names_ca_bundle_and_insecure(
    hardened_twin: RunningTwin, tmp_path: Path
) -> None:
    code, err = _check(
        "check",
        str(hardened_twin.spec_path),
        "--base-url",
        hardened_twin.https_url,
        "--timeout",
        "5",
        env={"SPECDIFF_TOKEN": hardened_twin.token},
    )
    assert code == 3
    (line,) = err.strip().splitlines()
    assert "TLS certificate not trusted" in line
    assert "pass --ca-bundle FILE" in line and "--insecure" in line


def test_the_preflight_says_when_the_token_expired(hardened_twin: RunningTwin) -> None:
    expired = issue_token("alice", hardened_twin.secret, lifetime=-120)
    code, err = _check(
        *["check", str(hardened_twin.spec_path), "--base-url", hardened_twin.https_url],
        *["--ca-bundle", str(hardened_twin.ca_pem)],
        env={"SPECDIFF_TOKEN": expired},
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert re.search(r"your token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", line), line
    assert expired not in line


@pytest.mark.parametrize("attribute", ["create_app", "create_app()"])
def test_app_from_the_working_directory_and_a_factory(
    attribute: str, vulnerable_twin: RunningTwin, tmp_path: Path
) -> None:
    """The console script (not ``python -m``, which puts the working directory on sys.path
    itself) finds ``./mine.py`` and calls its factory."""
    script = Path(sys.executable).with_name("specdiff")
    if not script.exists():
        pytest.skip("the specdiff console script is not installed beside this Python")
    (tmp_path / "mine.py").write_text(
        "from specdiff.demo import vulnerable\n"
        "from specdiff.demo.capture import RequestLog\n\n\n"
        "def create_app():\n"
        "    return vulnerable.create_app(RequestLog())\n"
    )
    report = ["-q", "-f", "json", "-o", str(tmp_path / "r.json")]
    result = subprocess.run(
        [
            str(script),
            "check",
            str(vulnerable_twin.spec_path),
            "--app",
            f"mine:{attribute}",
            *report,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr  # the vulnerable app's findings fail the gate
    rules = {f["rule"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]}
    assert {"SD201", "SD303"} <= rules
