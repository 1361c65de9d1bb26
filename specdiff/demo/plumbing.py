"""Flask plumbing both twins share: nothing here is a sin or a safeguard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ParamSpec

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from specdiff.demo.tokens import jwks

__all__ = ["PARTNER_KEY_HEADER", "json_errors", "openid_discovery", "route"]

PARTNER_KEY_HEADER = "X-API-Key"
"""Where the document's ``partnerKey`` scheme puts the partner's API key."""

P = ParamSpec("P")


def route(
    app: Flask, rule: str, *methods: str
) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
    """Register a view for exactly ``methods`` (no automatic OPTIONS: SD501 must see a 405)."""

    def register(view: Callable[P, Response]) -> Callable[P, Response]:
        app.add_url_rule(
            rule, view_func=view, methods=list(methods), provide_automatic_options=False
        )
        return view

    return register


def json_errors(app: Flask) -> None:
    """Answer werkzeug's HTTP errors (404, 405 ...) as JSON, like the rest of the API."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> BaseResponse:
        response = exc.get_response()
        response.set_data(json.dumps({"error": (exc.name or "error").lower()}))
        response.mimetype = "application/json"
        return response


def openid_discovery(app: Flask, key: rsa.RSAPrivateKey | None) -> None:
    """Serve the OpenID Connect discovery document that the ``openId`` scheme points at, and
    the JWKS it names: public by design (no key at all for HS256, whose secret stays secret)."""
    keys = json.dumps(jwks(key))
    algorithm = "HS256" if key is None else "RS256"

    @route(app, "/.well-known/openid-configuration", "GET")
    def discovery() -> Response:
        root = request.url_root.rstrip("/")
        body = {
            "issuer": root,
            "jwks_uri": f"{root}/.well-known/jwks.json",
            "token_endpoint": f"{root}/auth/login",
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [algorithm],
        }
        return Response(json.dumps(body), mimetype="application/json")

    @route(app, "/.well-known/jwks.json", "GET")
    def key_set() -> Response:
        return Response(keys, mimetype="application/jwk-set+json")
