"""Every registered probe matches the catalogue and documents itself; the public API is frozen."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import specdiff
from specdiff.catalogue import CATALOGUE
from specdiff.probe import load_probes

REPO = Path(__file__).parents[1]
RULES_MD = REPO.parent / "shared" / "RULES.md"


def test_probes_are_registered_through_entry_points_with_unique_catalogue_codes() -> None:
    probes = load_probes()
    codes = [p.code for p in probes]
    assert codes == sorted(set(codes))
    assert {"SD101", "SD103", "SD201", "SD301", "SD302", "SD303"} <= set(codes)
    for probe in probes:
        assert probe.code in CATALOGUE
        doc = inspect.cleandoc(type(probe).__doc__ or "")
        assert doc.startswith(f"{probe.code} {probe.rule.kind}:"), probe.code
        for section in ("**Probe.**", "**Breach.**", "**Quiet when.**", "**Remediation.**"):
            assert section in doc, (probe.code, section)
        assert probe.remediation, probe.code


def test_catalogue_matches_rules_md() -> None:
    if not RULES_MD.exists():  # the steering repository's catalogue, beside this one
        pytest.skip(f"{RULES_MD} is not available")
    rows = [line for line in RULES_MD.read_text().splitlines() if line.startswith("| SD")]
    assert len(rows) == len(CATALOGUE)
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        code, kind, severity, cwe = cells[:4]
        rule = CATALOGUE[code]
        assert (rule.kind, rule.severity.value) == (kind, severity)
        assert rule.cwe == (int(cwe) if cwe.isdigit() else None)


def test_public_api_is_exactly_this() -> None:
    assert set(specdiff.__all__) == {
        "AuthMode",
        "Confidence",
        "ConfigError",
        "Credentials",
        "Evidence",
        "Exchange",
        "Finding",
        "Operation",
        "PlannedRequest",
        "PreflightError",
        "Probe",
        "ProbeContext",
        "ProbeError",
        "ProbeOptions",
        "Report",
        "ScanConfig",
        "Severity",
        "SpecError",
        "SpecdiffError",
        "TargetUnreachable",
        "__version__",
        "evidence",
        "exit_code",
        "scan",
    }


def test_probes_import_only_the_public_face_of_specdiff() -> None:
    allowed = {
        "specdiff",
        "specdiff.model",
        "specdiff.probe",
        "specdiff.schema",
        "specdiff.classify",
        "specdiff.redact",
        "specdiff.config",
        "specdiff.catalogue",
        "specdiff.variant",  # the typed vocabulary of the evidence pool
        "specdiff.safety",  # the safety policy's identifiers that certainly do not exist
        # pure JWT parsing and forging shared by the auth and JWT families (no I/O)
        "specdiff.jwtkit",
        # pure helpers the leakage/transport/conformance families share (no I/O):
        "specdiff.mutate",  # invalid request variants and canary credentials
        "specdiff.signatures",  # stack-trace, database-error and debugger text signatures
        "specdiff.cookies",  # Set-Cookie parsing and keyless cookie decoding
        # SD305: schema validation of response bodies, one cached validator per schema
        "specdiff.contract",
    }
    for path in (REPO / "probes").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("specdiff")
            ):
                assert node.module in allowed, (path.name, node.module)
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("specdiff.probes")
            ):
                raise AssertionError(f"{path.name} imports another probe module")


def test_reporters_import_only_the_model_catalogue_score_and_identity() -> None:
    for path in (REPO / "specdiff" / "reporters").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("specdiff")
            ):
                allowed = {
                    "specdiff",
                    "specdiff.model",
                    "specdiff.catalogue",
                    "specdiff.score",
                    "specdiff.identity",
                }
                assert node.module in allowed or node.module.startswith("specdiff.reporters"), (
                    path.name,
                    node.module,
                )
