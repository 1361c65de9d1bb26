"""--unsafe against private twins: destructive requests touch only what specdiff created.

The demo document has no create operation for orders (no ``POST /orders``), so under
``--unsafe`` its ``DELETE /orders/{order_id}`` has no object specdiff created to aim at: it is
skipped with a coverage note, and every seeded order survives. ``POST /users`` does create a
user, which the report lists as not cleaned up (the document has no ``DELETE /users/{id}``).
Creating and deleting objects end to end is proven on ``tests/e2e/gate_app.py``.
"""

from __future__ import annotations

import httpx
import pytest

from specdiff.demo.data import ORDERS
from specdiff.demo.serve import serve_twin
from specdiff.engine import scan
from specdiff.safety import SENTINELS
from tests.e2e.conftest import finding_keys, twin_config


@pytest.mark.parametrize("kind", ["vulnerable", "hardened"])
def test_unsafe_keeps_every_seeded_order_and_lists_what_it_created(kind: str) -> None:
    with serve_twin(kind) as twin:  # type: ignore[arg-type]
        report = scan(twin_config(twin, unsafe=True))
        log = twin.log.entries()
        with httpx.Client(base_url=twin.https_url, verify=twin.ssl_context()) as client:
            left = {
                order["id"]
                for token in (twin.token, twin.token_b)
                for order in client.get(
                    "/orders", headers={"Authorization": f"Bearer {token}"}
                ).json()["items"]
            }
    assert left == {o.id for o in ORDERS}
    deletes = [e for e in log if e.method == "DELETE"]
    # no DELETE with a credential; the anonymous ones name ids that cannot exist
    assert all(e.header("Authorization") is None for e in deletes)
    assert all(any(s in e.path for s in SENTINELS) for e in deletes)
    coverage = {f"{c.operation.method} {c.operation.path}": c for c in report.coverage}
    delete = coverage["DELETE /orders/{order_id}"]
    assert delete.status == "skipped" and delete.requests == 0
    assert "no POST /orders to create one" in delete.reason
    # the users POST /users created (its baseline, and the provocations it accepted) are
    # listed, and why they are still there
    assert report.created
    for created in report.created:
        assert (created.created_by, created.cleaned) == ("POST /users", False)
        assert created.path.startswith("/users/") and "no DELETE" in created.note
    if kind == "vulnerable":  # probed before anything else: the anonymous read still fires
        assert ("SD201", "GET /orders/{order_id}", "") in finding_keys(report, ["SD201"])
    else:
        assert finding_keys(report, ["SD201"]) == set()
