"""How the C heap hands memory to NumPy arrays: keep freed blocks for reuse instead of returning them.

Every op result is a new NumPy array, and a training or inference step allocates and frees the same
large arrays over and over (a (64, 32, 1536) GELU output is 12.6 MB). glibc's malloc serves blocks
above its mmap threshold with fresh ``mmap`` pages and gives freed memory at the top of the heap
back to the kernel above its trim threshold (both adapt at run time, but not enough here): the next
array of that size is page-faulted in again, 4 KiB at a time, each page zeroed by the kernel.
Measured on the MiniLM inference step (workload H): 17,800 page faults and 70 MB of fresh pages per
step, 0.41 s per step; with freed blocks kept, 1 page fault and 0.33 s (the GPT step, F: 0.48 s ->
0.39 s). So at ``import gradus``, on glibc, ``tune_malloc`` sets

    M_MMAP_THRESHOLD = 32 MiB   (glibc's maximum: blocks up to 32 MiB come from the reusable heap)
    M_TRIM_THRESHOLD = 1 GiB    (freed heap memory is kept for the next arrays, up to 1 GiB)

The cost: after a large temporary is freed, the process's resident size stays at its peak (the peak
itself does not grow). Nothing is changed when the user has set ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (glibc's own environment knobs), when ``GRADUS_MALLOC=system``, or when
the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["tune_malloc", "settings"]

M_TRIM_THRESHOLD = -1   # mallopt parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30

_applied: dict = {}


def tune_malloc() -> bool:
    """Apply the two mallopt settings above once; True when they are in effect."""
    if _applied:
        return bool(_applied.get("on"))
    _applied["on"] = False
    if (not sys.platform.startswith("linux") or os.environ.get("GRADUS_MALLOC", "").lower() == "system"
            or "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (raises AttributeError when the C library is not glibc)
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ok = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    except (OSError, AttributeError):
        return False
    _applied["on"] = ok
    return ok


def settings() -> dict:
    """What ``tune_malloc`` did: {"on": bool, "mmap_threshold": bytes, "trim_threshold": bytes}."""
    return {"on": bool(_applied.get("on")), "mmap_threshold": MMAP_THRESHOLD,
            "trim_threshold": TRIM_THRESHOLD}
