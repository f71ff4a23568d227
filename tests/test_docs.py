"""Documentation that runs: the docstring examples (``>>>``) of every ``gradus`` module, and every
script in ``docs/examples/``.

- Doctests: every module of the package is found with ``pkgutil.walk_packages`` and imported (a
  module that cannot be imported fails ``test_every_module_imports``); each module that has examples
  is one ``test_doctests[<module>]`` case, run with the standard ``doctest`` module (``ELLIPSIS`` on,
  as in ``pytest --doctest-modules``) and failing with doctest's own report.
- Examples: each ``docs/examples/*.py`` runs as a script (``python <file>``) in a subprocess, in a
  temporary working directory, with a timeout, and must exit with status 0. The slow ones get small
  settings from ``SMALL_ARGS`` (their command-line switches; run without arguments they keep their
  full behaviour for users).
"""
from __future__ import annotations

import doctest
import importlib
import io
import os
import pkgutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import gradus

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
EXAMPLE_TIMEOUT_S = 120

# Command-line arguments that keep an example's test run short (seconds, not minutes).
SMALL_ARGS = {
    "newton.py": ["--gd-steps", "200"],  # default 20,000 gradient-descent steps (~15 s)
    "overfitting_l2.py": ["--dataset", "digits", "--n-train", "50", "--n-test", "100", "--epochs", "10"],
    # real data from $GRADUS_TEST_DATA (or ../shared/data); defaults train for 5-9 minutes
    "one_to_many_captions.py": ["--epochs", "1", "--n-train", "2000", "--n-test", "500"],   # ~8 s
    "many_to_many_tagger.py": ["--epochs", "0.05", "--hidden", "32"],                      # ~8 s
}


# -------------------------------------------------------------------------------------------- doctests
def _walk_modules():
    """Import every module of the package: ({name: module}, {name: error text})."""
    modules, errors = {}, {}

    def onerror(name):  # a package whose __init__ fails to import during the walk
        errors[name] = traceback.format_exc()

    for info in pkgutil.walk_packages(gradus.__path__, gradus.__name__ + ".", onerror=onerror):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # `python -m` entry points run on import
            continue
        try:
            modules[info.name] = importlib.import_module(info.name)
        except Exception:
            errors[info.name] = traceback.format_exc()
    return {gradus.__name__: gradus, **modules}, errors


def _doctests(module):
    """The module's docstrings with examples (each with a fresh copy of the module's namespace)."""
    return [t for t in doctest.DocTestFinder().find(module) if t.examples]


MODULES, IMPORT_ERRORS = _walk_modules()
WITH_EXAMPLES = sorted(name for name, mod in MODULES.items() if _doctests(mod))


def test_every_module_imports():
    assert MODULES.keys() > {"gradus", "gradus.tensor", "gradus.nn.module"}  # the walk found the package
    if IMPORT_ERRORS:
        pytest.fail("modules that cannot be imported:\n\n" + "\n".join(
            f"{name}:\n{err}" for name, err in IMPORT_ERRORS.items()), pytrace=False)


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_doctests(module):
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failed = attempted = 0
    for test in _doctests(MODULES[module]):
        result = runner.run(test, out=out.write)
        failed, attempted = failed + result.failed, attempted + result.attempted
    assert attempted > 0
    if failed:
        pytest.fail(f"{failed} of {attempted} doctest examples in {module} failed:\n{out.getvalue()}",
                    pytrace=False)


# -------------------------------------------------------------------------------------------- examples
@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    cmd = [sys.executable, str(EXAMPLES / script), *SMALL_ARGS.get(script, [])]
    try:
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=EXAMPLE_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"docs/examples/{script} ran over {EXAMPLE_TIMEOUT_S} s\n{e.stdout}\n{e.stderr}",
                    pytrace=False)
    assert r.returncode == 0, f"docs/examples/{script} exited with {r.returncode}\n{r.stdout}\n{r.stderr}"


def test_examples_exist():
    assert {"newton.py", "shopping.py"} <= {p.name for p in EXAMPLES.glob("*.py")}
    assert set(SMALL_ARGS) <= {p.name for p in EXAMPLES.glob("*.py")}  # no stale entries
