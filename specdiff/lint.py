"""Remarks about a document that are worth a reader's time but are not catalogue rules.

``specdiff lint`` reports them as report notes, never as findings: they have no code, no
severity and do not change the exit code. A document that secures an operation yet documents
no refusal leaves clients guessing; a security scheme declared and never required is dead
weight, or an operation that forgot its ``security``.
"""

from __future__ import annotations

from specdiff.model import ApiModel

__all__ = ["spec_notes"]

_REFUSALS = frozenset({"401", "403", "4XX", "DEFAULT"})
_LISTED = 5


def spec_notes(api: ApiModel) -> list[str]:
    """One line per remark, in a stable order."""
    notes: list[str] = []
    silent = [
        op.key
        for op in api.operations
        if op.secured and not any(r.status.upper() in _REFUSALS for r in op.responses)
    ]
    if silent:
        shown = ", ".join(silent[:_LISTED]) + (", ..." if len(silent) > _LISTED else "")
        notes.append(
            f"{len(silent)} secured operation{'s' if len(silent) > 1 else ''} document neither "
            f"401 nor 403 (nor 4XX/default): {shown}"
        )
    used = {name for op in api.operations for req in op.security for name, _ in req}
    for name in sorted(set(api.security_schemes) - used):
        notes.append(f"the security scheme {name!r} is declared but no operation requires it")
    return notes
