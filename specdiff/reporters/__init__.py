"""Reporters: pure ``render(report) -> str`` functions, one module per format.

The CLI picks a :class:`Format`, calls :func:`render` and decides where the bytes go. Format
modules are imported lazily, so ``rich`` is loaded only when the terminal format is asked for.
Reporters import nothing from specdiff but :mod:`specdiff.model`, the catalogue (rule metadata)
and :mod:`specdiff.score`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Literal

from specdiff.model import Finding, Report

__all__ = ["Format", "render", "sorted_findings"]


class Format(str, enum.Enum):
    """An output format the CLI can ask for."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"

    @property
    def extension(self) -> str:
        """The file name suffix for ``--output-dir``."""
        return _EXTENSIONS[self]

    def __str__(self) -> str:
        return self.value


_EXTENSIONS = {
    Format.TEXT: "txt",
    Format.JSON: "json",
    Format.SARIF: "sarif",
    Format.JUNIT: "junit.xml",
    Format.MARKDOWN: "md",
    Format.HTML: "html",
}


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """``findings`` in report order (:attr:`Finding.sort_key`); never drops any."""
    return tuple(sorted(findings, key=lambda f: f.sort_key))


def render(
    report: Report,
    fmt: Format,
    *,
    color: bool = False,
    width: int = 100,
    source_root: str | None = None,
    detail: Literal["quiet", "normal", "verbose"] = "normal",
) -> str:
    """Render ``report`` as ``fmt``; ``color``, ``width`` and ``detail`` (``-q``/``-v``) only
    matter for ``Format.TEXT``, ``source_root`` (the repository root the spec path is made
    relative to) for SARIF."""
    fmt = Format(fmt)  # also accepts the plain value ("json"); raises ValueError on anything else
    if fmt is Format.JSON:
        from specdiff.reporters import json as json_reporter

        return json_reporter.render(report)
    if fmt is Format.TEXT:
        from specdiff.reporters import terminal

        return terminal.render(report, color=color, width=width, detail=detail)
    if fmt is Format.SARIF:
        from specdiff.reporters import sarif

        return sarif.render(report, source_root)
    if fmt is Format.JUNIT:
        from specdiff.reporters import junit

        return junit.render(report)
    if fmt is Format.MARKDOWN:
        from specdiff.reporters import markdown

        return markdown.render(report)
    if fmt is Format.HTML:
        from specdiff.reporters import html

        return html.render(report)
    raise AssertionError(f"unhandled report format: {fmt!r}")  # pragma: no cover
