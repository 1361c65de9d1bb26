"""Markdown for PR comments and step summaries: counts, top findings, a collapsed full list."""

from __future__ import annotations

import dataclasses

import pytest

from specdiff.model import Report
from specdiff.reporters import markdown

from .conftest import suppressed


def test_header_counts_and_score(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    lines = out.split("\n")
    assert lines[0] == "## specdiff"
    assert "**risk score 0/100, grade F**" in out
    assert "| critical | 2 | 0 |" in lines
    assert "| high | 1 | 0 |" in lines
    assert "| info | 0 | 0 |" in lines
    assert "6 operations, 4 probed, 29 requests, 1.2 s." in lines


def test_top_findings_table_in_report_order(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    rows = [line for line in out.split("\n") if line.startswith("| critical |") and "SD" in line]
    assert [row.split(" | ")[1] for row in rows] == ["SD201", "SD303"]
    assert "| critical | SD201 | DELETE /users/\\{id\\} | DELETE answered 204 without any" in out
    assert "### Top findings (5 of 5)" in out


def test_full_list_is_collapsed(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    assert "<details><summary>All 5 findings</summary>" in out
    assert out.count("<details><summary><b>") == 5
    assert "<details><summary>2 operations not probed</summary>" in out


def test_hostile_text_is_inert(sample_report: Report) -> None:
    out = markdown.render(sample_report)
    assert "<script>" not in out
    assert "</script>" not in out
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;" in out
    assert "\\x1b[31mRED" in out
    assert "Property \\[bold red\\]x\\[/\\]" in out  # no link or emphasis


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a|b", "a\\|b"),
        ("@octocat #12", "&#64;octocat &#35;12"),
        ("[x](javascript:alert(1))", "\\[x\\]\\(javascript:alert\\(1\\)\\)"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
        ("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
        ("line\nbreak", "line\\\\x0abreak"),  # renders as the visible escape line\x0abreak
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert markdown.escape(raw) == shown


def test_suppressed_findings_are_marked_not_counted(sample_report: Report) -> None:
    out = markdown.render(suppressed(sample_report, "SD201", "config"))
    assert "| critical | 2 | 1 |" in out
    assert "### Top findings (4 of 4)" in out
    assert "_(suppressed by config: accepted &lt;/script&gt; &#64;team &#35;1 by config)_" in out
    assert "<details><summary>All 5 findings</summary>" in out


def test_only_the_top_ten_in_the_table(sample_report: Report) -> None:
    many = tuple(dataclasses.replace(sample_report.findings[2], key=f"k{i}") for i in range(12))
    out = markdown.render(dataclasses.replace(sample_report, findings=many))
    assert "### Top findings (10 of 12)" in out
    assert "<details><summary>All 12 findings</summary>" in out
