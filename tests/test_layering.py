"""The layering promise as a test: imports under ``src/gradus`` point down the layer table only.

Every module is parsed with :mod:`ast`; every import counts, at module level and inside functions
(lazy imports are still dependencies), absolute (``import gradus.nn``, ``from gradus.data import x``)
and relative (``from ..functional import conv``; ``from .. import x`` resolves ``x`` to a subpackage
or module when it is one). ``import gradus`` followed by ``gradus.nn.Linear`` counts as an import of
``gradus.nn`` at the line of the attribute use. A module fails on

(a) an import of a unit on a higher layer (see ``LAYERS``);
(b) an import of another unit on the *same* layer, unless the pair is in ``PEER_IMPORTS`` (the
    rule: peers are independent; the only same-layer imports are the core's unavoidable ones);
(c) an underscore-prefixed name of another unit: ``from ..functional.conv import _helper``,
    ``from ..data._compat import x``, or ``Fc._helper`` on a module of another unit bound by an
    import (``from ..functional import conv as Fc``).

A *unit* is a top-level subpackage or module of ``gradus`` (``nn``, ``tensor``, ...); imports inside
one unit are free. The package root ``gradus`` (``import gradus``, ``from .. import no_grad``) counts
as layer 3: it eagerly imports layers 1-3 only and loads the rest lazily.

Point the checker at another tree with ``GRADUS_LAYERING_SRC=/path/to/src/gradus``, or run this file:
``python tests/test_layering.py [/path/to/src/gradus]`` prints every violation.
"""
from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(os.environ.get("GRADUS_LAYERING_SRC") or Path(__file__).resolve().parents[1] / "src" / "gradus")

ROOT = "<gradus>"  # the package root, gradus/__init__.py

# Bottom to top (docs/architecture.md, "Layers"). Every unit of the tree must be listed here.
LAYERS: dict[str, int] = {
    "errors": 1, "dtypes": 1, "backend": 1, "random": 1, "validation": 1,
    "allocator": 1,  # glibc malloc settings applied at import (ctypes only)
    "kernels": 1,  # optional compiled (numba) loops on raw NumPy arrays, below everything that uses them
    "autograd": 2, "tensor": 2, "creation": 2,
    "ops": 3, "functional": 3,
    "nn": 4, "optim": 4, "data": 4,
    "distributed": 5,  # data-parallel on MPI: DDP wraps an nn.Module, the sampler is a data.Sampler
    "models": 6, "rl": 6, "viz": 6, "train": 6,  # train runs DDP models (and must not be a peer of it)
    "recipes": 7,
    "cli": 8,
    "__main__": 9,  # `python -m gradus`: calls the cli
    ROOT: 3,
}

# Same-layer imports that are allowed (importer unit, imported unit): reason. The rule is that peers
# are independent; these are the core's unavoidable ones. Nothing else on one layer imports a peer:
# nn / optim / data never import each other, nor do models / rl / viz / train.
PEER_IMPORTS: dict[tuple[str, str], str] = {
    ("backend", "errors"): "device errors are gradus errors",
    ("validation", "errors"): "argument checks raise the gradus error types (DTypeError, OutOfMemoryError)",
    ("tensor", "autograd"): "a Tensor holds its grad_fn node and reads the grad mode",
    ("autograd", "tensor"): "Function.apply wraps raw outputs in Tensors",
    ("autograd", "creation"): "the seed gradient (ones_like) and zero tangents of autograd.functional",
    ("creation", "tensor"): "the factories build Tensors",
    ("functional", "ops"): "functional ops are composed of the primitives (ops sit below functional)",
}

# Upward imports that are allowed (importer unit, imported unit): reason. Inside functions only.
LAZY_UPWARD: dict[tuple[str, str], str] = {
    ("tensor", "ops"): "Tensor methods and operators call the ops (bound at call time, no import cycle)",
    ("autograd", "ops"): "the engine reduces broadcast gradients with ops; autograd.functional uses them",
}

# Modules not checked at all (path relative to src/gradus): reason.
SKIP: dict[str, str] = {
    "__init__.py": "the package root re-exports the public API of layers 1-3 and loads the rest lazily",
}


@dataclass(frozen=True)
class Violation:
    module: str  # path relative to src/gradus
    line: int
    statement: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: `{self.statement}`: {self.why}"


# --------------------------------------------------------------------------- the checker


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    """(dotted name, is a package __init__) of a file under ``src`` (= the gradus folder)."""
    rel = path.relative_to(src).with_suffix("")
    parts = ["gradus", *rel.parts]
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def _is_module(dotted: str, src: Path) -> bool:
    """Whether ``gradus.a.b`` is a module or package in the tree."""
    parts = dotted.split(".")
    if parts[0] != "gradus":
        return False
    base = src.joinpath(*parts[1:]) if len(parts) > 1 else src
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _unit(dotted: str) -> str | None:
    """The unit of ``gradus.a.b`` (``a``), ROOT for ``gradus``, None outside gradus."""
    parts = dotted.split(".")
    if parts[0] != "gradus":
        return None
    return parts[1] if len(parts) > 1 else ROOT


def _private(parts: list[str]) -> str | None:
    for p in parts:
        if p.startswith("_") and not (p.startswith("__") and p.endswith("__")):
            return p
    return None


class _Visitor(ast.NodeVisitor):
    """Collects a module's imports of gradus modules and its uses of other units' private names."""

    def __init__(self, name: str, is_pkg: bool, src: Path, lines: list[str]):
        self.name, self.is_pkg, self.src, self.lines = name, is_pkg, src, lines
        self.unit = _unit(name)
        self.depth = 0  # > 0 inside a function
        self.imports: list[tuple[int, str, str, bool]] = []  # (line, statement, target, lazy)
        self.private: list[tuple[int, str, str]] = []  # (line, statement, private name)
        self.module_aliases: dict[str, str] = {}  # local name -> the gradus module bound to it
        self.root_aliases: set[str] = set()  # local names bound to the package root

    def _stmt(self, node: ast.AST) -> str:
        text = self.lines[node.lineno - 1].strip()
        return text if len(text) <= 120 else text[:117] + "..."

    def _import(self, node: ast.AST, target: str) -> None:
        self.imports.append((node.lineno, self._stmt(node), target, self.depth > 0))

    def _bind(self, local: str, target: str) -> None:
        if target == "gradus":
            self.root_aliases.add(local)
        elif _is_module(target, self.src):
            self.module_aliases[local] = target

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _unit(alias.name) is None:
                continue
            self._import(node, alias.name)
            if _unit(alias.name) != self.unit and _private(alias.name.split(".")):
                self.private.append((node.lineno, self._stmt(node), _private(alias.name.split("."))))
            if alias.asname:
                self._bind(alias.asname, alias.name)
            else:
                self.root_aliases.add("gradus")  # `import gradus.x.y` binds the name `gradus`

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            pkg = self.name.split(".") if self.is_pkg else self.name.split(".")[:-1]
            pkg = pkg[: len(pkg) - (node.level - 1)]
            base = ".".join(pkg + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        if _unit(base) is None:
            return
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            is_mod = alias.name != "*" and _is_module(sub, self.src)
            target = sub if is_mod else base  # `from .. import nn` imports gradus.nn
            self._import(node, target)
            if _unit(target) != self.unit:
                bad = _private(target.split(".")[1:] + ([] if is_mod else [alias.name]))
                if bad:
                    self.private.append((node.lineno, self._stmt(node), bad))
            if is_mod:  # a module bound to a name: its attributes are checked too (Fc._helper)
                self._bind(alias.asname or alias.name, target)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # The outermost attribute of a chain: `gradus.nn.Linear`, `Fc._helper`, `F.relu(x).sum`.
        chain: list[str] = []
        base: ast.AST = node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        chain.reverse()
        if isinstance(base, ast.Name) and base.id in self.root_aliases:
            dotted = "gradus"
            for part in chain:  # the longest module prefix: gradus.data.datasets
                if not _is_module(f"{dotted}.{part}", self.src):
                    break
                dotted = f"{dotted}.{part}"
            if dotted != "gradus":
                self._import(node, dotted)
            rest = chain[dotted.count("."):]
            if rest and _private(rest[:1]) and _unit(dotted) != self.unit:
                self.private.append((node.lineno, self._stmt(node), f"{dotted}.{rest[0]}"))
        elif isinstance(base, ast.Name) and base.id in self.module_aliases:
            if _private(chain[:1]) and _unit(self.module_aliases[base.id]) != self.unit:
                self.private.append((node.lineno, self._stmt(node), f"{base.id}.{chain[0]}"))
        self.visit(base)  # calls, subscripts, ... inside the chain


def _scan(src: Path):
    """Per module: (path relative to src, its unit, imports, private uses) -- see _Visitor."""
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if rel in SKIP:
            continue
        name, is_pkg = _module_name(path, src)
        text = path.read_text(encoding="utf-8")
        v = _Visitor(name, is_pkg, src, text.splitlines())
        v.visit(ast.parse(text, filename=str(path)))
        yield rel, v.unit, v.imports, v.private


def check_tree(src: Path = SRC, used: set | None = None) -> list[Violation]:
    """Every violation of the layering rules in the gradus package folder ``src``; the exceptions
    that were needed are added to ``used`` (when given)."""
    used = set() if used is None else used
    out: list[Violation] = []
    for rel, me, imports, private in _scan(Path(src)):
        if me not in LAYERS:
            out.append(Violation(rel, 1, "", f"unit {me!r} is not in the layer table (LAYERS)"))
            continue
        for line, stmt, target, lazy in imports:
            them = _unit(target)
            if them == me:
                continue
            if them not in LAYERS:
                out.append(Violation(rel, line, stmt, f"imports {target}: unit {them!r} is in no layer"))
                continue
            mine, theirs = LAYERS[me], LAYERS[them]
            if theirs > mine:
                if lazy and (me, them) in LAZY_UPWARD:
                    used.add((me, them))
                    continue
                where = " at module level (allowed in functions only)" if (me, them) in LAZY_UPWARD else ""
                out.append(Violation(rel, line, stmt, f"imports {target}{where}: layer {mine} ({me}) must "
                                                      f"not depend on layer {theirs} ({them})"))
            elif theirs == mine:
                if (me, them) in PEER_IMPORTS:
                    used.add((me, them))
                    continue
                out.append(Violation(rel, line, stmt, f"imports {target}: {me} and {them} are peers on "
                                                      f"layer {mine}, which do not import each other"))
        for line, stmt, name in private:
            out.append(Violation(rel, line, stmt, f"uses the private name {name!r} of another unit"))
    return sorted(set(out), key=lambda x: (x.module, x.line, x.why))


def test_the_tree_respects_the_layering():
    violations = check_tree(SRC)
    assert not violations, "layering violations (docs/architecture.md, Layers):\n" + "\n".join(
        map(str, violations))


def test_every_unit_is_in_the_layer_table():
    units = {p.stem for p in SRC.glob("*.py")}
    units |= {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    units.discard("__init__")
    assert units <= set(LAYERS), f"place these in LAYERS: {sorted(units - set(LAYERS))}"


def test_exceptions_have_reasons_and_are_needed():
    """The exception lists stay minimal: each entry has a reason and is still used by the tree."""
    used: set = set()
    check_tree(SRC, used)
    for table in (PEER_IMPORTS, LAZY_UPWARD, SKIP):
        for key, reason in table.items():
            assert reason, f"{key}: every exception needs its reason"
    unused = (set(PEER_IMPORTS) | set(LAZY_UPWARD)) - used
    assert not unused, f"no module needs these exceptions any more, remove them: {sorted(unused)}"


def _check_snippet(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for d in [p for p in tmp_path.rglob("*") if p.is_dir()] + [tmp_path]:
        (d / "__init__.py").touch()
    return [str(v) for v in check_tree(tmp_path)]


@pytest.mark.parametrize("files, expected", [
    # (a) upward, module level and lazy, relative and absolute
    ({"nn/a.py": "from ..models import lenet\n", "models/lenet.py": ""}, "(nn) must not depend on layer 6"),
    ({"nn/a.py": "def f():\n    import gradus.train.x\n", "train/x.py": ""}, "layer 4 (nn) must not"),
    ({"ops/a.py": "from .. import nn\n", "nn/b.py": ""}, "layer 3 (ops) must not depend on layer 4 (nn)"),
    ({"distributed/a.py": "from ..train import trainer\n", "train/trainer.py": ""},
     "layer 5 (distributed) must not depend on layer 6 (train)"),
    ({"ops/a.py": "import gradus\ndef f():\n    return gradus.viz.plots\n", "viz/plots.py": ""},
     "imports gradus.viz.plots"),
    # the lazy exception holds inside functions only
    ({"tensor.py": "from .ops import x\n", "ops/x.py": ""}, "at module level"),
    # (b) peers
    ({"models/a.py": "def f():\n    from ..train import x\n", "train/x.py": ""}, "peers on layer 6"),
    ({"viz/a.py": "from gradus.train.metrics import f\n", "train/metrics.py": ""}, "peers on layer 6"),
    # (c) private names of another unit
    ({"nn/a.py": "from ..functional.conv import _pair\n", "functional/conv.py": ""}, "private name '_pair'"),
    ({"nn/a.py": "from ..functional import conv as Fc\nx = Fc._pair(1)\n", "functional/conv.py": ""},
     "private name 'Fc._pair'"),
    ({"nn/a.py": "from ..data._compat import f\n", "data/_compat.py": ""}, "private name '_compat'"),
    ({"recipes/a.py": "from ..train.runner import _predict_fn\n", "train/runner.py": ""},
     "private name '_predict_fn'"),
    ({"newpkg/a.py": ""}, "not in the layer table"),
])
def test_the_checker_catches(tmp_path, files, expected):
    found = _check_snippet(tmp_path, files)
    assert any(expected in v for v in found), found


def test_the_checker_allows(tmp_path):
    files = {
        "functional/pooling.py": "from .conv import _ntuple\n",  # private within one unit
        "functional/conv.py": "def _ntuple(): ...\n",
        "tensor.py": "def f():\n    from .ops import elementwise\n",  # the documented lazy exception
        "ops/elementwise.py": "from .. import backend\nimport numpy\n",
        "backend.py": "",
        "recipes/r.py": "import gradus\nfrom ..train import trainer\nx = gradus.models.mlp\n",
        "train/trainer.py": "from .. import __version__\n",
        "models/mlp.py": "",
    }
    assert _check_snippet(tmp_path, files) == []


if __name__ == "__main__":
    found = check_tree(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
    print("\n".join(map(str, found)) or "no layering violations")
    print(f"{len(found)} violation(s)", file=sys.stderr)
    sys.exit(1 if found else 0)
