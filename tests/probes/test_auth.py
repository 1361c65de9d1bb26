"""SD201 on recorded exchanges: fire and stay silent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from probes.auth import MissingCredentialsAccepted
from specdiff.model import AuthMode, Confidence, PlannedRequest, Severity
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.variant import Variant, VariantKind
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

DOC = minimal_doc(
    {
        "/open": {"get": {"security": [], "responses": ok_json({"type": "object"})}},
        "/secured": {
            "get": {"responses": ok_json({"type": "object"})},
            "delete": {"responses": {"204": {"description": "x"}}},
        },
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)
NO_CREDS = PlannedRequest(
    "GET",
    "/secured",
    auth=AuthMode.NONE,
    probe="SD201",
    variant=Variant(VariantKind.NO_CREDENTIALS),
)


def _ctx(api, baseline_status=200, *, creds=True, unsafe=False, baseline_body=None):  # type: ignore[no-untyped-def]
    base = PlannedRequest("GET", "/secured")
    ex = (
        exchange(
            baseline_status, baseline_body if baseline_body is not None else {"id": 1}, request=base
        )
        if baseline_status
        else None
    )
    return ProbeContext(api, ProbeOptions(unsafe=unsafe, has_credentials=creds), base, ex)


def test_plans_a_credential_free_copy_of_a_successful_baseline(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    probe = MissingCredentialsAccepted()
    [req] = probe.plan(operation(api, "GET /secured"), _ctx(api))
    assert req.auth is AuthMode.NONE and req.path == "/secured" and req.purpose == "no-credentials"
    assert list(probe.plan(operation(api, "GET /open"), _ctx(api))) == []  # open by spec
    assert list(probe.plan(operation(api, "GET /secured"), _ctx(api, 401))) == []  # baseline failed
    assert list(probe.plan(operation(api, "DELETE /secured"), _ctx(api))) == []  # unsafe
    # a DELETE baseline removed its object: the anonymous DELETE goes to the spare, or nowhere
    delete = operation(api, "DELETE /secured")
    assert list(probe.plan(delete, _ctx(api, unsafe=True))) == []
    spare = PlannedRequest("DELETE", "/secured/2")
    with_spare = dataclasses.replace(_ctx(api, unsafe=True), spare=spare)
    [anonymous] = probe.plan(delete, with_spare)
    assert anonymous.path == "/secured/2" and anonymous.auth is AuthMode.NONE


@pytest.mark.parametrize(
    ("status", "body", "fires"),
    [
        (200, {"id": 1}, True),
        (204, b"", False),  # baseline was JSON, a bodiless 204 is not the resource
        (401, {"error": "unauthorized"}, False),
        (403, {"error": "forbidden"}, False),
        (404, {"error": "not found"}, False),
        (200, "<html>please log in</html>", False),  # login page served with 200
        (None, None, False),
    ],
)
def test_judging(tmp_path: Path, status, body, fires) -> None:  # type: ignore[no-untyped-def]
    api = api_of(tmp_path, DOC)
    headers = {"Content-Type": "text/html"} if isinstance(body, str) else {}
    ex = exchange(status, body, request=NO_CREDS, headers=headers)
    findings = list(
        MissingCredentialsAccepted().judge(operation(api, "GET /secured"), _ctx(api), [ex])
    )
    assert [f.rule for f in findings] == (["SD201"] if fires else [])
    if fires:
        assert (
            findings[0].severity is Severity.HIGH and findings[0].confidence is Confidence.CERTAIN
        )


def test_silent_when_the_baseline_failed_even_if_the_variant_succeeds(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    ex = exchange(200, {"id": 1}, request=NO_CREDS)
    assert (
        list(
            MissingCredentialsAccepted().judge(operation(api, "GET /secured"), _ctx(api, 500), [ex])
        )
        == []
    )


def test_unsafe_method_is_critical(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    ex = exchange(200, {"deleted": True}, request=NO_CREDS)
    [f] = MissingCredentialsAccepted().judge(
        operation(api, "DELETE /secured"), _ctx(api, unsafe=True), [ex]
    )
    assert f.severity is Severity.CRITICAL


def test_without_user_credentials_the_baseline_itself_is_judged(tmp_path: Path) -> None:
    api = api_of(tmp_path, DOC)
    [f] = MissingCredentialsAccepted().judge(
        operation(api, "GET /secured"), _ctx(api, creds=False), []
    )
    assert f.confidence is Confidence.FIRM
    assert (
        list(
            MissingCredentialsAccepted().judge(
                operation(api, "GET /open"), _ctx(api, creds=False), []
            )
        )
        == []
    )


def test_without_credentials_an_open_route_is_one_finding_not_two(tmp_path: Path) -> None:
    """No credentials given: the anonymous baseline of a secured operation answered 2xx. That is
    SD201; SD202 (a random token accepted) would only repeat the same cause, so it plans nothing."""
    from probes.auth import InvalidTokenAccepted

    api = api_of(tmp_path, DOC)
    op, ctx = operation(api, "GET /secured"), _ctx(api, creds=False)
    assert len(list(MissingCredentialsAccepted().judge(op, ctx, []))) == 1
    assert list(InvalidTokenAccepted().plan(op, ctx)) == []
    # with credentials and a refused anonymous request, SD202 still asks
    assert list(InvalidTokenAccepted().plan(op, _ctx(api, creds=True)))
