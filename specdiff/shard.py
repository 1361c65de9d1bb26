"""Split one run's operations across CI jobs: ``--shard i/n``.

An operation belongs to shard ``1 + hash(key) mod n`` with a stable hash (SHA-256 of
``METHOD /path``), so every job of a matrix picks the same split without talking to the
others, and adding an operation moves no other one. ``specdiff merge`` joins the JSON reports.
"""

from __future__ import annotations

import dataclasses
import hashlib

from specdiff.model import ApiModel

__all__ = ["shard_api", "shard_of"]


def shard_of(key: str, count: int) -> int:
    """The 1-based shard of the operation ``key`` among ``count`` shards."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def shard_api(api: ApiModel, shard: tuple[int, int] | None) -> ApiModel:
    """``api`` with only the operations of ``shard`` (i, n); unchanged when None."""
    if shard is None:
        return api
    index, count = shard
    operations = tuple(op for op in api.operations if shard_of(op.key, count) == index)
    return dataclasses.replace(api, operations=operations)
