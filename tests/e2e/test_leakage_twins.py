"""The leakage, transport-hygiene and conformance family against the demo twins.

Exact set on the shared vulnerable scan, silence on the hardened one (``test_check_twins``
asserts zero findings of any rule there), the twins' request logs for specdiff's own safety,
and SD403 proven on real PostgreSQL error text (psycopg against a throwaway server).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from specdiff.demo.serve import RunningTwin, serve_twin
from specdiff.engine import scan
from specdiff.mutate import MALFORMED_JSON
from specdiff.safety import SENTINELS
from tests.e2e.conftest import TwinScan, finding_keys, twin_config

FAMILY = (
    "SD102", "SD104", "SD105",
    "SD401", "SD402", "SD403", "SD404", "SD405", "SD406", "SD407", "SD408",
    "SD501", "SD502", "SD503", "SD504", "SD505",
)  # fmt: skip


def test_vulnerable_twin_gives_exactly_the_expected_leaks(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan
) -> None:
    host = vulnerable_twin.https_url
    assert finding_keys(vulnerable_scan.report, FAMILY) == {
        # host-wide: once per host, cookie or origin, whatever the number of operations
        ("SD102", "", host),
        ("SD406", "", host),
        ("SD505", "", host),
        ("SD104", "", "session"),
        ("SD405", "", "session"),
        ("SD504", "", "https://specdiff-probe.invalid"),
        ("SD504", "", "null"),
        # the plain-HTTP port sends GET /announcements on to another http:// URL
        ("SD105", "GET /announcements", vulnerable_twin.http_url),
        ("SD401", "", "werkzeug:/console"),
        ("SD401", "", "werkzeug:error page"),
        ("SD407", "", "/debug/config"),
        # per operation
        ("SD402", "GET /orders/{order_id}", "python"),
        ("SD402", "GET /products/search", "python"),
        ("SD403", "GET /products/search", "sqlite"),
        ("SD502", "GET /orders/{order_id}", ""),
        ("SD502", "GET /products/search", ""),
        ("SD502", "GET /reports/daily", ""),
        ("SD503", "GET /products/search", "query.limit"),
        # the required q left out is answered 200 (request.args.get("q", "")): issue 12.4
        ("SD503", "GET /products/search", "query.q"),
        ("SD503", "GET /assistant/answer", "query.q"),
        ("SD404", "GET /me", "body"),
        ("SD404", "GET /admin/stats", "body"),
        ("SD404", "GET /assistant/answer", "body"),
        ("SD404", "GET /orders", "body"),
        ("SD404", "GET /realtime/ticket", "body"),
        ("SD408", "GET /me", ""),
        ("SD408", "GET /users", ""),
        ("SD408", "GET /users/{id}", ""),
        ("SD408", "GET /orders", ""),
        ("SD408", "GET /orders/{order_id}", ""),
        ("SD408", "GET /admin/stats", ""),
        ("SD408", "GET /assistant/answer", ""),
        ("SD408", "GET /realtime/ticket", ""),
        ("SD408", "GET /partner/catalog", ""),
        ("SD501", "PUT /products/{product_id}", ""),
    }


def test_host_wide_findings_carry_no_operation_and_real_evidence(
    vulnerable_scan: TwinScan,
) -> None:
    by_rule = {f.rule: f for f in vulnerable_scan.report.findings}
    for code in ("SD102", "SD104", "SD405", "SD406", "SD504", "SD505"):
        assert by_rule[code].operation is None and by_rule[code].location is None, code
    assert "Werkzeug/" in by_rule["SD406"].evidence.snippet  # type: ignore[union-attr]
    assert "$.token" in by_rule["SD405"].message and "jwt" in by_rule["SD405"].message
    sql = next(f for f in vulnerable_scan.report.findings if f.rule == "SD403")
    assert sql.evidence is not None and "sqlite3.OperationalError" in sql.evidence.snippet
    echo = next(f for f in vulnerable_scan.report.findings if f.rule == "SD404")
    assert echo.evidence is not None and "sdcanary" in echo.evidence.snippet


def test_family_sends_nothing_that_writes_and_never_talks_to_the_console(
    vulnerable_scan: TwinScan,
) -> None:
    log = vulnerable_scan.log
    unsafe = [e for e in log if e.method not in {"GET", "HEAD", "OPTIONS", "TRACE"}]
    # error provocation reached unsafe operations only anonymously, with an unreadable body
    provoked = [e for e in unsafe if e.body == MALFORMED_JSON]
    assert provoked and all(e.header("Authorization") is None for e in unsafe)
    # no DELETE ever names a real object (SD201 and SD501 use ids that certainly name nothing)
    deletes = [e for e in log if e.method == "DELETE"]
    assert deletes and all(any(s in e.path for s in SENTINELS) for e in deletes)
    # the console was looked at, never used: no debugger command, no PIN, no frame evaluation
    assert any(e.path == "/console" and e.method == "GET" for e in log)
    assert not any("__debugger__" in e.query or "cmd=" in e.query for e in log)
    # canaries and well-known paths never carry the user's token
    for entry in log:
        if entry.path in {"/console", "/debug/config", "/.env"}:
            assert entry.header("Authorization") is None, entry


def test_requests_per_operation_stay_bounded(vulnerable_scan: TwinScan) -> None:
    report = vulnerable_scan.report
    assert report.summary.requests / report.summary.operations < 25
    assert max(c.requests for c in report.coverage) < 60  # the first operation pays host checks


# --------------------------------------------------------------------------- real PostgreSQL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a loopback port (``initdb`` + ``pg_ctl``)."""
    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdbs:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql package)")
    bindir = initdbs[-1].parent
    workdir = Path(tempfile.mkdtemp(prefix="specdiff-pg-"))
    runas: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run PostgreSQL as")
        os.chown(workdir, user.pw_uid, user.pw_gid)
        runas = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"

    def pg(*args: str) -> None:
        subprocess.run([*runas, *args], check=True, capture_output=True, timeout=60)

    try:
        pg(str(bindir / "initdb"), "-D", str(data), "-U", "specdiff", "--auth=trust", "-E", "UTF8")
        pg(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql://specdiff@127.0.0.1:{port}/postgres"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


def test_database_errors_are_found_on_real_postgresql_text(postgres_url: str) -> None:
    with serve_twin("vulnerable", database_url=postgres_url) as twin:
        report = scan(twin_config(twin))
    assert finding_keys(report, ["SD403"]) == {("SD403", "GET /products/search", "psycopg")}
    [finding] = [f for f in report.findings if f.rule == "SD403"]
    assert finding.evidence is not None
    assert "psycopg.errors." in finding.evidence.snippet  # the driver's own exception text
    with serve_twin("hardened", database_url=postgres_url) as twin:
        assert scan(twin_config(twin)).findings == ()
