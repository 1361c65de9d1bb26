"""A credential specdiff made (forged, random, canary, moved) that the API accepted is a credential:
the runner reports it, the redactor scrubs it, and evidence describes it without carrying it."""

from __future__ import annotations

import asyncio

import httpx
import jwt
import pytest

from probes.jwt_tokens import UnsignedJwtAccepted, forgery
from specdiff.config import AuthMaterial, Credentials
from specdiff.engine import WORKING_CREDENTIAL_ENV
from specdiff.jwtkit import alg_none, parse_jwt
from specdiff.model import AuthMode, PlannedRequest
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.redact import Redactor
from specdiff.runner import Runner, make_client
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation

TOKEN = jwt.encode(
    {"sub": "alice", "email": "alice@example.com", "uid": 1}, "k" * 40, algorithm="HS256"
)


def _accepted_by(status: int, req: PlannedRequest) -> list[str]:
    reported: list[str] = []

    async def main() -> None:
        transport = httpx.MockTransport(lambda r: httpx.Response(status, json={}))
        async with make_client(transport=transport) as client:
            runner = Runner(
                client,
                base_url="https://api.test",
                on_working_credential=reported.append,
            )
            await runner.send(req)

    asyncio.run(main())
    return reported


@pytest.mark.parametrize(("status", "reported"), [(200, True), (204, True), (401, False)])
def test_the_runner_reports_a_placed_credential_the_api_accepted(
    status: int, reported: bool
) -> None:
    forged = PlannedRequest(
        "GET",
        "/me",
        headers=(("Authorization", "Bearer forged.token.value"),),
        auth=AuthMode.CUSTOM,
        credential="forged.token.value",
    )
    assert _accepted_by(status, forged) == (["forged.token.value"] if reported else [])
    # a request that placed no credential of its own reports nothing, whatever it got
    assert _accepted_by(200, PlannedRequest("GET", "/health", auth=AuthMode.NONE)) == []


def test_a_working_forgery_is_redacted_and_named_in_curl_lines() -> None:
    redactor = Redactor()
    redactor.add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", WORKING_CREDENTIAL_ENV)
    line = 'curl -H "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."'
    assert redactor.redact_curl(line) == (
        'curl -H "Authorization: Bearer ${SPECDIFF_FORGED_CREDENTIAL}"'
    )
    assert "eyJzdWIiOiJhbGljZSJ9" not in redactor.redact(f"sent {line}")


def test_forgery_describes_the_token_without_it() -> None:
    parsed = parse_jwt(TOKEN)
    assert parsed is not None
    unsigned = alg_none(parsed, "none")
    text = forgery(unsigned, "alg none")
    assert text == (
        'forged JWT (alg none), withheld: header {"alg": "none", "typ": "JWT"}, '
        'claims {"email": "al******om (17 chars)", "sub": "alice", "uid": 1}'
    )
    assert unsigned not in text
    assert forgery("not-a-jwt", "random") == "forged credential (random), withheld"


def test_jwt_variant_evidence_carries_the_description(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    doc = minimal_doc(
        {"/me": {"get": {"responses": ok_json({"type": "object"})}}},
        security=[{"bearer": []}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    api = api_of(tmp_path_factory.mktemp("forgery"), doc)
    op = operation(api, "GET /me")
    base = PlannedRequest("GET", "/me")
    auth = AuthMaterial(credentials=Credentials.build(token=TOKEN))
    ctx = ProbeContext(
        api, ProbeOptions(has_credentials=True, auth=auth), base, exchange(200, {}, request=base)
    )
    probe = UnsignedJwtAccepted()
    [first, *_] = probe.plan(op, ctx)
    assert first.credential is not None and first.credential.endswith(".")
    [finding] = probe.judge(op, ctx, [exchange(200, {"id": 1}, request=first)])
    assert finding.evidence is not None
    assert finding.evidence.snippet.startswith("forged JWT (an unsigned (alg none) copy")
    assert '"alg": "none"' in finding.evidence.snippet
    assert "alice@example.com" not in finding.evidence.snippet
