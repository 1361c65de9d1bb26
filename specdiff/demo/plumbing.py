"""Flask plumbing both twins share: nothing here is a sin or a safeguard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ParamSpec

from flask import Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

__all__ = ["json_errors", "route"]

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
