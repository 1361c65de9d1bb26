"""specdiff against APIs of other stacks than the demo twins (issue 12): a FastAPI app served by
uvicorn, and an Express app started with node, each a vulnerable and a hardened variant.

The vulnerable variant must give exactly its ground truth (``truth.json``: recall and precision
1.0), the hardened one nothing; each is checked as a new user would check it (two users' tokens
and the JWT secret). One scan per variant and mode, shared by the assertions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from specdiff.model import Report, Severity
from tests.stacks.targets import (
    LoggedRequest,
    Variant,
    express_missing,
    finding_pairs,
    scan_target,
    score,
    seeded_state,
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


@dataclass(frozen=True)
class Scanned:
    """A safe-mode scan of a variant, with what the target itself saw."""

    report: Report
    requests: list[LoggedRequest]
    """The target's own request log of the scan (the seeded-state checks excluded)."""
    before: dict[str, object]
    after: dict[str, object]
    """The seeded objects, asked by their owners before and after the scan."""


def _scanned(name: str, variant: Variant) -> Scanned:
    with serve(name, variant) as target:
        before = seeded_state(target)
        start = len(target.requests())
        report = scan_target(target)
        requests = target.requests()[start:]
        return Scanned(report, requests, before, seeded_state(target))


@pytest.fixture(scope="module")
def vulnerable_run(name: str) -> Scanned:
    return _scanned(name, "vulnerable")


@pytest.fixture(scope="module")
def hardened_run(name: str) -> Scanned:
    return _scanned(name, "hardened")


@pytest.fixture(scope="module")
def vulnerable(vulnerable_run: Scanned) -> Report:
    return vulnerable_run.report


@pytest.fixture(scope="module")
def hardened(hardened_run: Scanned) -> Report:
    return hardened_run.report


def test_vulnerable_variant_gives_exactly_its_ground_truth(name: str, vulnerable: Report) -> None:
    result = score(name, vulnerable)
    assert sorted(result.missed) == [] and sorted(result.unexpected) == []


def test_hardened_variant_gives_no_finding(hardened: Report) -> None:
    assert finding_pairs(hardened) == set()


@pytest.mark.parametrize("variant", ["vulnerable", "hardened"])
def test_safe_mode_changed_nothing_and_sent_no_credential_with_an_unsafe_method(
    name: str, variant: str, request: pytest.FixtureRequest
) -> None:
    """The targets' own request logs: every POST/PUT/PATCH/DELETE went without a credential,
    nothing went over plain HTTP with one, and every seeded object is still there, the same,
    even where the vulnerable variant answered an anonymous unsafe request 2xx."""
    run: Scanned = request.getfixturevalue(f"{variant}_run")
    unsafe = [r for r in run.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert any(r.method == "DELETE" for r in unsafe)
    for entry in unsafe:
        assert entry.authorization is None and entry.cookie is None, entry
    for entry in run.requests:
        if entry.scheme == "http" and name == "express":  # its plain-HTTP redirector
            assert entry.authorization is None and entry.cookie is None, entry
    assert run.after == run.before
    assert all(status == 200 for status, _ in run.after.values())  # type: ignore[misc]
    served = {(r.method, r.status) for r in unsafe if 200 <= r.status < 300}
    if name == "express" and variant == "vulnerable":
        assert served == {("DELETE", 204)}  # for a note that does not exist: nothing went
    else:
        assert served == set()


def test_unsafe_operations_are_judged_by_what_their_handlers_did(
    name: str, vulnerable_run: Scanned
) -> None:
    by_rule = {
        (f.rule, f"{f.operation.method} {f.operation.path}"): f
        for f in vulnerable_run.report.findings
        if f.operation and f.operation.method == "DELETE"
    }
    logged = {(r.method, r.path): r.status for r in vulnerable_run.requests}
    if name == "fastapi":
        looked_up = by_rule[("SD208", "DELETE /api/orders/{order_number}")]
        absent = "/api/orders/specdiff-absent-0000"
        # the handler's 404 for the absent order, where the same path's GET refuses with 401
        assert (logged[("DELETE", absent)], logged[("GET", absent)]) == (404, 401)
        assert looked_up.evidence is not None
        assert f"GET {absent} -> 401 (the same stranger, refused)" in looked_up.evidence.snippet
        assert by_rule[("SD306", "DELETE /api/documents/{slug}")].key == "401"
    else:
        # the filter answers 204 for any id: the invalid one and the absent one alike, and the
        # first served is the one SD201 reports (critical: a write nobody authenticated)
        invalid, absent = (
            "/api/v2/notes/specdiff-invalid-0000",
            "/api/v2/notes/specdiff-absent-0000",
        )
        assert (logged[("DELETE", invalid)], logged[("DELETE", absent)]) == (204, 204)
        served = by_rule[("SD201", "DELETE /notes/{noteId}")]
        assert served.severity is Severity.CRITICAL
        assert served.evidence is not None and served.evidence.status == 204
        redirect = by_rule[("SD105", "DELETE /notes/{noteId}")]
        assert redirect.evidence is not None and redirect.evidence.status == 302


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
    [order] = [
        c
        for c in report.coverage
        if (c.operation.method, c.operation.path) == ("GET", "/api/orders/{order_number}")
    ]
    assert (order.status, order.baseline_status) == ("not reached", 404)
    assert order.reason == "no real object reached (baseline 404): pass -p order_number=VALUE"
