"""The vulnerable twin: a Flask app that breaks the promises of ``openapi.yaml``.

Its sins, on purpose (``serve.py`` adds the first: the plain-HTTP port serves this same app):

* ``GET /users/<id>`` forgot its auth decorator, and leaks ``ssn`` and ``password_hash``;
* ``GET /orders/<order_id>`` and ``DELETE /orders/<order_id>`` forgot their auth decorator;
* ``GET /orders`` leaks each order's Luhn-valid ``card_number``;
* ``GET /me`` leaks the caller's ``api_key`` (and an undocumented, harmless ``theme``);
* the JWT secret is the weak, copy-pasted ``your_jwt_secret_key``;
* ``GET /me`` also returns the caller's password, a ``writeOnly`` property;
* ``GET /announcements`` answers an HTML page where JSON is documented;
* ``GET /stats`` returns a count as a string (a schema violation);
* ``GET /reports/daily`` crashes with an undocumented ``500``;
* ``GET /assistant/answer``, an LLM-style endpoint, echoes the caller's API key in its
  ``completion`` text;
* it sends no ``Strict-Transport-Security``, no ``Cache-Control``, and its 401 answers carry no
  ``WWW-Authenticate``.

Everything else (``/health``, ``/products``, login, ``GET /users``, ``POST /users``) behaves as
documented. Do not deploy this anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

import jwt
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from specdiff.demo.capture import RequestLog
from specdiff.demo.data import Store, User, check_password, valid_email
from specdiff.demo.tokens import issue_token, tolerate_weak_key

__all__ = ["SECRET", "TOKEN_LIFETIME", "create_app"]

SECRET = "your_jwt_secret_key"
"""The classic tutorial secret: 19 bytes, guessable, in every wordlist."""

TOKEN_LIFETIME = 3600
ORDER_STATUSES = frozenset({"open", "shipped", "cancelled"})

P = ParamSpec("P")


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _no_content() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def _caller(store: Store) -> User | None:
    """The user named by a valid bearer JWT, or ``None``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        with tolerate_weak_key():
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    sub = claims.get("sub")
    return store.user_named(sub) if isinstance(sub, str) else None


def create_app(log: RequestLog) -> Flask:
    """A fresh vulnerable app with its own in-memory store; every request is recorded in ``log``."""
    app = Flask("specdiff.demo.vulnerable")
    log.attach(app)
    store = Store()

    def requires_auth(view: Callable[Concatenate[User, P], Response]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            user = _caller(store)
            if user is None:
                return _error("unauthorized", 401)
            return view(user, *args, **kwargs)

        return wrapper

    def route(rule: str, *methods: str) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
        def register(view: Callable[P, Response]) -> Callable[P, Response]:
            app.add_url_rule(
                rule, view_func=view, methods=list(methods), provide_automatic_options=False
            )
            return view

        return register

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> BaseResponse:
        response = exc.get_response()
        response.set_data(json.dumps({"error": (exc.name or "error").lower()}))
        response.mimetype = "application/json"
        return response

    @route("/health", "GET")
    def health() -> Response:
        return _json({"status": "ok"})

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
        token = issue_token(username, SECRET, lifetime=TOKEN_LIFETIME)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME})

    @route("/me", "GET")
    @requires_auth
    def me(user: User) -> Response:
        # Sin: the caller's live API key, plus an undocumented (harmless) preference.
        # Sin: and the password, which the document marks writeOnly (never returned).
        return _json(
            {**user.public(), "api_key": user.api_key, "theme": "dark", "password": user.password}
        )

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
    @requires_auth
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
        # Sin: no @requires_auth (and so no ownership check either).
        order = store.order(order_id)
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

    @route("/products/<int:product_id>", "GET")
    def get_product(product_id: int) -> Response:
        product = store.product(product_id)
        if product is None:
            return _error("no such product", 404)
        return _json(product.public())

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
        # Sin: an HTML page where the document promises application/json.
        return Response("<html><body><p>Spring sale!</p></body></html>", mimetype="text/html")

    @route("/assistant/answer", "GET")
    @requires_auth
    def answer(user: User) -> Response:
        # Sin: the "model" was given the caller's record as context and repeats its secret.
        question = request.args.get("q", "")
        text = f"You asked: {question[:80]} Your API key is {user.api_key}, keep it safe!"
        return _json({"completion": text, "model": "shop-assistant-1"})

    return app
