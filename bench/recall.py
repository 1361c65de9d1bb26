"""Recall and precision of specdiff on APIs that are not its own demo twins.

Usage: .venv/bin/python bench/recall.py [--unsafe] [--verbose] [TARGET ...]

TARGET is ``fastapi`` and/or ``express`` (default: both; Express needs node and ``npm ci`` in
``tests/stacks/express``). Each target's vulnerable variant is served on loopback and checked as
a new user would check it (``--token`` alice's, ``--token-b`` bob's, ``--jwt-secret``); the
findings, as (rule, operation) pairs, are compared with the target's ``truth.json``. The hardened
variant is checked too: every finding there is a false positive. Prints, per target, recall,
precision, the number of requests per operation, and with ``--verbose`` every miss and every
unexpected finding.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.stacks.targets import (  # noqa: E402
    TARGETS,
    express_missing,
    finding_pairs,
    scan_target,
    score,
    serve,
    truth,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help="fastapi, express")
    parser.add_argument("--unsafe", action="store_true", help="scan with --unsafe")
    parser.add_argument("--verbose", "-v", action="store_true", help="list misses and extras")
    args = parser.parse_args()
    mode = "--unsafe" if args.unsafe else "safe mode"
    print(f"specdiff recall on independent targets ({mode})")
    print(f"{'target':<10} {'recall':>8} {'precision':>10} {'hardened':>9} {'req/op':>7} {'s':>6}")
    total_hits = total_expected = total_found = 0
    for name in args.targets:
        if name == "express" and (why := express_missing()) is not None:
            print(f"{name:<10} skipped: {why}")
            continue
        started = time.perf_counter()
        with serve(name, "vulnerable") as target:
            report = scan_target(target, unsafe=args.unsafe)
        with serve(name, "hardened") as target:
            hardened = scan_target(target, unsafe=args.unsafe)
        elapsed = time.perf_counter() - started
        result = score(name, report, unsafe=args.unsafe)
        total_hits += len(result.hits)
        total_expected += len(result.expected)
        total_found += len(result.found)
        per_op = report.summary.requests / max(1, report.summary.operations)
        print(
            f"{name:<10} {result.recall:>8.2f} {result.precision:>10.2f} "
            f"{len(hardened.findings):>9} {per_op:>7.1f} {elapsed:>6.1f}"
            f"   ({len(result.hits)}/{len(result.expected)} expected found, "
            f"{len(result.unexpected)} unexpected)"
        )
        if args.verbose:
            capability = {(e.rule, e.operation): e.capability for e in truth(name)}
            for rule, op in sorted(result.missed):
                print(f"    missed      {rule} {op or '(host)'}  [{capability[(rule, op)]}]")
            for rule, op in sorted(result.unexpected):
                print(f"    unexpected  {rule} {op or '(host)'}")
            for rule, op in sorted(finding_pairs(hardened)):
                print(f"    hardened    {rule} {op or '(host)'}")
            for c in report.coverage:
                if c.status != "probed" or c.baseline_status != 200:
                    print(
                        f"    coverage    {c.operation.method} {c.operation.path}: {c.status} "
                        f"{c.baseline_status} {c.reason}"
                    )
    if total_expected:
        recall = total_hits / total_expected
        precision = total_hits / total_found if total_found else 1.0
        print(f"{'all':<10} {recall:>8.2f} {precision:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
