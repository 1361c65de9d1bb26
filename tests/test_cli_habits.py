"""The CLI's habits, one test each: -h, click-style usage and metavars, explain by kind, rules as
JSON, --header's environment variable, --app against --base-url, -v against -q; and the small
things a new user tripped on (lint's empty coverage table, --plan's zero columns, --login-body)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.catalogue import CATALOGUE
from specdiff.cli import app
from tests.builders import minimal_doc, ok_json, write_spec

COMMANDS = [[], ["check"], ["lint"], ["demo"], ["rules"], ["explain"], ["merge"], ["baseline"]]
COMMANDS += [["baseline", "create"]]


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, prog_name="specdiff")
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("specdiff: error: "), stderr
    return lines[0]


SECURED = minimal_doc(
    {"/things": {"get": {"responses": ok_json({"type": "object"})}}},
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "specdiff")
def test_dash_h_is_help_everywhere(command: list[str]) -> None:
    code, out, _ = invoke(*command, "-h")
    assert code == 0
    assert out.startswith("Usage: specdiff")
    assert "-h, --help" in out


def test_usage_and_metavars_as_click_prints_them() -> None:
    _, out, _ = invoke("check", "-h")
    assert out.startswith("Usage: specdiff check [OPTIONS] SPEC\n")
    for shown in (
        "--base-url TEXT",
        "--concurrency INTEGER",
        "--timeout FLOAT",
        "--ca-bundle PATH",
        "-o, --output PATH",
        "-f, --format [text|json|sarif|junit|markdown|html]",
        "--fail-on [critical|high|medium|low|none]",
    ):
        assert shown in out, shown
    assert "  SPEC  The OpenAPI document" in out
    for command in COMMANDS:
        _, text, _ = invoke(*command, "-h")
        for typer_style in ("{spec}", "<str>", "<int>", "<float>", "<path>", "<list["):
            assert typer_style not in text, (command, typer_style)
    _, merge_help, _ = invoke("merge", "-h")
    assert merge_help.startswith("Usage: specdiff merge [OPTIONS] REPORTS...")


def test_explain_takes_the_kind_and_renders_markdown() -> None:
    by_kind = invoke("explain", "auth.bola")
    by_code = invoke("explain", "sd212")
    assert by_kind == by_code and by_kind[0] == 0
    page = by_kind[1]
    assert page.splitlines()[0].strip() == "SD212 auth.bola"
    assert "Broken object level authorization (BOLA) (high, CWE-639, OWASP API1:2023)" in page
    assert "Breach. B gets 2xx JSON" in page
    assert "**" not in page and "``" not in page  # rendered, not raw Markdown/RST
    assert all(line == line.rstrip() for line in page.splitlines())
    code, _, err = invoke("explain", "auth.nope")
    assert code == 2 and "unknown rule 'auth.nope'" in one_line_error(2, err)


def test_rules_as_json() -> None:
    code, out, _ = invoke("rules", "--format", "json")
    assert code == 0
    rules = json.loads(out)
    assert [r["code"] for r in rules] == list(CATALOGUE)
    assert rules[0] == {
        "code": "SD101",
        "kind": "transport.http-accepted",
        "title": "API answers over plain HTTP",
        "severity": "high",
        "cwe": 319,
        "owasp": "API8:2023",
        "probed": True,
    }


def test_header_names_its_environment_variable() -> None:
    _, out, _ = invoke("check", "-h")
    header = out[out.index("-H, --header TEXT") : out.index("--token TEXT")]
    assert "env var: SPECDIFF_HEADER, one 'Name: value' per line" in " ".join(header.split())


def test_app_and_base_url_exclude_each_other(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SECURED)
    code, _, err = invoke(
        "check", str(spec), "--app", "mod:app", "--base-url", "https://127.0.0.1:9"
    )
    assert code == 2
    assert "--app and --base-url exclude each other" in one_line_error(2, err)


def test_verbose_and_quiet_exclude_each_other(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SECURED)
    code, _, err = invoke("lint", str(spec), "-v", "-q")
    assert code == 2 and "exclude each other" in one_line_error(2, err)


def test_lint_ends_without_an_empty_coverage_table(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, minimal_doc({}, servers=[{"url": "http://api.example.com"}]))
    code, out, _ = invoke("lint", str(spec))
    assert code == 0, out
    assert "SD103" in out and "COVERAGE" not in out and "0 probed" not in out


def test_plan_leaves_out_families_that_plan_nothing(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SECURED)
    code, out, _ = invoke("check", str(spec), "--base-url", "https://127.0.0.1:9", "--plan")
    assert code == 0
    head = next(line for line in out.splitlines() if line.startswith("operation"))
    totals = next(line for line in out.splitlines() if line.startswith("all operations"))
    # without credentials the auth family plans nothing: no column of zeros for it
    assert "auth" not in head.split()
    assert all(n != "0" for n in totals.split()[2:]), totals
    per_rule = out.split("per rule: ")[1].split("\n")[0].split(", ")
    assert per_rule and all(not entry.endswith(" 0") for entry in per_rule), per_rule


def test_invalid_login_body_is_exit_2_naming_the_option(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SECURED)
    args = ["check", str(spec), "--base-url", "https://127.0.0.1:9", "--login", "POST /login"]
    code, _, err = invoke(*args, "--login-body", "{user: alice}")
    assert code == 2 and "--login-body (inline) is not JSON" in one_line_error(2, err)
    bad = tmp_path / "creds.json"
    bad.write_text("username=alice")
    code, _, err = invoke(*args, "--login-body", f"@{bad}")
    assert code == 2 and f"--login-body (@{bad}) is not JSON" in one_line_error(2, err)
