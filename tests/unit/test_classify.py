"""specdiff.classify: personal data and secrets judged from property names and values."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest

from specdiff.classify import Classification, classify_field, classify_value, name_signal
from specdiff.model import Confidence
from tests.unit.classifier_cases import (
    AWS_KEY_ID,
    BCRYPT_2B,
    CASES,
    GITHUB_PAT,
    JWT,
    KNOWN_MISSES,
    PEM_RSA,
    STRIPE_LIVE,
    Case,
    Expected,
)

PII_KINDS = {
    "email",
    "phone",
    "national_id",
    "tax_id",
    "passport",
    "date_of_birth",
    "postal_address",
    "card_number",
    "card_security_code",
    "iban",
    "ip_address",
    "geo_location",
}
SECRET_KINDS = {
    "password",
    "password_hash",
    "api_key",
    "access_token",
    "refresh_token",
    "jwt",
    "private_key",
    "client_secret",
    "session_id",
    "secret",
}


def _label(got: Classification | None) -> Expected:
    return None if got is None else (got.category, got.kind)


def _param(case: Case) -> object:
    name, value, expected = case
    case_id = f"{name}={type(value).__name__}->{expected[1] if expected else 'none'}"
    reason = KNOWN_MISSES.get((name, repr(value)))
    if reason is None:
        return pytest.param(name, value, expected, id=case_id)
    return pytest.param(
        name, value, expected, id=case_id, marks=pytest.mark.xfail(strict=True, reason=reason)
    )


# --------------------------------------------------------------------------- the labelled table


@pytest.mark.parametrize(("name", "value", "expected"), [_param(c) for c in CASES])
def test_labelled_case(name: str, value: object, expected: Expected) -> None:
    assert _label(classify_field(name, value)) == expected


def test_table_is_large_and_covers_every_kind() -> None:
    positives = [e for _, _, e in CASES if e is not None]
    decoys = [c for c in CASES if c[2] is None]
    assert len(CASES) >= 200
    assert len(positives) >= 100
    assert len(decoys) >= 100
    assert {k for c, k in positives if c == "pii"} == PII_KINDS
    assert {k for c, k in positives if c == "secret"} == SECRET_KINDS
    assert all(key in {(n, repr(v)) for n, v, _ in CASES} for key in KNOWN_MISSES)


def test_precision_and_recall_over_the_table_are_at_least_98_percent() -> None:
    tp = fp = fn = 0
    for name, value, expected in CASES:
        got = _label(classify_field(name, value))
        if expected is not None and got == expected:
            tp += 1
            continue
        fp += got is not None
        fn += expected is not None
    assert tp / (tp + fp) >= 0.98
    assert tp / (tp + fn) >= 0.98


def test_every_classification_is_well_formed() -> None:
    for name, value, _ in CASES:
        got = classify_field(name, value)
        if got is None:
            continue
        assert got.category in ("pii", "secret")
        assert got.kind in (PII_KINDS if got.category == "pii" else SECRET_KINDS)
        assert isinstance(got.confidence, Confidence)
        assert got.reason


# --------------------------------------------------------------------------- the reason


def test_reason_never_contains_the_value() -> None:
    for name, value, _ in CASES:
        got = classify_field(name, value)
        if got is not None and isinstance(value, str):
            assert value.strip() not in got.reason, name
        if isinstance(value, str) and (found := classify_value(value)) is not None:
            assert value.strip() not in found.reason


def test_reason_drops_the_name_when_the_name_contains_the_value() -> None:
    got = classify_field("my_password", "my_p")
    assert got is not None
    assert got.kind == "password"
    assert "my_p" not in got.reason
    assert got.reason == "the property name and non-empty value"


def test_reason_names_the_property_and_the_evidence() -> None:
    got = classify_field("password_hash", BCRYPT_2B)
    assert got == Classification(
        "secret", "password_hash", Confidence.CERTAIN, "name 'password_hash' and bcrypt hash value"
    )


# --------------------------------------------------------------------------- nothing exposed


@pytest.mark.parametrize("value", [None, True, False, "", "   ", [], {}, {"a": None}, [None, ""]])
@pytest.mark.parametrize("name", ["password", "ssn", "email", "phone", "api_key", "address"])
def test_empty_null_and_boolean_values_expose_nothing(name: str, value: object) -> None:
    assert classify_field(name, value) is None


@pytest.mark.parametrize(
    "value",
    [
        "********",
        "***",
        "[REDACTED]",
        "<redacted>",
        "REDACTED",
        "[FILTERED]",
        "••••••••",
        "****4242",
        "sk_live_****abcd",
        "XXXX-XXXX-XXXX-4242",
        "xxxxxxxx",
        "${SECRET_VALUE}",
        "<password>",
        "{{ api_key }}",
    ],
)
@pytest.mark.parametrize("name", ["password", "api_key", "token", "card_number", "ssn", "email"])
def test_masked_and_placeholder_values_are_none(name: str, value: str) -> None:
    assert classify_field(name, value) is None


def test_values_of_other_types_are_none() -> None:
    assert classify_field("password", b"hunter22") is None
    assert classify_field("password", object()) is None
    assert classify_field("lat", float("nan")) is None


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("5500 0055 5555 5559", True),
        ("5500 0055 5555 5558", False),
        ("378282246310005", True),
        ("378282246310006", False),
        ("0000000000000000", False),  # passes Luhn, but nobody's card
        ("1234", False),
    ],
)
def test_luhn_decides_card_numbers(number: str, valid: bool) -> None:
    got = classify_field("card_number", number)
    assert (got is not None) is valid
    if got is not None:
        assert (got.kind, got.confidence) == ("card_number", Confidence.CERTAIN)


def test_card_brand_rules_apply_only_without_a_card_name() -> None:
    luhn_valid_no_brand = "1234567812345670"
    assert _label(classify_field("card_number", luhn_valid_no_brand)) == ("pii", "card_number")
    assert classify_field("value", luhn_valid_no_brand) is None
    assert _label(classify_field("value", "4111111111111111")) == ("pii", "card_number")
    # identifiers that pass Luhn are not cards, unless printed like one
    assert classify_field("order_number", "4111111111111111") is None
    assert classify_field("invoice_id", "4111111111111111") is None
    assert _label(classify_field("reference", "4111 1111 1111 1111")) == ("pii", "card_number")


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("DE89 3704 0044 0532 0130 00", True),
        ("DE89370400440532013001", False),  # one digit off
        ("DE88370400440532013000", False),  # wrong check digits
        ("DE8937040044053201300", False),  # too short for DE
        ("GB82WEST12345698765432", True),
        ("GB82WEST12345698765433", False),
    ],
)
def test_mod_97_decides_ibans(iban: str, valid: bool) -> None:
    assert (_label(classify_field("iban", iban)) == ("pii", "iban")) is valid
    assert (_label(classify_field("note", iban)) == ("pii", "iban")) is valid


def test_iban_of_a_country_without_known_length_needs_an_iban_name() -> None:
    saint_lucia = "LC55HEMM000100010012001200023015"
    assert _label(classify_field("iban", saint_lucia)) == ("pii", "iban")
    assert classify_field("note", saint_lucia) is None


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("123-45-6789", True),
        ("123456789", True),
        ("123 45 6789", True),
        ("000-45-6789", False),  # area 000
        ("666-45-6789", False),  # area 666
        ("900-45-6789", False),  # area 9xx
        ("999-45-6789", False),
        ("123-00-6789", False),  # group 00
        ("123-45-0000", False),  # serial 0000
        ("123-456-789", False),
        ("12-345-6789", False),
        ("123-45-67890", False),
    ],
)
def test_ssn_area_group_and_serial_rules(ssn: str, valid: bool) -> None:
    got = classify_field("ssn", ssn)
    assert (_label(got) == ("pii", "national_id")) is valid


def test_an_ssn_shaped_value_needs_an_ssn_name() -> None:
    assert classify_field("reference", "123-45-6789") is None
    assert classify_value("my ssn is 123-45-6789") is None


def _segment(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("token", "is_jwt"),
    [
        (JWT, True),
        (_segment({"alg": "none"}) + "." + _segment({"sub": "1"}) + ".", True),  # unsigned
        (_segment({"typ": "JWT"}) + "." + _segment({"sub": "1"}) + ".c2ln", False),  # no alg
        (_segment({"alg": 1}) + "." + _segment({"sub": "1"}) + ".c2ln", False),  # alg not text
        ("eyJub3QganNvbg." + _segment({"sub": "1"}) + ".c2ln", False),  # header not JSON
        (_segment({"alg": "HS256"}) + "." + _segment({"sub": "1"}), False),  # two segments
        ("eyJhbGciOiJIUzI1NiJ9x.abc.def", False),  # header not base64url-decodable
    ],
)
def test_jwt_structure(token: str, is_jwt: bool) -> None:
    got = classify_value(token)
    assert (_label(got) == ("secret", "jwt")) is is_jwt
    if is_jwt:
        assert got is not None and got.confidence is Confidence.CERTAIN


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("$2b$12$" + "EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW", "password_hash"),
        ("$2b$12$" + "EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31l", None),  # 52 chars
        (
            "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "password_hash",
        ),
        (
            "pbkdf2_sha256$600000$abcd1234$" + "wIqtH/+OuEBuL4p/xMzk3Z8LQRDZ8voAJcjv5X83ck8=",
            "password_hash",
        ),
        (
            "pbkdf2:sha256:600000$abcd1234$" + "b5b7a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec2",
            "password_hash",
        ),
        ("$pbkdf2-sha256$29000$N2ZMqNW6N/Q$" + "Xt5EWLLDS7FJjR1cXt5EWLLDS7FJjR1c", "password_hash"),
        (
            "-----BEGIN OPENSSH "
            + "PRIVATE KEY-----\n"
            + "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2g",
            "private_key",
        ),
        ("-----BEGIN RSA " + "PRIVATE KEY-----", None),  # a header alone is no key
        (AWS_KEY_ID, "api_key"),
        ("AKIA" + "IOSFODNN7EXAMPL", None),  # one character short
        (GITHUB_PAT, "access_token"),
        ("xoxp-" + "1234567890-abcdefghij", "access_token"),
        ("AIza" + "YY_kv5ZJr3J1TWDtkwtDDb-xHKas1VOqg6Y", "api_key"),
        ("pk_" + "live_" + "R0CsTy4Qwb8DwkNhFdnXsiVp", None),  # publishable by design
    ],
)
def test_value_signals(value: str, kind: str | None) -> None:
    got = classify_value(value)
    assert (got.kind if got else None) == kind
    if got is not None:
        assert got.category == "secret"


# --------------------------------------------------------------------------- classify_value


def test_classify_value_finds_a_key_inside_a_sentence() -> None:
    got = classify_value(f"Sure! your key is {STRIPE_LIVE} - keep it safe.")
    assert got is not None
    assert (got.category, got.kind, got.confidence) == ("secret", "api_key", Confidence.CERTAIN)
    assert STRIPE_LIVE not in got.reason


def test_classify_value_finds_an_email_in_free_text() -> None:
    got = classify_value("Please contact Jane (jane.doe@example.org) about the refund.")
    assert got is not None
    assert (got.category, got.kind) == ("pii", "email")
    assert "jane.doe" not in got.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your card 4111 1111 1111 1111 was charged", ("pii", "card_number")),
        ("Your card 4111-1111-1111-1111 was charged", ("pii", "card_number")),
        ("Order 1234567812345670 shipped", None),  # Luhn-valid, no card brand
        ("Wire to GB82 WEST 1234 5698 7654 32 today", ("pii", "iban")),
        ("Wire to GB82 WEST 1234 5698 7654 33 today", None),
        ("The token is " + JWT, ("secret", "jwt")),
        ("stored hash " + BCRYPT_2B + " in db", ("secret", "password_hash")),
        ("key:\n" + PEM_RSA, ("secret", "private_key")),
        ("Your temporary password is Xk93-pq7T", ("secret", "password")),
        ("Password must be at least 8 characters", None),
        ("Contact support@acme.com or noreply@acme.com", None),
        ("Clone git@github.com:octocat/Hello-World.git", None),
        ("Use icon@2x.png and lodash@4.17.21", None),
        ("postgres://app:Pg9xQ2mL7v@db.internal:5432/app", ("secret", "password")),
        ("postgres://user:password@localhost/db", None),
        ("hunter22", None),  # a value alone is no password: classify_value knows no names
        ("The quick brown fox", None),
        ("", None),
    ],
)
def test_classify_value(text: str, expected: Expected) -> None:
    assert _label(classify_value(text)) == expected


def test_classify_value_ignores_a_phone_number_in_free_text() -> None:
    # deliberately not a value signal: digit runs in text are too often ids, dates, amounts
    assert classify_value("Call +1 415 555 2671") is None


# --------------------------------------------------------------------------- confidence


@pytest.mark.parametrize(
    ("name", "value", "confidence"),
    [
        ("password_hash", BCRYPT_2B, Confidence.CERTAIN),
        ("card_number", "4111111111111111", Confidence.CERTAIN),
        ("iban", "DE89370400440532013000", Confidence.CERTAIN),
        ("token", JWT, Confidence.CERTAIN),
        ("note", AWS_KEY_ID, Confidence.CERTAIN),
        ("email", "jane@example.com", Confidence.CERTAIN),
        ("note", "jane@example.com", Confidence.FIRM),
        ("password", "hunter22", Confidence.FIRM),
        ("ssn", "123-45-6789", Confidence.FIRM),
        ("dob", "1990-05-17", Confidence.FIRM),
        ("password", {"value": "hunter22"}, Confidence.FIRM),
        ("session", "a8Kj3Lm9Qp2Rs7Tv5Wx1Yz4B", Confidence.TENTATIVE),
        ("license_key", "a8Kj3Lm9Qp2Rs7Tv5Wx1Yz4B", Confidence.TENTATIVE),
    ],
)
def test_confidence(name: str, value: object, confidence: Confidence) -> None:
    got = classify_field(name, value)
    assert got is not None
    assert got.confidence is confidence


def test_weak_names_need_random_looking_values() -> None:
    assert classify_field("session", "default") is None
    assert classify_field("license_key", "community-edition") is None
    assert classify_field("session", {"id": 1, "duration": 30}) is None


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ssn", ("pii", "national_id")),
        ("SSN", ("pii", "national_id")),
        ("social_security_number", ("pii", "national_id")),
        ("socialSecurityNumber", ("pii", "national_id")),
        ("SocialSecurityNumber", ("pii", "national_id")),
        ("social-security-number", ("pii", "national_id")),
        ("SOCIAL_SECURITY_NUMBER", ("pii", "national_id")),
        ("user.ssn", ("pii", "national_id")),
        ("nationalId", ("pii", "national_id")),
        ("national_insurance_number", ("pii", "national_id")),
        ("nin", ("pii", "national_id")),
        ("cpf", ("pii", "national_id")),
        ("tax_id", ("pii", "tax_id")),
        ("tin", ("pii", "tax_id")),
        ("passport_number", ("pii", "passport")),
        ("dob", ("pii", "date_of_birth")),
        ("date_of_birth", ("pii", "date_of_birth")),
        ("birthDate", ("pii", "date_of_birth")),
        ("birthday", ("pii", "date_of_birth")),
        ("geburtsdatum", ("pii", "date_of_birth")),
        ("date_de_naissance", ("pii", "date_of_birth")),
        ("email", ("pii", "email")),
        ("e_mail", ("pii", "email")),
        ("eMail", ("pii", "email")),
        ("emailAddress", ("pii", "email")),
        ("correo", ("pii", "email")),
        ("phone", ("pii", "phone")),
        ("phone_number", ("pii", "phone")),
        ("mobile", ("pii", "phone")),
        ("msisdn", ("pii", "phone")),
        ("telefon", ("pii", "phone")),
        ("telefono", ("pii", "phone")),
        ("address", ("pii", "postal_address")),
        ("street", ("pii", "postal_address")),
        ("postal_code", ("pii", "postal_address")),
        ("zip", ("pii", "postal_address")),
        ("iban", ("pii", "iban")),
        ("card_number", ("pii", "card_number")),
        ("cardNumber", ("pii", "card_number")),
        ("pan", ("pii", "card_number")),
        ("credit_card", ("pii", "card_number")),
        ("cc_number", ("pii", "card_number")),
        ("cvv", ("pii", "card_security_code")),
        ("ip", ("pii", "ip_address")),
        ("ip_address", ("pii", "ip_address")),
        ("IPAddress", ("pii", "ip_address")),
        ("ipv4_address", ("pii", "ip_address")),
        ("client_ip", ("pii", "ip_address")),
        ("last_login_ip", ("pii", "ip_address")),
        ("lat", ("pii", "geo_location")),
        ("longitude", ("pii", "geo_location")),
        ("password", ("secret", "password")),
        ("passwd", ("secret", "password")),
        ("pwd", ("secret", "password")),
        ("pass", ("secret", "password")),
        ("passwort", ("secret", "password")),
        ("mot_de_passe", ("secret", "password")),
        ("contraseña", ("secret", "password")),
        ("contrasena", ("secret", "password")),
        ("senha", ("secret", "password")),
        ("password_hash", ("secret", "password_hash")),
        ("passwordHash", ("secret", "password_hash")),
        ("hashed_password", ("secret", "password_hash")),
        ("pw_hash", ("secret", "password_hash")),
        ("api_key", ("secret", "api_key")),
        ("apiKey", ("secret", "api_key")),
        ("x-api-key", ("secret", "api_key")),
        ("X-API-KEY", ("secret", "api_key")),
        ("secret", ("secret", "secret")),
        ("client_secret", ("secret", "client_secret")),
        ("secret_key", ("secret", "secret")),
        ("access_token", ("secret", "access_token")),
        ("accessToken", ("secret", "access_token")),
        ("refresh_token", ("secret", "refresh_token")),
        ("id_token", ("secret", "jwt")),
        ("token", ("secret", "access_token")),
        ("auth_token", ("secret", "access_token")),
        ("bearer", ("secret", "access_token")),
        ("session_id", ("secret", "session_id")),
        ("sessionid", ("secret", "session_id")),
        ("session_token", ("secret", "session_id")),
        ("private_key", ("secret", "private_key")),
        ("privateKey", ("secret", "private_key")),
        ("signing_key", ("secret", "private_key")),
        ("jwt", ("secret", "jwt")),
    ],
)
def test_name_signal(name: str, expected: Expected) -> None:
    assert name_signal(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "token_count",
        "max_tokens",
        "tokens_used",
        "prompt_tokens",
        "password_policy",
        "password_min_length",
        "password_changed_at",
        "password_reset_required",
        "has_password",
        "is_email_verified",
        "email_verified",
        "email_count",
        "secret_santa_enabled",
        "api_key_id",
        "token_type",
        "expires_in",
        "access_token_expires_at",
        "next_page_token",
        "csrf_token",
        "public_key",
        "publishable_key",
        "idempotency_key",
        "private_key_id",
        "key",  # needs its value to tell
        "session",  # likewise
        "location",  # only with coordinate-like values
        "ip_filtering_enabled",
        "mac_address",
        "wallet_address",
        "email_domain",
        "boarding_pass",
        "zip_url",
        "secrets",
        "secret_scanning",
        "organization_personal_access_tokens",  # a GitHub permission level
        "name",
        "first_name",
        "full_name",
        "username",
        "",
        "___",
    ],
)
def test_name_signal_ignores_metadata_and_plain_names(name: str) -> None:
    assert name_signal(name) is None


def test_address_qualifiers_change_the_kind() -> None:
    assert name_signal("email_address") == ("pii", "email")
    assert name_signal("ip_address") == ("pii", "ip_address")
    assert name_signal("remote_address") == ("pii", "ip_address")
    assert name_signal("billing_address") == ("pii", "postal_address")
    assert name_signal("mac_address") is None


# --------------------------------------------------------------------------- shape of the API


def test_classification_is_frozen_and_deterministic() -> None:
    first = classify_field("password", "hunter22")
    assert first is not None
    assert first == classify_field("password", "hunter22")
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.kind = "x"  # type: ignore[misc]


def test_containers_are_judged_by_name_and_content() -> None:
    assert _label(classify_field("password", {"hash": BCRYPT_2B})) == ("secret", "password")
    assert _label(classify_field("emails", [{"email": "a@example.com"}])) == ("pii", "email")
    assert classify_field("credentials", {"password": "hunter22"}) is None  # children judged
    assert classify_field("api_keys", [{"id": "key_1", "name": "ci"}]) is None  # metadata only
    assert classify_field("address", {"country": "DE"}) is None  # a country is no address


def test_huge_names_are_bounded() -> None:
    assert _label(classify_field("a" * 100_000 + "_password", "hunter22")) == (
        "secret",
        "password",
    )
    assert name_signal("x_" * 50_000 + "email") == ("pii", "email")


def test_large_adversarial_text_stays_linear() -> None:
    for text in ("a" * 100_000 + "@", "1234 " * 20_000, "eyJ" + "a" * 100_000, "$2b$12$" * 10_000):
        assert classify_value(text) is None
        assert classify_field("note", text) is None
