"""Fixtures for the data-layer tests.

``shared_data`` is the directory of real datasets: ``$GRADUS_TEST_DATA`` if set, else the
``shared/data`` directory beside the repository (CI clones the repo with ``shared/`` next to it).
Tests that need it are skipped only when it is absent *and* we are not in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _shared_data_dir() -> Path:
    env = os.environ.get("GRADUS_TEST_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = _shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data directory not found: {path} (set $GRADUS_TEST_DATA)")
        pytest.skip(f"shared test data directory not found: {path}")
    return path


@pytest.fixture(autouse=True)
def _isolated_data_root(tmp_path_factory, monkeypatch):
    # No test may touch the user's real cache or the network through the default root.
    monkeypatch.setenv("GRADUS_DATA", str(tmp_path_factory.mktemp("gradus_data_root")))


DEAD_MIRROR = "http://127.0.0.1:9/"  # discard port: connection refused at once, never a real host
