"""Tiny builders for documents, operations and exchanges used across unit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from specdiff.derive import derive
from specdiff.model import ApiModel, Exchange, Operation, PlannedRequest
from specdiff.spec import load_spec
from specdiff.variant import Variant, VariantKind


def write_spec(tmp_path: Path, document: dict[str, Any], name: str = "openapi.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def api_of(tmp_path: Path, document: dict[str, Any]) -> ApiModel:
    return derive(load_spec(write_spec(tmp_path, document)))


def operation(api: ApiModel, key: str) -> Operation:
    return next(op for op in api.operations if op.key == key)


def exchange(
    status: int | None,
    body: Any = None,
    *,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    request: PlannedRequest | None = None,
    url: str | None = None,
    error: str | None = None,
) -> Exchange:
    """A recorded exchange; dict/list bodies become JSON with a JSON content type."""
    response_headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        raw = json.dumps(body).encode()
        response_headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body or b""
    req = request or PlannedRequest(method, path)
    return Exchange(
        request=req,
        url=url or f"https://api.test{req.path}",
        sent_headers=req.headers,
        status=status,
        headers=tuple(response_headers.items()),
        body=raw,
        error=error,
    )


def minimal_doc(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
    }
    doc.update(extra)
    return doc


def ok_json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


_LABELLED = {
    "alg-": VariantKind.ALG_NONE,
    "kid-": VariantKind.KEY_INJECTION,
    "embedded-jwk": VariantKind.KEY_INJECTION,
    "nbf-future": VariantKind.CLAIM_FORGERY,
    "no-exp": VariantKind.CLAIM_FORGERY,
    "wrong-aud": VariantKind.CLAIM_FORGERY,
    "wrong-iss": VariantKind.CLAIM_FORGERY,
    "access_token": VariantKind.TOKEN_IN_QUERY,
    "token": VariantKind.TOKEN_IN_QUERY,
    "api_key": VariantKind.TOKEN_IN_QUERY,
}


def variant(label: str) -> Variant:
    """The variant a probe plans under ``label`` (``no-credentials``, ``alg-None``,
    ``wrong-type:query.limit``, ``cors-origin:null``)."""
    head = label.split(":", 1)[0]
    try:
        kind = VariantKind(head)
    except ValueError:
        kind = next(k for prefix, k in _LABELLED.items() if label.startswith(prefix))
    return Variant(kind, "" if label == kind.value else label)
