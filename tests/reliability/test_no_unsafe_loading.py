"""No code path of the package can execute data: no pickle, no eval/exec, no torch.load, no
np.load(allow_pickle=True). Checked on the syntax tree (docstrings and comments that mention
them, ``module.eval()`` calls and ``def eval`` methods are not uses)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "gradus"
FILES = sorted(SRC.rglob("*.py"))
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}


def unsafe_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in UNSAFE_MODULES:
                found.append(f"{node.value.id}.{node.attr}")
            if node.value.id == "torch" and node.attr == "load":
                found.append("torch.load")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("eval", "exec", "__import__"):
                found.append(f"{f.id}(...)")
            if isinstance(f, ast.Name) and f.id == "compile" and len(node.args) >= 3:
                found.append("compile(..., 'exec')")
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    found.append("allow_pickle=...")
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_no_pickle_eval_exec_or_torch_load(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert unsafe_uses(tree) == [], f"{path.relative_to(SRC)}: unsafe loading or code execution"


@pytest.mark.parametrize(
    "code,hit",
    [
        ("import pickle", "import pickle"),
        ("from pickle import loads", "from pickle import ..."),
        ("pickle.loads(b)", "pickle.loads"),
        ("eval(s)", "eval(...)"),
        ("exec(s)", "exec(...)"),
        ("torch.load(p)", "torch.load"),
        ("np.load(p, allow_pickle=True)", "allow_pickle=..."),
    ],
)
def test_the_checker_finds_them(code, hit):
    assert hit in unsafe_uses(ast.parse(code))


@pytest.mark.parametrize(
    "code",
    [
        "model.eval()",
        "def eval(self):\n    pass",
        "'''never pickle. eval(x)'''",
        "np.load(p, allow_pickle=False)",
        "# torch.load(p)",
    ],
)
def test_the_checker_ignores_non_uses(code):
    assert unsafe_uses(ast.parse(code)) == []


def test_the_textual_grep_agrees():
    """The plain grep of the brief (``import pickle``, ``pickle.``, ``eval(`` but not ``.eval(``,
    ``exec(``, ``torch.load``) on code lines (comments and docstring lines that mention them as
    words excluded by requiring code context)."""
    import re

    pattern = re.compile(
        r"^\s*(import pickle|from "
        r"pickle)|(?<![\w.`'\"])(pickle\.\w+\(|eval\(|exec\(|torch\.load\()"
    )
    hits = []
    for path in FILES:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.match(r"\s*def (eval|exec)\(", code):
                continue
            if pattern.search(code):
                hits.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert hits == []
