"""End-to-end fixtures: the demo twins served on loopback over real HTTPS and plain HTTP.

The twins are session-scoped (starting one costs a fresh CA and two ports): tests that read
``twin.log`` call ``twin.log.clear()`` first, and tests that mutate state (DELETE, POST) start a
private twin with ``serve_twin`` instead of using these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

from specdiff.config import Credentials, ScanConfig
from specdiff.demo.capture import CapturedRequest
from specdiff.demo.serve import RunningTwin, serve_twin
from specdiff.engine import scan
from specdiff.model import Report


@pytest.fixture(scope="session")
def vulnerable_twin() -> Iterator[RunningTwin]:
    with serve_twin("vulnerable") as twin:
        yield twin


@pytest.fixture(scope="session")
def hardened_twin() -> Iterator[RunningTwin]:
    with serve_twin("hardened") as twin:
        yield twin


def twin_config(twin: RunningTwin, **overrides: object) -> ScanConfig:
    """The scan configuration a user would type for ``twin`` (safe mode, alice's token and the
    partner key: ``--token ... --header 'X-API-Key: ...'``)."""
    fields: dict[str, object] = {
        "spec": str(twin.spec_path),
        "base_url": twin.https_url,
        "http_url": twin.http_url,
        "credentials": Credentials.build(token=twin.token, headers=(("X-API-Key", twin.api_key),)),
        "ca_bundle": str(twin.ca_pem),
    }
    fields.update(overrides)
    return ScanConfig(**fields)  # type: ignore[arg-type]


def finding_keys(report: Report, codes: Iterable[str] | None = None) -> set[tuple[str, str, str]]:
    """(rule, 'METHOD /path', key) of every finding, optionally only these rule codes."""
    wanted = set(codes) if codes is not None else None
    return {
        (f.rule, f"{f.operation.method} {f.operation.path}" if f.operation else "", f.key)
        for f in report.findings
        if wanted is None or f.rule in wanted
    }


@dataclass(frozen=True)
class TwinScan:
    """A report and the requests the twin received while it was made."""

    report: Report
    log: tuple[CapturedRequest, ...]


def _scan(twin: RunningTwin) -> TwinScan:
    twin.log.clear()
    report = scan(twin_config(twin))
    return TwinScan(report, twin.log.entries())


@pytest.fixture(scope="session")
def vulnerable_scan(vulnerable_twin: RunningTwin) -> TwinScan:
    """One default scan of the vulnerable twin, shared by every rule family's assertions."""
    return _scan(vulnerable_twin)


@pytest.fixture(scope="session")
def hardened_scan(hardened_twin: RunningTwin) -> TwinScan:
    """One default scan of the hardened twin: it must find nothing."""
    return _scan(hardened_twin)
