"""gradus.allocator: at import, freed array memory is kept for reuse (glibc), so repeated large
arrays stop page-faulting; the user's own malloc settings and GRADUS_MALLOC=system are respected."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import gradus
from gradus import allocator

glibc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")

_PROBE = """
import resource, numpy as np
import gradus
x = np.ones((64, 32, 1536), np.float32)          # 12.6 MB: above glibc's default mmap threshold
def step():                                      # a forward pass: activations pile up, then are freed
    live = [x * 2.0 for _ in range(8)]
    del live
for _ in range(3): step()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5): step()
print(gradus.allocator.settings()["on"], resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _probe(**env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    e.update(env)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=e, capture_output=True, text=True, check=True)
    on, faults = out.stdout.split()
    return on == "True", int(faults)


@glibc
def test_on_at_import():
    assert allocator.settings()["on"] is True
    assert allocator.settings()["mmap_threshold"] == 32 << 20
    assert gradus.allocator.tune_malloc() is True        # idempotent


@glibc
def test_freed_arrays_are_reused_without_page_faults():
    on, faults = _probe()
    off, faults_system = _probe(GRADUS_MALLOC="system")
    assert on and not off
    # 5 x 8 fresh 12.6 MB arrays (123,000 pages): with glibc's defaults most of the freed memory is
    # given back to the kernel and faulted in again (23,000 faults measured; 0 with the tuning)
    assert faults_system > 10_000, faults_system
    assert faults < 1_000, faults


@glibc
def test_the_users_malloc_environment_wins():
    on, _ = _probe(MALLOC_TRIM_THRESHOLD_="131072")
    assert not on
