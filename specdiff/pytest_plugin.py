"""pytest plugin (``pytest11`` entry point): the ``specdiff`` fixture and marker.

    def test_contract(specdiff):
        specdiff.check("openapi.yaml", app=app).assert_clean()

    @pytest.mark.specdiff(fail_on="medium", token=TOKEN)
    def test_strict(specdiff):
        specdiff.check("openapi.yaml", base_url="https://staging.example.com").assert_clean()

``app`` is a WSGI or ASGI application checked in this process (no server); ``base_url`` a
running API. The marker's keyword arguments are defaults of every ``check`` of that test.
Nothing of the engine is imported until a check runs, so the plugin costs nothing to projects
that do not use it; only pytest's public API is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from specdiff.model import Finding, Report

__all__ = ["CheckResult", "Specdiff"]


@dataclass(frozen=True)
class CheckResult:
    """A report and the threshold its :meth:`assert_clean` applies."""

    report: Report
    fail_on: str
    allow_incomplete: bool = False

    @property
    def incomplete(self) -> bool:
        """Not every operation was judged (and ``allow_incomplete`` was not given)."""
        return not self.report.complete and not self.allow_incomplete

    @property
    def failing(self) -> list[Finding]:
        """Counted (not suppressed) findings at or above the threshold."""
        from specdiff.model import Severity

        if self.fail_on == "none":
            return []
        threshold = Severity(self.fail_on)
        return [
            f for f in self.report.findings if f.suppression is None and f.severity >= threshold
        ]

    def assert_clean(self) -> None:
        """Fail the test, listing each finding at or above ``fail_on``, when there is any; an
        incomplete run fails too (pass ``allow_incomplete=True`` to accept it)."""
        failing = self.failing
        if not failing and not self.incomplete:
            return
        lines = [
            f"specdiff: {len(failing)} finding(s) at or above {self.fail_on} in {self.report.spec}:"
        ]
        if self.incomplete:
            lines.insert(0, f"specdiff: incomplete: {self.report.incomplete}")
        for f in failing:
            where = f"{f.operation.method} {f.operation.path}" if f.operation else "(host)"
            lines.append(f"  {f.rule} {f.severity.value:<8} {where}: {f.message}")
        lines += [f"  note: {note}" for note in self.report.notes]
        pytest.fail("\n".join(lines), pytrace=False)


class Specdiff:
    """The fixture's object: ``check`` runs one scan with this test's defaults."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults

    def check(
        self,
        spec: str | Any,
        *,
        app: Any = None,
        base_url: str | None = None,
        token: str | None = None,
        fail_on: str | None = None,
        **options: Any,
    ) -> CheckResult:
        """Scan ``app`` in process, or the API at ``base_url``; ``options`` are
        :class:`specdiff.config.ScanConfig` fields (``unsafe=True``, ``params=...``)."""
        from specdiff.config import Credentials, ScanConfig
        from specdiff.engine import scan
        from specdiff.inprocess import scan_app

        given = {"app": app, "base_url": base_url, "token": token, "fail_on": fail_on}
        merged = {**self.defaults, **{k: v for k, v in given.items() if v is not None}, **options}
        app, base_url = merged.pop("app", None), merged.pop("base_url", None)
        token, threshold = merged.pop("token", None), merged.pop("fail_on", "high")
        if (app is None) == (base_url is None):
            raise ValueError("specdiff.check needs exactly one of app= or base_url=")
        config = ScanConfig(
            spec=str(spec),
            base_url=base_url,
            credentials=Credentials.build(token=token),
            fail_on=None,
            **merged,
        )
        report = scan_app(config, app) if app is not None else scan(config)
        return CheckResult(report, threshold, config.allow_incomplete)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "specdiff(**options): defaults for the specdiff fixture's checks "
        "(fail_on='high', token=..., app=..., base_url=..., ScanConfig fields)",
    )


@pytest.fixture
def specdiff(request: pytest.FixtureRequest) -> Specdiff:
    """Check an OpenAPI document against an app or URL; see :mod:`specdiff.pytest_plugin`."""
    marker = request.node.get_closest_marker("specdiff")
    return Specdiff(**(marker.kwargs if marker is not None else {}))
