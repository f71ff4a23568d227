"""Shared test fixtures.

- ``shared_data``: the directory of real datasets (``$GRADUS_TEST_DATA``, else ``../shared/data``
  beside the repository, which is where CI clones put it).
- ``torch``: the PyTorch oracle. Missing torch skips locally but FAILS under ``CI=true``: the oracle
  suite must never silently skip in CI.
"""
from __future__ import annotations

import os

# Tests use small matrices, and the oracle runs PyTorch single-threaded: one BLAS thread avoids
# oversubscribing the 2 CI cores (OpenBLAS spinning threads slow small GEMMs down by 100x under load).
# Must be set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("GRADUS_TEST_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real datasets not found at {d}: CI must provide ../shared/data")
        pytest.skip(f"real datasets not found at {d} (set GRADUS_TEST_DATA)")
    return d


def import_torch():
    try:
        import torch
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the PyTorch oracle is not installed but CI=true: .ci/run must install torch==2.13.0")
        pytest.skip("PyTorch (the oracle) is not installed")
    torch.set_num_threads(1)  # tiny oracle tensors: threads only add contention on a shared machine
    return torch


@pytest.fixture(scope="session")
def torch():
    return import_torch()


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed (reproducible failures)."""
    import gradus

    gradus.manual_seed(0)
    np.random.seed(0)
    yield
