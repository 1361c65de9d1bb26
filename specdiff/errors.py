"""The one exception tree of specdiff.

::

    SpecdiffError                 base; never escapes the CLI as a traceback
    ├── SpecError                 the OpenAPI document cannot be used        -> exit 2
    ├── ConfigError               options, config or credentials are wrong   -> exit 2
    │   └── PreflightError        the supplied credentials do not work       -> exit 2
    ├── TargetUnreachable         nothing at all could be probed             -> exit 3
    └── ProbeError                a probe crashed; recorded, run goes on

httpx exceptions are caught at the runner boundary and become coverage entries; they never
reach the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specdiff.model import Report

__all__ = [
    "ConfigError",
    "PreflightError",
    "ProbeError",
    "SpecError",
    "SpecdiffError",
    "TargetUnreachable",
]


class SpecdiffError(Exception):
    """Base of every error specdiff raises on purpose."""

    exit_code: int = 2


class SpecError(SpecdiffError):
    """The OpenAPI document is missing, unreadable, not OpenAPI, or has a dangling `$ref`."""


class ConfigError(SpecdiffError):
    """An option, a config file entry or a credential is wrong."""


class PreflightError(ConfigError):
    """The supplied credentials were refused on every secured operation."""


class TargetUnreachable(SpecdiffError):
    """No request reached the target: every operation is 'not reached'.

    ``report`` (when the engine got that far) says so per operation: the CLI still renders it.
    """

    exit_code = 3

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


class ProbeError(SpecdiffError):
    """A probe raised while planning or judging; the engine records it and goes on."""
