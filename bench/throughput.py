"""Throughput side by side, in one run: the server's ceiling, raw client loops, specdiff, Schemathesis.

Usage: .venv/bin/python bench/throughput.py [DOCUMENT] [--runs 3] [--requests 3000] [--concurrency 10]
       (default document: <repo>/../shared/corpus/petstore3-openapi.yaml)

A fast local server (aiohttp, its own process, one core) answers every path with a small JSON
object and counts what it received. Against it, each row is the median of ``--runs`` runs:

- wrk: the server's own ceiling (skipped with a message when wrk is not installed);
- raw aiohttp loop, raw ``httpx.AsyncClient`` loops (default transport, tuned pool) and httpx over
  the aiohttp transport specdiff uses: ``--requests`` GETs by ``--concurrency`` workers;
- specdiff's runner: the same GETs through :class:`specdiff.runner.Runner`;
- a full default ``specdiff check`` of DOCUMENT against the server (wall time, requests it sent);
- Schemathesis' default ``st run`` of the same document and server, from a throwaway venv
  (``$SCHEMATHESIS`` or ``st`` on PATH or ``/tmp/st-venv/bin/st``; skipped when absent:
  ``python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install schemathesis``).

Then the ratios the README quotes: specdiff runner rate / raw aiohttp rate, and specdiff's full
check wall time / Schemathesis' wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DOC = REPO.parent / "shared" / "corpus" / "petstore3-openapi.yaml"
COUNT_PATH = "/__bench__/count"
PATH = "/pet/1"


# --------------------------------------------------------------------------- the server


def serve(port: int) -> None:
    """The fast local server: any path -> 200 JSON; ``COUNT_PATH`` -> requests seen so far."""
    from aiohttp import web

    seen = 0
    body = b'{"id": 1, "name": "doggie", "status": "available", "photoUrls": []}'

    async def handle(request: web.Request) -> web.Response:
        nonlocal seen
        if request.path == COUNT_PATH:
            return web.Response(text=str(seen))
        seen += 1
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # Schemathesis sends invalid headers
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _served_count(base: str) -> int:
    with urllib.request.urlopen(base + COUNT_PATH, timeout=5) as r:
        return int(r.read())


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _served_count(base)
            return proc, base
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the bench server did not start")


# --------------------------------------------------------------------------- the rows


@dataclass
class Row:
    name: str
    requests: float
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _workers(n: int, concurrency: int, one: Callable[[], Awaitable[object]]) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    share = [n // concurrency + (i < n % concurrency) for i in range(concurrency)]
    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in share))
    return time.perf_counter() - start


async def raw_aiohttp(url: str, n: int, concurrency: int) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with session.get(url) as r:
                await r.read()

        return await _workers(n, concurrency, one)


async def raw_httpx(url: str, n: int, concurrency: int, *, tuned: bool = False) -> float:
    import httpx

    limits = (
        httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        if tuned
        else httpx.Limits()
    )
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> None:
            await client.get(url)

        return await _workers(n, concurrency, one)


async def httpx_aiohttp(url: str, n: int, concurrency: int) -> float:
    from specdiff.runner import make_client

    async with make_client() as client:

        async def one() -> None:
            await client.get(url)

        return await _workers(n, concurrency, one)


async def specdiff_runner(base: str, n: int, concurrency: int) -> float:
    from specdiff.model import PlannedRequest
    from specdiff.runner import Runner, RunnerLimits, make_client

    req = PlannedRequest("GET", PATH)
    async with make_client() as client:
        runner = Runner(
            client,
            base_url=base,
            limits=RunnerLimits(concurrency=concurrency, max_requests=n + 1),
        )

        async def one() -> None:
            await runner.send(req)

        return await _workers(n, concurrency, one)


def specdiff_check(doc: Path, base: str) -> Row:
    from specdiff.config import ScanConfig
    from specdiff.engine import scan

    before = _served_count(base)
    start = time.perf_counter()
    scan(ScanConfig(spec=str(doc), base_url=base, fail_on=None))
    took = time.perf_counter() - start
    return Row("specdiff check (full, default)", _served_count(base) - before, took)


def _schemathesis() -> str | None:
    for candidate in (os.environ.get("SCHEMATHESIS"), shutil.which("st"), "/tmp/st-venv/bin/st"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def schemathesis(st: str, doc: Path, base: str) -> Row:
    before = _served_count(base)
    start = time.perf_counter()
    subprocess.run(
        [st, "run", str(doc), "--url", base, "--no-color"],
        capture_output=True,
        check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        cwd=tempfile.gettempdir(),  # it leaves a .schemathesis/ directory behind
    )
    took = time.perf_counter() - start
    return Row("Schemathesis st run (default checks)", _served_count(base) - before, took)


def wrk(url: str, concurrency: int, seconds: int = 3) -> Row | None:
    exe = shutil.which("wrk")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "-t1", f"-c{concurrency}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)s", out)
    if not match or not total:
        return None
    return Row("wrk (server ceiling)", float(total.group(1)), float(total.group(2)))


def _median(rows: list[Row]) -> Row:
    rates = sorted(rows, key=lambda r: r.rate)
    mid = rates[len(rates) // 2]
    return Row(mid.name, mid.requests, mid.seconds, f"median of {len(rows)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", nargs="?", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    os.chdir(REPO)
    doc: Path = args.document.resolve()
    n, c = args.requests, args.concurrency
    proc, base = _start_server()
    url = base + PATH
    rows: list[Row] = []
    try:
        ceiling = [r for _ in range(args.runs) if (r := wrk(url, c))]
        if ceiling:
            rows.append(_median(ceiling))
        else:
            print("wrk not installed: skipping the server-ceiling row (apt-get install wrk)")
        loops: list[tuple[str, Callable[[], Awaitable[float]]]] = [
            ("raw aiohttp loop", lambda: raw_aiohttp(url, n, c)),
            ("raw httpx.AsyncClient loop", lambda: raw_httpx(url, n, c)),
            ("httpx, tuned httpcore pool", lambda: raw_httpx(url, n, c, tuned=True)),
            ("httpx over httpx-aiohttp (make_client)", lambda: httpx_aiohttp(url, n, c)),
            ("specdiff runner (Runner.send)", lambda: specdiff_runner(base, n, c)),
        ]
        for name, loop in loops:
            rows.append(_median([Row(name, n, asyncio.run(loop())) for _ in range(args.runs)]))
        check = [specdiff_check(doc, base) for _ in range(args.runs)]
        rows.append(_median(check))
        st = _schemathesis()
        if st is None:
            print("Schemathesis not found: skipping its row (see this script's docstring)")
        else:
            rows.append(_median([schemathesis(st, doc, base) for _ in range(args.runs)]))
    finally:
        proc.terminate()
        proc.wait()

    print(f"\n{doc.name} on {base}, {n} requests per loop at concurrency {c}")
    print(f"{'':<42} {'requests':>9} {'wall s':>8} {'req/s':>9}")
    for r in rows:
        print(f"{r.name:<42} {r.requests:>9.0f} {r.seconds:>8.3f} {r.rate:>9.0f}  {r.note}")
    by_name = {r.name.split(" (")[0]: r for r in rows}
    aio = by_name.get("raw aiohttp loop")
    ours = by_name.get("specdiff runner")
    if aio and ours:
        print(
            f"\nspecdiff runner rate / raw aiohttp rate: {ours.rate / aio.rate:.2f} (target >= 0.8)"
        )
    full = by_name.get("specdiff check")
    peer = by_name.get("Schemathesis st run")
    if full and peer:
        print(
            f"specdiff full check wall / Schemathesis wall: {full.seconds / peer.seconds:.3f} "
            "(target <= 0.3)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
