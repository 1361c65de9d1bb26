"""Is this JSON property personal data or a secret? Judged from its name, its value, or both.

Three entry points, all pure and deterministic:

- :func:`classify_field` -- a response property: its name *and* its value (any JSON value).
- :func:`classify_value` -- a bare string (free text, a cookie's content): validated value
  signals only, searched anywhere inside the text.
- :func:`name_signal` -- what a property name alone suggests, for static checks of the spec.

Names are split into lower-case word tokens across snake_case, camelCase, PascalCase,
kebab-case, dotted paths and UPPER_CASE (accents folded: ``contraseña`` is ``contrasena``). The
*head* of the name decides: ``password_hash`` is a secret, ``password_policy``,
``password_changed_at``, ``api_key_id``, ``token_count`` and ``has_password`` are metadata about
one. A sensitive name is never enough on its own: the value must plausibly hold the thing
(``phone: null``, ``password: ""``, ``"********"`` and ``email_verified: true`` expose nothing).

Confidence:

- ``certain`` -- a validated value signal: Luhn card, mod-97 IBAN, JWT structure, password-hash
  formats (bcrypt, argon2, scrypt, pbkdf2, crypt, LDAP), PEM private key, a known key prefix (AWS,
  GitHub, Stripe, Slack, Google, OpenAI ...), an e-mail address under an e-mail name;
- ``firm`` -- a strong name and a plausible value (``ssn`` and an SSN obeying the area rules), or
  a validated but weaker value signal on its own (an e-mail address anywhere);
- ``tentative`` -- a weak name (``session``, ``license_key``) with a high-entropy value.

Kinds: ``pii`` -- email, phone, national_id, tax_id, passport, date_of_birth, postal_address,
card_number, card_security_code, iban, ip_address, geo_location. ``secret`` -- password,
password_hash, api_key, access_token, refresh_token, jwt, private_key, client_secret,
session_id, secret. Plain person names are deliberately not flagged.

A :class:`Classification`'s ``reason`` never contains the value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import ipaddress
import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from specdiff.model import Confidence

__all__ = ["Classification", "classify_field", "classify_value", "name_signal"]

Category = Literal["pii", "secret"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Classification:
    """Why a property (or a piece of text) is personal data or a secret."""

    category: Category
    kind: str
    """``email``, ``card_number``, ``password_hash``, ``api_key`` ... (see the module docstring)."""
    confidence: Confidence
    reason: str
    """A short human reason, e.g. ``name 'password_hash' and bcrypt hash value``; never the value."""


# =========================================================================== names

_META_PREFIXES = _words(
    """is has have max min num total allow allowed require requires required enable enabled
    disable disabled should can must need needs use uses show hide prompt completion completions
    input output cached reasoning remaining count support supports supported mask masked redacted
    obfuscated truncated partial anonymized anonymised pseudonymized"""
)
"""A word before the concept that makes the name metadata about it (``max_tokens``)."""

_NEUTRAL_SUFFIXES = _words(
    "value val str string plain plaintext cleartext clear raw text b64 base64 encoded hex pem der"
)
"""Trailing words that do not change what the property holds (``api_key_value``)."""

_NUMBER_WORDS = ("number", "no", "num", "nr", "nbr", "nummer", "numero")
_PASSWORD_WORDS = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "passwort",
    "kennwort",
    "contrasena",
    "contrasenia",
    "senha",
    "wachtwoord",
    "motdepasse",
)
_HASH_WORDS = _words("hash hashed hashes digest crypt crypted bcrypt encrypted salted")
_PASS_QUALIFIERS = _words(
    """user username db database admin root smtp ftp sftp mail email proxy auth login account wifi
    ldap sql mysql postgres pg redis amqp rabbitmq service app sys system default initial temp tmp
    new old current my basic"""
)

_KEY_QUALIFIERS: dict[str, str] = {
    "api": "api_key",
    "access": "api_key",
    "app": "api_key",
    "application": "api_key",
    "auth": "api_key",
    "admin": "api_key",
    "service": "api_key",
    "server": "api_key",
    "write": "api_key",
    "developer": "api_key",
    "subscription": "api_key",
    "merchant": "api_key",
    "partner": "api_key",
    "integration": "api_key",
    "private": "private_key",
    "priv": "private_key",
    "signing": "private_key",
    "sign": "private_key",
    "session": "session_id",
    "secret": "secret",
    "encryption": "secret",
    "master": "secret",
    "hmac": "secret",
    "shared": "secret",
    "stream": "secret",
    "webhook": "secret",
}
_NON_SECRET_KEY_QUALIFIERS = _words(
    """public publishable pub idempotency cache sort partition primary foreign object storage
    lookup issue project group map range row route routing i18n translation message label dedup
    dedupe deduplication unique natural composite ssh gpg pgp deploy host hash shard join index
    search query config setting settings meta metadata attribute field column table dict registry
    locale lang event bucket blob file image thumbnail avatar media asset resource item record
    entity node cursor next page continuation sync version feature flag experiment variant kv
    store redis rate limit throttle sequence order mapping jwks verification verify
    encrypted wrapped data"""
)

_TOKEN_QUALIFIERS: dict[str, str] = {
    "access": "access_token",
    "bearer": "access_token",
    "auth": "access_token",
    "authentication": "access_token",
    "authorization": "access_token",
    "oauth": "access_token",
    "personal": "access_token",
    "user": "access_token",
    "bot": "access_token",
    "app": "access_token",
    "service": "access_token",
    "github": "access_token",
    "gitlab": "access_token",
    "slack": "access_token",
    "discord": "access_token",
    "private": "access_token",
    "admin": "access_token",
    "master": "access_token",
    "login": "access_token",
    "api": "api_key",
    "refresh": "refresh_token",
    "id": "jwt",
    "jwt": "jwt",
    "session": "session_id",
    "remember": "secret",
    "reset": "secret",
    "recovery": "secret",
    "verification": "secret",
    "verify": "secret",
    "confirmation": "secret",
    "confirm": "secret",
    "invite": "secret",
    "invitation": "secret",
    "magic": "secret",
    "activation": "secret",
    "unlock": "secret",
    "otp": "secret",
    "mfa": "secret",
    "secret": "secret",
}
_NON_SECRET_TOKEN_QUALIFIERS = _words(
    """page next prev previous pagination continuation sync csrf xsrf anti antiforgery cancel
    cancellation idempotency client payment card cart checkout push device fcm apns notification
    lexer special stop end eos bos pad unk mask sep cls start max min prompt completion total
    input output cached reasoning count num resume cursor sort search tracking analytics captcha
    recaptcha hcaptcha turnstile crumb form state nonce hashed hash digest encrypted"""
)

_CLIENT_SECRET_QUALIFIERS = _words("client app application consumer")
_IP_ADDRESS_QUALIFIERS = _words("ip ipv remote")
_EMAIL_ADDRESS_QUALIFIERS = _words("email mail e")
_NON_POSTAL_ADDRESS_QUALIFIERS = _words(
    """mac wallet contract server host bind listen node pod cluster broker proxy gateway memory
    base return eth ethereum btc bitcoin crypto hardware web url callback local public token
    bluetooth ble network net multicast broadcast relay peer endpoint deposit smart link
    ens"""
)

Family = Literal[
    "email",
    "phone",
    "ssn",
    "natid",
    "cpf",
    "tax",
    "passport",
    "dob",
    "postal",
    "postcode",
    "card",
    "pan",
    "cvv",
    "iban",
    "ip",
    "lat",
    "lng",
    "geo",
    "password",
    "pwhash",
    "token",
    "private_key",
    "weak",
    "auth",
    "code",
]


@dataclass(frozen=True, slots=True)
class _NameHit:
    category: Category
    kind: str
    family: Family
    strong: bool = True
    """A strong name is flagged with any plausible value; a weak one needs a value signal."""
    generic: bool = False
    """The name says "some secret": a validated value's own kind (``jwt``) is more precise."""
    static: bool = True
    """Reported by :func:`name_signal`; plural secret names (``access_tokens``) are often
    permission or count fields in schemas, so only their values tell."""


def _hit(category: Category, kind: str, family: Family, *, strong: bool = True) -> _NameHit:
    return _NameHit(category, kind, family, strong)


_PII: Category = "pii"
_SECRET: Category = "secret"

# Concepts keyed by the token sequence that ends a name. Families with qualifier-dependent meaning
# (password, key, token, secret, address) are strings, resolved in :func:`_resolve`.
_TABLE: dict[tuple[str, ...], _NameHit | str] = {}


def _add(hit: _NameHit | str, names: str) -> None:
    """``names`` is ``|``-separated; spaces separate the tokens of one name."""
    for name in names.split("|"):
        _TABLE[tuple(name.split())] = hit


def _numbered(*bases: str) -> str:
    """``card`` -> ``card number|card no|card num|...``."""
    return "|".join(f"{base} {number}" for base in bases for number in _NUMBER_WORDS)


def _build_table() -> None:
    _add(
        _hit(_PII, "email", "email"),
        "email|emails|mail|e mail|emailaddress|email address|email addresses|e mail address"
        "|mail address|correo|correo electronico|courriel",
    )
    phone = _hit(_PII, "phone", "phone")
    _add(
        phone,
        "phone|phones|telephone|tel|mobile|cellphone|cell|msisdn|telefon|telefono|telefone"
        "|telephonenumber|phonenumber|mobilenumber|phone numbers|mobile phone|cell phone",
    )
    _add(phone, _numbered("phone", "mobile", "cell", "telephone", "tel", "contact", "telefon"))
    ssn = _hit(_PII, "national_id", "ssn")
    _add(ssn, "ssn|socialsecuritynumber|social security|" + _numbered("social security"))
    _add(
        _hit(_PII, "national_id", "natid"),
        "nationalid|national id|national identifier|national identity number|national id number"
        "|national insurance|national insurance number|national insurance no|nin|nino|bsn"
        "|aadhaar|aadhar|personnummer|dni|nie|curp|pesel|nric|identity number"
        "|identity card number|id card number|social insurance number|personal id number",
    )
    _add(_hit(_PII, "national_id", "cpf"), "cpf")
    _add(
        _hit(_PII, "tax_id", "tax"),
        "tin|itin|taxid|tax id|tax number|tax no|tax identification number|tax identifier"
        "|taxpayer id|taxpayer number|steuernummer|steuerid|steuer id|steuer nummer"
        "|steueridentifikationsnummer|codice fiscale|nif",
    )
    passport = _hit(_PII, "passport", "passport")
    _add(passport, "passport|passportnumber|passport id|" + _numbered("passport"))
    _add(
        _hit(_PII, "date_of_birth", "dob"),
        "dob|birthdate|birthday|dateofbirth|birth date|birth day|birth dt|date of birth"
        "|geburtsdatum|geburts datum|date de naissance|fecha de nacimiento|fecha nacimiento"
        "|data de nascimento|data nascimento|born on",
    )
    _add(
        _hit(_PII, "postal_address", "postal"),
        "street|streetaddress|street address|street number|house number|address line"
        "|street line|adresse|direccion|endereco|strasse|anschrift",
    )
    _add("address", "address|addresses|addr")
    _add(
        _hit(_PII, "postal_address", "postcode"),
        "zip|zipcode|zip code|postcode|postalcode|postal code|post code|plz|postleitzahl"
        "|code postal|codigo postal|cep",
    )
    _add(
        _hit(_PII, "card_number", "card"),
        "cardnumber|creditcard|credit card|credit card number|debit card number|ccnumber|ccnum"
        "|card pan|primary account number|" + _numbered("card", "cc"),
    )
    _add(_hit(_PII, "card_number", "pan"), "pan")
    _add(
        _hit(_PII, "card_security_code", "cvv"),
        "cvv|cvc|csc|cvv code|cvc code|card verification code|card verification value"
        "|card security code",
    )
    _add(_hit(_PII, "iban", "iban"), "iban|iban number|iban code")
    _add(
        _hit(_PII, "ip_address", "ip"),
        "ip|ipv|ipaddress|ipaddr|ip address|ip addr|ip addresses|remote addr|remote address"
        "|forwarded for|real ip",
    )
    _add(_hit(_PII, "geo_location", "lat"), "lat|latitude")
    _add(_hit(_PII, "geo_location", "lng"), "lng|lon|longitude")
    _add(
        _hit(_PII, "geo_location", "geo"),
        "lat lng|lat long|lat lon|latlng|latlon|latlong|geolocation|geo location|coordinates"
        "|coords|geo point|geopoint|gps|gps coordinates",
    )
    _add(_hit(_PII, "geo_location", "geo", strong=False), "geo|location|position")
    # ---- secrets
    _add("password", "|".join(_PASSWORD_WORDS) + "|pass|pw|mot de passe|passwords")
    _add(
        "password",
        "|".join(
            f"{w} {again}"
            for w in _PASSWORD_WORDS
            for again in ("confirmation", "confirm", "repeat", "again", "retype")
        ),
    )
    _add(
        _hit(_SECRET, "password_hash", "pwhash"),
        "|".join(f"{w} {h}" for w in (*_PASSWORD_WORDS, "pass", "pw") for h in _HASH_WORDS)
        + "|passhash|pwhash|pwdhash|passwordhash|passworddigest",
    )
    _add("key", "key|apikey|privatekey|secretkey|api keys|apikeys")
    _add("token", "token|tokens")
    _add("secret", "secret|clientsecret")
    _add(_hit(_SECRET, "access_token", "token"), "accesstoken|authtoken|bearertoken|bearer")
    _add(_hit(_SECRET, "access_token", "token"), "access tokens")
    _add(_hit(_SECRET, "refresh_token", "token"), "refreshtoken|refresh tokens")
    _add(_hit(_SECRET, "jwt", "token"), "jwt|idtoken")
    _add(_hit(_SECRET, "api_key", "token"), "apitoken")
    _add(
        _hit(_SECRET, "session_id", "token"),
        "sessionid|sessid|phpsessid|jsessionid|sessiontoken|session id|session key"
        "|session token|session cookie",
    )
    _add(_NameHit(_SECRET, "session_id", "weak", strong=False, generic=True), "session")
    _add(
        _hit(_SECRET, "secret", "code"),
        "verification code|otp|otp code|mfa code|totp code|sms code|reset code|recovery code"
        "|recovery codes|backup code|backup codes|one time code",
    )
    _add(
        _NameHit(_SECRET, "access_token", "auth", strong=False, generic=True),
        "authorization|auth",
    )


_build_table()


def _concept(kind: str, family: Family, *, strong: bool = True, generic: bool = False) -> _NameHit:
    return _NameHit(_SECRET, kind, family, strong, generic)


def _resolve(family: str, word: str, prefix: tuple[str, ...]) -> _NameHit | None:
    """Qualifier-dependent concepts: ``private_key`` vs ``public_key``, ``page_token`` ..."""
    prev = prefix[-1] if prefix else ""
    if family == "password":
        if word == "pass" and prev and prev not in _PASS_QUALIFIERS:
            return None  # boarding_pass, season_pass
        if any(p in _HASH_WORDS for p in prefix):
            return _concept("password_hash", "pwhash")
        return _concept("password", "password", strong=word != "pw")
    if family == "secret":
        if word == "clientsecret" or prev in _CLIENT_SECRET_QUALIFIERS:
            return _concept("client_secret", "token")
        return _concept("secret", "token", generic=True)
    if family == "key":
        if word in ("apikey", "api keys", "apikeys"):
            return _concept("api_key", "token")
        if word == "privatekey":
            return _concept("private_key", "private_key")
        if word == "secretkey" or "secret" in prefix:
            return _concept("secret", "token", generic=True)
        if prev in _KEY_QUALIFIERS:
            kind = _KEY_QUALIFIERS[prev]
            key_family: Family = "private_key" if kind == "private_key" else "token"
            return _concept(kind, key_family, generic=kind == "secret")
        if not prev or prev in _NON_SECRET_KEY_QUALIFIERS:
            return None  # a bare "key" is as often a map key or a public key as a secret
        return _concept("api_key", "weak", strong=False, generic=True)
    if family == "token":
        if word == "tokens" and prev not in _TOKEN_QUALIFIERS:
            return None  # prompt_tokens, tokens: 3 ... usage counters
        if not prev:
            return _concept("access_token", "token", generic=True)
        if prev in _NON_SECRET_TOKEN_QUALIFIERS:
            return None
        if prev in _TOKEN_QUALIFIERS:
            kind = _TOKEN_QUALIFIERS[prev]
            return _concept(kind, "token", generic=kind in ("access_token", "secret"))
        return _concept("access_token", "weak", strong=False, generic=True)
    # family == "address"
    if prev in _IP_ADDRESS_QUALIFIERS:
        return _NameHit(_PII, "ip_address", "ip")
    if prev in _EMAIL_ADDRESS_QUALIFIERS:
        return _NameHit(_PII, "email", "email")
    if prev in _NON_POSTAL_ADDRESS_QUALIFIERS:
        return None
    return _NameHit(_PII, "postal_address", "postal")


def _split_camel(chunk: str) -> list[str]:
    out: list[str] = []
    cur = ""
    n = len(chunk)
    for i, ch in enumerate(chunk):
        if cur:
            prev = cur[-1]
            nxt = chunk[i + 1] if i + 1 < n else ""
            boundary = (
                ch.isdigit() != prev.isdigit()
                or (ch.isupper() and prev.islower())
                or (
                    ch.isupper()
                    and prev.isupper()
                    and nxt.islower()
                    # "URLs", "IDs": a lone plural s does not start a word
                    and not (nxt == "s" and (i + 2 == n or not chunk[i + 2].islower()))
                )
            )
            if boundary:
                out.append(cur)
                cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out


_SEPARATORS = re.compile(r"[\W_]+")
_IPV_RE = re.compile(r"IPv(?=[46])")


_MAX_NAME = 256


def _bounded(name: str) -> str:
    """The tail of an absurdly long name (the head word is at the end): keeps caches small."""
    return name if len(name) <= _MAX_NAME else name[-_MAX_NAME:]


@lru_cache(maxsize=16384)
def _tokens(name: str) -> tuple[str, ...]:
    """``socialSecurityNumber`` -> ``('social', 'security', 'number')``; accents folded."""
    name = _IPV_RE.sub("Ipv", name.replace("ß", "ss").replace("ẞ", "SS"))
    name = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    tokens: list[str] = []
    for chunk in _SEPARATORS.split(name):
        if chunk:
            tokens.extend(part.casefold() for part in _split_camel(chunk))
    return tuple(tokens)


@lru_cache(maxsize=16384)
def _name_hit(name: str) -> _NameHit | None:
    toks = [t for t in _tokens(name) if not t.isdigit()]  # ipv4_address, address_line1
    while toks and toks[-1] in _NEUTRAL_SUFFIXES:
        toks.pop()
    for length in (4, 3, 2, 1):
        if len(toks) < length:
            continue
        entry = _TABLE.get(tuple(toks[-length:]))
        if entry is None:
            continue
        prefix = tuple(toks[:-length])
        if any(p in _META_PREFIXES for p in prefix):
            return None
        hit = _resolve(entry, " ".join(toks[-length:]), prefix) if isinstance(entry, str) else entry
        plural = toks[-1].endswith("s") and toks[-1] != "pass"
        if hit is not None and hit.category == _SECRET and plural:
            hit = replace(hit, static=False)  # access_tokens, api_keys, recovery_codes
        return hit
    return None


_IDENTIFIER_WORDS = _words(
    """order tracking invoice reference ref id ids uuid guid sku upc ean gtin isbn barcode serial
    transaction txn shipment parcel booking confirmation ticket receipt customer member membership
    loyalty account policy claim case imei iccid timestamp ts time epoch seq sequence count amount
    total nonce version build hash checksum"""
)


@lru_cache(maxsize=16384)
def _is_identifier_name(name: str) -> bool:
    """``order_number``, ``tracking``, ``invoice_id``: a Luhn-valid value there is not a card."""
    return any(t in _IDENTIFIER_WORDS for t in _tokens(name))


def name_signal(name: str) -> tuple[Literal["pii", "secret"], str] | None:
    """What a property name alone suggests, for static checks of the spec's own schemas.

    Only names that are sensitive on their own count: ``password``, ``client_secret``,
    ``date_of_birth``, ``ssn``, ``lat``. Metadata about a sensitive thing (``password_policy``,
    ``api_key_id``, ``max_tokens``) and names that need their value to tell (``key``,
    ``session``, ``location``) give None.
    """
    hit = _name_hit(_bounded(name))
    if hit is None or not hit.strong or not hit.static:
        return None
    return hit.category, hit.kind


# =========================================================================== value validators

_DIGIT_RE = re.compile(r"\d")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_brand(digits: str) -> str | None:
    """The brand whose IIN prefix *and* length fit, or None."""
    n = len(digits)
    two = int(digits[:2])
    four = int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "Visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "Mastercard"
    if two in (34, 37) and n == 15:
        return "American Express"
    if (digits.startswith("6011") or two == 65) and 16 <= n <= 19:
        return "Discover"
    if two == 35 and 16 <= n <= 19:
        return "JCB"
    return None


def _card_digits_ok(digits: str, *, require_brand: bool) -> bool:
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not _luhn_ok(digits):
        return False
    return not require_brand or _card_brand(digits) is not None


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip
"""ISO 13616 lengths for the countries one meets; others are accepted only under an iban name."""


_BASE36 = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _mod97_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10: the rearranged number modulo 97 is 1."""
    remainder = 0
    for ch in iban[4:] + iban[:4]:
        value = _BASE36.get(ch)
        if value is None:
            return False
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


def _iban_ok(compact: str, *, known_country_only: bool) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is None:
        if known_country_only:
            return False
    elif len(compact) != expected:
        return False
    return _mod97_ok(compact)


_SSN_RE = re.compile(r"(\d{3})([- ]?)(\d{2})\2(\d{4})")


def _ssn_ok(text: str) -> bool:
    """``123-45-6789`` or nine digits; area not 000/666/9xx, group not 00, serial not 0000."""
    m = _SSN_RE.fullmatch(text)
    if not m:
        return False
    area, group, serial = m.group(1), m.group(3), m.group(4)
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _cpf_ok(text: str) -> bool:
    digits = re.sub(r"[.\-\s]", "", text)
    if not re.fullmatch(r"\d{11}", digits) or len(set(digits)) == 1:
        return False
    nums = [int(d) for d in digits]
    for n in (9, 10):
        s = sum(v * w for v, w in zip(nums[:n], range(n + 1, 1, -1), strict=False))
        if (s * 10 % 11) % 10 != nums[n]:
            return False
    return True


_NATID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./\-]{3,24}")
_OBJECT_ID_RE = re.compile(r"[a-z]{2,8}_[A-Za-z0-9_]+")
"""``cus_NffrFeUfNV2Hib``, ``txi_123``, ``key_123``: an object identifier, not the thing."""


def _id_number_ok(text: str, min_digits: int = 5) -> bool:
    """A national id / tax number: 5-25 alphanumerics and separators, at least a few digits."""
    if not _NATID_RE.fullmatch(text) or _OBJECT_ID_RE.fullmatch(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    return digits >= min_digits and len(set(ch for ch in text if ch.isdigit())) > 1


_INDIAN_PAN_RE = re.compile(r"[A-Z]{5}\d{4}[A-Z]")
_PASSPORT_RE = re.compile(r"[A-Z0-9<]{6,12}")


def _passport_ok(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    return bool(_PASSPORT_RE.fullmatch(compact)) and any(ch.isdigit() for ch in compact)


_PHONE_RE = re.compile(
    r"(?:tel:)?\+?[\d\s().\-/]{6,24}(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?", re.IGNORECASE
)
_DATE_LIKE_RE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _phone_ok(text: str) -> bool:
    """E.164 (``+`` and 8-15 digits) or a national format of 7-15 digits."""
    if not _PHONE_RE.fullmatch(text) or _DATE_LIKE_RE.match(text):
        return False
    main = re.split(r"(?i)\s*(?:x|ext)", text, maxsplit=1)[0]
    digits = re.sub(r"\D", "", main)
    if len(set(digits)) <= 1:
        return False
    if main.removeprefix("tel:").lstrip().startswith("+"):
        return 8 <= len(digits) <= 15
    return 7 <= len(digits) <= 15


_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        )
    )
    for m in names.split()
}
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
_YMD_RE = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DMY_RE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TEXT_DATE_RE = re.compile(
    r"(?:(\d{1,2})\.?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4}))|(?:([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}))"
)
_MONTH_DAY_RE = re.compile(r"(?:--)?(\d{2})[-/](\d{2})")


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1880 <= year <= 2100:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _date_ok(text: str) -> bool:
    """ISO date or datetime, ``17.05.1990``, ``05/17/1990``, ``May 17, 1990``, ``--05-17``."""
    if m := _ISO_DATE_RE.fullmatch(text):
        return _valid_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _YMD_RE.fullmatch(text):
        return _valid_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY_RE.fullmatch(text):
        a, b, year = int(m[1]), int(m[3]), int(m[4])
        return _valid_date(year, b, a) or _valid_date(year, a, b)
    if m := _COMPACT_DATE_RE.fullmatch(text):
        return _valid_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _TEXT_DATE_RE.fullmatch(text):
        if m[1]:
            day, month_name, year = int(m[1]), m[2], int(m[3])
        else:
            month_name, day, year = m[4], int(m[5]), int(m[6])
        month = _MONTHS.get(month_name.lower())
        return month is not None and _valid_date(year, month, day)
    if m := _MONTH_DAY_RE.fullmatch(text):
        a, b = int(m[1]), int(m[2])
        return _valid_date(2000, a, b) or _valid_date(2000, b, a)
    return False


_POSTCODE_RE = re.compile(r"[A-Z0-9][A-Z0-9 \-]{1,9}")


def _postcode_ok(text: str) -> bool:
    """``94105``, ``94105-1234``, ``SW1A 1AA``, ``10115``: 3-10 characters with digits."""
    upper = text.upper()
    return (
        bool(_POSTCODE_RE.fullmatch(upper))
        and sum(ch.isdigit() for ch in upper) >= 2
        and len(set(ch for ch in upper if ch.isalnum())) > 1
    )


_URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://")


_STREET_RE = re.compile(
    r"(?:\b\d{1,5}[A-Za-z]?\s+[^\W\d][\w.'\- ]{2,40}|[^\W\d][\w.'\-]{2,40}\s+\d{1,5}[a-z]?)"
    r"\s*,\s*\w"
)
"""``1600 Amphitheatre Parkway, Mountain View`` or ``Hauptstraße 5, Berlin``."""


def _address_ok(text: str) -> bool:
    """Words and spaces (or a comma) with a letter: ``221B Baker Street, London``."""
    return (
        len(text) >= 6
        and any(ch.isalpha() for ch in text)
        and (" " in text or "," in text)
        and not _URL_RE.match(text)
    )


def _ip_ok(text: str) -> bool:
    """One IPv4/IPv6 address (``[::1]``, ``203.0.113.7:443`` too), not loopback or 0.0.0.0."""
    candidate = text.strip().strip("[]")
    if candidate.count(":") == 1 and "." in candidate:
        candidate = candidate.split(":", 1)[0]  # 203.0.113.7:51234
    try:
        ip = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified)


def _ip_list_ok(text: str) -> bool:
    """An address or an ``X-Forwarded-For`` list of them."""
    return any(_ip_ok(part) for part in text.split(",", 8)[:8])


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,3}\.\d+\s*", value):
        return float(value)
    return None


def _coordinate_ok(value: object, limit: float) -> bool:
    """A fractional degree value within range; whole degrees are too coarse to locate anyone."""
    number = _number(value)
    return (
        number is not None
        and math.isfinite(number)
        and abs(number) <= limit
        and not number.is_integer()
    )


_LAT_KEYS = ("lat", "latitude")
_LNG_KEYS = ("lng", "lon", "long", "longitude")
_COORD_PAIR_RE = re.compile(r"\s*(-?\d{1,3}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*")
_DMS_PAIR_RE = re.compile(
    r"\s*\d{1,2}(?:\.\d+)?°[^NSEW]{0,16}[NS][,;\s]+\d{1,3}(?:\.\d+)?°[^NSEW]{0,16}[EW]\s*"
)


def _coordinates_ok(value: object, depth: int = 0) -> bool:
    """``[lng, lat]``, ``{"lat": .., "lng": ..}``, GeoJSON points, ``"37.77,-122.41"``."""
    if isinstance(value, str):
        m = _COORD_PAIR_RE.fullmatch(value)
        if m is None:
            return _DMS_PAIR_RE.fullmatch(value) is not None  # 37°46′29″ N, 122°25′10″ W
        return _pair_ok(float(m[1]), float(m[2]))
    if isinstance(value, (list, tuple)):
        if len(value) in (2, 3) and all(_number(v) is not None for v in value[:2]):
            return _pair_ok(_number(value[0]) or 0.0, _number(value[1]) or 0.0)
        return False
    if isinstance(value, dict) and depth < 2:
        keys = {str(k).lower(): v for k, v in value.items()}
        lat = next((keys[k] for k in _LAT_KEYS if k in keys), None)
        lng = next((keys[k] for k in _LNG_KEYS if k in keys), None)
        if lat is not None and lng is not None:
            return _coordinate_ok(lat, 90) and _coordinate_ok(lng, 180)
        for key in ("coordinates", "coords", "location", "geo", "position"):
            if key in keys:
                return _coordinates_ok(keys[key], depth + 1)
    return False


def _pair_ok(a: float, b: float) -> bool:
    if a.is_integer() and b.is_integer():
        return False
    return (abs(a) <= 90 and abs(b) <= 180) or (abs(a) <= 180 and abs(b) <= 90)


# ---- secrets

_JWT_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(ey[A-Za-z0-9_\-]{8,})\.([A-Za-z0-9_\-]{2,})\.([A-Za-z0-9_\-]*)"
)


def _b64url_decode(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def _jwt_header_ok(segment: str) -> bool:
    raw = _b64url_decode(segment)
    if raw is None:
        return False
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def _find_jwt(text: str) -> bool:
    if "ey" not in text or "." not in text:
        return False
    for m in _JWT_RE.finditer(text):
        if _jwt_header_ok(m[1]) and _b64url_decode(m[2]) is not None:
            return True
    return False


_HASH_PATTERNS: tuple[tuple[str, str], ...] = (
    ("bcrypt", r"\$2[abxy]?\$(?:0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}"),
    (
        "argon2",
        r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
    ),
    ("scrypt", r"\$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/.]+\$[A-Za-z0-9+/.]+"),
    ("scrypt", r"\$7\$[./A-Za-z0-9]{11,}\$[./A-Za-z0-9]{43}"),
    ("pbkdf2", r"\$pbkdf2(?:-sha(?:1|256|512))?\$\d+\$[./A-Za-z0-9+]+\$[./A-Za-z0-9+]{16,}"),
    ("sha-crypt", r"\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}"),
    ("md5-crypt", r"\$(?:1|apr1)\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}"),
    ("pbkdf2", r"(?<![\w$])pbkdf2_sha(?:1|256|512)\$\d+\$[^$\s]+\$[A-Za-z0-9+/]{20,}={0,2}"),
    ("scrypt", r"(?<![\w$])scrypt\$\d+\$[^$\s]+\$\d+\$\d+\$[A-Za-z0-9+/]{20,}={0,2}"),
    ("pbkdf2", r"(?<![\w$])pbkdf2:sha(?:1|256|512)(?::\d+)?\$[^$\s]+\$[0-9a-f]{40,128}"),
    ("scrypt", r"(?<![\w$])scrypt:\d+:\d+:\d+\$[^$\s]+\$[0-9a-f]{64,256}"),
    ("LDAP", r"\{(?:S?SHA(?:256|384|512)?|S?MD5|CRYPT|PBKDF2[-\w]*)\}[A-Za-z0-9+/=.$]{12,}"),
)
_HASH_RE = re.compile("|".join(f"(?P<h{i}>{p})" for i, (_, p) in enumerate(_HASH_PATTERNS)))
_HEX_DIGEST_RE = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56,128}")


def _find_hash(text: str) -> str | None:
    if "$" not in text and "{" not in text:
        return None
    m = _HASH_RE.search(text)
    if m is None or m.lastgroup is None:
        return None
    return _HASH_PATTERNS[int(m.lastgroup[1:])][0]


_PEM_RE = re.compile(
    r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
    r"[\s\S]{0,300}?[A-Za-z0-9+/]{40}"
)

# (pattern, kind, description); each anchored so that it does not start inside a longer word.
_PREFIX_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", "api_key", "AWS access key id"),
    (r"gh[pous]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])", "access_token", "GitHub token"),
    (r"ghr_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])", "refresh_token", "GitHub refresh token"),
    (r"github_pat_[A-Za-z0-9_]{40,255}", "access_token", "GitHub fine-grained token"),
    (r"[sr]k_(?:live|test)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])", "api_key", "Stripe secret key"),
    (r"whsec_[A-Za-z0-9+/=]{20,}", "secret", "Stripe webhook signing secret"),
    (r"xox[abprs]-[A-Za-z0-9\-]{10,}", "access_token", "Slack token"),
    (r"AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])", "api_key", "Google API key"),
    (
        r"sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?"
        r"(?=[A-Za-z0-9_\-]*[A-Z])(?=[A-Za-z0-9_\-]*[a-z])(?=[A-Za-z0-9_\-]*\d)"
        r"[A-Za-z0-9_\-]{32,}",
        "api_key",
        "OpenAI/Anthropic-style API key",
    ),
    (r"glpat-[A-Za-z0-9_\-]{20,}", "access_token", "GitLab token"),
    (r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", "access_token", "npm token"),
    (r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", "api_key", "SendGrid API key"),
    (r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}(?![A-Za-z0-9])", "access_token", "Shopify token"),
)
_PREFIX_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    + "|".join(f"(?P<k{i}>{p})" for i, (p, _, _) in enumerate(_PREFIX_PATTERNS))
    + ")"
)


_PREFIX_HINT_RE = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|k_(?:live|test)_|whsec_|xox|AIza|sk-|glpat-|npm_|SG\.|shp"
)
_PRESIGNED_MARKERS = ("Credential=", "Credential%3D", "AccessKeyId=", "AccessKeyId%3D")


def _find_prefixed_key(text: str) -> tuple[str, str] | None:
    if _PREFIX_HINT_RE.search(text) is None:
        return None
    for m in _PREFIX_RE.finditer(text):
        if m.lastgroup is None:  # pragma: no cover - every alternative is a named group
            continue
        _, kind, what = _PREFIX_PATTERNS[int(m.lastgroup[1:])]
        if what.startswith("AWS") and text[max(0, m.start() - 16) : m.start()].endswith(
            _PRESIGNED_MARKERS
        ):
            continue  # a pre-signed URL names the key id by design; its signature expires
        return kind, what
    return None


# ---- e-mail, IBAN and cards inside text

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-/'])"
    r"([A-Za-z0-9_%+\-']+(?:\.[A-Za-z0-9_%+\-']+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9]|:[\w/~])"
)
_ROLE_LOCAL_PARTS = _words(
    """noreply no-reply no_reply donotreply do-not-reply do_not_reply support info help contact
    admin administrator sales billing hello team notifications notification security privacy
    abuse postmaster webmaster hostmaster mailer-daemon root marketing press jobs careers office
    service feedback newsletter news bounce bounces dmarc"""
)
_MACHINE_DOMAINS = (".gserviceaccount.com", "gserviceaccount.com")
_FILE_SUFFIXES = _words(
    "png jpg jpeg gif svg webp ico bmp tif tiff js mjs ts css map json xml html htm txt md"
)


def _find_email(text: str) -> bool:
    if "@" not in text:
        return False
    for m in _EMAIL_RE.finditer(text):
        local, domain, tld = m[1], m[2], m[3]
        start = m.start()
        if start and text[start - 1] == ":" and text[start - 7 : start].lower() != "mailto:":
            continue  # scheme://user:pass@host
        if len(local) > 64 or len(domain) > 253 or tld.lower() in _FILE_SUFFIXES:
            continue
        if local.lower() in _ROLE_LOCAL_PARTS or domain.lower().endswith(_MACHINE_DOMAINS):
            continue  # support@acme.com is a mailbox of a company, not of a person
        return True
    return False


_IBAN_START_RE = re.compile(r"([A-Z]{2})(?<![A-Za-z0-9][A-Z]{2})\d{2}")


def _find_iban(text: str) -> bool:
    """An IBAN printed compact or in groups of four, of a known country's exact length."""
    n = len(text)
    for m in _IBAN_START_RE.finditer(text):
        expected = _IBAN_LENGTHS.get(m[1])
        if expected is None:
            continue
        chars: list[str] = []
        i = m.start()
        while i < n and len(chars) < expected:
            ch = text[i]
            if ch == " " and chars and i + 1 < n and text[i + 1] != " ":
                i += 1
                continue
            if not ("0" <= ch <= "9" or "A" <= ch <= "Z"):
                break
            chars.append(ch)
            i += 1
        if len(chars) != expected or (i < n and text[i].isalnum()):
            continue
        if _mod97_ok("".join(chars)):
            return True
    return False


_CARD_SEARCH_RE = re.compile(
    r"\d(?<![0-9A-Za-z_.\-]\d)"
    r"(?:\d{3}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{3}([ \-])\d{6}\2\d{5}|\d{12,18})"
    r"(?![0-9A-Za-z_\-]|\.\d)"
)


def _find_card(text: str, *, require_brand: bool, grouped_only: bool = False) -> str | None:
    for m in _CARD_SEARCH_RE.finditer(text):
        digits = m[0].replace(" ", "").replace("-", "")
        if grouped_only and len(digits) == len(m[0]):
            continue
        if _card_digits_ok(digits, require_brand=require_brand):
            return _card_brand(digits) or "card"
    return None


# ---- masks, placeholders, randomness

_MASK_WORDS = _words(
    """redacted filtered hidden masked removed omitted censored sensitive obfuscated scrubbed
    sanitized sanitised withheld undisclosed confidential private protected"""
)
_MASK_RUNS = ("**", "••", "●●", "∙∙", "··")
_X_RUN_RE = re.compile(r"(?i)[x#]+")
_PLACEHOLDERS = _words(
    """null none nil undefined n/a na - -- ? ... string str true false yes no unknown tbd todo
    not set unset empty"""
)
_PLACEHOLDER_RE = re.compile(
    r"<[A-Za-z_\- ]{1,40}>|\{\{[^{}]{1,60}\}\}|\$\{[^{}]{1,60}\}|%\([^()]+\)s"
    r"|(?i:(?:your|insert|enter|replace)[_\-\s][\w\-\s]{1,40})"
)


_MASKED_REST_RE = re.compile(r"[\d\s\-./()+]*")


def _is_masked(text: str) -> bool:
    """``********``, ``[REDACTED]``, ``****4242``, ``j***@example.com``, ``XXX-XX-6789``."""
    if len(text) <= 24 and text.strip("[](){}<>\"' ").lower() in _MASK_WORDS:
        return True
    if any(run in text for run in _MASK_RUNS):
        return True
    lower = text.lower()
    if "xxxxxx" in lower:
        return True  # aio_XXXXXXXXXXXX: an example or a mask, never a real credential
    if "xxx" in lower or "###" in text:
        # x-runs mask only digit-like values (XXX-XX-6789); "XXXL" or "Xxxx" words are not masks
        return _MASKED_REST_RE.fullmatch(_X_RUN_RE.sub("", text)) is not None
    return False


def _is_placeholder(text: str) -> bool:
    return text.lower() in _PLACEHOLDERS or bool(_PLACEHOLDER_RE.fullmatch(text))


_TOKENISH_RE = re.compile(r"[A-Za-z0-9+/=_\-.~]+")
_ALNUM_RUN_RE = re.compile(r"[A-Za-z0-9]+")
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _high_entropy(text: str) -> bool:
    """A random-looking token: 20+ chars, no spaces, mixed classes, a long alphanumeric run."""
    n = len(text)
    if n < 20 or n > 8192 or not _TOKENISH_RE.fullmatch(text):
        return False
    if _UUID_RE.fullmatch(text) or text.isdigit() or _ISO_DATE_RE.match(text):
        return False
    has_lower = any(ch.islower() for ch in text)
    has_upper = any(ch.isupper() for ch in text)
    has_digit = any(ch.isdigit() for ch in text)
    if not (has_lower or has_upper) or not (has_digit or (has_lower and has_upper)):
        return False
    if not (has_lower and has_upper) and n < 32:
        return False  # hex or lower-case tokens must be long
    longest = max((len(run) for run in _ALNUM_RUN_RE.findall(text)), default=0)
    return longest >= 16 and _entropy(text) >= 3.0


def _plausible_token(text: str) -> bool:
    """An opaque credential: 8+ chars without spaces, letters with digits or long mixed case."""
    n = len(text)
    if n < 8 or n > 16384 or any(ch.isspace() for ch in text):
        return False
    if _URL_RE.match(text) or _ISO_DATE_RE.fullmatch(text):
        return False
    lower, upper = text.lower(), text.upper()
    has_alpha = lower != upper
    if has_alpha and _DIGIT_RE.search(text):
        return True
    return n >= 20 and lower != text and upper != text


def _plausible_password(text: str) -> bool:
    return 4 <= len(text) <= 256 and text.count(" ") < 4


# =========================================================================== value signals


@dataclass(frozen=True, slots=True)
class _Signal:
    category: Category
    kind: str
    detail: str
    certain: bool


_URL_USERINFO_RE = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/?#@\"'<>]{1,64}:([^\s/?#@\"'<>]{1,128})@"
    r"[A-Za-z0-9\[]"
)
_PLACEHOLDER_PASSWORDS = _words("password pass passwd pwd secret pw x xx xxx")
_URL_QUERY_RE = re.compile(r"[?&;]([A-Za-z][A-Za-z0-9_.\-]{1,40})=([^&#\s\"'<>]{8,})")


def _find_url_credential(text: str) -> str | None:
    """``postgres://app:s3cret@db/app`` or ``https://host/cb?access_token=...``: what leaked."""
    if "://" in text and "@" in text:
        for m in _URL_USERINFO_RE.finditer(text):
            password = m[1]
            if (
                password.lower() not in _PLACEHOLDER_PASSWORDS
                and not password.startswith(("$", "{", "%", "<"))
                and not _is_masked(password)
            ):
                return "password"
    if "=" in text and ("?" in text or "&" in text):
        for m in _URL_QUERY_RE.finditer(text):
            hit = _name_hit(m[1])
            if (
                hit is not None
                and hit.category == _SECRET
                and hit.strong
                and _plausible_token(m[2])
                and not _is_masked(m[2])
            ):
                return hit.kind
    return None


_QUOTED_PASSWORD_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(?:password|passwd|pwd|passphrase|passcode|passwort|kennwort"
    r"|mot de passe|contrase(?:ñ|n)a|senha)"
    r"(?:[\"']?\s*[:=]|\s+(?:is|was|ist|est|es|é)\s*[:=]?)\s*[\"'`]?([^\s\"'`,;<>]{4,64})"
)
_PASSWORD_HINTS = ("pass", "pwd", "kennwort", "contrase", "senha")


def _find_quoted_password(text: str) -> bool:
    """``password: hunter22``, ``Your password is s3cret!``, an echoed ``"password": "..."``."""
    lower = text.lower()
    if not any(hint in lower for hint in _PASSWORD_HINTS):
        return False
    for m in _QUOTED_PASSWORD_RE.finditer(text):
        candidate = m[1].rstrip(".!?)]}")
        if (
            len(candidate) < 4
            or candidate.lower() in _PLACEHOLDER_PASSWORDS
            or _is_masked(candidate)
            or _is_placeholder(candidate)
        ):
            continue
        # a quoted password has letters and digits; "password is required" has not
        if candidate.lower() != candidate.upper() and _DIGIT_RE.search(candidate):
            return True
    return False


def _secret_signal(text: str) -> _Signal | None:
    """Validated (certain) secret formats first, then the firm contextual ones."""
    long_enough = len(text) >= 16
    if long_enough:
        if "PRIVATE KEY" in text and _PEM_RE.search(text):
            return _Signal(_SECRET, "private_key", "PEM private key value", True)
        if _find_jwt(text):
            return _Signal(_SECRET, "jwt", "JWT value (header with alg)", True)
        scheme = _find_hash(text)
        if scheme is not None:
            return _Signal(_SECRET, "password_hash", f"{scheme} hash value", True)
        found = _find_prefixed_key(text)
        if found is not None:
            kind, what = found
            return _Signal(_SECRET, kind, f"{what} prefix in value", True)
    if len(text) >= 8 and _find_quoted_password(text):
        return _Signal(_SECRET, "password", "password quoted in the text", False)
    if long_enough:
        leaked = _find_url_credential(text)
        if leaked is not None:
            return _Signal(_SECRET, leaked, "credential inside a URL value", False)
    return None


CardMode = Literal["brand", "grouped", "off"]
_FOUR_DIGITS_RE = re.compile(r"\d{4}")
_CARD_HINT_RE = re.compile(r"\d{4}[ \-]?\d{4}")


def _value_signal(text: str, cards: CardMode = "brand") -> _Signal | None:
    """Validated signals only, searched anywhere inside ``text``; secrets first."""
    secret = _secret_signal(text)
    if secret is not None:
        return secret
    if len(text) >= 13 and _FOUR_DIGITS_RE.search(text):
        if len(text) >= 15 and _find_iban(text):
            return _Signal(_PII, "iban", "mod-97-valid IBAN value", True)
        if cards != "off" and _CARD_HINT_RE.search(text):
            brand = _find_card(text, require_brand=True, grouped_only=cards == "grouped")
            if brand is not None:
                return _Signal(_PII, "card_number", f"Luhn-valid {brand} card number value", True)
    if len(text) >= 6 and _find_email(text):
        return _Signal(_PII, "email", "e-mail address value", False)
    return None


# =========================================================================== name + value


@dataclass(frozen=True, slots=True)
class _Check:
    detail: str
    confidence: Confidence
    kind: str | None = None


_FIRM = Confidence.FIRM
_CERTAIN = Confidence.CERTAIN
_TENTATIVE = Confidence.TENTATIVE


def _check_string(hit: _NameHit, text: str) -> _Check | None:
    """Does ``text`` plausibly hold what the name ``hit`` says?"""
    family = hit.family
    if family == "email":
        return _Check("e-mail address value", _CERTAIN) if _find_email(text) else None
    if family == "phone":
        return _Check("phone number value", _FIRM) if _phone_ok(text) else None
    if family == "ssn":
        return _Check("value obeying the SSN area rules", _FIRM) if _ssn_ok(text) else None
    if family == "cpf":
        return _Check("CPF value with valid check digits", _CERTAIN) if _cpf_ok(text) else None
    if family == "natid":
        return _Check("national id number value", _FIRM) if _id_number_ok(text) else None
    if family == "tax":
        if _INDIAN_PAN_RE.fullmatch(text) or _id_number_ok(text):
            return _Check("tax number value", _FIRM)
        return None
    if family == "passport":
        return _Check("passport number value", _FIRM) if _passport_ok(text) else None
    if family == "dob":
        return _Check("date value", _FIRM) if _date_ok(text) else None
    if family == "postcode":
        return _Check("postal code value", _FIRM) if _postcode_ok(text) else None
    if family == "postal":
        if _ip_ok(text):
            return _Check("IP address value", _FIRM, "ip_address")
        return _Check("street address value", _FIRM) if _address_ok(text) else None
    if family in ("card", "pan"):
        compact = re.sub(r"[ \-]", "", text)
        if compact.isdigit() and _card_digits_ok(compact, require_brand=False):
            return _Check("Luhn-valid card number value", _CERTAIN, "card_number")
        if family == "pan" and _INDIAN_PAN_RE.fullmatch(text):
            return _Check("Indian PAN (tax id) value", _FIRM, "tax_id")
        return None
    if family == "cvv":
        return (
            _Check("3-4 digit security code value", _FIRM)
            if re.fullmatch(r"\d{3,4}", text)
            else None
        )
    if family == "iban":
        compact = text.replace(" ", "").upper()
        if _iban_ok(compact, known_country_only=False):
            return _Check("mod-97-valid IBAN value", _CERTAIN)
        return None
    if family == "ip":
        return _Check("IP address value", _FIRM) if _ip_list_ok(text) else None
    if family == "lat":
        return _Check("latitude value", _FIRM) if _coordinate_ok(text, 90) else None
    if family == "lng":
        return _Check("longitude value", _FIRM) if _coordinate_ok(text, 180) else None
    if family == "geo":
        if _coordinates_ok(text):
            return _Check("coordinates value", _FIRM)
        if _STREET_RE.search(text):
            return _Check("street address value", _FIRM, "postal_address")
        return None
    if family == "password":
        if not _plausible_password(text):
            return None
        if _HEX_DIGEST_RE.fullmatch(text):
            return _Check("hex digest value", _FIRM, "password_hash")
        return _Check("non-empty value", _FIRM if hit.strong else _TENTATIVE)
    if family == "pwhash":
        return _Check("hash-like value", _FIRM) if _plausible_token(text) else None
    if family == "private_key":
        if len(text) >= 32 and _TOKENISH_RE.fullmatch(re.sub(r"\s+", "", text)):
            return _Check("key material value", _FIRM)
        return None
    if family == "token":
        return _Check("credential-like value", _FIRM) if _plausible_token(text) else None
    if family == "auth":
        return _check_authorization(text)
    if family == "code":
        ok = _ONE_TIME_CODE_RE.fullmatch(text) and _DIGIT_RE.search(text)
        return _Check("one-time code value", _FIRM) if ok else None
    if family == "weak":
        return _Check("high-entropy value", _TENTATIVE) if _high_entropy(text) else None
    return None  # pragma: no cover


_ONE_TIME_CODE_RE = re.compile(r"[A-Za-z0-9\-]{4,64}")
_AUTH_SCHEME_RE = re.compile(r"(?i)(bearer|token|basic)\s+(\S+)")


def _check_authorization(text: str) -> _Check | None:
    m = _AUTH_SCHEME_RE.fullmatch(text)
    if m is None:
        return _Check("high-entropy value", _TENTATIVE) if _high_entropy(text) else None
    scheme, credential = m[1].lower(), m[2]
    if scheme == "basic":
        raw = None
        with contextlib.suppress(binascii.Error, ValueError, UnicodeDecodeError):
            raw = base64.b64decode(credential, validate=True).decode("utf-8")
        if raw is not None and ":" in raw:
            return _Check("HTTP Basic credentials value", _CERTAIN, "password")
        return None
    if _plausible_token(credential):
        return _Check(f"{scheme.capitalize()} credential value", _FIRM, "access_token")
    return None


_EPOCH_SECONDS_MAX = 4_102_444_800  # 2100-01-01
_EPOCH_SECONDS_MIN = -2_840_140_800  # 1880-01-01


def _check_dob_number(number: int) -> _Check | None:
    """``19900517`` or a Unix time in seconds or milliseconds."""
    if 18800101 <= number <= 21001231:
        ok = _valid_date(number // 10000, number // 100 % 100, number % 100)
        return _Check("date value", _FIRM) if ok else None
    if _EPOCH_SECONDS_MIN <= number <= _EPOCH_SECONDS_MAX and abs(number) >= 10**6:
        return _Check("Unix time value", _FIRM)
    if _EPOCH_SECONDS_MIN * 1000 <= number <= _EPOCH_SECONDS_MAX * 1000 and abs(number) >= 10**9:
        return _Check("Unix time value in milliseconds", _FIRM)
    return None


def _check_number(hit: _NameHit, number: int | float) -> _Check | None:
    family = hit.family
    if family == "lat":
        return _Check("latitude value", _FIRM) if _coordinate_ok(number, 90) else None
    if family == "lng":
        return _Check("longitude value", _FIRM) if _coordinate_ok(number, 180) else None
    if isinstance(number, float):
        return None
    if family == "dob":
        return _check_dob_number(number)
    if number < 0:
        return None
    digits = str(number)
    if family == "phone":
        return _Check("phone number value", _FIRM) if 7 <= len(digits) <= 15 else None
    if family == "postcode":
        return _Check("postal code value", _FIRM) if 3 <= len(digits) <= 10 else None
    if family == "ssn":
        return (
            _Check("value obeying the SSN area rules", _FIRM) if _ssn_ok(digits.zfill(9)) else None
        )
    if family == "cpf":
        return (
            _Check("CPF value with valid check digits", _CERTAIN)
            if _cpf_ok(digits.zfill(11))
            else None
        )
    if family in ("natid", "tax", "passport"):
        return _Check("identity number value", _FIRM) if len(digits) >= 6 else None
    if family in ("card", "pan"):
        if _card_digits_ok(digits, require_brand=False):
            return _Check("Luhn-valid card number value", _CERTAIN, "card_number")
        return None
    if family == "cvv":
        return _Check("3-4 digit security code value", _FIRM) if 100 <= number <= 9999 else None
    if family == "password" and hit.strong:
        return _Check("numeric value", _FIRM) if len(digits) >= 4 else None
    if family == "code":
        return _Check("one-time code value", _FIRM) if len(digits) >= 4 else None
    return None


_VALUE_KEYS = _words(
    """value hash digest secret key token data plain plaintext raw text ciphertext encrypted
    current new old password pem der d p q dp dq qi k"""
)
_MAX_LEAVES = 64


def _exposed_leaf(value: object, *, secret: bool, depth: int = 0, key: str | None = None) -> bool:
    """Does a container hold something real? Secrets need a string under a value-ish key."""
    if isinstance(value, dict):
        if depth >= 4:
            return False
        for i, (k, v) in enumerate(value.items()):
            if i >= _MAX_LEAVES:
                break
            if _exposed_leaf(v, secret=secret, depth=depth + 1, key=str(k)):
                return True
        return False
    if isinstance(value, (list, tuple)):
        if depth >= 4:
            return False
        return any(
            _exposed_leaf(v, secret=secret, depth=depth + 1, key=key) for v in value[:_MAX_LEAVES]
        )
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        text = value.strip()
        if not text or _is_masked(text) or _is_placeholder(text):
            return False
        if not secret:
            return True
        if key is None:
            return True  # a string straight inside a list
        if key.lower() in _VALUE_KEYS:
            return True
        sub = _name_hit(key)
        return sub is not None and sub.category == _SECRET
    if isinstance(value, (int, float)):
        return not secret
    return False


_STREETISH = _words(
    "line street address addr house building road avenue formatted postcode zip plz postal"
)


def _postal_container_ok(value: object, depth: int = 0) -> bool:
    """An address object has a street line or a postal code, not just a city or country."""
    if depth > 3:
        return False
    if isinstance(value, str):
        return _address_ok(value.strip())
    if isinstance(value, (list, tuple)):
        return any(_postal_container_ok(v, depth + 1) for v in value[:_MAX_LEAVES])
    if not isinstance(value, dict):
        return False
    for i, (key, leaf) in enumerate(value.items()):
        if i >= _MAX_LEAVES:
            break
        if isinstance(leaf, (dict, list, tuple)):
            if _postal_container_ok(leaf, depth + 1):
                return True
            continue
        toks = [t for t in _tokens(str(key)) if not t.isdigit()]
        if toks and any(t in _STREETISH for t in toks) and _exposed_leaf(leaf, secret=False):
            return True
    return False


def _quote(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")


def _result(
    category: Category,
    kind: str,
    confidence: Confidence,
    reason: str,
    value: object,
    name: str,
) -> Classification:
    if isinstance(value, str):
        needle = value.strip()
        if len(needle) >= 3 and needle in reason:  # the name contains the value itself
            reason = reason.replace(f"name {_quote(name)}", "the property name")
            if needle in reason:  # the value is one of our own detail words
                reason = f"{category} value signal ({kind})"
    return Classification(category, kind, confidence, reason)


def classify_field(name: str, value: object) -> Classification | None:
    """Personal data or secret judged from a JSON property name AND its value.

    ``value`` may be any JSON value. Null, booleans, empty strings, masked values
    (``"********"``, ``"[REDACTED]"``, ``"****4242"``) and placeholders expose nothing and give
    None, whatever the name.
    """
    hit = _name_hit(_bounded(name))
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _classify_string(name, hit, value)
    if isinstance(value, (int, float)):
        if hit is None or (not hit.strong and hit.family != "geo"):
            return None
        check = _check_number(hit, value)
        if check is None:
            return None
        return _result(
            hit.category,
            check.kind or hit.kind,
            check.confidence,
            f"name {_quote(name)} and {check.detail}",
            value,
            name,
        )
    if isinstance(value, (dict, list, tuple)):
        return _classify_container(name, hit, value)
    return None


def _classify_string(name: str, hit: _NameHit | None, value: str) -> Classification | None:
    text = value.strip()
    if not text or _is_masked(text) or _is_placeholder(text):
        return None
    card_mode: CardMode = "brand"
    if hit is not None and hit.family in ("card", "pan"):
        card_mode = "off"  # the family check applies Luhn without the brand rule
    elif _is_identifier_name(_bounded(name)):
        card_mode = "grouped"  # order_number: 4111111111111111 is an order number
    signal = _value_signal(text, card_mode)
    if hit is None:
        if signal is None:
            return None
        confidence = _CERTAIN if signal.certain else _FIRM
        return _result(signal.category, signal.kind, confidence, signal.detail, value, name)
    if signal is not None and signal.category == _SECRET:
        kind = signal.kind
        if hit.category == _SECRET and not hit.generic:
            kind = hit.kind
            if kind == "password" and signal.kind == "password_hash":
                kind = "password_hash"
        confidence = _CERTAIN if signal.certain else _FIRM
        reason = f"name {_quote(name)} and {signal.detail}"
        return _result(_SECRET, kind, confidence, reason, value, name)
    if signal is not None and signal.kind == hit.kind:  # the name says what the value proves
        reason = f"name {_quote(name)} and {signal.detail}"
        return _result(hit.category, hit.kind, _CERTAIN, reason, value, name)
    check = _check_string(hit, text)
    if check is not None:
        return _result(
            hit.category,
            check.kind or hit.kind,
            check.confidence,
            f"name {_quote(name)} and {check.detail}",
            value,
            name,
        )
    if signal is not None:
        confidence = _CERTAIN if signal.certain else _FIRM
        return _result(signal.category, signal.kind, confidence, signal.detail, value, name)
    return None


def _classify_container(
    name: str, hit: _NameHit | None, value: dict[object, object] | list[object] | tuple[object, ...]
) -> Classification | None:
    if hit is None:
        return None
    if hit.family in ("geo", "lat", "lng"):
        if not _coordinates_ok(value):
            return None
        return _result(
            _PII, "geo_location", _FIRM, f"name {_quote(name)} and coordinates value", value, name
        )
    if not hit.strong or not _exposed_leaf(value, secret=hit.category == _SECRET):
        return None
    if hit.family == "postal" and not _postal_container_ok(value):
        return None
    what = "object" if isinstance(value, dict) else "list"
    return _result(
        hit.category,
        hit.kind,
        _FIRM,
        f"name {_quote(name)} and non-empty {what} value",
        value,
        name,
    )


def classify_value(value: str) -> Classification | None:
    """Value signals only (no name): for free text and cookie contents.

    Only validated, high-precision signals count, searched anywhere inside the text: JWT, PEM
    private key, bcrypt/argon2/scrypt/pbkdf2/crypt/LDAP hashes, AWS/GitHub/Stripe/Slack/Google/
    OpenAI/GitLab/npm/SendGrid/Shopify key prefixes, e-mail addresses (not role mailboxes such
    as ``support@``), Luhn-valid card numbers with a real brand prefix and length in card-like
    formatting, mod-97-valid IBANs of a known country length; and, as ``firm`` signals, a
    password inside a URL (``postgres://app:s3cret@db``), a credential query parameter
    (``?access_token=...``) and a quoted password (``password: hunter22``).
    """
    if not value:
        return None
    signal = _value_signal(value)
    if signal is None:
        return None
    confidence = _CERTAIN if signal.certain else _FIRM
    return Classification(signal.category, signal.kind, confidence, signal.detail)
