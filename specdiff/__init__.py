"""specdiff: check a running API against the security promises of its OpenAPI document.

The public API is what third-party probes and programmatic users need; everything else is
internal and may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

from specdiff.config import Credentials, ScanConfig
from specdiff.errors import (
    ConfigError,
    PreflightError,
    ProbeError,
    SpecdiffError,
    SpecError,
    TargetUnreachable,
)
from specdiff.model import (
    AuthMode,
    Confidence,
    Evidence,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    Report,
    Severity,
)
from specdiff.probe import Probe, ProbeContext, ProbeOptions, evidence
from specdiff.scan import exit_code, scan

__all__ = [
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
]
