"""The terminal reporter: content, grouping, escaping of hostile text, verdict and width."""

from __future__ import annotations

import dataclasses

import pytest
from rich.cells import cell_len

from specdiff.model import Evidence, Report, Summary
from specdiff.reporters import Format, render, terminal
from specdiff.reporters.terminal import sanitize


def _empty_report(operations: int = 0) -> Report:
    return Report(
        tool_version="0.1.0",
        spec="openapi.yaml",
        target=None,
        started_at="",
        findings=(),
        coverage=(),
        summary=Summary(operations=operations, probed=0, requests=0, duration=0.0),
    )


def _lines(out: str) -> list[str]:
    return [line for line in out.split("\n") if line.strip()]


# --------------------------------------------------------------------------- sanitize


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mRED\x1b[0m", "\\x1b[31mRED\\x1b[0m"),
        ("nul\x00", "nul\\x00"),
        ("a\rb", "a\\x0db"),
        ("a\nb", "a\\x0ab"),
        ("a\tb", "a\\x09b"),
        ("bell\x07", "bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("rlo\u202eevil", "rlo\\u202eevil"),
        ("lsep\u2028", "lsep\\u2028"),
        (
            "ünïcødé ✓ 日本 [bold red]x[/] </script> ]]>",
            "ünïcødé ✓ 日本 [bold red]x[/] </script> ]]>",
        ),
        ("", ""),
    ],
)
def test_sanitize_one_line(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\nb"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\\x0db"),
        ("a\tb", "a\tb"),
        ("x\x1b[2Jy", "x\\x1b[2Jy"),
    ],
)
def test_sanitize_multiline(raw: str, shown: str) -> None:
    assert sanitize(raw, multiline=True) == shown


# --------------------------------------------------------------------------- content


def test_every_finding_is_shown(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    for f in sample_report.findings:
        assert f"[{f.severity.value.upper()}] {f.rule} {f.kind} — {f.title}" in out
        assert f.evidence is None or f.evidence.curl in out
        if f.remediation:
            assert f.remediation in out
    assert "GET /users/{id} (getUser)" in out
    assert "DELETE /users/{id} (deleteUser)" in out
    assert "GET /orders (listOrders)" in out
    assert "host-wide" in out
    assert "openapi.yaml:42" in out
    assert "openapi.yaml:57" in out
    assert "CWE-522" in out
    assert "API3:2023" in out
    assert "confidence tentative" in out


def test_header_names_spec_target_and_version(sample_report: Report) -> None:
    first = terminal.render(sample_report).split("\n")[0]
    assert "specdiff 0.1.0" in first
    assert "openapi.yaml" in first
    assert "https://api.example.test" in first


def test_evidence_is_shown(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    assert "GET https://api.example.test/users/1" in out
    assert "Authorization: Bearer ***" in out
    assert "status      200" in out
    assert "Server: Werkzeug/3.0.1 Python/3.11.7" in out


def test_curl_line_is_never_wrapped(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=40)
    lines = out.split("\n")
    for f in sample_report.findings:
        if f.evidence is not None and f.evidence.curl:
            assert any(line.endswith(f.evidence.curl) for line in lines)


def test_grouped_in_severity_order(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    positions = [out.index(tag) for tag in ("[CRITICAL]", "[HIGH]", "[MEDIUM]", "[LOW]")]
    assert positions == sorted(positions)
    groups = [out.index(tag) for tag in ("CRITICAL · 2", "HIGH · 1", "MEDIUM · 1", "LOW · 1")]
    assert groups == sorted(groups)
    assert out.index("SD201") < out.index("SD303")  # same severity: by rule
    assert "INFO ·" not in out  # empty groups are left out


def test_long_snippet_is_truncated_with_ellipsis(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=400)
    assert "A" * terminal.SNIPPET_LIMIT + "…" in out
    assert "A" * (terminal.SNIPPET_LIMIT + 1) not in out


def test_many_line_snippet_is_truncated(sample_report: Report) -> None:
    snippet = "\n".join(f"line {i}" for i in range(100))
    finding = dataclasses.replace(sample_report.findings[0], evidence=Evidence(snippet=snippet))
    out = terminal.render(dataclasses.replace(sample_report, findings=(finding,)))
    assert "line 0" in out
    assert "line 14…" in out
    assert "line 15" not in out


# --------------------------------------------------------------------------- hostile text


@pytest.mark.parametrize("color", [False, True])
def test_hostile_text_is_escaped_not_interpreted(sample_report: Report, color: bool) -> None:
    out = terminal.render(sample_report, color=color)
    for raw in ("\x1b[31m", "\x1b[2J", "\x1b]0;", "\x1b[8m", "\x07", "\x00", "\r"):
        assert raw not in out
    assert "\\x1b[31mRED\\x1b[0m" in out
    assert "\\x1b[2J" in out
    assert "\\x1b]0;pwned\\x07" in out
    assert "$.password_hash\\x1b[0m" in out
    assert "\\x00nul" in out
    assert "\\x0d carriage" in out
    assert "--unsafe\\x1b[8m" in out
    assert "note with \\x1b[1mbold\\x1b[0m" in out
    assert "[bold red]x[/]" in out  # the markup lookalike shows literally
    assert "</script>" in out
    assert "]]>" in out
    assert "ünïcødé ✓ 日本" in out


def test_no_escape_bytes_at_all_without_color(sample_report: Report) -> None:
    assert "\x1b" not in terminal.render(sample_report, color=False)


def test_color_output_is_styled(sample_report: Report) -> None:
    assert "\x1b[" in terminal.render(sample_report, color=True)


def test_newline_in_server_text_cannot_forge_a_finding(sample_report: Report) -> None:
    forged = "x\n[CRITICAL] SD999 forged — fake"
    finding = dataclasses.replace(sample_report.findings[0], key=forged)
    out = terminal.render(dataclasses.replace(sample_report, findings=(finding,)))
    assert not any(line.startswith("[CRITICAL] SD999") for line in out.split("\n"))
    assert "x\\x0a[CRITICAL] SD999 forged — fake" in out


# --------------------------------------------------------------------------- coverage, notes


def test_coverage_counts_and_lists_only_unprobed(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    section = out[out.index("COVERAGE") : out.index("NOTES")]
    assert "4 probed, 1 not reached, 1 skipped of 6 operations" in section
    assert "POST /orders" in section
    assert "GET /admin/stats (adminStats)" in section
    assert "baseline answered 404" in section
    assert "skipped" in section
    assert "not reached" in section
    for probed in ("/users/{id}", "/health", "listOrders"):
        assert probed not in section


def test_notes_are_listed(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    section = out[out.index("NOTES") :]
    assert "• Document declares no servers; used --base-url." in section


# --------------------------------------------------------------------------- verdict


def test_verdict_with_findings(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=200)
    assert out.endswith("\n")
    assert _lines(out)[-1] == (
        "5 findings (2 critical, 1 high, 1 medium, 1 low) in 6 operations, 29 requests, 1.2 s"
    )


def test_verdict_singular(sample_report: Report) -> None:
    report = dataclasses.replace(
        sample_report,
        findings=sample_report.findings[:1],
        summary=Summary(operations=1, probed=1, requests=1, duration=0.04),
    )
    assert terminal.verdict(report) == "1 finding (1 low) in 1 operation, 1 request, 0.0 s"


def test_no_findings_verdict_for_empty_report() -> None:
    out = terminal.render(_empty_report(operations=10))
    assert _lines(out)[-1] == "No findings in 10 operations, 0 requests, 0.0 s"
    assert "[" not in out  # no finding lines at all
    assert "none (static checks only)" in out


# --------------------------------------------------------------------------- width, purity


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_width_is_respected_except_curl(sample_report: Report, width: int) -> None:
    out = terminal.render(sample_report, width=width)
    curls = {f.evidence.curl for f in sample_report.findings if f.evidence is not None}
    for line in out.split("\n"):
        if any(line.endswith(c) for c in curls):
            continue
        assert cell_len(line) <= width, line


def test_no_trailing_blanks(sample_report: Report) -> None:
    assert all(line == line.rstrip() for line in terminal.render(sample_report).split("\n"))


def test_pure_and_deterministic(sample_report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    assert terminal.render(sample_report) == terminal.render(sample_report)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_independent_of_environment(sample_report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = terminal.render(sample_report)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert terminal.render(sample_report) == plain


@pytest.mark.parametrize("fmt", [Format.TEXT, "text"])
def test_dispatch(sample_report: Report, fmt: Format) -> None:
    assert render(sample_report, fmt) == terminal.render(sample_report)
    assert render(sample_report, fmt, color=True, width=80) == terminal.render(
        sample_report, color=True, width=80
    )


def test_dispatch_rejects_unknown_format(sample_report: Report) -> None:
    with pytest.raises(ValueError):
        render(sample_report, "xml")  # type: ignore[arg-type]
