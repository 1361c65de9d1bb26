"""pytest plugin (``pytest11`` entry point): the ``specdiff`` fixture and marker.

    def test_contract(specdiff):
        specdiff.check("openapi.yaml", app=app).assert_clean()

    def test_two_users(specdiff):
        specdiff.check(
            "openapi.yaml", app=create_app(), token=ALICE, token_b=BOB, jwt_secret=SECRET
        ).assert_clean()

    @pytest.mark.specdiff(fail_on="medium", token=TOKEN)
    def test_strict(specdiff):
        specdiff.check("openapi.yaml", base_url="https://staging.example.com").assert_clean()

``app`` is a WSGI or ASGI application checked in this process (no server); ``base_url`` a
running API. Credentials take the CLI's names as keywords (``token``, ``header``, ``query``,
``token_b``, ``header_b``, ``token_low``, ``header_low``, ``jwt_secret``, ``expired_token``). The marker's keyword arguments are defaults of every ``check`` of that test.
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
        """Scan ``app`` in process, or the API at ``base_url``.

        Credentials take the CLI's keywords: ``token=``, ``header=`` (``"Name: value"``, or a
        list of them), ``query=`` (``"name=value"``, or a list), ``token_b=``/``header_b=``
        (identity B, SD212), ``token_low=``/``header_low=`` (a token lacking a scope, SD211),
        ``jwt_secret=``, ``expired_token=``. Other ``options`` are
        :class:`specdiff.config.ScanConfig` fields (``unsafe=True``, ``params=...``)."""
        from specdiff.config import ScanConfig
        from specdiff.engine import scan
        from specdiff.inprocess import scan_app

        given = {"app": app, "base_url": base_url, "token": token, "fail_on": fail_on}
        merged = {**self.defaults, **{k: v for k, v in given.items() if v is not None}, **options}
        app, base_url = merged.pop("app", None), merged.pop("base_url", None)
        threshold = merged.pop("fail_on", "high")
        if (app is None) == (base_url is None):
            raise ValueError("specdiff.check needs exactly one of app= or base_url=")
        identities = _identities(merged)
        config = ScanConfig(spec=str(spec), base_url=base_url, fail_on=None, **identities, **merged)
        report = scan_app(config, app) if app is not None else scan(config)
        return CheckResult(report, threshold, config.allow_incomplete)


def _identities(options: dict[str, Any]) -> dict[str, Any]:
    """Pop the CLI-style credential keywords out of ``options``: the three identities."""
    from specdiff.config import Credentials, parse_header, parse_pair

    def many(value: Any) -> list[str]:
        return [] if value is None else [value] if isinstance(value, str) else list(value)

    def headers(key: str) -> tuple[tuple[str, str], ...]:
        return tuple(parse_header(h) for h in many(options.pop(key, None)))

    a = Credentials.build(
        token=options.pop("token", None),
        headers=headers("header"),
        query=tuple(parse_pair(q, "query=") for q in many(options.pop("query", None))),
    )
    b = Credentials.build(
        token=options.pop("token_b", None), headers=headers("header_b"), identity="B"
    )
    low = Credentials.build(
        token=options.pop("token_low", None), headers=headers("header_low"), identity="LOW"
    )
    return {"credentials": a, "credentials_b": b, "credentials_low": low}


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
