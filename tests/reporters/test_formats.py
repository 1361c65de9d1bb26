"""Every format on the one shared report: none leaks the canary, none breaks on hostile text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from specdiff.model import Report
from specdiff.reporters import Format, render

from .conftest import CANARY


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
