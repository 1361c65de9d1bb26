"""The terminal reporter: content, grouping, escaping of hostile text, verdict and width."""

from __future__ import annotations

import dataclasses

import pytest
from rich.cells import cell_len

from specdiff.model import Evidence, Report, Summary
from specdiff.reporters import Format, render, terminal
from specdiff.reporters.terminal import sanitize

from .conftest import FINDINGS


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


def test_every_group_is_shown_once_with_its_representative(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    for f in sample_report.findings:
        assert f"] {f.rule} {f.title}" in out
    # SD101 on three operations: one block, every operation listed, the fix once
    assert out.count("] SD101 API answers over plain HTTP") == 1
    assert "[CRITICAL] SD101 API answers over plain HTTP — 3 operations" in out
    assert "where       GET /orders, GET /users/{id}, GET /health" in out
    assert out.count("Redirect every http:// request to https with 308.") == 1
    assert "[CRITICAL] SD303 Undocumented secret in response — GET /users/{id}" in out
    assert "[HIGH] SD202 Invalid credential accepted — GET /orders" in out
    assert "[LOW] SD406 Version banner — host-wide (server)" in out


def test_summary_table_comes_first_one_row_per_group(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=120)
    lines = out.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("SUMMARY · 9 findings in 7"))
    rows = [" ".join(line.split()) for line in lines[start + 3 : start + 10]]
    assert rows == [
        "CRITICAL SD101 API answers over plain HTTP 3 GET /orders (+2)",
        "CRITICAL SD201 Secured operation answers without credentials 1 DELETE /users/{id}",
        "CRITICAL SD303 Undocumented secret in response 1 GET /users/{id} ($.password_hash\\x1b[0m)",
        "HIGH SD202 Invalid credential accepted 1 GET /orders",
        "MEDIUM SD402 Stack trace in error response 1 GET /orders (traceback)",
        "LOW SD406 Version banner host host-wide (server)",
        "LOW SD503 Invalid input accepted 1 GET /orders (query.limit)",
    ]
    assert out.index("SUMMARY") < out.index("[CRITICAL]")


def test_header_names_spec_target_and_version(sample_report: Report) -> None:
    first = terminal.render(sample_report).split("\n")[0]
    assert "specdiff 0.1.0" in first
    assert "openapi.yaml" in first
    assert "https://api.example.test" in first


def test_evidence_and_curl_of_the_representative_are_shown(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    assert "evidence    Server: Werkzeug/3.0.1 Python/3.11.7" in out
    assert "reproduce   curl -sS -X DELETE 'https://api.example.test/users/1'" in out
    assert "status      200" not in out  # the request and status are for --verbose


def test_overlong_values_are_capped_with_a_marker_naming_the_way_to_whole(
    sample_report: Report,
) -> None:
    out = terminal.render(sample_report, width=400)
    assert "a" * 64 not in out  # neither in the evidence nor in the curl line
    assert '{"limit": ""a" × 4096", "items": []}' in out
    assert "reproduce   curl -sS -i 'https://api.example.test/orders?limit=\"a\" × 4096'" in out
    assert "A" * 1000 not in out and '"A" × 1000' in out
    assert "--verbose" not in out  # squeezed, nothing was cut: no marker to explain


def test_cut_evidence_ends_in_a_marker() -> None:
    finding = dataclasses.replace(
        FINDINGS[3], evidence=Evidence(snippet="\n".join(f"line {i}" for i in range(100)))
    )
    report = dataclasses.replace(_empty_report(), findings=(finding,))
    out = terminal.render(report)
    assert "line 0\n              line 1 … [+" in out
    assert "line 2\n" not in out
    assert "-v, --format json and --har FILE show them whole" in out


def test_verbose_prints_every_instance_in_full(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=400, detail="verbose")
    assert out.count("[CRITICAL] SD101 API answers over plain HTTP") == 2
    assert out.count("[HIGH] SD101 API answers over plain HTTP") == 1
    assert "group SD101-" in out and ": 3 findings" in out
    unfolded = "".join(out.split())  # rich folds long words at the width
    assert "a" * 4096 in unfolded and "A" * 1000 in unfolded  # nothing is cut or squeezed
    assert "status      200" in out
    assert "confidence tentative" in out and "CWE-522" in out and "openapi.yaml:57" in out
    assert "GET /users/{id} (getUser)" in out


def test_quiet_prints_the_summary_table_and_the_gate_line_only(sample_report: Report) -> None:
    out = terminal.render(sample_report, detail="quiet")
    lines = _lines(out)
    assert lines[0].startswith("SUMMARY · 9 findings in 7 groups")
    assert lines[-2:] == [
        "risk score 0/100, grade F",
        "9 findings (4 critical, 2 high, 1 medium, 2 low) in 6 operations, 29 requests, 1.2 s",
    ]
    assert len(lines) == 1 + 2 + 7 + 2  # title, table head, one row per group, gate
    for absent in ("reproduce", "COVERAGE", "NOTES", "fix "):
        assert absent not in out


def test_curl_line_is_never_wrapped(sample_report: Report) -> None:
    out = terminal.render(sample_report, width=40)
    lines = out.split("\n")
    assert any(
        line.endswith("curl -sS -X DELETE 'https://api.example.test/users/1'") for line in lines
    )


def test_grouped_in_severity_order(sample_report: Report) -> None:
    out = terminal.render(sample_report)
    positions = [out.index(tag) for tag in ("[CRITICAL]", "[HIGH]", "[MEDIUM]", "[LOW]")]
    assert positions == sorted(positions)
    groups = [
        out.index(tag)
        for tag in ("CRITICAL · 3 groups", "HIGH · 1 group", "MEDIUM · 1 group", "LOW · 2 groups")
    ]
    assert groups == sorted(groups)
    assert out.index("] SD201") < out.index("] SD303")  # same severity: by rule
    assert "INFO ·" not in out  # empty severities are left out


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


def test_coverage_counts_and_lists_only_operations_not_fully_judged(
    sample_report: Report,
) -> None:
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
        "9 findings (4 critical, 2 high, 1 medium, 2 low) in 6 operations, 29 requests, 1.2 s"
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
    assert "COVERAGE" not in out  # a static run has nothing to reach: no empty table


# --------------------------------------------------------------------------- width, purity


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_width_is_respected_except_curl(sample_report: Report, width: int) -> None:
    out = terminal.render(sample_report, width=width)
    for line in out.split("\n"):
        if line.startswith("  reproduce   curl "):  # the one line never wrapped, capped instead
            assert cell_len(line) <= 14 + terminal.CURL_LIMIT + len(" … [+4,000 chars]"), line
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


def test_a_cause_on_many_operations_lists_the_first_ones_and_counts_the_rest(
    sample_report: Report,
) -> None:
    base = FINDINGS[5]  # SD101 on GET /users/{id}
    assert base.operation is not None
    many = tuple(
        dataclasses.replace(base, operation=dataclasses.replace(base.operation, path=f"/p{i:02}"))
        for i in range(30)
    )
    out = terminal.render(dataclasses.replace(sample_report, findings=many), width=400)
    assert "[CRITICAL] SD101 API answers over plain HTTP — 30 operations" in out
    assert "GET /p19 … and 10 more (-v or --format json: all)" in out
    assert "GET /p20" not in out
    assert "GET /p29" in terminal.render(
        dataclasses.replace(sample_report, findings=many), width=400, detail="verbose"
    )
