"""gradus.viz.graph: DOT text of the computational graph, and rendering through Graphviz."""
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import gradus
from gradus.viz import graph
from gradus.viz.graph import GraphvizNotFoundError, render, to_dot

ROOT = Path(__file__).resolve().parents[2]


def _parse(dot: str):
    """(node id -> label, list of (src, dst)) of the DOT text; also checks its overall form."""
    assert dot.startswith("digraph gradus {") and dot.rstrip().endswith("}")
    nodes = dict(re.findall(r'^\s+(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, flags=re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, flags=re.M)
    for a, b in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} to an undeclared node"
    return nodes, edges


def _example():
    x = gradus.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.name = "x"
    w = gradus.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x * w).sum() + 1.0
    return x, w, y


def test_dot_structure_of_a_small_expression():
    x, w, y = _example()
    nodes, edges = _parse(to_dot(y, params={"weight": w}))
    labels = {v: k for k, v in nodes.items()}
    assert set(nodes.values()) == {"output\\n()", "Add\\n()", "const\\n()", "Sum\\n()", "Mul\\n(3,)",
                                   "x\\n(3,)", "weight\\n(3,)"}
    expect = [("Add\\n()", "output\\n()"), ("Sum\\n()", "Add\\n()"), ("const\\n()", "Add\\n()"),
              ("Mul\\n(3,)", "Sum\\n()"), ("x\\n(3,)", "Mul\\n(3,)"), ("weight\\n(3,)", "Mul\\n(3,)")]
    assert sorted(edges) == sorted((labels[a], labels[b]) for a, b in expect)


def test_values_and_grads_in_leaf_labels():
    x, w, y = _example()
    dot = to_dot(y, show_values=True, show_grads=True)
    assert "\\ngrad" not in dot  # no backward yet
    assert "value [1., 2., 3.]" in dot and "value 5.5" in dot
    y.backward()  # frees the graph's saved values, but the structure is still drawable
    dot = to_dot(y, show_values=True, show_grads=True)
    assert "grad [ 0.5, -1. , 2. ]" in dot and "grad [1., 2., 3.]" in dot


def test_shared_leaf_appears_once_and_leaf_only_graph():
    a = gradus.tensor(2.0, requires_grad=True)
    a.name = "a"
    nodes, edges = _parse(to_dot(a * a + a))
    assert list(nodes.values()).count("a\\n()") == 1
    assert len([e for e in edges if nodes[e[0]] == "a\\n()"]) == 3  # two into Mul, one into Add
    nodes, edges = _parse(to_dot(a, show_values=True))
    assert list(nodes.values()) == ["a\\n()\\nvalue 2"] and edges == []


def test_labels_are_escaped():
    t = gradus.tensor(1.0, requires_grad=True)
    t.name = 'say "hi"\\'
    dot = to_dot(t * 2)
    assert 'say \\"hi\\"\\\\' in dot
    _parse(dot)


def test_deep_graph_does_not_recurse():
    x = gradus.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes, edges = _parse(to_dot(y))
    assert len([v for v in nodes.values() if v.startswith("Mul")]) == 3000


def _load_example(name):
    path = ROOT / "docs" / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shopping_example(capsys):
    total, grads, dot = _load_example("shopping").main()
    assert total == pytest.approx(715.0, rel=1e-12)
    expected = {"apple": 2.2, "n_apple": 110.0, "orange": 3.3, "n_orange": 165.0, "tax": 650.0}
    assert grads.keys() == expected.keys()
    for name, g in expected.items():
        assert grads[name] == pytest.approx(g, rel=1e-12), name
    nodes, edges = _parse(dot)
    assert "apple\\n()\\nvalue 100\\ngrad 2.2" in nodes.values()
    assert "total\\n()\\nvalue 715" in nodes.values()
    assert len([v for v in nodes.values() if v.startswith("Mul")]) == 3 and len(edges) == 9
    assert "d total / d tax      = 650" in capsys.readouterr().out


def test_render_without_graphviz_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match=r"(?s)Install Graphviz.*to_dot\(y\) works without it"):
        render(_example()[2], tmp_path / "g.png")
    with pytest.raises(ValueError, match="format"):
        render(_example()[2], tmp_path / "g.gif", format="gif")


def test_render_calls_dot_without_a_shell(monkeypatch, tmp_path):
    """A stand-in `dot` on PATH records its arguments and copies the DOT text to the -o file."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\n"
                    "out = open(args[args.index('-o') + 1], 'w')\n"
                    "out.write(args[0] + '\\n' + sys.stdin.read())\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    y = _example()[2]
    out = render(y, tmp_path / "graph.svg", format="svg", show_values=True)
    text = out.read_text()
    assert text.startswith("-Tsvg\n") and text.split("\n", 1)[1] == to_dot(y, show_values=True)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_graphviz(tmp_path):
    out = render(_example()[2], tmp_path / "graph.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_of_float64_example_is_plain_text():
    assert isinstance(to_dot(gradus.tensor(np.ones(2), requires_grad=True).sum()), str)
