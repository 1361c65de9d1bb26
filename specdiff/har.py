"""``--har FILE``: the whole exchange log of a run as HAR 1.2, every credential redacted.

Pure rendering: :func:`render` turns the exchanges the runner recorded into a HAR document
(browsers' and proxies' format: DevTools, Charles, mitmproxy open it). Credentials are replaced
by ``[REDACTED]`` (the run's :class:`Redactor`, plus JWT signatures); bodies are kept up to
:data:`MAX_BODY_CHARS` characters each, so a log of thousands of requests stays readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from specdiff import __version__
from specdiff.model import Exchange
from specdiff.redact import Redactor

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_CHARS", "render"]

MAX_BODY_CHARS = 65_536
MAX_BODY_BYTES = 4 * MAX_BODY_CHARS + 4096
"""What the log keeps of a body: every kept character, plus room for a credential cut at the
end (redaction runs before the cut to :data:`MAX_BODY_CHARS`, so no half credential shows)."""


def render(exchanges: Iterable[tuple[datetime, Exchange]], redactor: Redactor) -> str:
    """The HAR 1.2 JSON text of (answered at, exchange) pairs, in that order."""
    redactor = _with_signatures(redactor)
    entries = [_entry(ex, redactor, at) for at, ex in exchanges if ex.url]
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "specdiff", "version": __version__},
            "entries": entries,
        }
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _entry(ex: Exchange, redactor: Redactor, at: datetime) -> dict[str, Any]:
    url = redactor.redact(ex.url)
    req = ex.request
    request: dict[str, Any] = {
        "method": req.method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(ex.sent_headers, redactor),
        "queryString": _pairs(parse_qsl(urlsplit(url).query, keep_blank_values=True), redactor),
        "headersSize": -1,
        "bodySize": len(req.body or b""),
    }
    if req.body is not None:
        request["postData"] = {
            "mimeType": _header(ex.sent_headers, "content-type") or "",
            "text": _text(req.body, redactor),
        }
    wait = round(ex.elapsed * 1000, 3)
    return {
        "startedDateTime": (at - timedelta(seconds=ex.elapsed)).isoformat(timespec="milliseconds"),
        "time": wait,
        "request": request,
        "response": {
            "status": ex.status if ex.status is not None else 0,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(ex.headers, redactor),
            "content": {
                "size": len(ex.body),
                "mimeType": ex.header("content-type") or "",
                "text": _text(ex.body, redactor),
            },
            "redirectURL": redactor.redact(ex.header("location") or ""),
            "headersSize": -1,
            "bodySize": len(ex.body),
            **({"_error": redactor.redact(ex.error)} if ex.error else {}),
        },
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": 0},
        "comment": f"{req.probe}: {req.purpose}",
    }


def _with_signatures(redactor: Redactor) -> Redactor:
    """The run's secrets plus the signature of each JWT among them: probes send forged tokens
    that keep the real signature, and with the (public) header and payload it is the token."""
    out = Redactor((secret, "SPECDIFF_TOKEN") for secret in redactor.secrets)
    for secret in redactor.secrets:
        parts = secret.split(".")
        if len(parts) == 3 and len(parts[2]) >= 16:
            out.add(parts[2], "SPECDIFF_TOKEN_SIGNATURE")
    return out


def _pairs(pairs: Iterable[tuple[str, str]], redactor: Redactor) -> list[dict[str, str]]:
    return [{"name": name, "value": redactor.redact(value)} for name, value in pairs]


def _header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k.lower() == name), None)


def _text(body: bytes, redactor: Redactor) -> str:
    # redacted before it is cut, so that no cut can leave half a credential
    text = redactor.redact(body.decode("utf-8", "replace"))
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + " [cut by specdiff]"
