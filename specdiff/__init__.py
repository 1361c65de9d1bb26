"""specdiff: check a running API against the security promises of its OpenAPI document.

The public API is what third-party probes and programmatic users need; everything else is
internal and may change.

Names are imported on first use (PEP 562): the pytest plugin lives in this package, and every
pytest run of a project that installs specdiff imports it, so ``import specdiff`` must not load
the engine, httpx and aiohttp (about a second) before anything is checked.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Credentials": "specdiff.config",
    "ScanConfig": "specdiff.config",
    "ConfigError": "specdiff.errors",
    "PreflightError": "specdiff.errors",
    "ProbeError": "specdiff.errors",
    "SpecdiffError": "specdiff.errors",
    "SpecError": "specdiff.errors",
    "TargetUnreachable": "specdiff.errors",
    "AuthMode": "specdiff.model",
    "Confidence": "specdiff.model",
    "Evidence": "specdiff.model",
    "Exchange": "specdiff.model",
    "Finding": "specdiff.model",
    "Operation": "specdiff.model",
    "PlannedRequest": "specdiff.model",
    "Report": "specdiff.model",
    "Severity": "specdiff.model",
    "Probe": "specdiff.probe",
    "ProbeContext": "specdiff.probe",
    "ProbeOptions": "specdiff.probe",
    "evidence": "specdiff.probe",
    "exit_code": "specdiff.engine",
    "scan": "specdiff.engine",
}
"""Public name -> the module that defines it. No public name is also a submodule's name, so
importing a submodule never shadows a function here."""

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

if TYPE_CHECKING:
    from specdiff.config import Credentials, ScanConfig
    from specdiff.engine import exit_code, scan
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


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'specdiff' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
