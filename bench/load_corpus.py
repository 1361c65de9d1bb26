"""Benchmark specdiff.spec.load_spec on the shared corpus of real OpenAPI documents.

Usage: .venv/bin/python bench/load_corpus.py [CORPUS_DIR]    (default: <repo>/../shared/corpus)

For each top-level corpus document: load time and load+derive time (median of 3 runs, each in a
fresh subprocess) and peak RSS growth over load+derive (``ru_maxrss`` after minus before), plus
the time to find the line of every operation. Then, for ``apis-guru-sample/``: loaded / SpecError / crashed counts and the total
time, in one process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = """
import json, resource, sys, time
from specdiff.derive import derive
from specdiff.spec import load_spec
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
spec = load_spec(sys.argv[1])
elapsed = time.perf_counter() - start
derive(spec)
derived = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
paths = spec.data.get("paths") or {}
methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ops = [(p, m) for p, item in paths.items() for m in item if m in methods]
start = time.perf_counter()
missing = sum(spec.line_of(spec.where("paths", p, m)) is None for p, m in ops)
lines = time.perf_counter() - start
print(json.dumps({"t": elapsed, "td": derived, "kb": grown, "version": spec.version, "paths": len(paths),
                  "ops": len(ops), "lines": lines, "missing": missing}))
"""


def _measure(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, _display(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _display(path: Path) -> str:
    """The path relative to the repository, as a user in it would type it."""
    return os.path.relpath(path, REPO)


def bench_documents(corpus: Path) -> None:
    print(
        f"{'document':<48} {'version':>7} {'paths':>5} {'ops':>5} {'load s':>7} "
        f"{'+derive':>7} {'peak MB':>8} {'lines s':>7}"
    )
    for path in sorted(p for p in corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml")):
        runs = [_measure(path) for _ in range(3)]
        last = runs[-1]
        load = statistics.median(r["t"] for r in runs)
        derived = statistics.median(r["td"] for r in runs)
        peak = statistics.median(r["kb"] for r in runs) / 1024
        lines = statistics.median(r["lines"] for r in runs)
        note = f"  ({int(last['missing'])} lines not found)" if last["missing"] else ""
        print(
            f"{_display(path):<48} {last['version']:>7} {int(last['paths']):>5} "
            f"{int(last['ops']):>5} {load:>7.3f} {derived:>7.3f} {peak:>8.1f} {lines:>7.3f}{note}"
        )


def bench_sample(sample: Path) -> None:
    from specdiff.errors import SpecError
    from specdiff.spec import load_spec

    files = sorted(p for p in sample.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
    files = [p for p in files if p.name != "MANIFEST.json"]
    loaded, errors, crashed = 0, [], []
    times: list[tuple[float, str]] = []
    start = time.perf_counter()
    for path in files:
        began = time.perf_counter()
        try:
            load_spec(_display(path))
            loaded += 1
            times.append((time.perf_counter() - began, path.name))
        except SpecError as exc:
            errors.append(str(exc).splitlines()[0])
        except Exception as exc:
            crashed.append(f"{path.name}: {type(exc).__name__}: {exc}")
    total = time.perf_counter() - start
    print(
        f"\n{_display(sample)}: {len(files)} documents in {total:.2f} s: "
        f"{loaded} loaded, {len(errors)} SpecError, {len(crashed)} crashed"
    )
    for line in errors:
        print(f"  SpecError: {line}")
    for line in crashed:
        print(f"  CRASH: {line}")
    slowest = ", ".join(f"{name} {t:.2f} s" for t, name in sorted(times, reverse=True)[:3])
    print(f"  slowest: {slowest}")


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "corpus"
    corpus = corpus.resolve()
    os.chdir(REPO)
    if not corpus.is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    bench_documents(corpus)
    if (corpus / "apis-guru-sample").is_dir():
        bench_sample(corpus / "apis-guru-sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
