"""Markdown for PR comments and step summaries: counts, varied top groups, capped, escaped."""

from __future__ import annotations

import dataclasses

import pytest

from specdiff.model import Finding, OperationRef, Report
from specdiff.reporters import markdown

from .conftest import suppressed


def test_header_counts_and_score(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    lines = out.split("\n")
    assert lines[0] == "## specdiff"
    assert "`openapi.yaml` against `https://api.example.test`: **risk score 0/100, grade F**" in out
    assert "| critical | 4 | 3 | 0 |" in lines  # findings, groups, suppressed
    assert "| high | 2 | 1 | 0 |" in lines
    assert "| info | 0 | 0 | 0 |" in lines
    assert "6 operations, 4 probed, 29 requests, 1.2 s; 9 findings in 7 groups." in lines


def test_top_groups_table_in_severity_order(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    assert "### Top groups (7 of 7)" in out
    rows = [line for line in out.split("\n") if line.startswith("| critical | SD")]
    assert rows == [
        "| critical | SD101 | API answers over plain HTTP | 3 | `GET /orders` |",
        "| critical | SD201 | Secured operation answers without credentials | 1 | "
        "`DELETE /users/{id}` |",
        "| critical | SD303 | Undocumented secret in response | 1 | `GET /users/{id}` |",
    ]


def _many(rule: str, n: int, severity: str = "critical") -> list[Finding]:
    from specdiff.model import Confidence, Severity

    return [
        Finding(
            rule=rule,
            kind="x.y",
            title=f"{rule} title",
            severity=Severity(severity),
            confidence=Confidence.FIRM,
            message="m",
            operation=OperationRef("GET", f"/{rule}/{i}"),
            key=f"$.k{i}",
        )
        for i in range(n)
    ]


def test_top_groups_choose_variety_before_repeating_a_rule(sample_report: Report) -> None:
    findings = _many("SD303", 12) + _many("SD402", 3, "medium") + _many("SD406", 1, "low")
    out = markdown.render(dataclasses.replace(sample_report, findings=tuple(findings)))
    rules = [
        line.split(" | ")[1]
        for line in out.split("\n")
        if line.startswith("| ") and " | SD" in line
    ]
    assert rules[:3] == ["SD303", "SD402", "SD406"]  # each rule once before any repeats
    assert rules[3:] == ["SD303"] * 7
    assert "### Top groups (10 of 16)" in out


def test_every_group_collapsed_with_its_operations(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    assert "<details><summary>All 7 groups</summary>" in out
    assert out.count("<details><summary><b>") == 7
    assert "<b>CRITICAL</b> SD101 API answers over plain HTTP — 3 operations</summary>" in out
    assert "3 finding(s) on `GET /orders`, `GET /users/{id}`, `GET /health`" in out
    assert out.count("**Fix:** Redirect every http:// request to https with 308.") == 1
    assert "<details><summary>2 operations not fully judged</summary>" in out


def test_hostile_text_is_inert(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    assert "<script>" not in out
    assert "</script>" not in out
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;" in out
    assert "\\x1b[31mRED" in out
    assert "Property \\[bold red\\]x\\[/\\]" in out  # no link
    assert "a" * 64 not in out  # the 4 KB value is squeezed
    assert '"a" × 4096' in out


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a|b", "a|b"),  # only a table cell needs | escaped
        ("@octocat #12", "&#64;octocat &#35;12"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
        ("before_request is_secure", "before_request is_secure"),  # intraword _ is literal
        ("GET /users/{id}. 3+4=7 - ok!", "GET /users/{id}. 3+4=7 - ok!"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("1. item", "\\1. item"),
        ("~~gone~~", "\\~\\~gone\\~\\~"),
        ("line\nbreak", "line\\\\x0abreak"),  # renders as the visible escape line\x0abreak
    ],
)
def test_escape_only_what_the_position_needs(raw: str, shown: str) -> None:
    assert markdown.escape(raw) == shown


def test_escape_in_a_table_cell_also_escapes_the_pipe() -> None:
    assert markdown.escape("a|b", table=True) == "a\\|b"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("GET /users/{id}", "`GET /users/{id}`"),
        ("a`b", "``a`b``"),
        ("`x", "`` `x ``"),
        ("<b>@me #1 *x*", "`<b>@me #1 *x*`"),  # nothing means anything in a code span
    ],
)
def test_code_spans(raw: str, shown: str) -> None:
    assert markdown.code(raw) == shown


def test_suppressed_findings_are_marked_not_counted(sample_report: Report) -> None:
    out = markdown.render(suppressed(sample_report, "SD201", "config"))
    assert "| critical | 4 | 3 | 1 |" in out
    assert "### Top groups (6 of 6)" in out
    assert "1 of 1 suppressed by config: accepted &lt;/script&gt; &#64;team &#35;1 by config" in out
    assert "<details><summary>All 7 groups</summary>" in out


def test_never_over_the_limit_and_points_at_the_artifacts(sample_report: Report) -> None:
    big = tuple(
        dataclasses.replace(f, rule=f"SD{300 + i % 90}", key=f"$.k{i}", message="x" * 300)
        for i, f in enumerate(sample_report.findings[1:2] * 600)
    )
    out = markdown.render(dataclasses.replace(sample_report, findings=big))
    assert len(out) <= markdown.LIMIT
    assert "more groups not shown here" in out
    assert "`--format json`, `--format sarif`, `--format html`" in out
    assert out.count("<details>") == out.count("</details>")


def test_a_cause_on_many_operations_lists_fifty_and_counts_the_rest(sample_report: Report) -> None:
    base = sample_report.findings[5]  # SD101 on GET /users/{id}
    assert base.rule == "SD101" and base.operation is not None
    many = tuple(
        dataclasses.replace(base, operation=dataclasses.replace(base.operation, path=f"/p{i:03}"))
        for i in range(120)
    )
    out = markdown.render(dataclasses.replace(sample_report, findings=many))
    assert "`GET /p049` and 70 more (the JSON report lists all)" in out
    assert "`GET /p050`" not in out
