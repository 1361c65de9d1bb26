"""In-process targets: a WSGI or ASGI application checked through httpx, without a server.

The engine takes any ``httpx.AsyncBaseTransport``; here an application becomes one (httpx's
``ASGITransport``, or its ``WSGITransport`` run in a worker thread so a blocking app does not
stall the event loop). Requests go to :data:`IN_PROCESS_URL`, a loopback-looking base so the
runner attaches credentials: they never leave the process. There is no socket and no TLS, so
SD101 and SD105 (the plain-HTTP twin) are skipped, HTTPS-only rules do not apply, and headers a web server
would add are absent; the report says so in a note.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx

from specdiff.config import ScanConfig
from specdiff.errors import ConfigError
from specdiff.model import Report

__all__ = [
    "IN_PROCESS_NOTE",
    "IN_PROCESS_URL",
    "app_transport",
    "import_app",
    "is_asgi",
    "scan_app",
]

IN_PROCESS_URL = "http://127.0.0.1"
IN_PROCESS_NOTE = (
    "in-process application: SD101 and SD105 (the plain-HTTP twin) need a real socket and were "
    "skipped; "
    "HTTPS-only rules (SD102, SD104) and what a web server adds (SD406 banners) are not judged"
)


def is_asgi(app: object) -> bool:
    """ASGI apps are ``async def app(scope, receive, send)``; WSGI ones are plain callables."""
    if inspect.isroutine(app):
        return inspect.iscoroutinefunction(app)
    return inspect.iscoroutinefunction(type(app).__call__)


def app_transport(app: Any) -> httpx.AsyncBaseTransport:
    """An async transport that hands every request to ``app`` in this process."""
    if not callable(app):
        raise ConfigError(f"--app: {app!r} is not a WSGI or ASGI application")
    if is_asgi(app):
        return httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return _ThreadedWSGITransport(app)


class _ThreadedWSGITransport(httpx.AsyncBaseTransport):
    """httpx's WSGI transport, each request (and its body) run in a worker thread."""

    def __init__(self, app: Any) -> None:
        self._wsgi = httpx.WSGITransport(app=app, raise_app_exceptions=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await asyncio.to_thread(self._handle, request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._wsgi.handle_request(request)
        except Exception:  # what any WSGI server answers when the application raises
            return httpx.Response(
                500, headers={"Content-Type": "text/plain"}, content=b"Internal Server Error"
            )
        body = response.read()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            extensions=response.extensions,
        )


def import_app(target: str) -> Any:
    """``'package.module:app'`` -> the application object, imported as uvicorn and flask do.

    The working directory is searched first, so ``--app myapp:app`` finds ``./myapp.py``. The
    attribute may be an application factory: ``module:create_app()`` calls it, and so does
    ``module:create_app`` when it names a plain function that takes no argument (a WSGI
    function takes two, an ASGI one is ``async``)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"--app must look like 'module:app', got {target!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--app {target}: cannot import {module_name} ({exc})") from None
    call = attr.endswith("()")
    obj: Any = module
    for part in attr.removesuffix("()").split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"--app {target}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if call or _is_factory(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise ConfigError(
                f"--app {target}: the factory failed: {type(exc).__name__}: {exc}"
            ) from None
    return obj


def _is_factory(obj: Any) -> bool:
    """A plain (not async) function whose parameters all have defaults: ``create_app()``."""
    if not inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
        return False
    params = inspect.signature(obj).parameters.values()
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params
    )


def scan_app(
    config: ScanConfig, app: Any, progress: Callable[[int, int], None] | None = None
) -> Report:
    """Check ``app`` in this process; ``config.base_url`` is replaced by :data:`IN_PROCESS_URL`."""
    from specdiff.engine import scan

    if config.http_url is not None:
        raise ConfigError("--http-url needs a real server: it cannot go with an in-process app")
    config = dataclasses.replace(config, base_url=IN_PROCESS_URL)
    report = scan(config, transport=app_transport(app), progress=progress)
    return dataclasses.replace(report, notes=(*report.notes, IN_PROCESS_NOTE))
