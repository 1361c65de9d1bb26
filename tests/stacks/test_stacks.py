"""specdiff against APIs of other stacks than the demo twins (issue 12): a FastAPI app served by
uvicorn, and an Express app started with node, each a vulnerable and a hardened variant.

The vulnerable variant must give exactly its ground truth (``truth.json``: recall and precision
1.0), the hardened one nothing; each is checked as a new user would check it (two users' tokens
and the JWT secret). One scan per variant and mode, shared by the assertions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from specdiff.model import Report, Severity
from tests.stacks.targets import (
    express_missing,
    finding_pairs,
    scan_target,
    score,
    serve,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _skip_without_node(name: str) -> None:
    if name == "express" and (why := express_missing()) is not None:
        pytest.skip(f"Express target not available: {why}")


@pytest.fixture(scope="module", params=["fastapi", "express"])
def name(request: pytest.FixtureRequest) -> str:
    _skip_without_node(request.param)
    return str(request.param)


@pytest.fixture(scope="module")
def vulnerable(name: str) -> Iterator[Report]:
    with serve(name, "vulnerable") as target:
        yield scan_target(target)


@pytest.fixture(scope="module")
def hardened(name: str) -> Iterator[Report]:
    with serve(name, "hardened") as target:
        yield scan_target(target)


def test_vulnerable_variant_gives_exactly_its_ground_truth(name: str, vulnerable: Report) -> None:
    result = score(name, vulnerable)
    assert sorted(result.missed) == [] and sorted(result.unexpected) == []


def test_hardened_variant_gives_no_finding(hardened: Report) -> None:
    assert finding_pairs(hardened) == set()


def test_every_item_operation_reached_a_real_object(vulnerable: Report, hardened: Report) -> None:
    for report in (vulnerable, hardened):
        probed = {f"{c.operation.method} {c.operation.path}": c for c in report.coverage}
        for key, c in probed.items():
            if c.status != "skipped":
                assert (c.status, c.baseline_status) == ("probed", 200), key


def test_bola_evidence_names_where_the_identifier_came_from(name: str, vulnerable: Report) -> None:
    snippets = {
        f.operation.path: f.evidence.snippet
        for f in vulnerable.findings
        if f.rule == "SD212" and f.operation and f.evidence
    }
    if name == "fastapi":
        assert snippets["/api/documents/{slug}"].startswith(
            "B's own GET /api/users/me (200) did not list slug=alice-tax-return-2023"
        )
        assert snippets["/api/orders/{order_number}"].startswith(
            "B's own GET /api/orders (200) did not list order_number=SO-7F3K2"
        )
    else:
        assert snippets["/passphrase/{username}"].startswith(
            "A's token claims carry username=alice and B's do not"
        )
        assert snippets["/orders/{orderNumber}"].startswith(
            "A's GET /users/{userId}/orders for A's own userId=7 (from A's token) listed "
            "orderNumber=A-100482"
        )


@pytest.mark.parametrize("variant", ["vulnerable", "hardened"])
def test_fastapi_multipart_upload_under_unsafe(variant: str) -> None:
    with serve("fastapi", variant) as target:  # type: ignore[arg-type]
        report = scan_target(target, unsafe=True)
    if variant == "hardened":
        assert finding_pairs(report) == set()
        return
    result = score("fastapi", report, unsafe=True)
    assert sorted(result.missed) == [] and sorted(result.unexpected) == []
    [upload] = [f for f in report.findings if f.rule == "SD201"]
    assert upload.severity is Severity.CRITICAL
    assert (
        upload.evidence is not None and "multipart/form-data; boundary=" in upload.evidence.request
    )


def test_an_item_nobody_can_reach_is_named_in_the_coverage() -> None:
    with serve("fastapi", "hardened") as target:
        # -p names an order that does not exist: no attempt reaches a real object
        report = scan_target(target, params=(("order_number", "SO-NOPE"),))
    [order] = [c for c in report.coverage if c.operation.path == "/api/orders/{order_number}"]
    assert (order.status, order.baseline_status) == ("not reached", 404)
    assert order.reason == "no real object reached (baseline 404): pass -p order_number=VALUE"
