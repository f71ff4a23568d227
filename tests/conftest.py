"""Shared test fixtures.

- ``shared_data``: the directory of real datasets (``$GRADUS_TEST_DATA``, else ``../shared/data``
  beside the repository, which is where CI clones put it).
- ``torch``: the PyTorch oracle. Missing torch skips locally but FAILS under ``CI=true``: the oracle
  suite must never silently skip in CI.

Tests never write into the working directory: every test runs with its own empty temporary
directory as the current directory (``_isolated_cwd``; fixtures of a wider scope run in one for the
session), so a relative path -- the CLI's default ``runs/``, a plot saved as ``"x.png"`` -- lands in
a temporary directory. Tests that need repository files locate them from ``__file__`` (``REPO_ROOT``
here). As a guard, the session FAILS if the repository root (or the directory pytest was started
from) gained files or folders while it ran (``pytest_sessionstart`` / ``pytest_sessionfinish``).
Hypothesis keeps its storage in a temporary directory for the same reason.
"""
from __future__ import annotations

import os

# Tests use small matrices, and the oracle runs PyTorch single-threaded: one BLAS thread avoids
# oversubscribing the 2 CI cores (OpenBLAS spinning threads slow small GEMMs down by 100x under load).
# Must be set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
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


@pytest.fixture(scope="session", autouse=True)
def _session_cwd(tmp_path_factory):
    """The session's temporary cwd (fixtures of module/session scope run in it, between tests), and
    the parent of the tests' own cwds."""
    previous = os.getcwd()
    root = tmp_path_factory.mktemp("cwd")
    os.chdir(root)
    yield root
    os.chdir(previous)


@pytest.fixture(autouse=True)
def _isolated_cwd(_session_cwd, request):
    """Every test runs in its own empty temporary working directory, ``<basetemp>/cwd0/<test name>...``
    (not ``tmp_path`` itself, so ``tmp_path`` holds only what a test puts there)."""
    prefix = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)[:40] + "-"
    os.chdir(tempfile.mkdtemp(prefix=prefix, dir=_session_cwd))
    yield
    os.chdir(_session_cwd)


# ----------------------------------------------------------------- guard: nothing new in the repository
# Caches that tools create in the project root on purpose: pytest's own (when the cacheprovider is
# not disabled), and ruff's (a linter run beside a test session is not a test writing files).
_ALLOWED_NEW = {".pytest_cache", ".ruff_cache"}
_before: dict[Path, set[str]] = {}
_guard_report: list[str] = []
_hypothesis_home: list[str] = []


def _entries(directory: Path) -> set[str]:
    try:
        return {p.name for p in directory.iterdir()}
    except OSError:
        return set()


def pytest_sessionstart(session):
    for d in {REPO_ROOT, Path(session.config.invocation_params.dir).resolve()}:
        _before[d] = _entries(d)
    try:  # hypothesis' default storage is ./.hypothesis, fixed when it was imported (cwd = the repo)
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    home = tempfile.mkdtemp(prefix="gradus-tests-hypothesis-")
    _hypothesis_home.append(home)
    set_hypothesis_home_dir(home)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    for home in _hypothesis_home:
        shutil.rmtree(home, ignore_errors=True)
    for d, before in _before.items():
        new = sorted(_entries(d) - before - _ALLOWED_NEW)
        if new:
            _guard_report.append(f"{d} gained {', '.join(new)}")
    if not _guard_report:
        return
    _guard_report.append("Tests must not write into the repository: each test runs in a temporary cwd; "
                         "write to tmp_path (or pass an explicit output directory, e.g. --out tmp_path).")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if session.config.pluginmanager.get_plugin("terminalreporter") is None:
        sys.stderr.write("\n".join(["tests wrote into the repository:", *_guard_report]) + "\n")


def pytest_terminal_summary(terminalreporter):
    if _guard_report:
        terminalreporter.section("tests wrote into the repository", sep="=", red=True, bold=True)
        for line in _guard_report:
            terminalreporter.write_line(line, red=True)
