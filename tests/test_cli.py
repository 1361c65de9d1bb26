"""The CLI as a user runs it (a subprocess): exit codes and one-line errors, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import minimal_doc, ok_json, write_spec

REPO = Path(__file__).parents[1]


def specdiff(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specdiff", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("specdiff: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    result = specdiff("check", str(tmp_path / "nope.yaml"), "--base-url", "https://127.0.0.1:9")
    assert_one_line_error(result, 2, "nope.yaml")


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t\npaths:\n  - [\n")
    assert_one_line_error(
        specdiff("check", str(path), "--base-url", "https://127.0.0.1:9"), 2, "bad.yaml"
    )


def test_dangling_ref(tmp_path: Path) -> None:
    doc = minimal_doc(
        {"/x": {"get": {"responses": ok_json({"$ref": "#/components/schemas/Nope"})}}}
    )
    path = write_spec(tmp_path, doc)
    assert_one_line_error(
        specdiff("check", str(path), "--base-url", "https://127.0.0.1:9"),
        2,
        "#/components/schemas/Nope",
    )


def test_not_openapi(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: nginx\n")
    assert_one_line_error(
        specdiff("check", str(path), "--base-url", "https://127.0.0.1:9"), 2, "OpenAPI"
    )


def test_unknown_option_and_bad_values_exit_2(tmp_path: Path) -> None:
    path = write_spec(tmp_path, minimal_doc({}))
    assert specdiff("check", str(path), "--base-url", "https://x", "--frobnicate").returncode == 2
    assert_one_line_error(specdiff("check", str(path), "--base-url", "ftp://x"), 2, "--base-url")
    assert_one_line_error(
        specdiff("check", str(path), "--base-url", "https://x", "-H", "nocolon"), 2, "Name: value"
    )


def test_bad_extra_paths_file_exits_2(tmp_path: Path) -> None:
    path = write_spec(tmp_path, minimal_doc({}))
    args = ("check", str(path), "--base-url", "https://x", "--extra-paths")
    assert_one_line_error(specdiff(*args, str(tmp_path / "missing.txt")), 2, "--extra-paths")
    bad = tmp_path / "paths.txt"
    bad.write_text("/ok  # fine\nnot-a-path\n")
    assert_one_line_error(specdiff(*args, str(bad)), 2, "paths.txt:2", "not-a-path")


def test_circular_schema_loads_and_unreachable_target_exits_3(tmp_path: Path) -> None:
    doc = minimal_doc(
        {"/nodes": {"get": {"responses": ok_json({"$ref": "#/components/schemas/Node"})}}},
        components={
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        }
                    },
                }
            }
        },
    )
    path = write_spec(tmp_path, doc)
    result = specdiff("check", str(path), "--base-url", closed_port_url(), "--timeout", "2")
    assert_one_line_error(result, 3, "unreachable", "cannot connect")


@pytest.mark.parametrize(
    "name",
    [
        "github-api.github.com.json",
        "stripe-spec3-2022-04-13.json",
        "k8s-v1.36-swagger.json",
        "oai-petstore-v2.0.json",
        "oai-petstore-v3.0.yaml",
        "petstore3-openapi.yaml",
    ],
)
def test_real_documents_against_a_closed_port_exit_3(name: str) -> None:
    path = REPO.parent / "shared" / "corpus" / name
    if not path.exists():
        pytest.skip(f"corpus document {name} is not available")
    result = specdiff(
        "check", str(path), "--base-url", closed_port_url(), "--timeout", "2", "--concurrency", "32"
    )
    assert_one_line_error(result, 3, "unreachable")


OUTAGE_PATHS = {
    "/a": {"get": {"responses": ok_json({"type": "object"})}},
    "/b/{id}": {
        "get": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {}}],
            "responses": ok_json({"type": "object"}),
        }
    },
    "/c": {"post": {"responses": ok_json({"type": "object"})}, "delete": {"responses": {}}},
}


def test_total_outage_exits_3_with_one_line_and_the_coverage_table(tmp_path: Path) -> None:
    path = write_spec(tmp_path, minimal_doc(OUTAGE_PATHS))
    url = closed_port_url()
    result = specdiff("check", str(path), "--base-url", url, "--timeout", "2")
    assert_one_line_error(result, 3, f"{url} is unreachable: cannot connect")
    rows = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "0 probed, 2 not reached, 2 skipped of 4 operations" in rows
    reached = [r for r in rows if r.startswith(("not reached", "skipped"))]
    assert [r.split(" — ")[0] for r in reached] == [
        "not reached GET /a",
        "not reached GET /b/{id}",
        "skipped POST /c",
        "skipped DELETE /c",
    ]
    assert all("cannot connect" in r for r in reached[:2])
    assert reached[2].endswith("POST is not sent without --unsafe")


def test_total_outage_still_writes_the_requested_reports(tmp_path: Path) -> None:
    """A server that accepts connections and never answers: every request times out."""
    path = write_spec(tmp_path, minimal_doc(OUTAGE_PATHS))
    out, sarif = tmp_path / "report.json", tmp_path / "report.sarif"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshakes; nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        args = ["--base-url", url, "--timeout", "1", "--unsafe"]
        formats = ["--format", "json", "--output", str(out), "--format", "sarif", "-o", str(sarif)]
        result = specdiff("check", str(path), *args, *formats)
    assert_one_line_error(result, 3, f"{url} is unreachable: timed out after 1 s")
    assert result.stdout == ""
    report = json.loads(out.read_text())
    rows = {
        f"{c['operation']['method']} {c['operation']['path']}": (c["status"], c["reason"])
        for c in report["coverage"]
    }
    assert rows == {
        "GET /a": ("not reached", "timed out after 1 s"),
        "GET /b/{id}": ("not reached", "timed out after 1 s"),
        "POST /c": ("not reached", "timed out after 1 s"),
        "DELETE /c": ("not reached", "not sent: the target is unreachable"),
    }
    assert report["summary"]["probed"] == 0 and report["findings"] == []
    assert json.loads(sarif.read_text())["runs"][0]["results"] == []


def test_rules_and_explain() -> None:
    listing = specdiff("rules")
    assert listing.returncode == 0
    assert "SD201   high     auth.missing-credentials-accepted" in listing.stdout
    explained = specdiff("explain", "sd201")
    assert explained.returncode == 0
    assert explained.stdout.splitlines()[0].strip() == "SD201 auth.missing-credentials-accepted"
    assert (
        "Secured operation answers without credentials (high, CWE-306, OWASP API2:2023)"
        in explained.stdout
    )
    assert "Breach. 2xx without credentials." in explained.stdout
    assert "**" not in explained.stdout
    assert_one_line_error(specdiff("explain", "SD999"), 2, "unknown rule")


def test_json_report_to_file_keeps_stdout_clean(tmp_path: Path) -> None:
    doc = minimal_doc({}, servers=[{"url": "http://api.example.com"}])
    path = write_spec(tmp_path, doc)
    out = tmp_path / "report.json"
    # static SD103 (medium) is found even though the target is down? No: unreachable wins, exit 3
    result = specdiff(
        "check",
        str(path),
        "--base-url",
        closed_port_url(),
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert result.returncode == 0 and result.stdout == ""  # no operation: nothing to reach
    report = json.loads(out.read_text())
    assert [f["rule"] for f in report["findings"]] == ["SD103"]
    assert "written to" in result.stderr
