"""The labelled table for :mod:`specdiff.classify`: ``(name, value, expected)`` as data.

``expected`` is ``None`` for a decoy or ``(category, kind)``. The labels are what a security
reviewer would say about a response property, not what the classifier happens to do; the
decoys include the known false positives of other scanners and field names of real APIs
(GitHub, Stripe, OpenAI, Google).

Secret-looking values are assembled from pieces so that no scanner mistakes this file for a
leak; every one of them is fake.
"""

from __future__ import annotations

from typing import Literal

Expected = tuple[Literal["pii", "secret"], str] | None
Case = tuple[str, object, Expected]

# --------------------------------------------------------------------------- fake secrets

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
BCRYPT_2B = "$2b$12$" + "EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW"
BCRYPT_2A = "$2a$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
BCRYPT_2Y = "$2y$10$" + "IqfEouHgxzNNAL5wIScGebcy8F5n3/YNBDRzrZSgqbjG3uhkWKFLf"
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$" + "c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
DJANGO_PBKDF2 = (
    "pbkdf2_sha256$600000$" + "X0pmSuA6ZIeqsfP6kg4Cb2$wIqtH/+OuEBuL4p/xMzk3Z8LQRDZ8voAJcjv5X83ck8="
)
WERKZEUG_PBKDF2 = (
    "pbkdf2:sha256:600000$"
    + "bJ3oT1Zr$b5b7a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec255404e4fb440034d"
)
WERKZEUG_SCRYPT = (
    "scrypt:32768:8:1$"
    + "Wq2kTbUe3sN9vL1x$6608697a8d41bed440e50454f31af3176813e02ea68ef786e4d3cea27d26934b"
    + "484e73cf575dcad6ba2b0aee0ca923732881584d8c4fa2815d2802827283e0ad"
)
PASSLIB_SCRYPT = (
    "$scrypt$ln=16,r=8,p=1$" + "aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"
)
SHA512_CRYPT = (
    "$6$rounds=5000$saltsalt$"
    + "IqfEouHgxzNNAL5wIScGebcy8F5n3/YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYc"
)
LDAP_SSHA = "{SSHA}" + "wIqtH/+OuEBuL4p/xMzk3Z8LQRDZ8voA"
_PEM_BODY = (
    "MIIEowIBAAKCAQEAmZt3K0/Hpv1MkUoW20cIdSsPFUS4NcDnGQl9+ocB6SMvIfKB\n"
    "Jod4aXbr/MMn9ZMXZSdLqYKbRAb2H/iJMm/6lJLt7u48Zp8r8giU6ifmicZrayYu\n"
    "SIa4Q485unb++MkMUQH75s+aSNWwwKE9qQCmrcs9ZAaUgb4hyccnuNuMGI80GpJM\n"
)
PEM_RSA = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + _PEM_BODY + "-----END RSA PRIVATE KEY-----\n"
PEM_PKCS8 = "-----BEGIN " + "PRIVATE KEY-----\n" + _PEM_BODY + "-----END PRIVATE KEY-----"
PEM_EC = "-----BEGIN EC " + "PRIVATE KEY-----\n" + _PEM_BODY + "-----END EC PRIVATE KEY-----"
PEM_OPENSSH = (
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + _PEM_BODY + "-----END OPENSSH PRIVATE KEY-----"
)
PEM_PUBLIC = "-----BEGIN PUBLIC KEY-----\n" + _PEM_BODY + "-----END PUBLIC KEY-----"
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB_PAT = "ghp_" + "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
GITHUB_OAUTH = "gho_" + "KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR"
GITHUB_APP = "ghs_" + "IBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7"
GITHUB_REFRESH = "ghr_" + "FAc9QeWJKY40uvSwMFLZDe1f8rESQedUStPK"
STRIPE_LIVE = "sk_" + "live_" + "R0CsTy4Qwb8DwkNhFdnXsiVp"
STRIPE_TEST = "sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_PUBLISHABLE = "pk_" + "live_" + "R0CsTy4Qwb8DwkNhFdnXsiVp"
STRIPE_WEBHOOK = "whsec_" + "fjgVvVqE1SkHbn88HxjSI6bWHtP3fS2q"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + "R0CsTy4Qwb8DwkNhFdnXsiVp"
GOOGLE_KEY = "AIza" + "YY_kv5ZJr3J1TWDtkwtDDb-xHKas1VOqg6Y"
OPENAI_KEY = "sk-" + "proj-" + "zzzgEOzdmenCkhvMdgaKjIg8xNbe3nNyjOq9wMxEhh2FDEEt"
GITLAB_PAT = "glpat-" + "R0CsTy4Qwb8DwkNhFdnX"
UUID = "550e8400-e29b-41d4-a716-446655440000"

PII: Literal["pii"] = "pii"
SECRET: Literal["secret"] = "secret"


def pii(kind: str) -> Expected:
    return (PII, kind)


def secret(kind: str) -> Expected:
    return (SECRET, kind)


# --------------------------------------------------------------------------- positives: pii

POSITIVES_PII: list[Case] = [
    # email
    ("email", "jane.doe@example.com", pii("email")),
    ("emailAddress", "j.smith+news@mail.example.co.uk", pii("email")),
    ("e_mail", "max.mustermann@example.de", pii("email")),
    ("contact_email", "ana.garcia@example.es", pii("email")),
    ("receipt_email", "jenny.rosen@example.com", pii("email")),
    ("commit.author.email", "octocat@github.com", pii("email")),
    ("correo", "lucia@example.mx", pii("email")),
    ("courriel", "pierre.martin@example.fr", pii("email")),
    ("EMAIL", "OPS.LEAD@EXAMPLE.COM", pii("email")),
    ("user", "li.wei@example.cn", pii("email")),
    ("note", "Customer asked to be reached at maria.rossi@example.it tomorrow", pii("email")),
    ("emails", ["a.b@example.com", "c.d@example.org"], pii("email")),
    ("billing_details.email", "ken@example.jp", pii("email")),
    ("mail", "sam@example.net", pii("email")),
    ("reply_to_address", "tom@example.com", pii("email")),
    ("owner", "Jane Doe <jane@example.com>", pii("email")),
    ("userEmail", "JANE@EXAMPLE.COM", pii("email")),
    ("url", "mailto:jane@example.com", pii("email")),
    ("email", {"address": "jane@example.com", "verified": True}, pii("email")),
    ("contact", "jane@example.com", pii("email")),
    ("roster_identifier", "monalisa@github.com", pii("email")),
    # phone
    ("phone", "+14155552671", pii("phone")),
    ("phone_number", "(415) 555-2671", pii("phone")),
    ("mobile", "+49 170 1234567", pii("phone")),
    ("msisdn", "447700900123", pii("phone")),
    ("telephone", "+33 1 23 45 67 89", pii("phone")),
    ("telefon", "030 12345678", pii("phone")),
    ("phoneNumber", "+44 20 7946 0958", pii("phone")),
    ("cell_phone", "555-867-5309", pii("phone")),
    ("contact_number", "020 7946 0958", pii("phone")),
    ("phone", 4155552671, pii("phone")),
    ("telefono", "+34 612 345 678", pii("phone")),
    ("phone", "+1 (415) 555-2671 ext. 123", pii("phone")),
    ("bio", "Call me on +1 415 555 2671 after 6pm", pii("phone")),  # KNOWN_MISSES
    # national ids
    ("ssn", "123-45-6789", pii("national_id")),
    ("ssn", "536228745", pii("national_id")),
    ("social_security_number", "219-09-9999", pii("national_id")),
    ("socialSecurityNumber", "536-22-8745", pii("national_id")),
    ("SSN", 536228745, pii("national_id")),
    ("national_id", "AB123456C", pii("national_id")),
    ("national_insurance_number", "QQ 12 34 56 C", pii("national_id")),
    ("nin", "QQ123456C", pii("national_id")),
    ("nationalId", "12345678Z", pii("national_id")),
    ("cpf", "529.982.247-25", pii("national_id")),
    ("personnummer", "19900517-1234", pii("national_id")),
    ("bsn", "111222333", pii("national_id")),
    ("ssn", "123 45 6789", pii("national_id")),
    ("aadhaar", "2345 6789 0123", pii("national_id")),
    # tax ids
    ("tax_id", "12-3456789", pii("tax_id")),
    ("tin", "912-70-1234", pii("tax_id")),
    ("taxId", "DE123456789", pii("tax_id")),
    ("steuernummer", "21/815/08150", pii("tax_id")),
    ("itin", "912-78-1234", pii("tax_id")),
    ("pan", "ABCDE1234F", pii("tax_id")),
    ("tax_identification_number", "PL5260250274", pii("tax_id")),
    # passports
    ("passport_number", "C01X00T47", pii("passport")),
    ("passportNumber", "533380006", pii("passport")),
    ("passport", "X1234567", pii("passport")),
    ("passport_no", "L898902C3", pii("passport")),
    ("passport_id", "P1234567", pii("passport")),
    # dates of birth
    ("dob", "1990-05-17", pii("date_of_birth")),
    ("date_of_birth", "17/05/1990", pii("date_of_birth")),
    ("birthDate", "1990-05-17T00:00:00Z", pii("date_of_birth")),
    ("birthday", "05/17/1990", pii("date_of_birth")),
    ("geburtsdatum", "17.05.1990", pii("date_of_birth")),
    ("date_de_naissance", "17/05/1990", pii("date_of_birth")),
    ("birth_date", "May 17, 1990", pii("date_of_birth")),
    ("dob", {"day": 17, "month": 5, "year": 1990}, pii("date_of_birth")),
    ("fecha_de_nacimiento", "1985-11-02", pii("date_of_birth")),
    ("data_de_nascimento", "02/11/1985", pii("date_of_birth")),
    ("DOB", "19850211", pii("date_of_birth")),
    ("date_of_birth", 643939200, pii("date_of_birth")),
    ("birthday", "--05-17", pii("date_of_birth")),
    # postal addresses
    ("address", "221B Baker Street, London NW1 6XE", pii("postal_address")),
    ("street", "1600 Amphitheatre Pkwy", pii("postal_address")),
    ("postal_code", "94043", pii("postal_address")),
    ("zip", "94105", pii("postal_address")),
    ("zip_code", 94105, pii("postal_address")),
    ("zipcode", "94105-1234", pii("postal_address")),
    ("postcode", "SW1A 1AA", pii("postal_address")),
    (
        "billing_address",
        {"line1": "510 Townsend St", "city": "San Francisco", "postal_code": "94103"},
        pii("postal_address"),
    ),
    ("shipping_address", "Hauptstraße 5, 10115 Berlin", pii("postal_address")),
    ("address_line1", "510 Townsend St", pii("postal_address")),
    ("streetAddress", "742 Evergreen Terrace", pii("postal_address")),
    ("adresse", "10 Rue de Rivoli, 75001 Paris", pii("postal_address")),
    ("plz", "10115", pii("postal_address")),
    ("addresses", [{"line1": "1 Main St", "city": "Springfield"}], pii("postal_address")),
    ("location", "1600 Amphitheatre Parkway, Mountain View, CA", pii("postal_address")),
    ("home_address", {"street": "Calle Mayor 1", "city": "Madrid"}, pii("postal_address")),
    # cards
    ("card_number", "4111 1111 1111 1111", pii("card_number")),
    ("cardNumber", "5500005555555559", pii("card_number")),
    ("pan", "4012888888881881", pii("card_number")),
    ("credit_card", "378282246310005", pii("card_number")),
    ("cc_number", "6011111111111117", pii("card_number")),
    ("number", "4242424242424242", pii("card_number")),
    ("note", "charged card 5555-5555-5555-4444 twice", pii("card_number")),
    ("card_number", 4111111111111111, pii("card_number")),
    ("credit_card_number", "3530111333300000", pii("card_number")),
    ("card_no", "2223003122003222", pii("card_number")),
    ("ccnum", "4000056655665556", pii("card_number")),
    ("value", "3782 822463 10005", pii("card_number")),
    ("reference", "4111 1111 1111 1111", pii("card_number")),
    ("cvv", "123", pii("card_security_code")),
    ("cvc", 737, pii("card_security_code")),
    ("card_security_code", "4321", pii("card_security_code")),
    # IBANs
    ("iban", "DE89 3704 0044 0532 0130 00", pii("iban")),
    ("iban", "GB82WEST12345698765432", pii("iban")),
    ("account", "FR1420041010050500013M02606", pii("iban")),
    ("IBAN", "NL91ABNA0417164300", pii("iban")),
    ("bank_iban", "CH9300762011623852957", pii("iban")),
    ("memo", "please pay to ES9121000418450200051332 by Friday", pii("iban")),
    ("payout_iban", "IT60 X054 2811 1010 0000 0123 456", pii("iban")),
    ("iban", "de89 3704 0044 0532 0130 00", pii("iban")),
    ("account_number", "DE89370400440532013000", pii("iban")),
    # IP addresses
    ("ip", "203.0.113.7", pii("ip_address")),
    ("ip_address", "2001:db8::1", pii("ip_address")),
    ("client_ip", "198.51.100.23", pii("ip_address")),
    ("last_login_ip", "192.0.2.44", pii("ip_address")),
    ("remote_addr", "198.51.100.9", pii("ip_address")),
    ("ipAddress", "203.0.113.195", pii("ip_address")),
    ("current_sign_in_ip", "10.12.4.200", pii("ip_address")),
    ("ipv4", "192.0.2.1", pii("ip_address")),
    ("IPv6Address", "2001:db8:85a3::8a2e:370:7334", pii("ip_address")),
    ("remote_ip", "203.0.113.9", pii("ip_address")),
    ("X-Forwarded-For", "203.0.113.195, 70.41.3.18", pii("ip_address")),
    # geo positions
    ("lat", 37.7749, pii("geo_location")),
    ("lng", -122.4194, pii("geo_location")),
    ("latitude", "51.5072", pii("geo_location")),
    ("longitude", -0.1276, pii("geo_location")),
    ("location", {"lat": 37.77, "lng": -122.41}, pii("geo_location")),
    ("coordinates", [-122.4194, 37.7749], pii("geo_location")),
    ("geo", "37.7749,-122.4194", pii("geo_location")),
    ("last_known_location", {"latitude": 48.8584, "longitude": 2.2945}, pii("geo_location")),
    ("geolocation", {"type": "Point", "coordinates": [13.405, 52.52]}, pii("geo_location")),
    ("position", {"lat": 52.52, "lon": 13.405}, pii("geo_location")),
    ("location", "37°46′29″ N, 122°25′10″ W", pii("geo_location")),
]

# --------------------------------------------------------------------------- positives: secrets

POSITIVES_SECRET: list[Case] = [
    # passwords
    ("password", "hunter22", secret("password")),
    ("passwd", "Tr0ub4dor&3", secret("password")),
    ("pwd", "correct horse", secret("password")),
    ("pass", "s3cr3t!", secret("password")),
    ("PASSWORD", "P@ssw0rd2024", secret("password")),
    ("user_password", "qwerty123", secret("password")),
    ("new_password", "n3wPassw0rd!", secret("password")),
    ("passwort", "Geheim123!", secret("password")),
    ("mot_de_passe", "motdepasse2024", secret("password")),
    ("contraseña", "Clave-Secreta9", secret("password")),
    ("senha", "minhasenha123", secret("password")),
    ("db_password", "pg-prod-8841", secret("password")),
    ("smtp_pass", "mailerPW77", secret("password")),
    ("password", {"value": "hunter22"}, secret("password")),
    ("authorization", "Basic dXNlcjpwYXNzd29yZA==", secret("password")),
    ("password_confirmation", "hunter22", secret("password")),
    ("password1", "abc12345", secret("password")),
    ("DATABASE_URL", "postgres://app:Pg9xQ2mL7v@db.internal:5432/app", secret("password")),
    ("remote", "https://deploy:hunter22@git.example.com/repo.git", secret("password")),
    ("message", "Your temporary password is Xk93-pq7T, please change it.", secret("password")),
    ("error", 'Login failed for {"username": "jane", "password": "hunter22"}', secret("password")),
    # password hashes
    ("password_hash", BCRYPT_2B, secret("password_hash")),
    ("passwordHash", ARGON2, secret("password_hash")),
    ("hashed_password", DJANGO_PBKDF2, secret("password_hash")),
    ("pw_hash", WERKZEUG_PBKDF2, secret("password_hash")),
    ("password_digest", BCRYPT_2A, secret("password_hash")),
    ("encrypted_password", BCRYPT_2B, secret("password_hash")),
    ("hash", BCRYPT_2Y, secret("password_hash")),
    ("password", BCRYPT_2A, secret("password_hash")),
    ("password", "5f4dcc3b5aa765d61d8327deb882cf99", secret("password_hash")),
    ("data", SHA512_CRYPT, secret("password_hash")),
    ("pwd_hash", WERKZEUG_SCRYPT, secret("password_hash")),
    ("credential", PASSLIB_SCRYPT, secret("password_hash")),
    ("userPassword", LDAP_SSHA, secret("password_hash")),
    # API keys
    ("api_key", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", secret("api_key")),
    ("apiKey", "0f8e7d6c-5b4a-4321-9876-fedcba987654", secret("api_key")),
    ("x-api-key", "Zt9qLm2Xv8Rk4Wp6Yb1Nc3Hd", secret("api_key")),
    ("key", AWS_KEY_ID, secret("api_key")),
    ("aws_access_key_id", AWS_KEY_ID, secret("api_key")),
    ("value", GOOGLE_KEY, secret("api_key")),
    ("stripe_key", STRIPE_LIVE, secret("api_key")),
    ("secret_key", STRIPE_TEST, secret("api_key")),
    ("openai_api_key", OPENAI_KEY, secret("api_key")),
    ("APIKEY", "9f86d081884c7d659a2feaa0c55ad015", secret("api_key")),
    ("api_token", "tk_8f7a6b5c4d3e2f1a0b9c", secret("api_key")),
    ("message", f"Your key is {STRIPE_LIVE}, keep it safe.", secret("api_key")),
    ("maps_key", GOOGLE_KEY, secret("api_key")),
    ("stripe_secret_key", STRIPE_LIVE, secret("api_key")),
    (
        "url",
        "https://api.example.com/v1/users?api_key=9f86d081884c7d659a2feaa0c55ad015",
        secret("api_key"),
    ),
    # access tokens
    (
        "access_token",
        "ya29.a0AfH6SMBx3kLq9ZrT5vW7yN2pD4fG6hJ8kL0mN2pQ4rS6tU8",
        secret("access_token"),
    ),
    ("accessToken", GITHUB_OAUTH, secret("access_token")),
    ("token", GITHUB_APP, secret("access_token")),
    ("auth_token", "7f3c9a2b1e8d4f6a0c5b9e2d7a1f4c8b", secret("access_token")),
    ("bearer", "mF_9.B5f-4.1JqM", secret("access_token")),
    ("oauth_token", "1234567-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", secret("access_token")),
    ("authorization", "Bearer 8a7b6c5d4e3f2a1b0c9d8e7f", secret("access_token")),
    ("slack", SLACK_BOT, secret("access_token")),
    ("X-Auth-Token", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", secret("access_token")),
    ("github_token", GITHUB_PAT, secret("access_token")),
    ("personal_access_token", GITLAB_PAT, secret("access_token")),
    ("token", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", secret("access_token")),
    ("token", "LLBF3JGZDX3P5PMEXLND6TS6FCWO6", secret("access_token")),
    ("registration_access_token", "reg-23410913-abewfq.123483", secret("access_token")),
    ("token", {"access_token": "abc123def456ghi789"}, secret("access_token")),
    (
        "git_url",
        "https://x-access-token:" + GITHUB_APP + "@github.com/octo/repo.git",
        secret("access_token"),
    ),
    (
        "callback_url",
        "https://app.example.com/cb?access_token=f81d4fae7dec11d0a765",
        secret("access_token"),
    ),
    # refresh tokens
    ("refresh_token", "tGzv3JOkF0XG5Qx2TlKWIA", secret("refresh_token")),
    ("refreshToken", JWT, secret("refresh_token")),
    ("refresh_token", "8xLOxBtZp8", secret("refresh_token")),
    ("data", GITHUB_REFRESH, secret("refresh_token")),
    # JWTs
    ("jwt", JWT, secret("jwt")),
    ("id_token", JWT, secret("jwt")),
    ("token", JWT, secret("jwt")),
    ("data", JWT, secret("jwt")),
    ("session", JWT, secret("jwt")),
    ("auth", JWT, secret("jwt")),
    ("Authorization", "Bearer " + JWT, secret("jwt")),
    # private keys
    ("private_key", PEM_RSA, secret("private_key")),
    ("privateKey", PEM_PKCS8, secret("private_key")),
    ("signing_key", PEM_EC, secret("private_key")),
    ("ssh_private_key", PEM_OPENSSH, secret("private_key")),
    ("key", PEM_OPENSSH, secret("private_key")),
    ("pem", PEM_RSA, secret("private_key")),
    (
        "private_key",
        {"kty": "RSA", "e": "AQAB", "n": "mZt3K0_Hpv1MkUoW20cI", "d": "wIqtH_-OuEBuL4p_xMzk"},
        secret("private_key"),
    ),
    # client secrets
    ("client_secret", "Gx7Kq2Lm9Np4Rs6Tv8Wy1Zb3", secret("client_secret")),
    ("clientSecret", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", secret("client_secret")),
    ("app_secret", "9a8b7c6d5e4f3a2b1c0d9e8f", secret("client_secret")),
    ("consumer_secret", "Lm8Np2Qr4St6Uv8Wx0Yz2Ab4Cd6Ef8Gh0Ij2Kl4", secret("client_secret")),
    (
        "client_secret",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
        secret("client_secret"),
    ),
    # session ids
    ("session_id", "b5e7c2a4-93f1-4d8e-a6b0-2c7f9e1d3a5b", secret("session_id")),
    ("sessionid", "k2j4h6g8f0d2s4a6", secret("session_id")),
    ("sessionId", "s%3AxYz123AbC456DeF789.gHiJkL", secret("session_id")),
    ("PHPSESSID", "9c1185a5c5e9fc54612808977ee8f548", secret("session_id")),
    ("JSESSIONID", "1A530637289A03B07199A44E8D531427", secret("session_id")),
    ("session_token", "st_7Hq2Lp9Xr4Vm6Nb8", secret("session_id")),
    ("session", "a8Kj3Lm9Qp2Rs7Tv5Wx1Yz4B", secret("session_id")),
    # other secrets
    ("secret", "9f2c7a1e4b8d3f6a0c5e", secret("secret")),
    ("webhook_secret", STRIPE_WEBHOOK, secret("secret")),
    ("totp_secret", "JBSWY3DPEHPK3PXP", secret("secret")),
    ("shared_secret", "s3cr3t-sh4red-v4lue", secret("secret")),
    ("signing_secret", "8f14e45fceea167a5a36dedd4bea2543", secret("secret")),
    ("jwt_secret", "my-jwt-s1gning-secret", secret("secret")),
    ("encryption_key", "c2VjcmV0LWVuY3J5cHRpb24ta2V5LTEyMzQ1Ng==", secret("secret")),
    ("oauth_token_secret", "J6zix3FfA9LofH0awS24M3HcBYXO5nI1iYe8EfBA", secret("secret")),
    ("secret", STRIPE_WEBHOOK, secret("secret")),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secret("secret")),
    ("apiSecret", "Zt9qLm2Xv8Rk4Wp6Yb1Nc3Hd", secret("secret")),
    ("passwordResetToken", "a9f8e7d6c5b4a3f2e1d0", secret("secret")),
    ("remember_token", "k3j4h5g6f7d8s9a0l1k2", secret("secret")),
    ("verification_code", "493817", secret("secret")),
    ("otp", 493817, secret("secret")),
    ("recovery_codes", ["a1b2-c3d4", "e5f6-g7h8"], secret("secret")),
]

# --------------------------------------------------------------------------- decoys

DECOYS: list[Case] = [
    # metadata about secrets: the known false positives of other scanners
    ("token_count", 3, None),
    ("max_tokens", 256, None),
    ("tokens_used", 1200, None),
    ("password_policy", "min 8 chars", None),
    ("password_min_length", 8, None),
    ("password_changed_at", "2024-03-01T10:00:00Z", None),
    ("password_reset_required", False, None),
    ("has_password", True, None),
    ("email_verified", True, None),
    ("email_count", 2, None),
    ("secret_santa_enabled", True, None),
    ("api_key_id", "key_123", None),
    ("token_type", "bearer", None),
    ("expires_in", 3600, None),
    ("access_token_expires_at", "2024-06-01T00:00:00Z", None),
    ("password_strength", "strong", None),
    ("key_type", "rsa", None),
    ("secret_name", "prod/db", None),
    ("session_count", 5, None),
    ("session_expires_at", "2024-06-01T00:00:00Z", None),
    ("session_id", 42, None),
    ("mfa_enabled", True, None),
    ("two_factor_authentication", True, None),
    ("token_endpoint", "https://oauth2.googleapis.com/token", None),
    ("password_reset_url", "https://example.com/account/reset", None),
    ("auth_method", "password", None),
    ("grant_type", "password", None),
    ("login_method", "password", None),
    # identifiers, timestamps, versions
    ("id", UUID, None),
    ("request_id", "7b1e6c9a-3f52-4d8b-9e0a-2c4f6a8b0d1e", None),
    ("order_id", "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", None),
    ("created_at", "2024-05-17T12:34:56Z", None),
    ("updated_at", "1990-05-17", None),
    ("start_date", "1990-05-17", None),
    ("version", "1.2.3.4", None),
    ("build", "10.0.19045.3693", None),
    ("order_number", "4111111111111111", None),
    ("tracking_number", "4242424242424242", None),
    ("invoice_number", "5555555555554444", None),
    ("reference", "4012888888881881", None),
    ("transaction_id", "5105105105105100", None),
    ("sku", "4111111111111111", None),
    ("imei", "490154203237518", None),
    ("tracking", "1Z999AA10123456784", None),
    ("user_id", 42, None),
    ("created", 1680893993, None),
    # nothing exposed under a sensitive name
    ("password", None, None),
    ("password", "", None),
    ("password", True, None),
    ("email", None, None),
    ("email", False, None),
    ("ssn", "", None),
    ("phone", None, None),
    ("secret", "   ", None),
    ("tokens", [], None),
    ("emails", [], None),
    ("password", {"min_length": 8, "require_digit": True}, None),
    ("api_keys", [{"id": "key_1", "name": "ci", "created_at": "2024-01-01"}], None),
    # masked or placeholder values
    ("password", "********", None),
    ("password", "[FILTERED]", None),
    ("api_key", "[REDACTED]", None),
    ("token", "***", None),
    ("ssn", "***-**-6789", None),
    ("ssn", "XXX-XX-6789", None),
    ("card_number", "**** **** **** 4242", None),
    ("email", "j***@example.com", None),
    ("phone", "XXX-XXX-1234", None),
    ("api_key", "sk_live_••••••••4242", None),
    ("client_secret", "<client secret>", None),
    ("api_key", "YOUR_API_KEY", None),
    ("password", "${DB_PASSWORD}", None),
    ("phone", "n/a", None),
    # invalid values under sensitive names
    ("email", "not-an-email", None),
    ("email", "user@localhost", None),
    ("ssn", "000-12-3456", None),
    ("ssn", "666-12-3456", None),
    ("ssn", "912-34-5678", None),
    ("ssn", "123-00-4567", None),
    ("card_number", "4111111111111112", None),
    ("iban", "DE89370400440532013001", None),
    ("dob", "not provided", None),
    ("zip", "gzip", None),
    ("pan", "left", None),
    ("pan", 0.5, None),
    ("cell", "A1", None),
    ("token", "Hello", None),
    ("address", "0x742d35Cc6634C0532925a3b844Bc454e4438f44e", None),
    ("address", "https://example.com/callback", None),
    ("latitude", 0, None),
    ("location", "San Francisco", None),
    ("location", {"city": "Berlin", "country": "DE"}, None),
    ("position", 3, None),
    # GitHub
    ("node_id", "MDQ6VXNlcjE=", None),
    ("sha", "6dcb09b5b57875f334f61aebed695e2e4193db5e", None),
    ("etag", 'W/"a00049ba79152d03380c34652f2cb612"', None),
    ("avatar_url", "https://avatars.githubusercontent.com/u/583231?v=4", None),
    ("gravatar_id", "", None),
    ("login", "octocat", None),
    ("name", "The Octocat", None),
    ("company", "@github", None),
    ("blog", "https://github.blog", None),
    ("twitter_username", "monatheoctocat", None),
    ("ssh_url", "git@github.com:octocat/Hello-World.git", None),
    ("clone_url", "https://github.com/octocat/Hello-World.git", None),
    ("key_id", "012345678912345678", None),
    ("key", "2Sg8iYjAxxmI2LvUXpJjkYrMxURPc8r+dB7TJyvv1234", None),
    (
        "key",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        None,
    ),
    ("fingerprint", "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8", None),
    ("secret_scanning", {"status": "enabled"}, None),
    ("secret_scanning_push_protection", {"status": "disabled"}, None),
    ("secrets", [{"name": "GH_TOKEN", "created_at": "2019-08-10T14:59:22Z"}], None),
    ("total_count", 2, None),
    ("private_gists", 81, None),
    ("hooks", ["192.30.252.0/22", "185.199.108.0/22"], None),
    ("verification", {"verified": False, "reason": "unsigned", "signature": None}, None),
    ("from", "noreply@github.com", None),
    ("hashed_token", "25f94a2a5c7fbaf499c665bc73d67c1c87e496da8985131633ee0a95819d", None),
    ("secret", "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX", None),
    ("organization_personal_access_tokens", "write", None),
    ("token_last_eight", "Ae178B4a", None),
    # Stripe
    ("id", "cus_NffrFeUfNV2Hib", None),
    ("client_reference_id", "cart_8f7a6b", None),
    ("fingerprint", "Xt5EWLLDS7FJjR1c", None),
    ("last4", "4242", None),
    ("exp_month", 12, None),
    ("exp_year", 2030, None),
    ("brand", "visa", None),
    ("funding", "credit", None),
    ("country", "US", None),
    ("tax_behavior", "exclusive", None),
    ("tax_code", "txcd_10000000", None),
    ("livemode", False, None),
    ("address", None, None),
    ("address", {"city": None, "country": None, "line1": None, "postal_code": None}, None),
    ("dob", {"day": None, "month": None, "year": None}, None),
    ("ssn_last_4_provided", False, None),
    ("ssn_last_4", "6789", None),
    ("id_number_provided", True, None),
    ("cvc_check", "pass", None),
    ("address_zip_check", "pass", None),
    ("publishable_key", STRIPE_PUBLISHABLE, None),
    ("idempotency_key", "8e03978e-40d5-43e8-bc93-6894a57f9324", None),
    ("invoice_prefix", "0759376C", None),
    ("payment_method", "pm_1NvGaB2eZvKYlo2C", None),
    ("statement_descriptor", "ACME CORP", None),
    ("three_d_secure_usage", {"supported": True}, None),
    ("card_last4", "4242", None),
    ("iban_last4", "3000", None),
    ("card_brand", "visa", None),
    ("authorization_code", "123456", None),
    ("network_transaction_id", "123456789012345", None),
    ("support_email", "support@acme.com", None),
    # OpenAI and LLM tokenizers
    ("prompt_tokens", 9, None),
    ("completion_tokens", 12, None),
    ("total_tokens", 21, None),
    ("token", "tokenization", None),
    ("logprob", -0.31, None),
    ("eos_token", "</s>", None),
    ("model", "gpt-4o-mini", None),
    # pagination, CSRF and other non-secret tokens and keys
    ("csrf_token", "a8Kj3Lm9Qp2Rs7Tv5Wx1", None),
    ("next_page_token", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA", None),
    ("nextPageToken", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA", None),
    ("cursor", "dXNlcjpXMDdRQ1JQQTQ=", None),
    ("public_key", PEM_PUBLIC, None),
    ("client_id", "1234567890-abc123def456.apps.googleusercontent.com", None),
    ("kid", "1e9gdk7", None),
    ("key", "color", None),
    ("key", "PROJ-123", None),
    ("private_key_id", "8f14e45fceea167a5a36dedd4bea2543a1b2c3d4", None),
    ("jwks_uri", "https://example.com/.well-known/jwks.json", None),
    # plain names and other profile data that is not in our kinds
    ("username", "jdoe", None),
    ("first_name", "Jane", None),
    ("last_name", "Doe", None),
    ("full_name", "Jane Doe", None),
    ("city", "Berlin", None),
    ("timezone", "Europe/Berlin", None),
    ("locale", "en-US", None),
    ("role", "admin", None),
    ("scope", "read write", None),
    # hashes and signatures that are not password hashes
    ("checksum", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", None),
    ("hash", "d41d8cd98f00b204e9800998ecf8427e", None),
    ("email_hash", "5d41402abc4b2a76b9719d911017c592", None),
    (
        "signature",
        "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
        None,
    ),
    # names that look sensitive but are not
    ("email_domain", "example.com", None),
    ("email_template", "welcome_v2", None),
    ("email_notifications", True, None),
    ("phone_verified", True, None),
    ("phone_country_code", "+1", None),
    ("phone_type", "mobile", None),
    ("mobile_app_version", "5.2.1", None),
    ("ip_filtering_enabled", False, None),
    ("ip_allow_list", [], None),
    ("ip_range", "192.30.252.0/22", None),
    ("ip", "127.0.0.1", None),
    ("mac_address", "00:1A:2B:3C:4D:5E", None),
    ("wallet_address", "0x742d35Cc6634C0532925a3b844Bc454e4438f44e", None),
    ("server_address", "10.0.0.12", None),
    ("zip_url", "https://example.com/export.zip", None),
    ("location_id", "loc_123", None),
    ("dob_verified", True, None),
    ("birthday_reminder_enabled", True, None),
    ("boarding_pass", "M1DOE/JANE EABC123 LHRJFKBA 0117 123Y001A0025 100", None),
    ("pass_rate", 0.93, None),
    ("sender", "no-reply@accounts.google.com", None),
    ("client_secret_expires_at", 0, None),
    ("client_secret", "", None),
    ("keys", [{"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "mZt3K0_Hpv1MkUoW20cI"}], None),
    (
        "certificate",
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n",
        None,
    ),
    ("ssh_key", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 deploy@ci", None),
    ("ip", "::1", None),
    ("ip", "0.0.0.0", None),
    ("ip_address", "999.1.1.1", None),
    ("user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", None),
    ("geo_enabled", True, None),
    ("coordinates", None, None),
    ("address_validated", True, None),
    ("address", "Berlin", None),
    ("address", {"country": "DE"}, None),
    ("avatar", "https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50?d=mp", None),
    ("image", "icon@2x.png", None),
    ("package", "lodash@4.17.21", None),
    ("handle", "@octocat", None),
    ("uuid", UUID, None),
    ("page_token", "", None),
    ("stripe_publishable_key", "pk_" + "test_" + "TYooMQauvdEDq54NiTphI7jx", None),
    ("sentry_dsn", "https://f81d4fae7dec11d0a765@o123456.ingest.sentry.io/456", None),
    ("redis_url", "redis://localhost:6379/0", None),
    ("dsn", "postgres://user:password@localhost:5432/db", None),
    ("next", "https://api.example.com/items?page_token=CiAKGjBpNDd2Nmp2&limit=10", None),
    ("bic", "DEUTDEFF", None),
    ("swift", "DEUTDEFF500", None),
    ("routing_number", "110000000", None),
    ("card", {"brand": "visa", "last4": "4242", "exp_month": 12}, None),
    ("cardholder_name", "Jane Doe", None),
    ("phone", "12345", None),
    ("zip", "00000", None),
    (
        "download_url",
        "https://bucket.s3.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=" + AWS_KEY_ID + "%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=b5b7a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec255404e4fb440034d",
        None,
    ),
    (
        "signed_url",
        "https://storage.googleapis.com/b/o.txt?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        "&X-Goog-Credential=uploader%40my-project.iam.gserviceaccount.com%2F20240101",
        None,
    ),
    ("service_account", "uploader@my-project.iam.gserviceaccount.com", None),
    # free text without secrets
    ("description", "Use your API key in the Authorization header", None),
    ("text", "Contact support@acme.com or sales@acme.com", None),
    ("content", "The quick brown fox jumps over the lazy dog", None),
    ("trace", "at com.example.Foo.bar(Foo.java:42)", None),
    ("message", "Password is required", None),
    ("detail", "password: must contain at least one digit", None),
    ("hint", "Passwords must be 8-64 characters", None),
    ("message", "Password reset link sent to your inbox", None),
    ("log", "connecting with password=${DB_PASSWORD}", None),
    ("confirmation_code", "ABC123", None),
    ("otp_enabled", True, None),
    ("error_code", "ERR_1234", None),
    ("message", "Password must be at least 8 characters", None),
    ("error", "invalid_grant", None),
    ("error_description", "The refresh token is invalid or expired", None),
    ("detail", "Email address already in use", None),
]

CASES: list[Case] = [*POSITIVES_PII, *POSITIVES_SECRET, *DECOYS]

KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("bio", repr("Call me on +1 415 555 2671 after 6pm")): (
        "phone numbers are not searched for in free text: digit runs there are too often ids,"
        " amounts or dates to keep precision"
    ),
}
"""Cases whose honest label the classifier does not reach, keyed by ``(name, repr(value))``."""
