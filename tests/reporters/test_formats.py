"""Every format on the one shared report: none leaks the canary, none breaks on hostile text."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import pytest

from specdiff.model import Report
from specdiff.reporters import Format, render

from .conftest import CANARY, LONG_VALUE


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_leaks_the_canary(sample_report: Report, fmt: Format) -> None:
    out = render(sample_report, fmt)
    assert CANARY not in out
    assert CANARY[:12] not in out
    assert "[REDACTED]" in out  # the redacted echo is still shown, as evidence


@pytest.mark.parametrize("fmt", list(Format))
def test_no_raw_control_characters(sample_report: Report, fmt: Format) -> None:
    out = render(sample_report, fmt)
    for raw in ("\x1b", "\x00", "\x07", "\r"):
        assert raw not in out, (fmt, raw)


@pytest.mark.parametrize("fmt", [Format.JSON, Format.SARIF])
def test_json_formats_parse(sample_report: Report, fmt: Format) -> None:
    json.loads(render(sample_report, fmt))


def test_junit_parses(sample_report: Report) -> None:
    ET.fromstring(render(sample_report, Format.JUNIT))


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_is_pure_and_deterministic(
    sample_report: Report, fmt: Format, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render(sample_report, fmt) == render(sample_report, fmt)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_shows_every_finding(sample_report: Report, fmt: Format) -> None:
    out = render(sample_report, fmt)
    for f in sample_report.findings:
        assert f.rule in out


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [
        (Format.TEXT, "txt"),
        (Format.JSON, "json"),
        (Format.SARIF, "sarif"),
        (Format.JUNIT, "junit.xml"),
        (Format.MARKDOWN, "md"),
        (Format.HTML, "html"),
    ],
)
def test_file_extensions(fmt: Format, suffix: str) -> None:
    assert fmt.extension == suffix


@pytest.mark.parametrize("fmt", [Format.TEXT, Format.MARKDOWN, Format.JUNIT])
def test_human_formats_cap_the_4kb_value(sample_report: Report, fmt: Format) -> None:
    out = render(sample_report, fmt)
    assert LONG_VALUE not in out and "a" * 64 not in out
    assert '"a" × 4096' in out  # the value is still named, by its size


@pytest.mark.parametrize("fmt", [Format.JSON, Format.SARIF, Format.HTML])
def test_machine_formats_and_the_expandable_html_keep_every_byte(
    sample_report: Report, fmt: Format
) -> None:
    assert LONG_VALUE in render(sample_report, fmt)


def test_markdown_and_text_sizes_hold_on_a_large_report(sample_report: Report) -> None:
    many = tuple(
        dataclasses.replace(f, key=f"$.k{i}") for i in range(300) for f in sample_report.findings
    )
    report = dataclasses.replace(sample_report, findings=many)
    assert len(render(report, Format.MARKDOWN)) <= 60_000
    quiet = render(report, Format.TEXT, detail="quiet")
    assert len(quiet.splitlines()) < 2400  # one row per group, nothing else
