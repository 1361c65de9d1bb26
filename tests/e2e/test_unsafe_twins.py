"""--unsafe against private twins: destructive operations are probed without hiding breaches.

A DELETE baseline (with credentials) removes its own object, so the anonymous SD201 variant goes
to a second harvested object; destructive operations run after every other one, so nothing they
delete was still to be probed.
"""

from __future__ import annotations

from specdiff.demo.serve import serve_twin
from specdiff.engine import scan
from specdiff.model import Severity
from specdiff.mutate import MALFORMED_JSON
from tests.e2e.conftest import finding_keys, twin_config


def test_vulnerable_anonymous_delete_is_critical_sd201() -> None:
    with serve_twin("vulnerable") as twin:
        report = scan(twin_config(twin, unsafe=True))
        deletes = [e for e in twin.log.entries() if e.method == "DELETE" and e.scheme == "https"]
    sd201 = {key for key in finding_keys(report, ["SD201"])}
    assert ("SD201", "DELETE /orders/{order_id}", "") in sd201
    assert ("SD201", "GET /orders/{order_id}", "") in sd201  # probed before anything was deleted
    finding = next(
        f
        for f in report.findings
        if f.rule == "SD201" and f.operation and f.operation.method == "DELETE"
    )
    assert finding.severity is Severity.CRITICAL and finding.evidence is not None
    # SD501 asks paths that declare no DELETE: anonymously, with a body no parser accepts,
    # never with credentials, even under --unsafe (RULES.md SD501)
    undeclared = [e for e in deletes if not e.path.startswith("/orders/")]
    assert undeclared and all(
        e.header("Authorization") is None and e.body == MALFORMED_JSON for e in undeclared
    )
    anonymous = [
        e
        for e in deletes
        if e.header("Authorization") is None
        and e.path.startswith("/orders/")
        and "specdiff-" not in e.path
    ]
    with_token = [e for e in deletes if e.header("Authorization") is not None]
    # the baseline deleted one object with the token, the variant another one without
    assert len(with_token) >= 1 and len(anonymous) == 1
    assert anonymous[0].path not in {e.path for e in with_token}


def test_hardened_refuses_the_anonymous_delete() -> None:
    with serve_twin("hardened") as twin:
        report = scan(twin_config(twin, unsafe=True))
    assert finding_keys(report, ["SD201"]) == set()
