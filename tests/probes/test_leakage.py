"""SD102/SD104/SD105, SD401-SD408 and SD501-SD505 on recorded exchanges: fire and stay silent."""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from probes.conformance import (
    CorsMisconfigured,
    InvalidInputAccepted,
    MissingWwwAuthenticate,
    ServerError,
    UndocumentedMethodAccepted,
)
from probes.leakage import (
    CacheableSensitiveResponse,
    CredentialEcho,
    DatabaseError,
    DebuggerExposed,
    SecretInCookie,
    StackTrace,
    UndocumentedEndpoint,
    VersionBanner,
    absent_path,
    well_known_paths,
)
from probes.transport import HstsMissing, InsecureCookie, InsecureRedirect
from specdiff.model import ApiModel, AuthMode, Exchange, Operation, PlannedRequest
from specdiff.mutate import MALFORMED_JSON, canary_request, mutations
from specdiff.probe import Probe, ProbeContext, ProbeOptions
from specdiff.safety import SafetyPolicy
from tests.builders import api_of, exchange, minimal_doc, ok_json, operation, variant

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9."
    "c2lnbmF0dXJlLW5vdC1jaGVja2VkLWhlcmUtYXQtYWxs"
)
DOC = minimal_doc(
    {
        "/items": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": ok_json({"type": "array"}),
            },
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "count": {"type": "integer"},
                                },
                            },
                            "example": {"name": "x", "count": 1},
                        }
                    },
                },
                "responses": {"201": {"description": "made"}},
            },
        },
        "/open": {"get": {"security": [], "responses": ok_json({"type": "object"})}},
    },
    security=[{"bearer": []}],
    components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
)


@pytest.fixture
def api(tmp_path: Path) -> ApiModel:
    return api_of(tmp_path, DOC)


def _ctx(
    api: ApiModel, op: Operation, baseline: Exchange | None = None, **opts: Any
) -> ProbeContext:
    planned = PlannedRequest(op.method, op.path, headers=(("Accept", "application/json"),))
    if op.request_body is not None:
        planned = PlannedRequest(
            op.method,
            op.path,
            headers=(("Content-Type", "application/json"),),
            body=b'{"name":"x","count":1}',
        )
    options = ProbeOptions(has_credentials=True, http_twin=True, **opts)
    return ProbeContext(api, options, planned, baseline)


def _judge(
    probe: Probe, api: ApiModel, key: str, *exchanges: Exchange, baseline: Exchange | None = None
) -> list[Any]:
    op = operation(api, key)
    return list(probe.judge(op, _ctx(api, op, baseline), list(exchanges)))


def _with(req_purpose: str, ex: Exchange, method: str = "GET") -> Exchange:
    req = PlannedRequest(
        method, ex.request.path, variant=variant(req_purpose), headers=ex.request.headers
    )
    return Exchange(req, ex.url, ex.sent_headers, ex.status, ex.headers, ex.body)


# --------------------------------------------------------------------------- SD102 / SD104 / SD105


@pytest.mark.parametrize(
    ("url", "headers", "fires"),
    [
        ("https://api.test/items", {}, True),
        ("https://api.test/items", {"Strict-Transport-Security": "max-age=300"}, True),
        ("https://api.test/items", {"Strict-Transport-Security": "max-age=31536000"}, False),
        (
            "https://api.test/items",
            {"Strict-Transport-Security": "max-age=15552000; preload"},
            False,
        ),
        ("http://api.test/items", {}, False),  # HSTS over plain HTTP means nothing
    ],
)
def test_sd102_hsts(api: ApiModel, url: str, headers: dict[str, str], fires: bool) -> None:
    base = exchange(200, {}, url=url, headers=headers, path="/items")
    found = _judge(HstsMissing(), api, "GET /items", baseline=base)
    assert [f.key for f in found] == (["https://api.test"] if fires else [])


@pytest.mark.parametrize(
    ("cookie", "missing"),
    [
        ("session=abc; Path=/", "Secure, HttpOnly, SameSite"),
        ("session=abc; Secure; HttpOnly", "SameSite"),
        ("theme=dark; Path=/", "Secure"),  # not session-like: only Secure is required
        ("session=abc; Secure; HttpOnly; SameSite=Lax", None),
        ("csrftoken=abc; Secure; SameSite=Strict", None),  # CSRF cookies are read by scripts
        ("session=; Max-Age=0; Path=/", None),  # a deletion
    ],
)
def test_sd104_cookie_attributes(api: ApiModel, cookie: str, missing: str | None) -> None:
    base = exchange(200, {}, headers={"Set-Cookie": cookie}, path="/items")
    found = _judge(InsecureCookie(), api, "GET /items", baseline=base)
    if missing is None:
        assert found == []
    else:
        [f] = found
        assert f.key == cookie.split("=")[0] and f.message.endswith(f"without {missing}")


@pytest.mark.parametrize(
    ("method", "status", "location", "fires"),
    [
        ("POST", 301, "https://api.test/items", True),  # POST becomes GET
        ("GET", 302, "http://other.test/items", True),  # to another plain-HTTP URL
        ("POST", 308, "https://api.test/items", False),
        ("GET", 301, "https://api.test/items", False),
    ],
)
def test_sd105_insecure_redirect(
    api: ApiModel, method: str, status: int, location: str, fires: bool
) -> None:
    ex = exchange(status, "", headers={"Location": location}, url="http://api.test/items")
    assert len(_judge(InsecureRedirect(), api, f"{method} /items", ex)) == int(fires)


def test_sd105_reuses_the_sd101_request(api: ApiModel) -> None:
    from probes.transport import HttpAccepted

    op = operation(api, "GET /items")
    ctx = _ctx(api, op)
    [mine], [theirs] = InsecureRedirect().plan(op, ctx), HttpAccepted().plan(op, ctx)
    assert mine.probe == "SD105" and theirs.probe == "SD101"
    # equal but for the asking probe: the engine sends it once
    assert mine.__class__(**{**_fields(mine), "probe": ""}) == theirs.__class__(
        **{**_fields(theirs), "probe": ""}
    )


def _fields(req: PlannedRequest) -> dict[str, Any]:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


# --------------------------------------------------------------------------- error provocation


WERKZEUG_PAGE = (
    "<html><head><script>var CONSOLE_MODE = false, EVALEX = true, EVALEX_TRUSTED = false,"
    ' SECRET = "x";</script></head><body><div class="debugger">'
    '<a href="?__debugger__=yes&amp;cmd=resource&amp;f=style.css">style</a>'
    "<textarea>Traceback (most recent call last):\n"
    '  File "/app/views.py", line 12, in view\nValueError: bad</textarea></div></body></html>'
)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "family"),
    [
        (500, WERKZEUG_PAGE, "text/html", "werkzeug"),
        (
            500,
            "<p>You&#x27;re seeing this error because you have <code>DEBUG = True</code> in your"
            " Django settings file.</p>",
            "text/html",
            "django",
        ),
        (
            500,
            '<h1>Error</h1><ul id="stacktrace"><li> &nbsp; &nbsp;at x</li></ul>',
            "text/html",
            "express",
        ),
        (200, "<html><title>H2 Console</title></html>", "text/html", "spring"),
        (500, '{"error": "internal error"}', "application/json", None),
        (200, "<p>Use the __debugger__ wisely</p>", "text/html", None),  # no EVALEX marker
    ],
)
def test_sd401_debugger(
    api: ApiModel, status: int, body: str, content_type: str, family: str | None
) -> None:
    ex = exchange(status, body, headers={"Content-Type": content_type}, path="/items")
    found = _judge(DebuggerExposed(), api, "GET /items", _with("quote:query.q", ex))
    assert [f.key for f in found] == ([f"{family}:error page"] if family else [])


@pytest.mark.parametrize(
    ("body", "family"),
    [
        (
            {"trace": 'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f'},
            "python",
        ),
        ("java.lang.NullPointerException\n\tat com.shop.Api.get(Api.java:42)\n", "java"),
        ("   at Shop.Api.Get() in C:\\src\\Api.cs:line 42\n", "dotnet"),
        ("TypeError: x is undefined\n    at handler (/srv/app/index.js:10:5)\n", "node"),
        ("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n", "go"),
        ("app/models/user.rb:12:in `find'\n", "ruby"),
        ({"error": "limit must be an integer"}, None),
        ({"error": "line 3 of your input is invalid"}, None),
    ],
)
def test_sd402_stack_traces(api: ApiModel, body: Any, family: str | None) -> None:
    ex = exchange(500, body, path="/items")
    found = _judge(StackTrace(), api, "GET /items", _with("wrong-type:query.limit", ex))
    assert [f.key for f in found] == ([family] if family else [])


def test_sd402_names_an_undeclared_method_it_judged_from_the_pool(api: ApiModel) -> None:
    """Express's development error page answers SD501's undeclared PUT with an unreadable body
    with body-parser's frames: a real leak, named as the request that got it."""
    body = "SyntaxError: Unexpected token<br> &nbsp; &nbsp;at parse (/srv/node_modules/x.js:93:21)"
    ex = exchange(400, f"<pre>{body}</pre>", headers={"Content-Type": "text/html"}, path="/items")
    put = _with("undocumented-method", ex, method="PUT")
    [found] = _judge(StackTrace(), api, "GET /items", put)
    assert found.message.startswith(
        "PUT /items (an undeclared method on /items) answered 400 with a node stack trace"
    )


def test_sd402_ignores_traces_in_successful_answers(api: ApiModel) -> None:
    ex = exchange(
        200, 'Traceback (most recent call last):\n  File "a.py", line 1, in f', path="/items"
    )
    assert _judge(StackTrace(), api, "GET /items", _with("quote:query.q", ex)) == []


# CockroachDB forms as its documentation shows them (cockroachlabs.com/docs: transaction retry
# error reference, SQL error codes): the lib/pq prefix, "at or near" syntax errors, SQLSTATE.
@pytest.mark.parametrize(
    ("text", "family"),
    [
        ('pq: relation "users" does not exist', "cockroachdb"),
        ('ERROR: at or near "\'": syntax error: unterminated string', "cockroachdb"),
        (
            "ERROR: restart transaction: TransactionRetryWithProtoRefreshError: "
            "TransactionRetryError: retry txn (RETRY_SERIALIZABLE)\nSQLSTATE: 40001",
            "cockroachdb",
        ),
        (
            'ERROR: value type string doesn\'t match type int of column "id"\nSQLSTATE: 42804',
            "postgresql",
        ),
        ('psycopg2.errors.SyntaxError: syntax error at or near "\'"', "psycopg"),
        ('asyncpg.exceptions.UndefinedTableError: relation "x" does not exist', "asyncpg"),
        ('sqlite3.OperationalError: unrecognized token: "\'"', "sqlite"),
        ("You have an error in your SQL syntax; check the manual", "mysql"),
        (
            "(sqlalchemy.exc.ProgrammingError) (Background on this error at: https://sqlalche.me/e/20/f405)",
            "sqlalchemy",
        ),
        ("ORA-00933: SQL command not properly ended", "oracle"),
        ("Unclosed quotation mark after the character string ''.", "sqlserver"),
        ("name must not be empty", None),
        ("the order is in a syntax we do not support", None),
    ],
)
def test_sd403_database_errors(api: ApiModel, text: str, family: str | None) -> None:
    ex = exchange(500, {"error": text}, path="/items")
    found = _judge(DatabaseError(), api, "GET /items", _with("quote:query.q", ex))
    assert [f.key for f in found] == ([family] if family else [])


def test_sd403_ignores_2xx(api: ApiModel) -> None:
    ex = exchange(200, {"hint": "ORA-00933 explained"}, path="/items")
    assert _judge(DatabaseError(), api, "GET /items", _with("quote:query.q", ex)) == []


# --------------------------------------------------------------------------- SD404 / SD405


def test_sd404_canary_echo(api: ApiModel) -> None:
    op = operation(api, "GET /items")
    ctx = _ctx(api, op)
    [req] = CredentialEcho().plan(op, ctx)
    assert req.auth is AuthMode.CUSTOM
    auth = dict(req.headers)["Authorization"]
    canary = auth.removeprefix("Bearer ")
    assert canary.startswith("sdcanary") and len(canary) == 32
    echoed = Exchange(
        req, "https://api.test/items", req.headers, 401, (), f'{{"error": "bad {auth}"}}'.encode()
    )
    header = Exchange(req, "https://api.test/items", req.headers, 401, (("X-Debug", canary),), b"")
    quiet = Exchange(
        req, "https://api.test/items", req.headers, 401, (), b'{"error": "invalid token"}'
    )
    probe = CredentialEcho()
    assert [f.key for f in probe.judge(op, ctx, [echoed])] == ["body"]
    assert [f.key for f in probe.judge(op, ctx, [header])] == ["header X-Debug"]
    assert list(probe.judge(op, ctx, [quiet])) == []
    assert (
        list(probe.plan(operation(api, "GET /open"), _ctx(api, operation(api, "GET /open")))) == []
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    ("value", "fires"),
    [
        (f"{_b64(json.dumps({'token': JWT}).encode())}.ZZZ.sig", True),  # Flask session
        (
            "."
            + _b64(zlib.compress(json.dumps({"password": "hunter2-Secret!"}).encode()))
            + ".ZZZ.sig",
            True,
        ),
        (_b64(b'{"alg":"HS256"}') + "." + _b64(b'{"email":"ann@example.com"}') + ".sig", True),
        (base64.b64encode(json.dumps({"email": "ann@example.com"}).encode()).decode(), True),
        (f"{_b64(json.dumps({'theme': 'dark'}).encode())}.ZZZ.sig", False),  # harmless
        ("8f14e45fceea167a5a36dedd4bea2543", False),  # opaque id
    ],
)
def test_sd405_readable_cookies(api: ApiModel, value: str, fires: bool) -> None:
    base = exchange(200, {}, headers={"Set-Cookie": f"session={value}; Secure; HttpOnly"})
    found = _judge(SecretInCookie(), api, "GET /items", baseline=base)
    assert [f.key for f in found] == (["session"] if fires else [])


# --------------------------------------------------------------------------- SD406 / SD407 / SD408


@pytest.mark.parametrize(
    ("headers", "fires"),
    [
        ({"Server": "Werkzeug/3.0.1 Python/3.11.7"}, True),
        ({"Server": "nginx/1.25.3"}, True),
        ({"X-Powered-By": "PHP/8.1.2"}, True),
        ({"X-AspNet-Version": "4.0.30319"}, True),
        ({"Server": "nginx"}, False),
        ({"X-Powered-By": "Express"}, False),
        ({"Server": "specdiff-demo"}, False),
    ],
)
def test_sd406_version_banner(api: ApiModel, headers: dict[str, str], fires: bool) -> None:
    base = exchange(200, {}, headers=headers)
    assert len(_judge(VersionBanner(), api, "GET /items", baseline=base)) == int(fires)


def test_sd407_plans_the_list_skipping_documented_paths(tmp_path: Path) -> None:
    doc = minimal_doc({"/metrics": {"get": {"responses": ok_json({"type": "object"})}}})
    api = api_of(tmp_path, doc)
    op = operation(api, "GET /metrics")
    ctx = ProbeContext(
        api, ProbeOptions(extra_paths=("/internal/dump",)), PlannedRequest("GET", "/metrics")
    )
    paths = [r.path for r in UndocumentedEndpoint().plan(op, ctx)]
    assert "/metrics" not in paths and "/.env" in paths and "/internal/dump" in paths
    assert paths[-1] == absent_path()
    assert all(
        r.method == "GET" and r.auth is AuthMode.NONE for r in UndocumentedEndpoint().plan(op, ctx)
    )
    assert len(well_known_paths()) <= 30


def _path_ex(path: str, status: int, body: str, purpose: str = "well-known-path") -> Exchange:
    req = PlannedRequest("GET", path, auth=AuthMode.NONE, variant=variant(purpose))
    return Exchange(
        req, f"https://api.test{path}", (), status, (("Content-Type", "text/plain"),), body.encode()
    )


@pytest.mark.parametrize(
    ("answer", "control", "fires"),
    [
        ((200, "DB_PASSWORD=x"), (404, "not found"), True),
        ((404, "not found"), (404, "not found"), False),
        ((200, ""), (404, "not found"), False),  # empty
        ((200, "<html>app</html>"), (200, "<html>app</html>"), False),  # SPA catch-all
        ((200, WERKZEUG_PAGE), (404, "x"), False),  # a debugger: SD401 reports it
    ],
)
def test_sd407_judging(
    api: ApiModel, answer: tuple[int, str], control: tuple[int, str], fires: bool
) -> None:
    exchanges = [
        _path_ex("/.env", *answer),
        _path_ex(absent_path(), *control, purpose="absent-path"),
    ]
    assert [f.key for f in _judge(UndocumentedEndpoint(), api, "GET /items", *exchanges)] == (
        ["/.env"] if fires else []
    )


@pytest.mark.parametrize(
    ("key", "status", "body", "cache", "fires"),
    [
        ("GET /items", 200, [], None, True),  # secured, authenticated
        ("GET /items", 200, [], "max-age=600", True),
        ("GET /items", 200, [], "no-store", False),
        ("GET /items", 200, [], "private, max-age=60", False),
        ("GET /items", 401, [], None, False),
        ("GET /open", 200, {"status": "ok"}, None, False),  # open and harmless
        ("GET /open", 200, {"access_token": JWT}, None, True),  # a token issue
    ],
)
def test_sd408_cacheable_sensitive(
    api: ApiModel, key: str, status: int, body: Any, cache: str | None, fires: bool
) -> None:
    base = exchange(status, body, headers={"Cache-Control": cache} if cache else {})
    assert len(_judge(CacheableSensitiveResponse(), api, key, baseline=base)) == int(fires)


# --------------------------------------------------------------------------- SD5xx


def test_sd501_plans_only_what_cannot_change_data(tmp_path: Path) -> None:
    thing = {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    doc = minimal_doc(
        {
            "/things/{thing_id}": {
                "get": {"parameters": [thing], "responses": ok_json({"type": "object"})}
            },
            "/open": {"get": {"responses": ok_json({"type": "object"})}},
        }
    )
    api = api_of(tmp_path, doc)
    op = operation(api, "GET /things/{thing_id}")
    base = PlannedRequest("GET", "/things/7", headers=(("Accept", "application/json"),))
    c = ProbeContext(api, ProbeOptions(has_credentials=True), base, None)
    planned = {r.method: r for r in UndocumentedMethodAccepted().plan(op, c)}
    assert {m: r.path for m, r in planned.items()} == {
        "OPTIONS": "/things/7",
        "TRACE": "/things/7",
        # never a real object: an id that certainly does not exist, anonymously
        "PUT": "/things/999999999999",
        "PATCH": "/things/999999999999",
        "DELETE": "/things/999999999999",
    }
    assert all(r.auth is AuthMode.NONE for r in planned.values())
    assert planned["PUT"].body == MALFORMED_JSON and planned["DELETE"].body is None
    policy = SafetyPolicy(api)  # safe mode: every one of them passes
    assert [r for r in planned.values() if policy.refusal(r, op)] == []
    # a path without parameters: PUT/PATCH (anonymous, unparseable) only with --unsafe
    open_op = operation(api, "GET /open")
    c = ProbeContext(api, ProbeOptions(), PlannedRequest("GET", "/open"), None)
    assert {r.method for r in UndocumentedMethodAccepted().plan(open_op, c)} == {"OPTIONS", "TRACE"}
    c = dataclasses.replace(c, options=ProbeOptions(unsafe=True))
    unsafe = {r.method: r for r in UndocumentedMethodAccepted().plan(open_op, c)}
    assert set(unsafe) == {"OPTIONS", "TRACE", "PUT", "PATCH"}  # never a DELETE
    assert all(r.auth is AuthMode.NONE for r in unsafe.values())


def test_sd501_judges_2xx(api: ApiModel) -> None:
    op = operation(api, "GET /open")
    c = dataclasses.replace(_ctx(api, op), options=ProbeOptions(unsafe=True))
    planned = {r.method: r for r in UndocumentedMethodAccepted().plan(op, c)}

    def answer(method: str, status: int, body: bytes) -> Exchange:
        return Exchange(planned[method], "https://api.test/open", (), status, (), body)

    found = list(
        UndocumentedMethodAccepted().judge(
            op,
            _ctx(api, op),
            [
                answer("PUT", 200, b"{}"),
                answer("PATCH", 405, b""),
                answer("OPTIONS", 200, b""),  # the automatic Allow answer
                answer("TRACE", 405, b""),
            ],
        )
    )
    assert [(f.operation.method, f.operation.path) for f in found] == [("PUT", "/open")]


def test_sd502_server_errors(api: ApiModel) -> None:
    crash = _with("malformed-json:body", exchange(500, "boom", path="/items"), "POST")
    busy = _with("malformed-json:body", exchange(503, "", headers={"Retry-After": "5"}), "POST")
    fine = _with("malformed-json:body", exchange(400, {"error": "bad json"}), "POST")
    assert len(_judge(ServerError(), api, "POST /items", crash, fine)) == 1
    assert _judge(ServerError(), api, "POST /items", busy, fine) == []


def test_mutations_are_few_invalid_and_safe_for_unsafe_methods(api: ApiModel) -> None:
    get = operation(api, "GET /items")
    variants = {
        m.purpose: m for m in mutations(get, _ctx(api, get).baseline, unsafe=False, probe="X")
    }  # type: ignore[arg-type]
    assert set(variants) == {"wrong-type:query.limit", "quote:query.q", "overlong:query.q"}
    assert variants["wrong-type:query.limit"].invalid and not variants["quote:query.q"].invalid
    assert ("q", "specdiff'\"\\") in variants["quote:query.q"].request.query
    post = operation(api, "POST /items")
    base = _ctx(api, post).baseline
    assert base is not None
    safe = mutations(post, base, unsafe=False, probe="X")
    assert {m.purpose for m in safe} == {"malformed-json:body", "bad-content-type:body"}
    assert all(m.request.body == MALFORMED_JSON for m in safe)
    full = {m.purpose: m for m in mutations(post, base, unsafe=True, probe="X")}
    assert set(full) == {
        "malformed-json:body", "bad-content-type:body", "wrong-type:body.count",
        "quote:body.name", "missing-required:body.name",
    }  # fmt: skip
    assert json.loads(full["missing-required:body.name"].request.body or b"") == {"count": 1}
    assert len(full) + 1 < 25


@pytest.mark.parametrize(
    ("purpose", "status", "body", "fires"),
    [
        ("wrong-type:query.limit", 200, [], True),
        ("wrong-type:query.limit", 200, {"error": "limit must be an integer"}, False),
        ("wrong-type:query.limit", 400, {"error": "x"}, False),
        ("quote:query.q", 200, [], False),  # a quote is a valid string
    ],
)
def test_sd503_invalid_input_accepted(
    api: ApiModel, purpose: str, status: int, body: Any, fires: bool
) -> None:
    ex = _with(purpose, exchange(status, body, path="/items"))
    found = _judge(InvalidInputAccepted(), api, "GET /items", ex)
    assert [f.key for f in found] == (["query.limit"] if fires else [])


@pytest.mark.parametrize(
    ("sent", "allow", "credentials", "fires"),
    [
        ("https://specdiff-probe.invalid", "https://specdiff-probe.invalid", "true", True),
        ("null", "null", "true", True),
        ("https://specdiff-probe.invalid", "https://specdiff-probe.invalid", None, False),
        ("https://specdiff-probe.invalid", "*", "true", False),
        ("https://specdiff-probe.invalid", "https://app.example.com", "true", False),
    ],
)
def test_sd504_cors(
    api: ApiModel, sent: str, allow: str, credentials: str | None, fires: bool
) -> None:
    headers = {"Access-Control-Allow-Origin": allow}
    if credentials:
        headers["Access-Control-Allow-Credentials"] = credentials
    ex = _with(f"cors-origin:{sent}", exchange(200, [], headers=headers))
    assert [f.key for f in _judge(CorsMisconfigured(), api, "GET /items", ex)] == (
        [sent] if fires else []
    )


def test_sd505_shares_the_canary_request_and_judges_401s(api: ApiModel) -> None:
    op = operation(api, "GET /items")
    ctx = _ctx(api, op)
    [mine] = MissingWwwAuthenticate().plan(op, ctx)
    planned = canary_request(api, op, ctx.baseline, probe="SD404")  # type: ignore[arg-type]
    assert planned is not None and mine.headers == planned[0].headers
    bare = exchange(401, {"error": "unauthorized"})
    named = exchange(401, {"error": "unauthorized"}, headers={"WWW-Authenticate": "Bearer"})
    assert [f.key for f in _judge(MissingWwwAuthenticate(), api, "GET /items", bare)] == [
        "https://api.test"
    ]
    assert _judge(MissingWwwAuthenticate(), api, "GET /items", named) == []
