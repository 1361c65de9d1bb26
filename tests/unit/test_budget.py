"""The default request budget grows with the document; an explicit --max-requests is kept."""

from __future__ import annotations

import pytest

from specdiff.config import BUDGET_FLOOR, BUDGET_PER_OPERATION, ScanConfig, request_budget
from specdiff.errors import ConfigError


@pytest.mark.parametrize(
    ("max_requests", "operations", "budget"),
    [
        (None, 19, BUDGET_FLOOR),  # the demo: the floor
        (None, 1223, BUDGET_PER_OPERATION * 1223),  # GitHub's description: 30,575, not 5,000
        (5, 1223, 5),  # the user's word wins, however small
        (20_000, 3, 20_000),
    ],
)
def test_request_budget(max_requests: int | None, operations: int, budget: int) -> None:
    config = ScanConfig(spec="x.yaml", max_requests=max_requests)
    assert request_budget(config, operations) == budget


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="--max-requests must be at least 1"):
        ScanConfig(spec="x.yaml", max_requests=0)
