"""Pause the cyclic garbage collector while a document is turned into data.

Parsing and deriving a big document allocate millions of containers and no garbage cycles, yet
each few hundred allocations wake the collector, which re-scans the growing heap: about 30% of
the time spent loading the apis-guru sample and 15% of GitHub's document. The collector is back
on (if it was on) as soon as the work is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Also a decorator: ``@gc_paused()``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
