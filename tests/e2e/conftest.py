"""End-to-end fixtures: the demo twins served on loopback over real HTTPS and plain HTTP.

The twins are session-scoped (starting one costs a fresh CA and two ports): tests that read
``twin.log`` call ``twin.log.clear()`` first, and tests that mutate state (DELETE, POST) start a
private twin with ``serve_twin`` instead of using these.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from specdiff.demo.serve import RunningTwin, serve_twin


@pytest.fixture(scope="session")
def vulnerable_twin() -> Iterator[RunningTwin]:
    with serve_twin("vulnerable") as twin:
        yield twin


@pytest.fixture(scope="session")
def hardened_twin() -> Iterator[RunningTwin]:
    with serve_twin("hardened") as twin:
        yield twin
