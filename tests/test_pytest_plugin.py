"""The pytest plugin, run by pytester: a project's own test checks its app in process.

The inner tests use only the public fixture and marker; they check the demo twins' Flask apps
(no server): the hardened app passes, the vulnerable app fails with a readable list of findings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import specdiff
from specdiff.demo.capture import RequestLog
from specdiff.demo.vulnerable import create_app
from specdiff.inprocess import app_transport, is_asgi

pytest_plugins = ["pytester"]

SPEC = Path(__file__).resolve().parents[1] / "specdiff" / "demo" / "openapi.yaml"

INNER = f"""
import secrets

import pytest

from specdiff.demo import hardened, vulnerable
from specdiff.demo.capture import RequestLog
from specdiff.demo.tokens import issue_token

SPEC = {str(SPEC)!r}
SECRET = secrets.token_urlsafe(32)


def test_hardened_contract(specdiff):
    app = hardened.create_app(RequestLog(), SECRET)
    result = specdiff.check(SPEC, app=app, token=issue_token("alice", SECRET))
    assert result.report.findings == ()
    result.assert_clean()


@pytest.mark.specdiff(fail_on="critical")
def test_vulnerable_contract(specdiff):
    specdiff.check(SPEC, app=vulnerable.create_app(RequestLog())).assert_clean()
"""


def test_fixture_passes_the_hardened_app_and_fails_the_vulnerable_one(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_contract=INNER)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_vulnerable_contract*",
            f"specdiff: 1 finding(s) at or above critical in {SPEC}:",
            "  SD303 critical GET /users/{id}: GET /users/{id} returned the undocumented "
            "property $.password_hash *",
            "  note: in-process application: SD101 and SD105 (the plain-HTTP twin) need a real "
            "socket and were skipped; *",
        ]
    )
    result.stdout.no_fnmatch_line("*test_hardened_contract FAILED*")


KEYWORDS = f"""
from specdiff.demo import vulnerable
from specdiff.demo.capture import RequestLog

SPEC = {str(SPEC)!r}
ALICE = vulnerable.issue("alice", vulnerable.SECRET)
BOB = vulnerable.issue("bob", vulnerable.SECRET)


def rules(result):
    return {{f.rule for f in result.report.findings}}


def test_the_clis_credential_keywords(specdiff):
    app = vulnerable.create_app(RequestLog(), partner_key="k-partner")
    alone = specdiff.check(SPEC, app=app, token=ALICE, header="X-API-Key: k-partner")
    both = specdiff.check(SPEC, app=app, token=ALICE, header=["X-API-Key: k-partner"], token_b=BOB)
    assert "SD212" not in rules(alone) and "SD212" in rules(both)  # identity B from token_b=
    assert "SD207" in rules(alone)  # the partner key from header= was moved to ?api_key=
"""


def test_check_takes_the_clis_credential_keywords(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_keywords=KEYWORDS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.specdiff(**options): *"])


def test_wsgi_and_asgi_are_told_apart() -> None:
    async def asgi_app(scope: object, receive: object, send: object) -> None:
        del scope, receive, send

    class AsgiClass:
        async def __call__(self, scope: object, receive: object, send: object) -> None:
            del scope, receive, send

    flask_app = create_app(RequestLog())
    assert (is_asgi(asgi_app), is_asgi(AsgiClass()), is_asgi(flask_app)) == (True, True, False)
    assert type(app_transport(asgi_app)).__name__ == "ASGITransport"
    assert type(app_transport(flask_app)).__name__ == "_ThreadedWSGITransport"


def test_importing_the_plugin_loads_no_engine() -> None:
    """pytest imports the plugin in every run of a project that installs specdiff: neither the
    package nor the plugin may load the engine or its HTTP stack before a check runs."""
    code = (
        "import sys, pytest; before = set(sys.modules); import specdiff.pytest_plugin; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "['specdiff', 'specdiff.pytest_plugin']\n"


def test_public_names_load_on_first_use() -> None:
    code = (
        "import specdiff, specdiff.engine; print(specdiff.scan is specdiff.engine.scan, "
        "specdiff.Severity.__module__, 'scan' in dir(specdiff))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "True specdiff.model True\n"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        specdiff.nope  # noqa: B018


INCOMPLETE = f"""
import secrets

from specdiff.demo import hardened
from specdiff.demo.capture import RequestLog
from specdiff.demo.tokens import issue_token

SPEC = {str(SPEC)!r}
SECRET = secrets.token_urlsafe(32)


def test_a_spent_budget_is_not_clean(specdiff):
    app = hardened.create_app(RequestLog(), SECRET)
    specdiff.check(SPEC, app=app, token=issue_token("alice", SECRET), max_requests=5).assert_clean()


def test_unless_allowed(specdiff):
    app = hardened.create_app(RequestLog(), SECRET)
    token = issue_token("alice", SECRET)
    result = specdiff.check(SPEC, app=app, token=token, max_requests=5, allow_incomplete=True)
    assert not result.report.complete
    result.assert_clean()
"""


def test_an_incomplete_check_fails_unless_allowed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_incomplete=INCOMPLETE)
    # its own process: a second in-process pytester run here failed to load the document
    # ("could not determine a constructor for the tag None"; sys.modules restored by pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*specdiff: incomplete: * operations not judged (request budget spent)*"]
    )
