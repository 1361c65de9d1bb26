"""The command line: thin typer commands that build a ScanConfig, scan, render, and exit.

Exit codes (one mapping, :func:`_run`): 0 nothing at or above ``--fail-on``; 1 findings at or
above it; 2 bad input (document, options, credentials); 3 the target could not be checked:
unreachable, or the run incomplete (unless ``--allow-incomplete``).
"""

from __future__ import annotations

import inspect
import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from specdiff import __version__
from specdiff.catalogue import CATALOGUE
from specdiff.config import (
    Credentials,
    ScanConfig,
    load_jwks,
    parse_header,
    parse_login,
    parse_pair,
    parse_path_list,
    parse_shard,
    secret_option,
)
from specdiff.errors import ConfigError, SpecdiffError, TargetUnreachable
from specdiff.model import Report, Severity
from specdiff.suppress import (
    Suppress,
    baseline_document,
    identities_from_report,
    load_baseline,
)

__all__ = ["app", "main"]

_CONTEXT = {"help_option_names": ["-h", "--help"]}
"""``-h`` is ``--help``, on every command."""


_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": "BOOLEAN"}
_BRACED = re.compile(r"\{([^{}]+)\}")
_TYPED = re.compile(r"<(?:list\[)?([^<>\[\]]+)\]?>")


def _click_metavar(match: re.Match[str]) -> str:
    """typer's ``<str>``, ``<list[Path]>``, ``<list[text|json]>`` as click prints them:
    ``TEXT``, ``PATH``, ``[text|json]``."""
    inner = match.group(1)
    return f"[{inner}]" if "|" in inner else _TYPE_NAMES.get(inner.lower(), inner.upper())


def _format_params(command: Any, ctx: Any, formatter: Any) -> None:
    """The Arguments and Options sections with click's names for types (``TEXT``, ``PATH``)."""
    args, opts = [], []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        name, text = record
        if param.param_type_name == "argument":
            args.append((_TYPED.sub("", name).strip().upper(), text))
        else:
            opts.append((_TYPED.sub(_click_metavar, name), text))
    for title, rows in (("Arguments", args), ("Options", opts)):
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)


class _Command(TyperCommand):
    """typer's command with the help of click's ecosystem: ``Usage: specdiff check [OPTIONS]
    SPEC`` and ``--base-url TEXT`` rather than typer's ``{spec}`` and ``<str>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [_BRACED.sub(lambda m: m.group(1).upper(), p) for p in pieces]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_params(self, ctx, formatter)


class _Group(TyperGroup):
    """The same help for the command groups (``specdiff``, ``specdiff baseline``)."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_params(self, ctx, formatter)
        self.format_commands(ctx, formatter)


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=_CONTEXT,
    cls=_Group,
    help="Check a running API against the security promises of its OpenAPI document.",
)


class OutputFormat(str, Enum):
    """Report formats of ``--format``."""

    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    markdown = "markdown"
    html = "html"


class FailOn(str, Enum):
    """Thresholds of ``--fail-on``."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    none = "none"

    def severity(self) -> Severity | None:
        return None if self is FailOn.none else Severity(self.value)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specdiff {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="SPECDIFF_CONFIG",
            help="Options from this TOML file (default: ./specdiff.toml, or [tool.specdiff] "
            "of ./pyproject.toml). The command line and environment variables win over it.",
        ),
    ] = None,
) -> None:
    """specdiff: where the running API breaks its document's security promises."""
    from specdiff.config_file import find_config, load_config

    commands = {name: ctx.command.commands[name] for name in _CONFIGURED}  # type: ignore[attr-defined]
    try:
        path = config if config is not None else find_config(Path.cwd())
        if path is None:
            return
        loaded = load_config(path, commands)
    except ConfigError as exc:
        if config is not None:
            _fail(str(exc), 2)
        # a found file that is broken fails check and lint, unless their own --config replaces it
        ctx.obj = exc
        return
    ctx.default_map = {**(ctx.default_map or {}), **loaded.default_map}
    ctx.obj = loaded


_CONFIGURED = ("check", "lint")
"""The commands whose options a configuration file may set."""


def _command_config(ctx: typer.Context, value: Path | None) -> None:
    """``--config`` after the command name: that file replaces the one the root found.

    Eager, so it runs before click looks up the defaults of the command's other options, and
    runs when the option is absent too: then a broken file that the root found says so here,
    in one line, before a missing argument that the file was meant to give hides it."""
    from specdiff.config_file import load_config

    if value is None:
        if isinstance(ctx.obj, ConfigError):
            _fail(str(ctx.obj), 2)
        return
    name = ctx.info_name or ""
    try:
        loaded = load_config(value, {name: ctx.command})
    except ConfigError as exc:
        _fail(str(exc), 2)
    ctx.default_map = loaded.default_map[name]
    ctx.obj = loaded


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        callback=_command_config,
        is_eager=True,
        expose_value=False,
        help="Options from this TOML file, as 'specdiff --config FILE' gives them.",
    ),
]


def _file_suppress(ctx: typer.Context) -> tuple[Suppress, ...]:
    """The ``suppress`` entries of the configuration file in use, if any; raises the error of
    a file found in the working directory that could not be read."""
    from specdiff.config_file import FileConfig

    if isinstance(ctx.obj, ConfigError):
        raise ctx.obj
    return ctx.obj.suppress if isinstance(ctx.obj, FileConfig) else ()


FormatOption = Annotated[
    list[OutputFormat] | None,
    typer.Option("--format", "-f", help="Report format; repeat for several (default: text)."),
]
OutputOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--output", "-o", help="Write the report here (one per --format, in order); else stdout."
    ),
]
OutputDirOption = Annotated[
    Path | None,
    typer.Option(help="Write every --format to DIR/specdiff.<ext> (sarif, junit.xml, md, ...)."),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Text report: every instance of every finding, evidence whole."
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Text report: the summary table and the gate line only."),
]
FailOnOption = Annotated[
    FailOn,
    typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity."),
]


@app.command(cls=_Command)
def check(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(help="The OpenAPI document (YAML or JSON).")],
    config: ConfigOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", envvar="SPECDIFF_BASE_URL", help="Where the API runs (https://...)."
        ),
    ] = None,
    app_target: Annotated[
        str | None,
        typer.Option(
            "--app",
            help="Check this WSGI/ASGI app in process instead ('package.module:app'); "
            "SD101 needs a real socket and is skipped.",
        ),
    ] = None,
    http_url: Annotated[
        str | None,
        typer.Option(help="Its plain-HTTP twin for SD101 (default: same host, http, port 80)."),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            help="'Name: value' sent with every authenticated request; repeatable.  "
            "[env var: SPECDIFF_HEADER, one 'Name: value' per line]",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SPECDIFF_TOKEN",
            help="Bearer token (better: the SPECDIFF_TOKEN environment variable).",
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option("--query", help="'name=value' credential sent in the query string."),
    ] = None,
    token_b: Annotated[
        str | None,
        typer.Option(
            "--token-b",
            "--auth-b",
            envvar="SPECDIFF_TOKEN_B",
            help="A second user's bearer token (identity B, for SD212 BOLA).",
        ),
    ] = None,
    header_b: Annotated[
        list[str] | None,
        typer.Option("--header-b", help="'Name: value' credential header of identity B."),
    ] = None,
    token_low: Annotated[
        str | None,
        typer.Option(
            "--token-low",
            "--auth-low",
            envvar="SPECDIFF_TOKEN_LOW",
            help="A valid token lacking some required scope (for SD211).",
        ),
    ] = None,
    header_low: Annotated[
        list[str] | None,
        typer.Option("--header-low", help="'Name: value' credential header of the low identity."),
    ] = None,
    jwt_secret: Annotated[
        str | None,
        typer.Option(
            envvar="SPECDIFF_JWT_SECRET",
            help="The HS* signing secret of the API's JWTs (SD205 claim attacks).",
        ),
    ] = None,
    expired_token: Annotated[
        str | None,
        typer.Option(
            envvar="SPECDIFF_EXPIRED_TOKEN", help="An expired token of the API (SD205, SD209)."
        ),
    ] = None,
    jwks: Annotated[
        Path | None, typer.Option(help="The API's public JWK set (JSON) for SD216.")
    ] = None,
    login: Annotated[
        str | None,
        typer.Option(help="Obtain identity A's token first: 'POST /auth/login'."),
    ] = None,
    login_body: Annotated[
        str | None,
        typer.Option(help="The login request's JSON body, inline or '@file.json'."),
    ] = None,
    token_path: Annotated[
        str, typer.Option(help="Where the login response carries the token.")
    ] = "$.access_token",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="'name=value' for a path/query/header parameter."),
    ] = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="CA certificates (PEM) to trust for the target.")
    ] = None,
    insecure: Annotated[bool, typer.Option(help="Do not verify TLS certificates.")] = False,
    unsafe: Annotated[
        bool, typer.Option(help="Also send requests that may change data (POST/PUT/...).")
    ] = False,
    include_op: Annotated[
        list[str] | None,
        typer.Option(
            "--include-op",
            help="'METHOD /path': probe this destructive-looking operation anyway (last, alone).",
        ),
    ] = None,
    allow_incomplete: Annotated[
        bool,
        typer.Option(help="Exit by the findings even when not every operation was judged."),
    ] = False,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            help="Count the run as complete when this percentage of the operations it covers "
            "was judged (default: all of them)."
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = FailOn.high,
    min_score: Annotated[
        int | None,
        typer.Option(help="Also exit 1 when the risk score (0-100) is below this."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Accept the findings of this baseline (or JSON report): fail on new ones."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
    max_requests: Annotated[
        int | None,
        typer.Option(
            help="Request budget of the run [default: 25 per operation checked, at least 5000]."
        ),
    ] = None,
    allow_remote_refs: Annotated[
        bool, typer.Option(help="Fetch http(s) $refs of the document.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
    extra_paths: Annotated[
        Path | None,
        typer.Option(help="More well-known paths for SD407 to try, one per line ('#' comments)."),
    ] = None,
    max_duration: Annotated[
        float | None,
        typer.Option(
            help="Seconds for the probing phase (after loading); then nothing more is sent."
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(help="'i/n': check only shard i of n of the operations (CI matrices)."),
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Print the requests a run would send; send nothing.")
    ] = False,
    har: Annotated[
        Path | None,
        typer.Option(help="Write every request and response of the run here (HAR 1.2, redacted)."),
    ] = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Probe the API at --base-url and report where it breaks SPEC's security promises."""

    def build() -> ScanConfig:
        from specdiff.inprocess import IN_PROCESS_URL

        if base_url is not None and app_target is not None:
            raise ConfigError(
                "--app and --base-url exclude each other: --app checks an application in this "
                "process, --base-url a running server; give one of them"
            )
        if base_url is None and app_target is None:
            raise ConfigError("give --base-url URL, or --app module:app for an in-process app")
        headers = [parse_header(h) for h in header or ()]
        env_header = None if header else secret_option(None, "--header", "SPECDIFF_HEADER")
        if env_header:
            headers += [parse_header(line) for line in env_header.splitlines() if line.strip()]
        return ScanConfig(
            spec=str(spec),
            base_url=base_url or IN_PROCESS_URL,
            http_url=http_url,
            credentials=Credentials.build(
                token=secret_option(token, "--token", "SPECDIFF_TOKEN"),
                headers=tuple(headers),
                query=tuple(parse_pair(q, "--query") for q in query or ()),
            ),
            credentials_b=Credentials.build(
                token=secret_option(token_b, "--token-b", "SPECDIFF_TOKEN_B"),
                headers=tuple(parse_header(h) for h in header_b or ()),
                identity="B",
            ),
            credentials_low=Credentials.build(
                token=secret_option(token_low, "--token-low", "SPECDIFF_TOKEN_LOW"),
                headers=tuple(parse_header(h) for h in header_low or ()),
                identity="LOW",
            ),
            jwt_secret=secret_option(jwt_secret, "--jwt-secret", "SPECDIFF_JWT_SECRET"),
            expired_token=secret_option(expired_token, "--expired-token", "SPECDIFF_EXPIRED_TOKEN"),
            jwks=load_jwks(str(jwks)) if jwks else (),
            login=parse_login(login, login_body, token_path) if login else None,
            params=tuple(parse_pair(p, "--param") for p in param or ()),
            ca_bundle=str(ca_bundle) if ca_bundle else None,
            insecure=insecure,
            unsafe=unsafe,
            concurrency=concurrency,
            timeout=timeout,
            max_requests=max_requests,
            fail_on=fail_on.severity(),
            allow_remote_refs=allow_remote_refs,
            debug=debug,
            min_score=min_score,
            baseline=load_baseline(baseline) if baseline else frozenset(),
            suppress=_file_suppress(ctx),
            extra_paths=_read_paths(extra_paths),
            max_duration=max_duration,
            shard=parse_shard(shard) if shard else None,
            har=str(har) if har else None,
            allow_incomplete=allow_incomplete,
            min_coverage=min_coverage,
            include_ops=tuple(" ".join(key.split()) for key in include_op or ()),
        )

    if plan:
        _plan(build, debug)
    _run(build, _Outputs(fmt, output, output_dir, verbose, quiet), debug, app_target)


def _read_paths(path: Path | None) -> tuple[str, ...]:
    """``--extra-paths FILE`` read and checked (ConfigError: exit 2 with one line)."""
    if path is None:
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--extra-paths {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--extra-paths {path}: not UTF-8 text") from None
    return parse_path_list(text, str(path))


@app.command(cls=_Command)
def merge(
    reports: Annotated[
        list[Path], typer.Argument(help="JSON reports (specdiff check --format json).")
    ],
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = FailOn.high,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Merge the JSON reports of sharded runs into one report, rendered in any format."""
    from specdiff.engine import exit_code
    from specdiff.reporters.json import load_report
    from specdiff.reporters.merge import merge_reports

    try:
        outputs = _Outputs(fmt, output, output_dir, verbose, quiet)
        targets = outputs.targets()
        merged = merge_reports([load_report(path) for path in reports])
    except (ValueError, ConfigError) as exc:
        _fail(str(exc), 2)
    _emit(merged, targets, str(Path.cwd()), detail=outputs.detail)
    raise typer.Exit(exit_code(merged, fail_on.severity()))


@app.command(cls=_Command)
def lint(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(help="The OpenAPI document (YAML or JSON).")],
    config: ConfigOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SPECDIFF_TOKEN",
            help="A token to judge offline too (e.g. a JWT's secret); never sent anywhere.",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = FailOn.high,
    allow_remote_refs: Annotated[
        bool, typer.Option(help="Fetch http(s) $refs of the document.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Check SPEC alone, without any request: the static rules, plus notes on the document."""
    _run(
        lambda: ScanConfig(
            spec=str(spec),
            credentials=Credentials.build(token=secret_option(token, "--token", "SPECDIFF_TOKEN")),
            fail_on=fail_on.severity(),
            allow_remote_refs=allow_remote_refs,
            debug=debug,
            suppress=_file_suppress(ctx),
        ),
        _Outputs(fmt, output, output_dir, verbose, quiet),
        debug,
    )


@app.command(cls=_Command)
def demo(
    hardened: Annotated[
        bool, typer.Option(help="Check the hardened twin (expects no finding).")
    ] = False,
    unsafe: Annotated[bool, typer.Option(help="Also send requests that may change data.")] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = FailOn.high,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Start the bundled demo API on loopback (HTTPS + HTTP) and check it."""
    try:
        from specdiff.demo.plumbing import PARTNER_KEY_HEADER
        from specdiff.demo.serve import serve_twin
    except ImportError as exc:
        _fail(f"the demo needs Flask, trustme and PyJWT: pip install 'specdiff[demo]' ({exc})", 2)
    kind: Literal["vulnerable", "hardened"] = "hardened" if hardened else "vulnerable"
    with serve_twin(kind) as twin:
        typer.echo(f"specdiff demo: {kind} twin on {twin.https_url} and {twin.http_url}", err=True)
        _run(
            lambda: ScanConfig(
                spec=_display_path(twin.spec_path),
                base_url=twin.https_url,
                http_url=twin.http_url,
                credentials=Credentials.build(
                    token=twin.token, headers=((PARTNER_KEY_HEADER, twin.api_key),)
                ),
                credentials_b=Credentials.build(token=twin.token_b, identity="B"),
                credentials_low=Credentials.build(token=twin.token_low, identity="LOW"),
                ca_bundle=str(twin.ca_pem),
                unsafe=unsafe,
                fail_on=fail_on.severity(),
            ),
            _Outputs(fmt, output, output_dir, verbose, quiet),
            debug=False,
        )


class RulesFormat(str, Enum):
    """Formats of ``specdiff rules``."""

    text = "text"
    json = "json"


@app.command(cls=_Command)
def rules(
    fmt: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="A table, or JSON for scripts.")
    ] = RulesFormat.text,
) -> None:
    """List the rule catalogue: code, kind, default severity, title."""
    from specdiff.probe import load_probes

    implemented = {p.code for p in load_probes()}
    if fmt is RulesFormat.json:
        doc = [
            {
                "code": r.code,
                "kind": r.kind,
                "title": r.title,
                "severity": r.severity.value,
                "cwe": r.cwe,
                "owasp": r.owasp,
                "probed": r.code in implemented,
            }
            for r in CATALOGUE.values()
        ]
        typer.echo(json.dumps(doc, indent=2))
        return
    for r in CATALOGUE.values():
        mark = " " if r.code in implemented else "-"
        typer.echo(f"{r.code} {mark} {r.severity.value:<8} {r.kind:<42} {r.title}")
    if implemented != set(CATALOGUE):
        typer.echo("\n'-': in the catalogue, not yet probed by this version.")


@app.command(cls=_Command)
def explain(
    code: Annotated[
        str,
        typer.Argument(
            help="A rule code (SD212) or kind (auth.bola); 'specdiff rules' lists them."
        ),
    ],
) -> None:
    """Print one rule's documentation."""
    from rich.console import Console
    from rich.markdown import Markdown

    from specdiff.probe import load_probes

    wanted = code.strip()
    r = CATALOGUE.get(wanted.upper()) or next(
        (r for r in CATALOGUE.values() if r.kind == wanted.lower()), None
    )
    if r is None:
        _fail(f"unknown rule {code!r}; 'specdiff rules' lists the codes and kinds", 2)
    probe = next((p for p in load_probes() if p.code == r.code), None)
    if probe is None:
        doc = f"{r.breach}\n\n*Not yet probed by this version of specdiff.*"
    else:
        # the docstring's first line repeats code and kind: the heading says them
        doc = inspect.cleandoc(type(probe).__doc__ or "").split("\n", 1)[-1].strip()
    page = (
        f"# {r.code} {r.kind}\n\n"
        f"{r.title} ({r.severity.value}, CWE-{r.cwe or 'n/a'}, OWASP {r.owasp})\n\n{doc}\n"
    )
    buffer = io.StringIO()
    tty = sys.stdout.isatty()
    width = min(shutil.get_terminal_size((100, 24)).columns, 100) if tty else 100
    Console(file=buffer, force_terminal=tty, width=width, highlight=False, emoji=False).print(
        Markdown(page)
    )
    typer.echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter findings)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


baseline_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=_CONTEXT,
    cls=_Group,
    help="Baselines: accept today's findings so that only new ones fail the build.",
)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command(
    "create",
    cls=_Command,
    context_settings={**_CONTEXT, "allow_extra_args": True, "ignore_unknown_options": True},
)
def baseline_create(
    ctx: typer.Context,
    from_report: Annotated[
        Path | None,
        typer.Option("--from", help="A JSON report (--format json) to take the findings from."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The baseline file to write.")
    ] = Path("specdiff-baseline.json"),
) -> None:
    """Write a baseline from a JSON report (--from), or run SPEC with the options of 'check'.

    Example: specdiff baseline create openapi.yaml --base-url https://staging -o baseline.json
    """
    import tempfile

    if from_report is not None:
        try:
            doc = json.loads(from_report.read_text(encoding="utf-8"))
            identities = identities_from_report(doc, f"--from {from_report}")
        except OSError as exc:
            _fail(f"--from {from_report}: {exc.strerror}", 2)
        except ValueError as exc:  # JSONDecodeError; ConfigError is not a ValueError
            _fail(f"--from {from_report}: not JSON ({exc})", 2)
        except ConfigError as exc:
            _fail(str(exc), 2)
    else:
        if not ctx.args:
            _fail("give --from REPORT.json, or SPEC and the options of 'specdiff check'", 2)
        check_command = ctx.find_root().command.commands["check"]  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory(prefix="specdiff-baseline-") as tmp:
            report_path = Path(tmp) / "report.json"
            args = [*ctx.args, "--format", "json", "--output", str(report_path)]
            # a usage error of check's options propagates: typer shows it and exits 2
            root = ctx.find_root()
            code = check_command.main(
                [*args, "--fail-on", "none"],
                "specdiff check",
                standalone_mode=False,
                default_map={  # the report goes to the temporary file, whatever the file says
                    k: v
                    for k, v in (root.default_map or {}).get("check", {}).items()
                    if k not in ("fmt", "output", "output_dir")
                },
                obj=root.obj,
            )
            if code:
                raise typer.Exit(code)
            doc = json.loads(report_path.read_text(encoding="utf-8"))
            identities = identities_from_report(doc, "the check")
    text = json.dumps(baseline_document(identities), indent=2, sort_keys=True) + "\n"
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}", 2)
    typer.echo(f"specdiff: baseline of {len(identities)} findings written to {output}", err=True)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"specdiff: error: {message}", err=True)
    raise typer.Exit(code)


class _Outputs:
    """Where each requested format goes: paired ``--output`` files, ``--output-dir``, or stdout."""

    def __init__(
        self,
        formats: list[OutputFormat] | None,
        outputs: list[Path] | None,
        output_dir: Path | None,
        verbose: bool = False,
        quiet: bool = False,
    ) -> None:
        self.formats = list(formats or [OutputFormat.text])
        self.outputs = list(outputs or [])
        self.output_dir = output_dir
        self.verbose, self.quiet = verbose, quiet

    @property
    def detail(self) -> Literal["quiet", "normal", "verbose"]:
        """How much the text report shows (``-q``, default, ``-v``)."""
        return "verbose" if self.verbose else "quiet" if self.quiet else "normal"

    def targets(self) -> list[tuple[OutputFormat, Path | None]]:
        """(format, file or None for stdout) pairs; ConfigError when they do not pair up."""
        from specdiff.reporters import Format

        if self.outputs and self.output_dir:
            raise ConfigError("give --output or --output-dir, not both")
        if self.verbose and self.quiet:
            raise ConfigError("-v/--verbose and -q/--quiet exclude each other: give one")
        if self.output_dir:
            return [
                (f, self.output_dir / f"specdiff.{Format(f.value).extension}") for f in self.formats
            ]
        if self.outputs:
            if len(self.outputs) != len(self.formats):
                raise ConfigError(
                    f"each --format needs its own --output, in order: got "
                    f"{len(self.formats)} format(s) and {len(self.outputs)} output(s)"
                )
            return list(zip(self.formats, self.outputs, strict=True))
        if len(self.formats) > 1:
            raise ConfigError("several --format values need --output for each, or --output-dir")
        return [(self.formats[0], None)]


def _source_root(spec: str) -> str:
    """The git root above the spec (SARIF paths are relative to it), else the working directory."""
    folder = Path(spec).resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return str(candidate)
    return str(Path.cwd())


def _run(
    build: Callable[[], ScanConfig], outputs: _Outputs, debug: bool, app: str | None = None
) -> None:
    """Scan, render, write, and map the outcome to the exit code: the only place that does.

    ``app`` ('module:app') is checked in process instead of over the network."""
    from specdiff.engine import exit_code, scan
    from specdiff.inprocess import import_app, scan_app

    try:
        targets = outputs.targets()
        config = build()
        with _progress() as progress:
            if app is not None:
                report = scan_app(config, import_app(app), progress)
            else:
                report = scan(config, progress=progress)
    except TargetUnreachable as exc:  # the coverage still says what happened to each operation
        if exc.report is not None:
            root = _source_root(config.spec)
            _emit(exc.report, targets, root, summary=False, detail=outputs.detail)
        _fail(str(exc), exc.exit_code)
    except SpecdiffError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # an internal error must still end in one line
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 2)
    _emit(report, targets, _source_root(config.spec), detail=outputs.detail)
    code = exit_code(
        report, config.fail_on, config.min_score, allow_incomplete=config.allow_incomplete
    )
    if not report.complete:
        accepted = " (accepted: --allow-incomplete)" if config.allow_incomplete else ""
        typer.echo(f"specdiff: incomplete: {report.incomplete}{accepted}", err=True)
    raise typer.Exit(code)


def _plan(build: Callable[[], ScanConfig], debug: bool) -> NoReturn:
    """Print the plan of the run ``build`` describes and exit 0; nothing is sent."""
    from specdiff.engine import plan_scan
    from specdiff.plan import render

    try:
        plan = plan_scan(build())
        text = render(plan)
    except SpecdiffError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 2)
    sys.stdout.write(text)
    for warning in plan.warnings():
        typer.echo(f"specdiff: warning: {warning}", err=True)
    raise typer.Exit(0)


def _emit(
    report: Report,
    targets: list[tuple[OutputFormat, Path | None]],
    source_root: str,
    *,
    summary: bool = True,
    detail: Literal["quiet", "normal", "verbose"] = "normal",
) -> None:
    """Render ``report`` in every requested format, to stdout or its file (``summary``: say so);
    ``detail`` is how much the text format shows."""
    from specdiff.reporters import Format, render

    for fmt, output in targets:
        tty = output is None and fmt is OutputFormat.text and sys.stdout.isatty()
        width = shutil.get_terminal_size((100, 24)).columns if tty else 100
        text = render(
            report,
            Format(fmt.value),
            color=tty,
            width=width,
            source_root=source_root,
            detail=detail,
        )
        if output is None:
            sys.stdout.write(text)
            continue
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}", 2)
        if summary:
            typer.echo(_one_line_summary(report, output), err=True)


def _one_line_summary(report: Report, output: Path) -> str:
    found = [f.severity for f in report.findings]
    counts = ", ".join(f"{found.count(s)} {s}" for s in Severity if s in found)
    return f"specdiff: {len(report.findings)} findings ({counts or 'none'}) written to {output}"


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("probing operations", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def main() -> None:
    """Console-script entry point."""
    app()
