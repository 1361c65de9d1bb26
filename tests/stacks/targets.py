"""Targets on other web stacks than the demo twins: start one, scan it, score it.

Each target is a vulnerable and a hardened variant of one API, with its own OpenAPI document
and a ground truth (``truth.json`` beside it: which rule must fire on which operation of the
vulnerable variant). :func:`serve` starts a variant on a free loopback port for the duration of
a ``with`` block; :func:`scan_target` checks it as a new user would (two users' tokens and the
JWT secret); :func:`score` compares a report with the truth. ``bench/recall.py`` and the
end-to-end tests both use them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from specdiff.config import Credentials, ScanConfig
from specdiff.engine import scan
from specdiff.model import Report

__all__ = [
    "EXPRESS_DIR",
    "TARGETS",
    "LoggedRequest",
    "RunningTarget",
    "Score",
    "express_missing",
    "finding_pairs",
    "scan_target",
    "score",
    "seeded_state",
    "serve",
    "truth",
]

HERE = Path(__file__).resolve().parent
EXPRESS_DIR = HERE / "express"
TARGETS = ("fastapi", "express")
Variant = Literal["vulnerable", "hardened"]


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the target received it (its own request log), and the status it got."""

    scheme: str
    method: str
    path: str
    authorization: str | None
    cookie: str | None
    status: int


@dataclass(frozen=True)
class RunningTarget:
    """A variant listening on loopback, with what a user would pass to specdiff."""

    name: str
    variant: Variant
    base_url: str
    spec: Path
    token_a: str
    token_b: str
    jwt_secret: str
    params: tuple[tuple[str, str], ...] = field(default=())
    http_url: str | None = None
    """The plain-HTTP twin (``--http-url``), where the target has one."""
    ca_bundle: str | None = None
    """The test CA that signed its HTTPS certificate (``--ca-bundle``)."""
    requests: Callable[[], list[LoggedRequest]] = field(default=list, repr=False)
    """What the target's own request log holds so far."""


def express_missing() -> str | None:
    """Why the Express target cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (.ci/run installs nodejs and npm from Debian)"
    if not (EXPRESS_DIR / "node_modules" / "express").is_dir():
        return f"{EXPRESS_DIR}/node_modules is missing: run `npm ci` there (.ci/run does)"
    return None


@contextmanager
def serve(name: str, variant: Variant) -> Iterator[RunningTarget]:
    """Serve ``variant`` of target ``name`` (``fastapi`` or ``express``) on 127.0.0.1."""
    if name == "fastapi":
        with _serve_fastapi(variant) as target:
            yield target
    elif name == "express":
        with _serve_express(variant) as target:
            yield target
    else:
        raise ValueError(f"unknown target {name!r}")


@contextmanager
def _serve_fastapi(variant: Variant) -> Iterator[RunningTarget]:
    import uvicorn

    from tests.stacks.fastapi_shop.app import ALICE, BOB, SECRET, create_app, issue_token

    log: list[dict[str, Any]] = []
    app = create_app(variant, log)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with tempfile.TemporaryDirectory(prefix="specdiff-fastapi-") as tmp:
        spec = Path(tmp) / "openapi.json"
        spec.write_text(json.dumps(app.openapi(), indent=1), encoding="utf-8")
        thread.start()
        try:
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("uvicorn did not start")
                threading.Event().wait(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            yield RunningTarget(
                "fastapi",
                variant,
                f"http://127.0.0.1:{port}",
                spec,
                issue_token(ALICE),
                issue_token(BOB),
                SECRET,
                requests=lambda: [LoggedRequest(**entry) for entry in log],
            )
        finally:
            server.should_exit = True
            thread.join(10)


EXPRESS_SECRET = "notes-signing-key-4b8d1e7a93c2f605"


def _express_token(user_id: int, username: str) -> str:
    import time

    import jwt

    now = int(time.time())
    claims = {"user_id": user_id, "username": username, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, EXPRESS_SECRET, algorithm="HS256")


@contextmanager
def _serve_express(variant: Variant) -> Iterator[RunningTarget]:
    """Over HTTPS (a fresh trustme CA), with its plain-HTTP redirector beside it."""
    import trustme

    missing = express_missing()
    if missing is not None:
        raise RuntimeError(missing)
    with tempfile.TemporaryDirectory(prefix="specdiff-express-") as tmp:
        folder = Path(tmp)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        cert.private_key_pem.write_to_path(str(folder / "key.pem"))
        (folder / "cert.pem").write_bytes(b"".join(b.bytes() for b in cert.cert_chain_pems))
        log = folder / "requests.jsonl"
        env = {
            **os.environ,
            "PORT": "0",
            "VARIANT": variant,
            "JWT_SECRET": EXPRESS_SECRET,
            "TLS_CERT": str(folder / "cert.pem"),
            "TLS_KEY": str(folder / "key.pem"),
            "REQUEST_LOG": str(log),
        }
        env.pop("NODE_ENV", None)
        proc = subprocess.Popen(
            ["node", "app.js"],
            cwd=EXPRESS_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # "listening on PORT HTTP_PORT", or "" when node died
            if not line.startswith("listening on "):
                raise RuntimeError(f"node app.js did not start (exit {proc.poll()})")
            port, http_port = (int(p) for p in line.split()[-2:])
            yield RunningTarget(
                "express",
                variant,
                f"https://127.0.0.1:{port}/api/v2",
                EXPRESS_DIR / "openapi.yaml",
                _express_token(7, "alice"),
                _express_token(12, "bob"),
                EXPRESS_SECRET,
                http_url=f"http://127.0.0.1:{http_port}/api/v2",
                ca_bundle=str(folder / "ca.pem"),
                requests=lambda: _read_log(log),
            )
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _read_log(path: Path) -> list[LoggedRequest]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LoggedRequest(**json.loads(line)) for line in lines if line.strip()]


def seeded_state(target: RunningTarget) -> dict[str, object]:
    """What the seeded objects look like through the API, asked by their owners: every order
    and document of the FastAPI shop, every note of the Express API. A run that deleted or
    changed one shows here."""
    import ssl

    import httpx

    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=target.ca_bundle) if target.ca_bundle else True
    )
    found: dict[str, object] = {}
    with httpx.Client(base_url=target.base_url, verify=verify, timeout=10) as client:

        def ask(path: str, token: str) -> None:
            answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
            who = "A" if token == target.token_a else "B"
            found[f"{path} as {who}"] = (
                answer.status_code,
                answer.json() if answer.content else None,
            )

        if target.name == "fastapi":
            from tests.stacks.fastapi_shop.app import DOCUMENTS, ORDERS

            for token in (target.token_a, target.token_b):
                ask("/api/orders", token)
            for number, (owner, *_) in ORDERS.items():
                ask(f"/api/orders/{number}", target.token_a if owner == 31 else target.token_b)
            for slug, (*_, owners) in DOCUMENTS.items():
                ask(f"/api/documents/{slug}", target.token_a if 31 in owners else target.token_b)
        else:
            for token in (target.token_a, target.token_b):
                ask("/notes", token)
            ask("/notes/4c1f9e2a", target.token_a)
            ask("/notes/8d3b7c61", target.token_b)
    return found


def scan_target(target: RunningTarget, *, unsafe: bool = False, **overrides: object) -> Report:
    """``specdiff check SPEC --base-url URL --token A --token-b B --jwt-secret S`` (and
    ``--http-url``, ``--ca-bundle`` where the target serves HTTPS)."""
    fields: dict[str, object] = {
        "spec": str(target.spec),
        "base_url": target.base_url,
        "credentials": Credentials.build(token=target.token_a),
        "credentials_b": Credentials.build(token=target.token_b, identity="b"),
        "jwt_secret": target.jwt_secret,
        "params": target.params,
        "unsafe": unsafe,
        "http_url": target.http_url,
        "ca_bundle": target.ca_bundle,
    }
    fields.update(overrides)
    return scan(ScanConfig(**fields))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ground truth

Pair = tuple[str, str]
"""(rule code, ``METHOD /path``), or (rule code, ``""``) for a host-wide finding."""


@dataclass(frozen=True)
class Expected:
    rule: str
    operation: str
    capability: str
    """What it takes to find it: ``base`` (already there), ``reach`` (issue 12.1), ``bola``
    (12.2), ``provoke`` (12.4), ``unsafe`` (12.7: unsafe methods probed without changing
    anything), or another issue section (``pool`` 12.3, ``signals`` 12.5)."""
    mode: str = "both"
    """``safe``: only a run without ``--unsafe`` finds it (SD208's anonymous invalid body is
    sent only then); ``unsafe``: only an ``--unsafe`` run; ``both``."""
    why: str = ""


def truth(name: str) -> tuple[Expected, ...]:
    """The ground truth of target ``name``'s vulnerable variant."""
    folder = EXPRESS_DIR if name == "express" else HERE / "fastapi_shop"
    rows = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return tuple(Expected(**row) for row in rows)


def finding_pairs(report: Report) -> set[Pair]:
    """(rule, ``METHOD /path``) of every finding of ``report``."""
    return {
        (f.rule, f"{f.operation.method} {f.operation.path}" if f.operation else "")
        for f in report.findings
    }


@dataclass(frozen=True)
class Score:
    """A report against the truth: what was expected and found, missed, and found unexpected."""

    expected: frozenset[Pair]
    found: frozenset[Pair]

    @property
    def hits(self) -> frozenset[Pair]:
        return self.expected & self.found

    @property
    def missed(self) -> frozenset[Pair]:
        return self.expected - self.found

    @property
    def unexpected(self) -> frozenset[Pair]:
        return self.found - self.expected

    @property
    def recall(self) -> float:
        return len(self.hits) / len(self.expected) if self.expected else 1.0

    @property
    def precision(self) -> float:
        return len(self.hits) / len(self.found) if self.found else 1.0


def score(name: str, report: Report, *, unsafe: bool = False) -> Score:
    """``report`` (of the vulnerable variant) against ``name``'s truth for a safe or unsafe run."""
    expected = {
        (e.rule, e.operation)
        for e in truth(name)
        if e.mode == "both" or e.mode == ("unsafe" if unsafe else "safe")
    }
    return Score(frozenset(expected), frozenset(finding_pairs(report)))
