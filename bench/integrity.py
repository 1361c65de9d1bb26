"""What the gate's bookkeeping costs per request: the safety policy and the run-integrity ledger.

Usage: .venv/bin/python bench/integrity.py [--requests 4000] [--runs 5] [--concurrency 10]
       (the policy row plans --document, by default <repo>/../shared/corpus/github-api.github.com.json)

Rows, each the median of ``--runs``:

- per call: the runner's own bookkeeping on one answered request, timed in isolation (its
  second check of the policy, and the identity ledger: counting the answer, remembering the
  proven request), in microseconds of CPU;
- policy: the plan stage's admission of every request ``--plan`` makes for GitHub's document
  (classification, refusal, stamping), in microseconds of CPU per request;
- runner, loopback: ``--requests`` GETs through :class:`specdiff.runner.Runner` against the fast
  local server of ``bench/throughput.py``, in client CPU microseconds per request, three ways:
  bare (no credentials: no identity to account for), with identity A's credentials (every
  answer counted in the identity's ledger), and with the safety policy checked again before
  each send, as a run does. Run it on the commit before run integrity too (``PYTHONPATH`` at
  an unpacked copy: that runner has no policy, the last row is skipped) to compare the
  "credentials" rows.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import _start_server, specdiff_runner

REPO = Path(__file__).resolve().parents[1]
GITHUB = REPO.parent / "shared" / "corpus" / "github-api.github.com.json"
PETSTORE = "sensitive-urls.yaml"
"""Any small document: the policy only needs operations to look requests up in."""


def policy_row(runs: int, document: Path) -> tuple[int, float] | None:
    """(requests admitted, CPU microseconds per admission) on ``document``'s plan."""
    if not document.is_file():
        return None
    from specdiff.config import Credentials, ScanConfig
    from specdiff.engine import plan_scan
    from specdiff.plan import PlanStage

    captured: list[tuple[object, object]] = []
    original = PlanStage.admit

    def capture(self: PlanStage, req, code, op):  # type: ignore[no-untyped-def]
        captured.append((req, op))
        return original(self, req, code, op)

    config = ScanConfig(
        spec=str(document),
        base_url="https://api.example.com",
        credentials=Credentials.build(token="x"),
    )
    PlanStage.admit = capture  # type: ignore[method-assign]
    try:
        plan_scan(config)
    finally:
        PlanStage.admit = original  # type: ignore[method-assign]
    from specdiff.derive import derive
    from specdiff.objects import CreatedObjects
    from specdiff.plan import Guard
    from specdiff.probe import load_probes
    from specdiff.safety import SafetyPolicy
    from specdiff.spec import load_spec

    api = derive(load_spec(str(document)))
    stage = PlanStage(
        load_probes(), SafetyPolicy(api, created=CreatedObjects(api).names), Guard([])
    )
    samples = []
    for _ in range(runs):
        start = time.process_time()
        for req, op in captured:
            stage.admit(req, "SD000", op)  # type: ignore[arg-type]
        samples.append((time.process_time() - start) / len(captured) * 1e6)
    return len(captured), statistics.median(samples)


async def runner_cpu(base: str, n: int, concurrency: int, mode: str) -> float:
    """Client CPU microseconds per request through the runner (``mode``: bare, credentials,
    policy)."""
    from specdiff.config import Credentials

    extra: dict[str, object] = {}
    if mode != "bare":
        extra["credentials"] = Credentials.build(token="bench-token")
    if mode == "policy":
        from specdiff.derive import derive
        from specdiff.safety import SafetyPolicy
        from specdiff.spec import load_spec

        extra["policy"] = SafetyPolicy(derive(load_spec(str(REPO / "specs" / PETSTORE))))
    _, cpu = await specdiff_runner(base, n, concurrency, **extra)
    return cpu / n * 1e6


def _has_policy() -> bool:
    import inspect

    from specdiff.runner import Runner

    return "policy" in inspect.signature(Runner).parameters


def per_call(runs: int, loops: int = 50_000) -> tuple[float, float]:
    """(policy check, ledger) CPU microseconds per answered request, in isolation."""
    from specdiff.config import Credentials
    from specdiff.derive import derive
    from specdiff.model import Exchange, PlannedRequest
    from specdiff.runner import Runner
    from specdiff.safety import SafetyPolicy
    from specdiff.spec import load_spec

    api = derive(load_spec(str(REPO / "specs" / PETSTORE)))
    op = api.operations[0]
    policy = SafetyPolicy(api)
    req = PlannedRequest("GET", op.path, operation=op.key)
    exchange = Exchange(req, "https://api.test" + op.path, (), 200, (), b"{}")

    async def make() -> Runner:
        from specdiff.runner import make_client

        async with make_client() as client:
            return Runner(
                client, base_url="https://api.test", credentials=Credentials.build(token="t")
            )

    runner = asyncio.run(make())
    who = runner._who["a"]
    checks, ledgers = [], []
    for _ in range(runs):
        start = time.process_time()
        for _ in range(loops):
            policy.refusal(req)
        checks.append((time.process_time() - start) / loops * 1e6)
        start = time.process_time()
        for _ in range(loops):
            runner._identity_of(req)
            runner._observe(who, req, exchange)
        ledgers.append((time.process_time() - start) / loops * 1e6)
    return statistics.median(checks), statistics.median(ledgers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--document", type=Path, default=GITHUB)
    args = parser.parse_args()

    if _has_policy():
        check, ledger = per_call(args.runs)
        print(f"per call: policy check {check:.1f} us, identity ledger {ledger:.1f} us CPU")
    row = policy_row(args.runs, args.document) if _has_policy() else None
    if row is None:
        print(f"policy: skipped ({args.document} not found, or no policy in this specdiff)")
    else:
        count, micros = row
        print(f"policy: {micros:.1f} us CPU per request ({count} planned requests)")

    modes = ["bare", "credentials", *(["policy"] if _has_policy() else [])]
    proc, base = _start_server()
    try:
        samples: dict[str, list[float]] = {mode: [] for mode in modes}
        for _ in range(args.runs):  # take turns: a load change hits every mode alike
            for mode in modes:
                cpu = asyncio.run(runner_cpu(base, args.requests, args.concurrency, mode))
                samples[mode].append(cpu)
    finally:
        proc.terminate()
        proc.wait()
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    labels = {
        "bare": "no credentials",
        "credentials": "identity A (ledger)",
        "policy": "identity A + policy",
    }
    for mode, micros in medians.items():
        print(f"runner, {labels[mode]:<20} {micros:6.1f} us CPU per request")
    if "policy" in medians:
        extra = medians["policy"] - medians["bare"]
        print(f"credentials, ledger and policy together: {extra:+.1f} us per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
