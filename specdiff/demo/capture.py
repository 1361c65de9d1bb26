"""Request capture for the demo twins: what exactly did a client send?

One :class:`RequestLog` is shared by a twin's HTTPS and plain-HTTP servers, so tests can prove
what specdiff sent where (e.g. that no credential travelled over plain HTTP, that no unsafe
method was sent without ``--unsafe``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flask import Flask, request
from werkzeug.wrappers import Request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CapturedRequest", "RequestLog"]

Scheme = Literal["http", "https"]


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    """One request as the twin received it."""

    scheme: Scheme
    method: str
    path: str
    """The decoded path, e.g. ``/users/1``."""
    query: str
    """The raw query string without ``?`` (decoded as latin-1, so byte-for-byte), or ``""``."""
    headers: tuple[tuple[str, str], ...]
    """Header name/value pairs in the order received (names as werkzeug reports them)."""
    body: bytes
    status: int | None = None
    """The status the app answered (recorded by :meth:`RequestLog.wrap` only)."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def target(self) -> str:
        """Path plus query, as in the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path


class RequestLog:
    """A thread-safe, append-only (until :meth:`clear`) list of :class:`CapturedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[CapturedRequest] = []

    def attach(self, app: Flask) -> None:
        """Record every request ``app`` receives, before any other ``before_request`` hook.

        Requests that end in 404/405 are recorded too: Flask runs ``before_request`` hooks
        before it raises routing errors.
        """

        def _capture() -> None:
            scheme: Scheme = "https" if request.scheme == "https" else "http"
            self.record(
                CapturedRequest(
                    scheme=scheme,
                    method=request.method,
                    path=request.path,
                    query=request.query_string.decode("latin-1"),
                    headers=tuple((k, v) for k, v in request.headers.items()),
                    body=request.get_data(cache=True),
                )
            )

        app.before_request_funcs.setdefault(None, []).insert(0, _capture)

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """A WSGI middleware recording every request before ``app`` sees it.

        For apps wrapped in other middleware (the vulnerable twin's debugger answers ``/console``
        before Flask runs): :meth:`attach` would miss those requests.
        """

        def recording(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
            req = Request(environ, shallow=False)
            body = req.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            scheme: Scheme = "https" if req.scheme == "https" else "http"
            recorded = False

            def record(status: int | None) -> None:
                nonlocal recorded
                if not recorded:
                    recorded = True
                    self.record(
                        CapturedRequest(
                            scheme=scheme,
                            method=req.method,
                            path=req.path,
                            query=req.query_string.decode("latin-1"),
                            headers=tuple((k, v) for k, v in req.headers.items()),
                            body=body,
                            status=status,
                        )
                    )

            def noting_status(status: str, headers: Any, exc_info: Any = None) -> Any:
                # recorded before a byte of the answer leaves: a client that has its answer
                # finds the request in the log (the debugger calls this lazily, from the body)
                record(int(status.split()[0]))
                return start_response(status, headers, exc_info)

            inner = app(environ, noting_status)
            try:
                yield from inner
            finally:
                close = getattr(inner, "close", None)
                if close is not None:
                    close()
                record(None)  # the app failed before it answered

        return recording

    def record(self, entry: CapturedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> tuple[CapturedRequest, ...]:
        """A snapshot of everything recorded so far, oldest first."""
        with self._lock:
            return tuple(self._entries)

    def filter(
        self,
        *,
        scheme: Scheme | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> tuple[CapturedRequest, ...]:
        """The recorded requests matching every given criterion (method case-insensitive)."""
        return tuple(
            e
            for e in self.entries()
            if (scheme is None or e.scheme == scheme)
            and (method is None or e.method == method.upper())
            and (path is None or e.path == path)
        )

    def clear(self) -> None:
        """Forget everything recorded so far (tests share one running twin)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[CapturedRequest]:
        return iter(self.entries())
