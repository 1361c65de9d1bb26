"""The vulnerable twin: a Flask app that breaks the promises of ``openapi.yaml``.

Its sins, on purpose (``serve.py`` adds the first: the plain-HTTP port serves this same app):

* ``GET /users/<id>`` forgot its auth decorator, and leaks ``ssn`` and ``password_hash``;
* ``GET /orders/<order_id>`` and ``DELETE /orders/<order_id>`` forgot their auth decorator;
* ``GET /orders`` leaks each order's Luhn-valid ``card_number``;
* ``GET /me`` leaks the caller's ``api_key`` (and an undocumented, harmless ``theme``);
* the JWT secret is the weak, copy-pasted ``your_jwt_secret_key``, and its tokens carry the
  user's e-mail address;
* authentication (``_authenticate``) also takes the token from ``?token=`` and from an
  ``access_token`` cookie, and answers a refused token with PyJWT's exception text
  ("Signature verification failed", "Signature has expired");
* authentication looks the signing key up by the token's ``kid`` header with SQL built by
  string formatting (``keystore.py``): ``kid: x' UNION SELECT 'specdiff'--`` picks the key;
* ``GET /users`` trusts any bearer string; ``GET /me`` decodes with
  ``options={"verify_signature": False}`` (so unsigned, forged, key-injected and expired tokens
  pass); ``GET /orders`` accepts expired tokens (``verify_exp: False``);
* ``POST /users`` validates its body before it authenticates;
* ``GET /partner/catalog`` takes any non-empty ``X-API-Key`` as a partner's key, and also
  accepts the real key from ``?api_key=``, where access logs keep it;
* ``GET /admin/stats`` never checks the ``admin`` scope its document requires;
* ``GET /products/<id>`` requires a token the document does not ask for;
* ``GET /me`` also returns the caller's password, a ``writeOnly`` property;
* ``GET /announcements`` answers an HTML page where JSON is documented;
* ``GET /stats`` returns a count as a string (a schema violation);
* ``GET /reports/daily`` crashes with an undocumented ``500``;
* ``GET /assistant/answer``, an LLM-style endpoint, echoes the caller's API key in its
  ``completion`` text;
* it sends no ``Strict-Transport-Security``, no ``Cache-Control``, and its 401 answers carry no
  ``WWW-Authenticate``;
* it runs with the Werkzeug debugger wired in (``/console`` and traceback pages; only when served
  on loopback), so ``GET /orders/<bad id>`` shows an interactive traceback;
* ``GET /realtime/ticket`` hands out tickets from a counter (``tkt-1041``, ``tkt-1042`` ...);
* in RS256 mode (``rsa_key``), the verifier takes the algorithm from the token's header and
  checks an HS256 token with HMAC keyed by the public key it publishes (algorithm confusion);
* ``GET /products/search`` builds its SQL by string formatting and returns the driver's error and
  the traceback, and silently replaces an invalid ``limit``;
* ``GET /me`` puts the caller's JWT into Flask's (readable) session cookie, set without
  ``Secure``, ``HttpOnly`` or ``SameSite``;
* a rejected token is echoed back in the 401 body;
* CORS reflects any ``Origin``, ``null`` included, with credentials;
* ``GET /debug/config`` is undocumented and shows the configuration; ``PUT /products/<id>``
  answers 200 on a path documented as GET-only.

Everything else (``/health``, ``/products``, login, ``GET /users``, ``POST /users``) behaves as
documented. Do not deploy this anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import traceback
import uuid
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request, session
from jwt.types import Options
from jwt.utils import base64url_decode
from werkzeug.debug import DebuggedApplication

from specdiff.demo import plumbing
from specdiff.demo.capture import RequestLog
from specdiff.demo.data import Store, User, check_password, user_by_username, valid_email
from specdiff.demo.keystore import signing_key_formatted
from specdiff.demo.sql import Catalogue
from specdiff.demo.tokens import SigningKey, issue_api_key, issue_token, tolerate_weak_key

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["PLAIN_HTTP", "SECRET", "TOKEN_LIFETIME", "create_app", "issue", "plain_http"]

SECRET = "your_jwt_secret_key"
"""The classic tutorial secret: 19 bytes, guessable, in every wordlist."""

TOKEN_LIFETIME = 3600
ORDER_STATUSES = frozenset({"open", "shipped", "cancelled"})

P = ParamSpec("P")

PLAIN_HTTP = "specdiff.demo.plain_http"
"""WSGI environ key set on requests that arrived on the twin's plain-HTTP port."""


def plain_http(app: Flask) -> WSGIApplication:
    """``app`` as served on the plain-HTTP port: the same app, told where the request came in
    (in process, or on the HTTPS port, the mark is absent)."""

    def marked(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[PLAIN_HTTP] = True
        return app(environ, start_response)

    return marked


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _no_content() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def issue(username: str, secret: SigningKey, *, lifetime: int = TOKEN_LIFETIME) -> str:
    """This twin's tokens: like the hardened twin's, plus the user's e-mail (a sin)."""
    user = user_by_username(username)
    extra = {"email": user.email} if user is not None else {}
    return issue_token(username, secret, lifetime=lifetime, extra=extra)


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        return token
    # Sins: the token is also taken from the URL, where logs and histories keep it, and from a
    # cookie, which every browser sends by itself (cross-site request forgery).
    return request.args.get("token") or request.cookies.get("access_token") or None


def _signing_key(token: str) -> str:
    """The key named by the token's ``kid`` (key rotation), else the current one.

    Sin: the unverified ``kid`` goes into the key table's SQL by string formatting.
    """
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.DecodeError:
        return SECRET
    found = signing_key_formatted(kid, {"current": SECRET}) if isinstance(kid, str) else None
    return found or SECRET


def _decode_confused(
    token: str, public: rsa.RSAPublicKey, options: Options | None
) -> dict[str, Any]:
    """RS256 mode's verifier. Sin: the token's own ``alg`` picks the check, and an HS256 token
    is checked with HMAC keyed by the PEM of the public key (published in the JWKS), so anyone
    can sign. That is what PyJWT before 1.5.1 and python-jose did when handed a public key
    without a pinned algorithm; PyJWT now refuses, so the sin is written out by hand."""
    if jwt.get_unverified_header(token).get("alg") != "HS256":
        return jwt.decode(token, public, algorithms=["RS256"], options=options)
    checks: Options = {"verify_exp": True, **(options or {})}
    if checks.get("verify_signature", True):
        signing_input, _, signature = token.rpartition(".")
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, base64url_decode(signature)):
            raise jwt.InvalidSignatureError("Signature verification failed")
    return jwt.decode(token, options={**checks, "verify_signature": False})


def _authenticate(
    store: Store, options: Options | None, public: rsa.RSAPublicKey | None = None
) -> User | Response:
    """The caller, or a 401 that (sin) names why the token was refused."""
    token = _bearer()
    if token is None:
        return _error("unauthorized", 401)
    sent = request.headers.get("Authorization") or token
    try:
        if public is not None:
            claims = _decode_confused(token, public, options)
        else:
            with tolerate_weak_key():
                claims = jwt.decode(
                    token, _signing_key(token), algorithms=["HS256"], options=options
                )
    except jwt.InvalidTokenError as exc:
        # Sins: the error names why the token was refused, and echoes the credential back.
        return _error(f"{exc}; invalid token: {sent}", 401)
    sub = claims.get("sub")
    user = store.user_named(sub) if isinstance(sub, str) else None
    return user if user is not None else _error(f"invalid token: {sent}", 401)


def create_app(
    log: RequestLog,
    *,
    debugger: bool = False,
    database_url: str | None = None,
    rsa_key: rsa.RSAPrivateKey | None = None,
    partner_key: str | None = None,
) -> Flask:
    """A fresh vulnerable app with its own in-memory store; every request is recorded in ``log``.

    ``debugger`` wires in Werkzeug's interactive debugger (PIN-protected, trusted hosts only):
    only ever for an app served on loopback. ``database_url`` names a PostgreSQL database for
    the search route (default: SQLite in memory). With ``rsa_key``, user tokens are RS256
    (RS256 mode) and verified with algorithm confusion; without, HS256 with :data:`SECRET`.
    ``partner_key`` is the partner feed's issued key (default: a fresh random one).
    """
    partner = (partner_key or issue_api_key()).encode()
    public = rsa_key.public_key() if rsa_key is not None else None
    signing_key: SigningKey = rsa_key if rsa_key is not None else SECRET
    tickets = itertools.count(1041)
    app = Flask("specdiff.demo.vulnerable")
    app.secret_key = SECRET
    app.config.update(PROPAGATE_EXCEPTIONS=True, SESSION_COOKIE_HTTPONLY=False)
    wsgi = app.wsgi_app
    if debugger:
        wsgi = DebuggedApplication(wsgi, evalex=True, console_path="/console")
    app.wsgi_app = log.wrap(wsgi)  # type: ignore[method-assign,assignment]
    store = Store()
    catalogue = Catalogue(database_url)

    def authenticated(
        options: Options | None = None,
    ) -> Callable[[Callable[Concatenate[User, P], Response]], Callable[P, Response]]:
        def decorate(view: Callable[Concatenate[User, P], Response]) -> Callable[P, Response]:
            @wraps(view)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
                user = _authenticate(store, options, public)
                if isinstance(user, Response):
                    return user
                return view(user, *args, **kwargs)

            return wrapper

        return decorate

    requires_auth = authenticated()

    def route(rule: str, *methods: str) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
        return plumbing.route(app, rule, *methods)

    plumbing.json_errors(app)
    plumbing.openid_discovery(app, rsa_key)

    @app.after_request
    def reflect_cors(response: Response) -> Response:
        # Sin: any origin (null too) may read credentialed answers.
        origin = request.headers.get("Origin")
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    @route("/health", "GET")
    def health() -> Response:
        return _json({"status": "ok"})

    @route("/debug/config", "GET")
    def debug_config() -> Response:
        # Sin: an undocumented endpoint that shows the configuration.
        return _json({"DEBUG": True, "DATABASE": database_url or "sqlite://:memory:"})

    @route("/auth/login", "POST")
    def login() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error("invalid credentials", 401)
        username, password = body.get("username"), body.get("password")
        if not (
            isinstance(username, str)
            and isinstance(password, str)
            and check_password(username, password)
        ):
            return _error("invalid credentials", 401)
        token = issue(username, signing_key)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME})

    @route("/me", "GET")
    @authenticated({"verify_signature": False})  # sin: any token that decodes is believed
    def me(user: User) -> Response:
        # Sin: the bearer JWT kept in Flask's signed-but-readable session cookie.
        session["token"] = request.headers.get("Authorization", "").partition(" ")[2]
        # Sin: the caller's live API key, plus an undocumented (harmless) preference.
        # Sin: and the password, which the document marks writeOnly (never returned).
        return _json(
            {**user.public(), "api_key": user.api_key, "theme": "dark", "password": user.password}
        )

    @route("/users", "GET")
    def list_users() -> Response:
        # Sin: any bearer string at all is taken as proof of identity.
        if not request.headers.get("Authorization", "").lower().startswith("bearer "):
            return _error("unauthorized", 401)
        return _json([u.public() for u in store.all_users()])

    @route("/users", "POST")
    def create_user() -> Response:
        # Sin: the body is validated before the caller is authenticated.
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error("body must be a JSON object", 422)
        username, email = body.get("username"), body.get("email")
        display_name = body.get("display_name")
        if not isinstance(username, str) or len(username) < 3:
            return _error("username must be a string of at least 3 characters", 422)
        if not isinstance(email, str) or not valid_email(email):
            return _error("email must be an e-mail address", 422)
        if display_name is not None and not isinstance(display_name, str):
            return _error("display_name must be a string", 422)
        if isinstance(_authenticate(store, None, public), Response):
            return _error("unauthorized", 401)
        created = store.add_user(username, email, display_name)
        if created is None:
            return _error("username is taken", 422)
        return _json(created.public(), 201)

    @route("/users/<int:user_id>", "GET")
    def get_user(user_id: int) -> Response:
        # Sin: no @requires_auth, and the private fields ride along.
        found = store.user(user_id)
        if found is None:
            return _error("no such user", 404)
        body = found.public()
        if found.ssn is not None:
            body["ssn"] = found.ssn
        if found.password_hash is not None:
            body["password_hash"] = found.password_hash
        return _json(body)

    @route("/orders", "GET")
    @authenticated({"verify_exp": False})  # sin: expired tokens keep working
    def list_orders(user: User) -> Response:
        status = request.args.get("status")
        if status is not None and status not in ORDER_STATUSES:
            return _error("status must be one of open, shipped, cancelled", 400)
        # Sin: the full card number of every order.
        items = [
            {**o.public(), "card_number": o.card_number} for o in store.orders_of(user.id, status)
        ]
        return _json({"items": items, "next": None})

    @route("/orders/<order_id>", "GET")
    def get_order(order_id: str) -> Response:
        # Sin: no @requires_auth (and so no ownership check either), and a malformed id raises
        # an unhandled ValueError: the debugger shows its traceback.
        order = store.order(str(uuid.UUID(order_id)))
        if order is None:
            return _error("no such order", 404)
        return _json(order.public())

    @route("/orders/<order_id>", "DELETE")
    def cancel_order(order_id: str) -> Response:
        # Sin: no @requires_auth: anyone can delete anyone's order.
        if not store.delete_order(order_id):
            return _error("no such order", 404)
        return _no_content()

    @route("/products", "GET")
    def list_products() -> Response:
        raw = request.args.get("limit", "20")
        if not raw.isascii() or not raw.isdigit():
            return _error("limit must be an integer", 400)
        limit = int(raw)
        if not 1 <= limit <= 100:
            return _error("limit must be between 1 and 100", 400)
        return _json([p.public() for p in store.all_products()[:limit]])

    @route("/admin/stats", "GET")
    @requires_auth
    def admin_stats(user: User) -> Response:
        # Sin: the document requires the admin scope; nobody checks it.
        return _json({"users": len(store.all_users()), "orders": len(store.orders)})

    @route("/products/search", "GET")
    def search_products() -> Response:
        raw = request.args.get("limit", "20")
        limit = int(raw) if raw.isascii() and raw.isdigit() else 20  # Sin: bad input ignored
        try:
            rows = catalogue.search_formatted(request.args.get("q", ""), limit)
        except Exception as exc:
            # Sin: the driver's error text and the traceback go to the client.
            kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
            return _json({"error": f"{kind}: {exc}", "trace": traceback.format_exc()}, 500)
        return _json(rows)

    @route("/products/<int:product_id>", "GET")
    @requires_auth
    def get_product(user: User, product_id: int) -> Response:
        # Sin: the document declares this operation open.
        product = store.product(product_id)
        if product is None:
            return _error("no such product", 404)
        return _json(product.public())

    @route("/products/<int:product_id>", "PUT")
    def put_product(product_id: int) -> Response:
        # Sin: a method the document does not declare answers 200, to anyone, for any id: a
        # leftover stub (it changes nothing here).
        return _json({"id": product_id, "updated": False})

    @route("/stats", "GET")
    def stats() -> Response:
        # Sin: the counts as strings, where the schema says integer.
        return _json({"products": str(len(store.all_products())), "users": len(store.all_users())})

    @route("/reports/daily", "GET")
    def daily_report() -> Response:
        # Sin: a crash the document does not admit (it documents 200 only).
        return _error("internal server error", 500)

    @route("/announcements", "GET")
    def announcements() -> Response:
        if request.environ.get(PLAIN_HTTP):
            # Sin: the plain-HTTP port sends this on to another plain-HTTP URL, never to https.
            target = f"http://{request.host}/announcements?page=1"
            return Response(status=302, headers={"Location": target})
        # Sin: an HTML page where the document promises application/json.
        return Response("<html><body><p>Spring sale!</p></body></html>", mimetype="text/html")

    @route("/partner/catalog", "GET")
    def partner_catalog() -> Response:
        # Sin: any X-API-Key at all passes (the check was left to a gateway that is not there),
        # and the real key also works from the query string, where access logs keep it.
        from_query = request.args.get("api_key", "").encode()
        if not request.headers.get(plumbing.PARTNER_KEY_HEADER) and not hmac.compare_digest(
            from_query, partner
        ):
            return _error("unauthorized", 401)
        return _json(store.partner_catalog())

    @route("/realtime/ticket", "GET")
    @requires_auth
    def realtime_ticket(user: User) -> Response:
        # Sin: tickets come from a counter ("tkt-1041", "tkt-1042" ...): the next is guessable.
        ticket = f"tkt-{next(tickets)}"
        return _json({"access_token": ticket, "token_type": "bearer", "expires_in": 60})

    @route("/assistant/answer", "GET")
    @requires_auth
    def answer(user: User) -> Response:
        # Sin: the "model" was given the caller's record as context and repeats its secret.
        question = request.args.get("q", "")
        text = f"You asked: {question[:80]} Your API key is {user.api_key}, keep it safe!"
        return _json({"completion": text, "model": "shop-assistant-1"})

    return app
