"""The hardened twin: a Flask app that keeps every promise of ``openapi.yaml``.

* every operation the document secures requires a valid bearer JWT (HS256, a random per-start
  secret, or in RS256 mode an RSA key verified with ``algorithms=["RS256"]`` only; ``exp``
  required and verified); otherwise ``401 {"error": "unauthorized"}`` with
  ``WWW-Authenticate: Bearer``;
* orders and user profiles are scoped to their owner (someone else's is a 404);
* ``GET /partner/catalog`` requires the issued partner key in ``X-API-Key`` (compared in
  constant time; never from the query), else 401 with ``WWW-Authenticate: ApiKey``;
* ``GET /admin/stats`` requires the ``admin`` scope in the token's ``scope`` claim (else 403);
* ``GET /realtime/ticket`` hands out ``secrets.token_urlsafe(32)`` tickets;
* every body carries exactly the documented properties;
* every response carries ``Strict-Transport-Security`` and ``Cache-Control: no-store``;
* product search binds its SQL parameters and rejects an invalid ``limit`` with 400;
* its only cookie (Flask's session, holding a harmless preference) is ``Secure``, ``HttpOnly``
  and ``SameSite=Lax``; no debugger, no CORS, no undocumented routes or methods, and
  ``serve.py`` sends a ``Server`` header without versions;
* its plain-HTTP port (:func:`create_redirect_app`) only answers ``308`` to the HTTPS URL.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec
from urllib.parse import quote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request, session

from specdiff.demo import plumbing
from specdiff.demo.capture import RequestLog
from specdiff.demo.data import Store, User, check_password, valid_email
from specdiff.demo.sql import Catalogue
from specdiff.demo.tokens import MIN_HS256_KEY_BYTES, SigningKey, issue_api_key, issue_token

__all__ = ["HSTS", "TOKEN_LIFETIME", "create_app", "create_redirect_app"]

TOKEN_LIFETIME = 3600
HSTS = "max-age=31536000; includeSubDomains"
ORDER_STATUSES = frozenset({"open", "shipped", "cancelled"})

P = ParamSpec("P")


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _unauthorized(message: str = "unauthorized") -> Response:
    """A 401 that names its scheme, as RFC 9110 §11.6.1 requires of every 401."""
    response = _error(message, 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _no_content() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def create_app(
    log: RequestLog,
    secret: str,
    *,
    database_url: str | None = None,
    rsa_key: rsa.RSAPrivateKey | None = None,
    partner_key: str | None = None,
) -> Flask:
    """A fresh hardened app with its own store, signing tokens with ``secret``.

    ``secret`` must be at least 32 bytes (use ``secrets.token_urlsafe(32)``). ``database_url``
    names a PostgreSQL database for the search route (default: SQLite in memory). With
    ``rsa_key``, user tokens are RS256 with that key instead (RS256 mode). ``partner_key`` is
    the one key the partner feed accepts (default: a fresh random one).
    """
    partner = (partner_key or issue_api_key()).encode()
    if len(secret.encode()) < MIN_HS256_KEY_BYTES:
        raise ValueError(f"the hardened twin needs an HS256 secret of {MIN_HS256_KEY_BYTES}+ bytes")
    app = Flask("specdiff.demo.hardened")
    app.secret_key = secret
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")
    log.attach(app)
    store = Store()
    catalogue = Catalogue(database_url)
    signing_key: SigningKey = rsa_key if rsa_key is not None else secret
    verify_key, algorithm = (
        (rsa_key.public_key(), "RS256") if rsa_key is not None else (secret, "HS256")
    )

    def caller() -> User | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            claims = jwt.decode(
                token,
                verify_key,
                algorithms=[algorithm],
                options={"require": ["exp", "iat", "sub", "uid"], "verify_exp": True},
            )
        except jwt.InvalidTokenError:
            return None
        sub, uid = claims.get("sub"), claims.get("uid")
        if not isinstance(sub, str) or not isinstance(uid, int):
            return None
        user = store.user_named(sub)
        return user if user is not None and user.id == uid else None

    def scopes() -> set[str]:
        """The caller's scopes (its token was verified by ``requires_auth`` already)."""
        token = request.headers.get("Authorization", "").partition(" ")[2].strip()
        claims = jwt.decode(token, verify_key, algorithms=[algorithm])
        scope = claims.get("scope")
        return set(scope.split()) if isinstance(scope, str) else set()

    def requires_auth(view: Callable[Concatenate[User, P], Response]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            user = caller()
            if user is None:
                return _unauthorized()
            return view(user, *args, **kwargs)

        return wrapper

    def route(rule: str, *methods: str) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
        return plumbing.route(app, rule, *methods)

    plumbing.json_errors(app)
    plumbing.openid_discovery(app, rsa_key)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Strict-Transport-Security"] = HSTS
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @route("/health", "GET")
    def health() -> Response:
        return _json({"status": "ok"})

    @route("/auth/login", "POST")
    def login() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _unauthorized("invalid credentials")
        username, password = body.get("username"), body.get("password")
        if not (
            isinstance(username, str)
            and isinstance(password, str)
            and check_password(username, password)
        ):
            return _unauthorized("invalid credentials")
        token = issue_token(username, signing_key, lifetime=TOKEN_LIFETIME)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME})

    @route("/me", "GET")
    @requires_auth
    def me(user: User) -> Response:
        session["theme"] = "dark"  # a harmless preference in a Secure, HttpOnly, SameSite cookie
        return _json(user.public())

    @route("/users", "GET")
    @requires_auth
    def list_users(user: User) -> Response:
        return _json([u.public() for u in store.all_users()])

    @route("/users", "POST")
    @requires_auth
    def create_user(user: User) -> Response:
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
        created = store.add_user(username, email, display_name)
        if created is None:
            return _error("username is taken", 422)
        return _json(created.public(), 201)

    @route("/users/<int:user_id>", "GET")
    @requires_auth
    def get_user(user: User, user_id: int) -> Response:
        found = store.user(user_id)
        if found is None or found.id != user.id:
            return _error("no such user", 404)
        return _json(found.public())

    @route("/orders", "GET")
    @requires_auth
    def list_orders(user: User) -> Response:
        status = request.args.get("status")
        if status is not None and status not in ORDER_STATUSES:
            return _error("status must be one of open, shipped, cancelled", 400)
        items = [o.public() for o in store.orders_of(user.id, status)]
        return _json({"items": items, "next": None})

    @route("/orders/<order_id>", "GET")
    @requires_auth
    def get_order(user: User, order_id: str) -> Response:
        order = store.order(order_id)
        if order is None or order.owner_id != user.id:
            return _error("no such order", 404)
        return _json(order.public())

    @route("/orders/<order_id>", "DELETE")
    @requires_auth
    def cancel_order(user: User, order_id: str) -> Response:
        order = store.order(order_id)
        if order is None or order.owner_id != user.id or not store.delete_order(order_id):
            return _error("no such order", 404)
        return _no_content()

    @route("/admin/stats", "GET")
    @requires_auth
    def admin_stats(user: User) -> Response:
        if "admin" not in scopes():
            response = _error("insufficient scope", 403)
            response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
            return response
        return _json({"users": len(store.all_users()), "orders": len(store.orders)})

    @route("/products", "GET")
    def list_products() -> Response:
        raw = request.args.get("limit", "20")
        if not raw.isascii() or not raw.isdigit():
            return _error("limit must be an integer", 400)
        limit = int(raw)
        if not 1 <= limit <= 100:
            return _error("limit must be between 1 and 100", 400)
        return _json([p.public() for p in store.all_products()[:limit]])

    @route("/products/search", "GET")
    def search_products() -> Response:
        raw = request.args.get("limit", "20")
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 100:
            return _error("limit must be an integer between 1 and 100", 400)
        q = request.args.get("q")
        if q is None:
            return _error("q is required", 400)
        return _json(catalogue.search_bound(q, int(raw)))

    @route("/products/<int:product_id>", "GET")
    def get_product(product_id: int) -> Response:
        product = store.product(product_id)
        if product is None:
            return _error("no such product", 404)
        return _json(product.public())

    @route("/stats", "GET")
    def stats() -> Response:
        return _json({"products": len(store.all_products()), "users": len(store.all_users())})

    @route("/reports/daily", "GET")
    def daily_report() -> Response:
        return _json({"orders": sum(len(store.orders_of(u.id)) for u in store.all_users())})

    @route("/announcements", "GET")
    def announcements() -> Response:
        return _json(["Spring sale!"])

    @route("/partner/catalog", "GET")
    def partner_catalog() -> Response:
        sent = request.headers.get(plumbing.PARTNER_KEY_HEADER, "").encode()
        if not hmac.compare_digest(sent, partner):
            response = _error("unauthorized", 401)
            response.headers["WWW-Authenticate"] = f'ApiKey header="{plumbing.PARTNER_KEY_HEADER}"'
            return response
        return _json(store.partner_catalog())

    @route("/realtime/ticket", "GET")
    @requires_auth
    def realtime_ticket(user: User) -> Response:
        ticket = secrets.token_urlsafe(32)
        return _json({"access_token": ticket, "token_type": "bearer", "expires_in": 60})

    @route("/assistant/answer", "GET")
    @requires_auth
    def answer(user: User) -> Response:
        # The assistant never sees credentials, so it cannot repeat them.
        question = request.args.get("q")
        if not question:
            return _error("q is required", 400)
        text = f"You asked: {question[:80]} I cannot share credentials; see your account page."
        return _json({"completion": text, "model": "shop-assistant-1"})

    return app


def create_redirect_app(log: RequestLog, https_url: str) -> Flask:
    """The hardened twin's plain-HTTP face: any method, any path → ``308`` to ``https_url``.

    ``https_url`` is the HTTPS origin without a trailing slash, e.g. ``https://127.0.0.1:8443``.
    Nothing is served in clear: every answer is an empty 308 with a ``Location``.
    """
    origin = https_url.rstrip("/")
    app = Flask("specdiff.demo.hardened.redirect")
    log.attach(app)

    @app.before_request
    def redirect_everything() -> Response:
        # Flask runs before_request hooks before it raises routing errors (404/405) and before
        # automatic OPTIONS, so this answers every method on every path.
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if isinstance(raw, str) and raw.startswith("/"):
            target = raw
        else:
            split = urlsplit(raw) if isinstance(raw, str) else None
            path = split.path if split and split.path else quote(request.path)
            query = request.query_string.decode("latin-1")
            target = f"{path}?{query}" if query else path
        response = Response(status=308)
        del response.headers["Content-Type"]
        response.headers["Location"] = origin + target
        return response

    return app
