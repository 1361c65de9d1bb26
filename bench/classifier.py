"""Precision and recall of specdiff.classify over the labelled table, and its speed.

Usage: .venv/bin/python bench/classifier.py

Reads ``tests/unit/classifier_cases.py`` (``(name, value, expected)`` rows). A prediction counts
as a true positive only when category *and* kind match the label; a positive with the wrong kind
is both a false positive and a false negative. Prints the counts overall and per category, the
misclassified cases (names and labels only, never values), and the time per 100k
``classify_field`` calls over the table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from specdiff.classify import classify_field  # noqa: E402
from tests.unit.classifier_cases import CASES, Case, Expected  # noqa: E402

CATEGORIES = ("pii", "secret")


def predict(case: Case) -> Expected:
    name, value, _ = case
    got = classify_field(name, value)
    return None if got is None else (got.category, got.kind)


def score(rows: list[tuple[Case, Expected]], category: str | None) -> tuple[int, int, int]:
    """(TP, FP, FN) for one category, or overall when ``category`` is None."""
    tp = fp = fn = 0
    for (_, _, expected), got in rows:
        exp_in = expected is not None and (category is None or expected[0] == category)
        got_in = got is not None and (category is None or got[0] == category)
        if exp_in and got == expected:
            tp += 1
            continue
        if got_in:
            fp += 1
        if exp_in:
            fn += 1
    return tp, fp, fn


def ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def main() -> int:
    rows = [(case, predict(case)) for case in CASES]
    positives = sum(1 for _, _, e in CASES if e is not None)
    print(f"cases {len(CASES)}  positives {positives}  decoys {len(CASES) - positives}")
    print()
    print(f"{'scope':<10}{'cases':>7}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>9}")
    for scope in (None, *CATEGORIES):
        tp, fp, fn = score(rows, scope)
        n = sum(1 for _, _, e in CASES if e is not None and (scope is None or e[0] == scope))
        label = scope or "overall"
        print(
            f"{label:<10}{n:>7}{tp:>6}{fp:>6}{fn:>6}"
            f"{ratio(tp, tp + fp):>11.3f}{ratio(tp, tp + fn):>9.3f}"
        )
    wrong = [(case, got) for case, got in rows if got != case[2]]
    print()
    print(f"misclassified: {len(wrong)}")
    for (name, value, expected), got in wrong:
        print(f"  {name!r:<36} {type(value).__name__:<6} expected {expected}  got {got}")

    calls = 0
    start = time.perf_counter()
    while calls < 100_000:
        for name, value, _ in CASES:
            classify_field(name, value)
        calls += len(CASES)
    elapsed = time.perf_counter() - start
    print()
    print(
        f"speed: {elapsed / calls * 100_000:.3f} s per 100k classify_field calls "
        f"({elapsed / calls * 1e6:.1f} µs each; {calls} calls over the table, names cached)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
