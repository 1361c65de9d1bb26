"""Install specdiff as a user would, in fresh virtual environments, and run its first commands.

``make test`` runs in the development environment, where the extras install Flask (and with it
click): an undeclared import passed there and crashed every plain ``pip install``. This script
builds the wheel, installs it into a new environment WITHOUT extras and runs ``--version``,
``rules``, ``lint`` on a small document and ``check`` against a closed port (exit 3, one line);
then a second environment with only the ``demo`` extra runs ``specdiff demo --hardened``
(exit 0). Run by ``.ci/run`` (``make package-check``); it needs the package index, as any
install does.

    python tests/packaging/fresh_install.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL_SPEC = ROOT / "specs" / "sensitive-urls.yaml"
"""Five operations, each with a static finding (SD308): lint has something to say."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="specdiff-fresh-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        wheel = _build_wheel(work / "dist")
        plain = _environment(work / "plain", f"{wheel}")
        _check_plain(plain)
        demo = _environment(work / "demo", f"specdiff[demo] @ {wheel.as_uri()}")
        _expect(demo, ["demo", "--hardened"], code=0, says="No findings")
    except _Failed as exc:
        print(f"fresh install: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("fresh install: passed (no extras: --version, rules, lint, check; demo extra: demo)")
    return 0


class _Failed(Exception):
    pass


def _run(cmd: list[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=900)


def _build_wheel(dist: Path) -> Path:
    done = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."], cwd=ROOT
    )
    if done.returncode:
        raise _Failed(f"building the wheel: {done.stderr.strip()[-2000:]}")
    return next(dist.glob("specdiff-*.whl"))


def _environment(where: Path, requirement: str) -> Path:
    """A new virtual environment with ``requirement`` installed; returns its ``specdiff``."""
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    done = _run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement]
    )
    if done.returncode:
        raise _Failed(f"pip install {requirement}: {done.stderr.strip()[-2000:]}")
    print(f"fresh install: {where.name}: installed {requirement}")
    return where / "bin" / "specdiff"


def _check_plain(specdiff: Path) -> None:
    imported = _run([str(specdiff.parent / "python"), "-c", "import flask"])
    if imported.returncode == 0:
        raise _Failed(
            "the plain environment has Flask: it is not the environment of a plain install"
        )
    _expect(specdiff, ["--version"], code=0, says="specdiff ")
    _expect(specdiff, ["rules"], code=0, says="SD201")
    _expect(specdiff, ["lint", str(SMALL_SPEC), "--fail-on", "high"], code=0, says="SD308")
    port = _closed_port()
    done = _expect(
        specdiff,
        ["check", str(SMALL_SPEC), "--base-url", f"http://127.0.0.1:{port}"],
        code=3,
        says="",
    )
    lines = done.stderr.strip().splitlines()
    if len(lines) != 1 or "unreachable" not in lines[0]:
        raise _Failed(f"check of a closed port: expected one line saying unreachable, got {lines}")
    _expect(specdiff, ["demo", "--hardened"], code=2, says="specdiff[demo]")


def _expect(
    specdiff: Path, args: list[str], *, code: int, says: str
) -> subprocess.CompletedProcess[str]:
    done = _run([str(specdiff), *args])
    shown = f"specdiff {' '.join(args)}"
    if "Traceback" in done.stdout + done.stderr:
        raise _Failed(f"{shown}: a traceback:\n{done.stderr[-3000:]}")
    if done.returncode != code:
        raise _Failed(f"{shown}: exit {done.returncode}, expected {code}:\n{done.stderr[-3000:]}")
    if says not in done.stdout + done.stderr:
        raise _Failed(f"{shown}: output lacks {says!r}:\n{(done.stdout + done.stderr)[-3000:]}")
    print(f"fresh install: {shown}: exit {code} as expected")
    return done


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
