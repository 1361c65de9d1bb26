"""Throughput side by side, in one run: the server's ceiling, raw client loops, specdiff, Schemathesis.

Usage: .venv/bin/python bench/throughput.py [DOCUMENT] [--runs 3] [--requests 3000] [--concurrency 10]
       .venv/bin/python bench/throughput.py --pairs 9     (only the runner/raw-aiohttp ratio)
       (default document: <repo>/../shared/corpus/petstore3-openapi.yaml)
       .venv/bin/python bench/throughput.py --profile   (the runner loop under pyinstrument,
       from the ``bench`` extra: pip install -e '.[bench]')

A fast local server (aiohttp, its own process, one core) answers every path with a small JSON
object and counts what it received. Against it, each row is the median of ``--runs`` runs; the
client loops take turns (one run of each, then the next round), so a load change on a shared
machine hits them alike, and each also reports the client's own CPU time per request (this
process only: the server runs in another), which other jobs on the machine disturb far less than
the rate:

- wrk: the server's own ceiling (skipped with a message when wrk is not installed);
- raw aiohttp loop, raw ``httpx.AsyncClient`` loops (default transport, tuned pool) and httpx over
  the aiohttp transport specdiff uses: ``--requests`` GETs by ``--concurrency`` workers;
- specdiff's runner: the same GETs through :class:`specdiff.runner.Runner`;
- a full default ``specdiff check`` of DOCUMENT against the server (wall time, requests it sent);
- Schemathesis' default ``st run`` of the same document and server, from a throwaway venv
  (``$SCHEMATHESIS`` or ``st`` on PATH or ``/tmp/st-venv/bin/st``; skipped when absent:
  ``python3 -m venv /tmp/st-venv && /tmp/st-venv/bin/pip install schemathesis``).

Then the ratios the README quotes: specdiff runner rate / raw aiohttp rate (and the same by
client CPU per request), and specdiff's full check wall time / Schemathesis' wall time.
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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    cpu: float | None = None
    """Client CPU seconds for the requests (client loops only)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


Timed = tuple[float, float]
"""Wall seconds and this process's CPU seconds."""


async def _workers(n: int, concurrency: int, one: Callable[[], Awaitable[object]]) -> Timed:
    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    share = [n // concurrency + (i < n % concurrency) for i in range(concurrency)]
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(k) for k in share))
    return time.perf_counter() - start, time.process_time() - cpu


async def raw_aiohttp(url: str, n: int, concurrency: int) -> Timed:
    import aiohttp

    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with session.get(url) as r:
                await r.read()

        return await _workers(n, concurrency, one)


async def raw_httpx(url: str, n: int, concurrency: int, *, tuned: bool = False) -> Timed:
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


async def httpx_aiohttp(url: str, n: int, concurrency: int) -> Timed:
    from specdiff.runner import make_client

    async with make_client() as client:

        async def one() -> None:
            await client.get(url)

        return await _workers(n, concurrency, one)


async def specdiff_runner(base: str, n: int, concurrency: int, **extra: object) -> Timed:
    """``extra``: more :class:`specdiff.runner.Runner` arguments (``bench/integrity.py``)."""
    from specdiff.model import PlannedRequest
    from specdiff.runner import Runner, RunnerLimits, make_client

    req = PlannedRequest("GET", PATH)
    async with make_client() as client:
        runner = Runner(
            client,
            base_url=base,
            limits=RunnerLimits(concurrency=concurrency, max_requests=n + 1),
            **extra,  # type: ignore[arg-type]
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


def profile_runner(base: str, n: int, concurrency: int) -> None:
    """Print where the runner loop's time goes (pyinstrument, event loop included)."""
    from pyinstrument import Profiler

    asyncio.run(specdiff_runner(base, min(n, 300), concurrency))  # warm-up
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    asyncio.run(specdiff_runner(base, n, concurrency))
    profiler.stop()
    print(profiler.output_text(color=False, show_all=False))


def pairs(url: str, base: str, n: int, concurrency: int, count: int) -> None:
    """The runner/raw-aiohttp ratio from back-to-back pairs: each pair shares the machine's
    momentary load, so the spread of ratios shows how noisy a single figure is."""
    import statistics

    loops = (
        lambda k: raw_aiohttp(url, k, concurrency),
        lambda k: specdiff_runner(base, k, concurrency),
    )
    for loop in loops:  # warm-up
        asyncio.run(loop(min(n, 300)))
    rate, cpu = [], []
    for _ in range(count):
        (raw_wall, raw_cpu), (our_wall, our_cpu) = (asyncio.run(loop(n)) for loop in loops)
        rate.append(raw_wall / our_wall)
        cpu.append(raw_cpu / our_cpu)
    for name, ratios in (("rate", rate), ("CPU", cpu)):
        shown = " ".join(f"{r:.2f}" for r in ratios)
        print(f"runner / raw aiohttp by {name}: median {statistics.median(ratios):.2f} ({shown})")


def _median(rows: list[Row]) -> Row:
    rates = sorted(rows, key=lambda r: r.rate)
    mid = rates[len(rates) // 2]
    cpus = sorted(r.cpu for r in rows if r.cpu is not None)
    cpu = cpus[len(cpus) // 2] if cpus else None
    return Row(mid.name, mid.requests, mid.seconds, f"median of {len(rows)}", cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", nargs="?", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="profile the runner loop only")
    parser.add_argument(
        "--pairs",
        type=int,
        help="only alternate the raw aiohttp loop and the runner this many times; print ratios",
    )
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
    if args.profile or args.pairs:
        try:
            if args.profile:
                profile_runner(base, n, c)
            else:
                pairs(url, base, n, c, args.pairs)
        finally:
            proc.terminate()
            proc.wait()
        return 0
    try:
        ceiling = [r for _ in range(args.runs) if (r := wrk(url, c))]
        if ceiling:
            rows.append(_median(ceiling))
        else:
            print("wrk not installed: skipping the server-ceiling row (apt-get install wrk)")
        loops: list[tuple[str, Callable[[int], Coroutine[Any, Any, Timed]]]] = [
            ("raw aiohttp loop", lambda k: raw_aiohttp(url, k, c)),
            ("raw httpx.AsyncClient loop", lambda k: raw_httpx(url, k, c)),
            ("httpx, tuned httpcore pool", lambda k: raw_httpx(url, k, c, tuned=True)),
            ("httpx over httpx-aiohttp (make_client)", lambda k: httpx_aiohttp(url, k, c)),
            ("specdiff runner (Runner.send)", lambda k: specdiff_runner(base, k, c)),
        ]
        for _, loop in loops:  # warm-up, not counted: imports, first connections, caches
            asyncio.run(loop(min(n, 300)))
        runs: dict[str, list[Row]] = {name: [] for name, _ in loops}
        for _ in range(args.runs):  # round-robin: each loop once per round
            for name, loop in loops:
                wall, cpu = asyncio.run(loop(n))
                runs[name].append(Row(name, n, wall, cpu=cpu))
        rows += [_median(r) for r in runs.values()]
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
    print(f"{'':<42} {'requests':>9} {'wall s':>8} {'req/s':>9} {'CPU us/req':>11}")
    for r in rows:
        per = f"{r.cpu / r.requests * 1e6:>11.0f}" if r.cpu is not None else f"{'':>11}"
        print(f"{r.name:<42} {r.requests:>9.0f} {r.seconds:>8.3f} {r.rate:>9.0f} {per}  {r.note}")
    by_name = {r.name.split(" (")[0]: r for r in rows}
    aio = by_name.get("raw aiohttp loop")
    ours = by_name.get("specdiff runner")
    if aio and ours:
        print(
            f"\nspecdiff runner rate / raw aiohttp rate: {ours.rate / aio.rate:.2f} (target >= 0.8)"
        )
        if ours.cpu and aio.cpu:
            print(
                "raw aiohttp CPU per request / specdiff runner CPU per request: "
                f"{aio.cpu / ours.cpu:.2f} (the same ratio, as if the client alone were the limit)"
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
