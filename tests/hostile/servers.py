"""Tiny misbehaving HTTP servers on real loopback sockets, one behaviour each.

Every server answers ``GET /ok`` properly (so the target is reachable and the run goes on) and
misbehaves on every other path, except ``flaky``, which drops every second connection whatever
the path. Each connection gets a daemon thread; servers stop with their context manager.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket, str], None]

OK_BODY = b'{"id": 1, "name": "ok"}'


def _send(conn: socket.socket, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    conn.sendall(head.encode("latin-1") + body)


def ok(conn: socket.socket, path: str) -> None:
    _send(
        conn,
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(OK_BODY)))],
        OK_BODY,
    )


def never_answers(conn: socket.socket, path: str) -> None:
    time.sleep(60)


def reset_mid_response(conn: socket.socket, path: str) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    conn.sendall(b'{"partial": "' + b"x" * 100)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    conn.close()


def huge_body(conn: socket.socket, path: str) -> None:
    size = 100 * 1024 * 1024
    conn.sendall(
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode()
    )
    chunk = b"[" + b"0," * 32767
    for _ in range(size // len(chunk)):
        conn.sendall(chunk)


def _gzip_bomb(decompressed: int = 1024 * 1024 * 1024) -> bytes:
    """About 1 MB of gzip that inflates to ``decompressed`` zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(decompressed // len(block))]
    return b"".join(parts) + packer.flush()


GZIP_BOMB = _gzip_bomb()


def gzip_bomb(conn: socket.socket, path: str) -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(GZIP_BOMB))),
    ]
    _send(conn, "200 OK", headers, GZIP_BOMB)


def endless_chunked(conn: socket.socket, path: str) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        conn.sendall(frame)


def redirect_loop(conn: socket.socket, path: str) -> None:
    _send(conn, "302 Found", [("Location", path), ("Content-Length", "0")], b"")


def rate_limited(conn: socket.socket, path: str) -> None:
    _send(conn, "429 Too Many Requests", [("Retry-After", "3600"), ("Content-Length", "0")], b"")


def invalid_utf8(conn: socket.socket, path: str) -> None:
    body = b'{"name": "\xff\xfe\xc3\x28", "email": "\xed\xa0\x80@x"}'
    _send(
        conn,
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        body,
    )


def html_as_json(conn: socket.socket, path: str) -> None:
    body = b"<!doctype html><html><body><h1>Welcome</h1><script>alert(1)</script></body></html>"
    _send(
        conn,
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        body,
    )


def slowloris(conn: socket.socket, path: str) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    while True:
        conn.sendall(b" ")
        time.sleep(0.2)


BEHAVIOURS: dict[str, Behaviour] = {
    "never_answers": never_answers,
    "reset_mid_response": reset_mid_response,
    "huge_body": huge_body,
    "gzip_bomb": gzip_bomb,
    "endless_chunked": endless_chunked,
    "redirect_loop": redirect_loop,
    "rate_limited": rate_limited,
    "invalid_utf8": invalid_utf8,
    "html_as_json": html_as_json,
    "slowloris": slowloris,
    "flaky": ok,  # misbehaves by connection, see _Handler
}


def _read_head(conn: socket.socket) -> str | None:
    """The request line's path, after reading the whole request head; None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b" ", 2)[1].decode("latin-1")


@contextmanager
def serve(name: str) -> Iterator[str]:
    """Run the server ``name`` of :data:`BEHAVIOURS` on loopback; yields its base URL."""
    behaviour = BEHAVIOURS[name]
    connections = itertools.count()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            if name == "flaky" and next(connections) % 2 == 1:
                return  # closed without a word
            try:
                while (path := _read_head(conn)) is not None:
                    (ok if path.split("?")[0] == "/ok" else behaviour)(conn, path)
            except OSError:
                pass  # the client gave up: that is the point

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
