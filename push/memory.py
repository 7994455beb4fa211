"""Handing memory that idle connections let go back to the operating system.

A burst of connecting phones builds what an active phone needs (candidate
caches, the areas around them, occupation fits); once they idle, the sweeps let
it go (push/session.py `shed`, push/areas.py `expire`). Python hands freed
blocks back to the C allocator, but glibc keeps the pages for later unless it
is asked: a worker's RSS stays at its peak, so 20,000 phones that connected in
a burst kept paying for the burst (bench/idle_phones.py `--idle-wait` showed
the same RSS after 150 s idle as right after connecting). `malloc_trim(0)`
returns every wholly free page; it costs milliseconds on a heap of a few
hundred MiB and runs only after a sweep let something go.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import time
from typing import Any


@functools.cache
def _libc() -> Any:
    """glibc, or None (musl, macOS: no malloc_trim to ask)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def trim() -> float | None:
    """Give free heap pages back to the OS; seconds it took, None where the C
    library has no malloc_trim."""
    libc = _libc()
    if libc is None:
        return None
    started = time.perf_counter()
    libc.malloc_trim(0)
    return time.perf_counter() - started
