"""A clean API written for the run-integrity and safety tests, served on loopback plain HTTP.

It keeps every promise of ``gate_app.yaml`` (a scan finds nothing), and can be told to wear
its tokens out after a number of uses, so that credentials stop working mid-run. It has seeded
items, a create and a delete operation (``--unsafe`` may touch only what specdiff created), a GET
that drops and re-seeds the database, and records every request with its time span (a
destructive-looking GET must run last and alone).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from specdiff.demo.capture import RequestLog

SPEC = Path(__file__).with_name("gate_app.yaml")
USERNAME, PASSWORD = "alice", "gate-test-pw"
SEEDED = {1: "seeded-one", 2: "seeded-two"}


@dataclass
class GateState:
    """What the app knows; ``reset`` gives each test a fresh one on the shared server."""

    uses_per_token: int | None = None
    tokens: dict[str, float] = field(default_factory=dict)
    """Token -> uses left (``inf`` for tokens that never wear out)."""
    items: dict[int, str] = field(default_factory=dict)
    next_id: int = 100
    spans: list[tuple[float, float, str, str]] = field(default_factory=list)
    """(start, end, method, path) of every request, in the order they ended."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> str:
        token = "gate-" + secrets.token_urlsafe(24)
        uses = self.uses_per_token
        self.tokens[token] = float("inf") if uses is None else float(uses)
        return token


@dataclass
class RunningGate:
    base_url: str
    log: RequestLog
    state: GateState

    def reset(self, *, uses_per_token: int | None = None) -> str:
        """Forget everything, re-seed, and return a fresh token for alice."""
        self.log.clear()
        with self.state.lock:
            self.state.uses_per_token = uses_per_token
            self.state.tokens.clear()
            self.state.items = dict(SEEDED)
            self.state.next_id = 100
            self.state.spans.clear()
            return self.state.issue()


def create_app(state: GateState, log: RequestLog) -> Flask:
    app = Flask(__name__)
    log.attach(app)

    def error(message: str, status: int) -> Response:
        response = jsonify(error=message)
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="gate"'
        return response

    @app.before_request
    def authenticate() -> Response | None:
        g.started = time.perf_counter()
        if request.path == "/auth/login":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with state.lock:
            left = state.tokens.get(token, 0) if scheme.lower() == "bearer" else 0
            if left <= 0:
                return error("unauthorized", 401)
            state.tokens[token] = left - 1
        return None

    @app.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def span(exc: BaseException | None) -> None:
        started = g.get("started")
        if started is not None:
            with state.lock:
                state.spans.append((started, time.perf_counter(), request.method, request.path))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = error(exc.name.lower(), exc.code or 500)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.post("/auth/login")
    def login() -> Response:
        body: Any = request.get_json(silent=True)
        if body != {"username": USERNAME, "password": PASSWORD}:
            return error("invalid credentials", 401)
        with state.lock:
            return jsonify(access_token=state.issue(), token_type="bearer")

    @app.get("/me")
    def me() -> Response:
        return jsonify(id=1, username=USERNAME)

    @app.get("/items")
    def list_items() -> Response:
        with state.lock:
            items = [{"id": i, "name": n} for i, n in sorted(state.items.items())]
        return jsonify(items=items)

    @app.post("/items")
    def add_item() -> Response:
        body: Any = request.get_json(silent=True)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"name"} or not isinstance(name, str):
            return error("the body must be {'name': string}", 422)
        if not 1 <= len(name) <= 40:
            return error("the name must have 1 to 40 characters", 422)
        with state.lock:
            item_id = state.next_id
            state.next_id += 1
            state.items[item_id] = name
        response = jsonify(id=item_id, name=name)
        response.status_code = 201
        response.headers["Location"] = f"/items/{item_id}"
        return response

    @app.get("/items/<int:item_id>")
    def get_item(item_id: int) -> Response:
        with state.lock:
            name = state.items.get(item_id)
        return jsonify(id=item_id, name=name) if name else error("no such item", 404)

    @app.delete("/items/<int:item_id>")
    def remove_item(item_id: int) -> Response:
        with state.lock:
            if state.items.pop(item_id, None) is None:
                return error("no such item", 404)
        return Response(status=204)

    @app.get("/users/<int:user_id>/created-at")
    def created_at(user_id: int) -> Response:
        if user_id != 1:
            return error("no such user", 404)
        return jsonify(created_at="2024-01-02T03:04:05Z")

    @app.get("/admin/reset-db")
    def reset_db() -> Response:
        with state.lock:
            state.items = dict(SEEDED)
        return jsonify(status="reset")

    return app


class _QuietHandler(WSGIRequestHandler):
    """No software version in ``Server`` (SD406), no access log on the terminal."""

    def version_string(self) -> str:
        return "gate"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@contextmanager
def serve_gate() -> Iterator[RunningGate]:
    """Serve the gate app on 127.0.0.1 (plain HTTP, an ephemeral port) for the block."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    state, log = GateState(), RequestLog()
    server = make_server(
        "127.0.0.1", 0, create_app(state, log), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield RunningGate(f"http://127.0.0.1:{server.port}", log, state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
