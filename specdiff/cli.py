"""The command line: thin typer commands that build a ScanConfig, scan, render, and exit.

Exit codes (one mapping, :func:`_run`): 0 nothing at or above ``--fail-on``; 1 findings at or
above it; 2 bad input (document, options, credentials); 3 target unreachable.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from specdiff import __version__
from specdiff.catalogue import CATALOGUE
from specdiff.config import Credentials, ScanConfig, parse_header, parse_pair
from specdiff.errors import SpecdiffError
from specdiff.model import Report, Severity

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Check a running API against the security promises of its OpenAPI document.",
)


class OutputFormat(str, Enum):
    """Report formats of ``--format``."""

    text = "text"
    json = "json"


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
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """specdiff: where the running API breaks its document's security promises."""


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
]
FailOnOption = Annotated[
    FailOn,
    typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity."),
]


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The OpenAPI document (YAML or JSON).")],
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url", envvar="SPECDIFF_BASE_URL", help="Where the API runs (https://...)."
        ),
    ],
    http_url: Annotated[
        str | None,
        typer.Option(help="Its plain-HTTP twin for SD101 (default: same host, http, port 80)."),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="'Name: value' sent with every authenticated request."),
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
    fmt: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.high,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
    max_requests: Annotated[int, typer.Option(help="Request budget of the run.")] = 5000,
    allow_remote_refs: Annotated[
        bool, typer.Option(help="Fetch http(s) $refs of the document.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Probe the API at --base-url and report where it breaks SPEC's security promises."""

    def build() -> ScanConfig:
        headers = [parse_header(h) for h in header or ()]
        env_header = os.environ.get("SPECDIFF_HEADER")
        if env_header and not header:
            headers += [parse_header(line) for line in env_header.splitlines() if line.strip()]
        return ScanConfig(
            spec=str(spec),
            base_url=base_url,
            http_url=http_url,
            credentials=Credentials.build(
                token=token,
                headers=tuple(headers),
                query=tuple(parse_pair(q, "--query") for q in query or ()),
            ),
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
        )

    _run(build, fmt, output, debug)


@app.command()
def lint(
    spec: Annotated[Path, typer.Argument(help="The OpenAPI document (YAML or JSON).")],
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SPECDIFF_TOKEN",
            help="A token to judge offline too (e.g. a JWT's secret); never sent anywhere.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.high,
    allow_remote_refs: Annotated[
        bool, typer.Option(help="Fetch http(s) $refs of the document.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Check SPEC alone, without any request: the static rules, plus notes on the document."""
    _run(
        lambda: ScanConfig(
            spec=str(spec),
            credentials=Credentials.build(token=token),
            fail_on=fail_on.severity(),
            allow_remote_refs=allow_remote_refs,
            debug=debug,
        ),
        fmt,
        output,
        debug,
    )


@app.command()
def demo(
    hardened: Annotated[
        bool, typer.Option(help="Check the hardened twin (expects no finding).")
    ] = False,
    unsafe: Annotated[bool, typer.Option(help="Also send requests that may change data.")] = False,
    fmt: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.high,
) -> None:
    """Start the bundled demo API on loopback (HTTPS + HTTP) and check it."""
    try:
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
                credentials=Credentials.build(token=twin.token),
                ca_bundle=str(twin.ca_pem),
                unsafe=unsafe,
                fail_on=fail_on.severity(),
            ),
            fmt,
            output,
            debug=False,
        )


@app.command()
def rules() -> None:
    """List the rule catalogue: code, kind, default severity, title."""
    from specdiff.probe import load_probes

    implemented = {p.code for p in load_probes()}
    for r in CATALOGUE.values():
        mark = " " if r.code in implemented else "-"
        typer.echo(f"{r.code} {mark} {r.severity.value:<8} {r.kind:<42} {r.title}")
    typer.echo("\n'-': in the catalogue, not yet probed by this version.")


@app.command()
def explain(code: Annotated[str, typer.Argument(help="A rule code, e.g. SD201.")]) -> None:
    """Print one rule's documentation."""
    from specdiff.probe import load_probes

    r = CATALOGUE.get(code.upper())
    if r is None:
        _fail(f"unknown rule {code!r}; 'specdiff rules' lists them", 2)
    typer.echo(f"{r.code} {r.kind} ({r.severity.value}, CWE-{r.cwe or 'n/a'}, OWASP {r.owasp})")
    typer.echo(r.title)
    typer.echo("")
    probe = next((p for p in load_probes() if p.code == r.code), None)
    if probe is None:
        typer.echo(r.breach)
        typer.echo("\nNot yet probed by this version of specdiff.")
    else:
        typer.echo(inspect.cleandoc(type(probe).__doc__ or ""))


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter findings)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"specdiff: error: {message}", err=True)
    raise typer.Exit(code)


def _run(
    build: Callable[[], ScanConfig], fmt: OutputFormat, output: Path | None, debug: bool
) -> None:
    """Scan, render, write, and map the outcome to the exit code: the only place that does."""
    from specdiff.reporters import Format, render
    from specdiff.scan import exit_code, scan

    try:
        config = build()
        with _progress() as progress:
            report = scan(config, progress=progress)
    except SpecdiffError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # an internal error must still end in one line
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 2)
    color = output is None and fmt is OutputFormat.text and sys.stdout.isatty()
    text = render(report, Format(fmt.value), color=color)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}", 2)
        typer.echo(_one_line_summary(report, output), err=True)
    raise typer.Exit(exit_code(report, config.fail_on))


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
