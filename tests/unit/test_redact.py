"""Redaction: no credential survives in any report field; curl lines use variables."""

from __future__ import annotations

import base64

from specdiff.config import Credentials
from specdiff.model import Confidence, Evidence, Finding, Severity
from specdiff.redact import MASK, Redactor, mask_value

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"


def _finding(text: str, curl: str) -> Finding:
    return Finding(
        rule="SD201",
        kind="k",
        title="t",
        severity=Severity.HIGH,
        confidence=Confidence.FIRM,
        message=text,
        key=text,
        evidence=Evidence(request=text, status=200, snippet=text, curl=curl),
    )


def test_every_text_field_is_redacted_and_curl_gets_variables() -> None:
    creds = Credentials.build(
        token=TOKEN, headers=(("X-Api-Key", "key-123456"),), query=(("api_key", "q s&1"),)
    )
    redactor = creds.redactor()
    text = f"Authorization: Bearer {TOKEN}\nX-Api-Key: key-123456\n?api_key=q+s%261 echoed {TOKEN}"
    curl = f'curl -sS "https://h/x?api_key=q+s%261" -H "Authorization: Bearer {TOKEN}" -H "X-Api-Key: key-123456"'
    out = redactor.finding(_finding(text, curl))
    assert out.evidence is not None
    for field in (
        out.message,
        out.key,
        out.evidence.request,
        out.evidence.snippet,
        out.evidence.curl,
    ):
        assert TOKEN not in field and "key-123456" not in field and "q+s%261" not in field
    assert out.evidence.snippet.count(MASK) == 4
    assert out.evidence.curl == (
        'curl -sS "https://h/x?api_key=${SPECDIFF_QUERY_API_KEY}" '
        '-H "Authorization: Bearer ${SPECDIFF_TOKEN}" -H "X-Api-Key: ${SPECDIFF_HEADER_X_API_KEY}"'
    )


def test_basic_credentials_are_redacted_decoded_too() -> None:
    pair = "alice:s3cret-pw"
    header = "Basic " + base64.b64encode(pair.encode()).decode()
    redactor = Redactor([(header, "SPECDIFF_HEADER_AUTHORIZATION")])
    assert redactor.redact(f"got {header} and {pair}") == f"got {MASK} and {MASK}"


def test_short_values_are_not_redacted_everywhere() -> None:
    redactor = Redactor([("ab", "X")])
    assert redactor.redact("abc ab") == "abc ab"


def test_mask_value_never_shows_a_whole_value() -> None:
    assert mask_value("536-22-8415") == "53******15 (11 chars)"
    assert mask_value("short") == "<string, 5 chars>"
    assert mask_value(4111111111111111) == "<number, 16 digits>"
    assert mask_value({"a": 1}) == "<object with 1 keys>"


def test_body_snippets_mask_personal_and_secret_values() -> None:
    from specdiff.probe import body_snippet
    from tests.builders import exchange

    body = {"id": 1, "ssn": "536-22-8415", "emails": ["alice@example.com"], "note": "hi"}
    text = body_snippet(exchange(200, body))
    assert "536-22-8415" not in text and "alice@example.com" not in text
    assert '"id": 1' in text and '"note": "hi"' in text and '"ssn": "53******15 (11 chars)"' in text
    html = body_snippet(
        exchange(
            200,
            "<p>key sk_live_4eC39HqLyjWDarjtT1zdp7dc</p>",
            headers={"Content-Type": "text/html"},
        )
    )
    assert html.startswith("<") and "withheld" in html and "sk_live" not in html
    assert (
        body_snippet(exchange(404, "not found", headers={"Content-Type": "text/plain"}))
        == "not found"
    )
