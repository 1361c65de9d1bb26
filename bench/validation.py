"""What response validation costs: openapi-core against specdiff's per-schema validators.

Usage: .venv/bin/python bench/validation.py [DOCUMENT ...]

Default documents: the demo's, the largest under ``specs/``, and GitHub's and Stripe's from
``../shared/corpus`` when present. For each, a sample body (``synth.sample_value``) is built for
up to 200 operations' 2xx JSON responses, then validated

- by openapi-core (``OpenAPI.iter_response_errors``: finds path, operation, status, media type,
  then validates; built without re-validating the document),
- by ``specdiff.contract.violations`` (the validator of that response schema, built once).

Prints, per document, the build time, the first call (cold) and the mean of the warm calls in
milliseconds per response.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jsonschema_path import SchemaPath  # noqa: E402
from openapi_core import Config, OpenAPI  # noqa: E402
from openapi_core.testing import MockRequest, MockResponse  # noqa: E402

from specdiff.contract import violations  # noqa: E402
from specdiff.derive import derive  # noqa: E402
from specdiff.model import Operation  # noqa: E402
from specdiff.schema import Schema  # noqa: E402
from specdiff.spec import load_spec  # noqa: E402
from specdiff.synth import baseline_request, sample_value  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
LIMIT = 200


def _cases(path: str) -> tuple[Any, list[tuple[Operation, str, Schema, Any]]]:
    spec = load_spec(path)
    api = derive(spec)
    cases = []
    for op in api.operations:
        for response in op.responses:
            if not response.status.startswith("2") or not response.status.isdigit():
                continue
            media = response.media("application/json")
            if media is None or media.schema is None:
                continue
            cases.append((op, response.status, media.schema, sample_value(media.schema)))
            break
        if len(cases) >= LIMIT:
            break
    return (spec, api), cases


def _ms(samples: list[float]) -> str:
    return f"{statistics.mean(samples) * 1000:.2f}" if samples else "-"


def bench(path: str) -> None:
    t0 = time.perf_counter()
    (spec, api), cases = _cases(path)
    load = time.perf_counter() - t0
    print(f"\n{path}: {len(api.operations)} operations, {len(cases)} 2xx JSON responses")
    print(f"  load + derive + sample bodies: {load:.2f} s")
    if not cases:
        return
    # specdiff.contract: a validator per response schema, built on first use
    cold, warm = [], []
    for _op, _, schema, body in cases:
        t = time.perf_counter()
        violations(schema, body, api.openapi_version)
        cold.append(time.perf_counter() - t)
        for _ in range(3):
            t = time.perf_counter()
            violations(schema, body, api.openapi_version)
            warm.append(time.perf_counter() - t)
    print(f"  specdiff.contract: first call {_ms(cold)} ms, warm {_ms(warm)} ms per response")
    if api.openapi_version.startswith("2"):
        print("  openapi-core: reads OpenAPI 3.x only")
        return
    t = time.perf_counter()
    openapi = OpenAPI(
        SchemaPath.from_dict(dict(spec.data), base_uri=spec.path.as_uri()),
        config=Config(spec_validator_cls=None),
    )
    build = time.perf_counter() - t
    server = "https://specdiff.invalid"
    cold, warm = [], []
    for op, status, _, body in cases:
        planned = baseline_request(api, op)
        request = MockRequest(server, op.method.lower(), planned.path, args=dict(planned.query))
        response = MockResponse(
            json.dumps(body).encode(), status_code=int(status), content_type="application/json"
        )
        for i in range(4):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                list(openapi.iter_response_errors(request, response))
            (cold if i == 0 else warm).append(time.perf_counter() - t)
    print(
        f"  openapi-core: build {build:.2f} s, first call {_ms(cold)} ms, "
        f"warm {_ms(warm)} ms per response (path finding over every path included)"
    )


def main() -> None:
    paths = sys.argv[1:]
    if not paths:
        under_specs = sorted(
            (p for p in (REPO / "specs").rglob("*") if p.suffix in (".yaml", ".json")),
            key=lambda p: p.stat().st_size,
        )
        largest = [str(p) for p in under_specs if "broken" not in p.parts][-1:]
        paths = [str(REPO / "specdiff" / "demo" / "openapi.yaml"), *largest]
        for name in ("github-api.github.com.json", "stripe-spec3-2022-04-13.json"):
            if (CORPUS / name).exists():
                paths.append(str(CORPUS / name))
    for path in paths:
        bench(path)


if __name__ == "__main__":
    main()
