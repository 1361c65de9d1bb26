"""SD401-SD403 signatures on the pages real frameworks send (tests/fixtures/frameworks).

Each page was captured by running the framework once (``capture.py`` there; the manifest names
the version and the command), or, where this machine cannot run it (Spring, ASP.NET, Laravel),
rebuilt from the framework's own template or source (the manifest names the file). Every page
must give exactly the expected (debugger, stack trace, database) families; production pages,
hardened JSON errors and pages that only speak of an "exception" in prose give none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from probes.leakage import DatabaseError, DebuggerExposed, StackTrace
from specdiff.model import Exchange, PlannedRequest
from specdiff.probe import ProbeContext, ProbeOptions
from specdiff.signatures import database_error, debugger, readable_text, stack_trace
from tests.builders import api_of, minimal_doc, ok_json, operation

FIXTURES = Path(__file__).parents[1] / "fixtures" / "frameworks"
MANIFEST: dict[str, dict[str, Any]] = json.loads((FIXTURES / "manifest.json").read_text())

# page -> (SD401 debugger family, SD402 stack-trace family, SD403 database family)
EXPECTED: dict[str, tuple[str | None, str | None, str | None]] = {
    # Express: the development handler (finalhandler) prints the stack in one <pre>, frames
    # separated by <br>; errorhandler's page; production and a JSON handler print nothing
    "express4-dev-500": (None, "node", None),
    "express4-dev-400-json": (None, "node", None),
    "express4-production-500": (None, None, None),
    "express4-hardened-500": (None, None, None),
    "express5-dev-500": (None, "node", None),
    "express5-dev-400-json": (None, "node", None),
    "express5-production-500": (None, None, None),
    "express5-hardened-500": (None, None, None),
    "express5-errorhandler-html": ("express", "node", None),
    "express5-errorhandler-json": (None, "node", None),
    # Express's automatic OPTIONS answer (SD501 reads it): no signature at all
    "express4-options": (None, None, None),
    "express5-options": (None, None, None),
    # Django DEBUG=True: the technical 500 (HTML to a client accepting */*, text to a JSON-only
    # one) and the technical 404; DEBUG=False: the plain pages
    "django-debug-500-html": ("django", "python", None),
    "django-debug-500-text": ("django", "python", None),
    "django-debug-sqlite-html": ("django", "python", "sqlite"),
    "django-debug-sqlite-text": ("django", "python", "sqlite"),
    "django-debug-404-html": ("django", None, None),
    "django-production-500": (None, None, None),
    "django-production-404": (None, None, None),
    # FastAPI / Starlette debug=True: HTML frames to browsers, a plain traceback to the rest
    "fastapi-debug-500-html": (None, "python", None),
    "fastapi-debug-500-text": (None, "python", None),
    "starlette-debug-500-html": (None, "python", None),
    "starlette-debug-500-text": (None, "python", None),
    "fastapi-production-500": (None, None, None),
    # Flask --debug: Werkzeug's interactive debugger, whatever the Accept header
    "flask-debugger-500-html": ("werkzeug", "python", None),
    "flask-debugger-500-text": ("werkzeug", "python", None),
    "flask-debugger-sqlite": ("werkzeug", "python", "sqlite"),
    "flask-production-500": (None, None, None),
    # Go: net/http alone closes the connection; negroni-style PrintStack writes the stack
    "go-nethttp-panic": (None, None, None),
    "go-printstack-panic": (None, "go", None),
    "go-quiet-panic": (None, None, None),
    "go-decode-error": (None, None, None),
    # PHP: display_errors=1 (answered with 200), Symfony's debug page; display_errors=0
    "php-display-errors": (None, "php", None),
    "symfony-debug-html": ("symfony", "php", None),
    "php-production-500": (None, None, None),
    # Rails development: ActionDispatch's exception page (HTML even to a JSON client)
    "rails-development-500-html": ("rails", "ruby", None),
    "rails-development-500-json": ("rails", "ruby", None),
    # rebuilt from source
    "spring-whitelabel-trace": ("spring", "java", None),
    "spring-whitelabel-default": (None, None, None),
    "spring-json-trace": (None, "java", None),
    "spring-json-default": (None, None, None),
    "aspnet-developer-page": ("aspnet", "dotnet", None),
    "aspnet-problem-details": (None, "dotnet", None),
    "laravel-debug-json": (None, "php", None),
    "laravel-production-json": (None, None, None),
    # an exception or error named in prose only
    "prose-exception-json": (None, None, None),
    "prose-error-page": (None, None, None),
    "prose-validation-json": (None, None, None),
    "prose-node-error": (None, None, None),
    "prose-docs-traceback": (None, None, None),
}


def recorded(page: str) -> Exchange:
    entry = MANIFEST[page]
    body = (FIXTURES / "pages" / entry["file"]).read_bytes()
    headers = (("Content-Type", entry["content_type"]),) if entry["content_type"] else ()
    return Exchange(PlannedRequest("GET", "/users/abc"), "", (), entry["status"], headers, body)


def test_every_page_has_an_expectation_and_a_provenance() -> None:
    assert set(EXPECTED) == set(MANIFEST)
    for page, entry in MANIFEST.items():
        assert (FIXTURES / "pages" / entry["file"]).is_file(), page
        if entry["source"] == "captured":
            assert entry["version"] and entry["command"] and entry["app"], page
            assert (FIXTURES / entry["app"]).is_dir(), page
        else:
            assert entry["source"] in ("reconstructed", "handwritten"), page
            assert entry["note"], page


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_signatures_on_real_pages(page: str) -> None:
    ex = recorded(page)
    text = readable_text(ex)
    found = tuple(
        match.family if match is not None else None
        for match in (debugger(ex.text), stack_trace(text), database_error(text))
    )
    assert found == EXPECTED[page]


def test_the_express_trace_is_read_frame_by_frame() -> None:
    # "<br> &nbsp; &nbsp;at fn (file.js:63:17)": one line per frame once <br> breaks it
    match = stack_trace(readable_text(recorded("express4-dev-500")))
    assert match is not None
    assert match.proof.startswith("at loadUser (/") and match.proof.endswith("express.js:14:11)")


DOC = minimal_doc({"/users/{id}": {"get": {"responses": ok_json({"type": "object"})}}})


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ProbeContext]:
    api = api_of(tmp_path_factory.mktemp("frameworks"), DOC)
    op = operation(api, "GET /users/{id}")
    return op, ProbeContext(api, ProbeOptions(), PlannedRequest("GET", "/users/1"), None)


@pytest.mark.parametrize(
    ("page", "codes"),
    [
        ("django-debug-sqlite-text", ["SD401", "SD402", "SD403"]),
        ("express5-dev-500", ["SD402"]),
        ("symfony-debug-html", ["SD401", "SD402"]),
        ("fastapi-production-500", []),
        # answered 200: an error page served as success is not judged by SD402 (see RULES.md)
        ("php-display-errors", []),
    ],
)
def test_the_probes_judge_the_real_pages(
    page: str, codes: list[str], ctx: tuple[Any, ProbeContext]
) -> None:
    op, context = ctx
    probes = (DebuggerExposed(), StackTrace(), DatabaseError())
    found = [f.rule for probe in probes for f in probe.judge(op, context, [recorded(page)])]
    assert found == codes
