"""Authentication and authorization rules (SD2xx): differential, against the baseline."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from specdiff.model import (
    AuthMode,
    Confidence,
    Exchange,
    Finding,
    Operation,
    PlannedRequest,
    Severity,
)
from specdiff.probe import Probe, ProbeContext, evidence

__all__ = ["PROBES", "MissingCredentialsAccepted"]


class MissingCredentialsAccepted(Probe):
    """SD201 auth.missing-credentials-accepted: a secured operation answers without credentials.

    **Promise.** The operation's effective ``security`` (its own, or the document's top-level one)
    is non-empty and has no anonymous ``{}`` alternative: a caller must authenticate.

    **Probe.** When the baseline request, sent with the user's credentials, answered 2xx, the same
    request is sent again with no credentials at all (no Authorization header, no API key in
    header, query or cookie). Safe methods by default; POST/PUT/PATCH/DELETE only with
    ``--unsafe``. Without credentials from the user, the baseline itself went without them, and a
    2xx there is judged directly.

    **Breach.** 2xx without credentials. Critical for unsafe methods (an anonymous write).

    **Quiet when.** The baseline failed (nothing to compare); the answer is 401/403/404 or any
    non-2xx; the baseline answered JSON but the anonymous answer is not JSON (a login page
    served with 200 is not the resource).

    **Remediation.** Put the authentication check on every route the document secures. In Flask,
    decorate the view (``@login_required`` / ``@jwt_required()``) or, safer, authenticate in a
    ``before_request`` hook with an explicit allow-list of open endpoints, so a forgotten
    decorator fails closed.
    """

    code = "SD201"
    remediation = (
        "Require authentication on every operation the document secures. In Flask, prefer a "
        "before_request hook that authenticates everything except an explicit allow-list of "
        "open endpoints, so a forgotten @jwt_required() fails closed."
    )

    def plan(self, op: Operation, ctx: ProbeContext) -> Iterable[PlannedRequest]:
        if not op.secured or not ctx.options.has_credentials or not ctx.baseline_ok:
            return
        if not (op.safe or ctx.options.unsafe):
            return
        assert ctx.baseline is not None
        yield dataclasses.replace(
            ctx.baseline, auth=AuthMode.NONE, probe=self.code, purpose="no-credentials"
        )

    def judge(
        self, op: Operation, ctx: ProbeContext, exchanges: Sequence[Exchange]
    ) -> Iterable[Finding]:
        if not op.secured or not ctx.baseline_ok:
            return
        assert ctx.baseline_exchange is not None
        if ctx.options.has_credentials:
            candidates = [ex for ex in exchanges if ex.request.purpose == "no-credentials"]
            confidence = Confidence.CERTAIN
        else:  # the baseline itself carried no credentials
            candidates = [ctx.baseline_exchange]
            confidence = Confidence.FIRM
        for ex in candidates:
            if not ex.ok or (ctx.baseline_exchange.is_json and not ex.is_json):
                continue
            yield self.finding(
                f"{op.key} is secured by the document but answered {ex.status} to a request "
                "without any credentials",
                evidence=evidence(ex),
                severity=None if op.safe else Severity.CRITICAL,
                confidence=confidence,
            )


PROBES: tuple[type[Probe], ...] = (MissingCredentialsAccepted,)
