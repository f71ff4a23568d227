"""The computational graph as a picture: DOT text (no dependency) and, with Graphviz, PNG/SVG.

Walks the backward graph from ``y.grad_fn`` without recursion. Op nodes (ellipses) are the
``Node`` objects of the ops, labelled with the op name and output shape; leaf tensors (boxes) come
from their ``AccumulateGrad`` nodes, labelled with the tensor's name (its ``.name`` attribute or
its key in ``params``), shape, and optionally its value and gradient. Arguments that do not
require grad appear as small grey constants. Edges point the way data flows in the forward pass.

    >>> import gradus
    >>> from gradus.viz.graph import to_dot
    >>> x = gradus.tensor(3.0, requires_grad=True)
    >>> x.name = "x"
    >>> y = x * x + 1.0
    >>> print(to_dot(y).splitlines()[0])
    digraph gradus {
"""
from __future__ import annotations

import shutil
import subprocess
from collections import deque
from pathlib import Path

import numpy as np

__all__ = ["to_dot", "render", "GraphvizNotFoundError"]

_FORMATS = ("png", "svg", "pdf")


class GraphvizNotFoundError(RuntimeError):
    """The ``dot`` program (Graphviz) is not on PATH."""


def _escape(text: str) -> str:
    """Quote a label for DOT: backslashes and quotes escaped, newlines as DOT's ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _values(a) -> str:
    """Array values on one line, abbreviated for large arrays."""
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item():.6g}"
    text = np.array2string(a, precision=4, threshold=8, edgeitems=2, separator=", ")
    return " ".join(text.split())


def _op_name(node) -> str:
    name = node.name()
    return name[: -len("Backward")] if name.endswith("Backward") else name


def to_dot(y, show_values: bool = False, show_grads: bool = False, params: dict | None = None) -> str:
    """DOT text of the graph that computed ``y`` (a Tensor).

    ``params``: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) naming leaves
    that have no ``.name``. ``show_values`` / ``show_grads`` add leaf values and ``.grad`` (after
    ``backward()``) to the leaf labels, and the value of ``y`` to its label.
    """
    from ..autograd.function import AccumulateGrad

    names = {id(t): n for n, t in (params or {}).items()}

    def tensor_label(t, fallback: str) -> str:
        name = getattr(t, "name", None) or names.get(id(t)) or fallback
        lines = [name, _shape(t.shape)] if name else [_shape(t.shape)]
        if show_values:
            lines.append("value " + _values(t.numpy()))
        if show_grads and t.grad is not None:
            lines.append("grad " + _values(t.grad.numpy()))
        return "\n".join(lines)

    lines = ["digraph gradus {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    ids: dict = {}

    def node_id(node) -> str:
        if id(node) not in ids:
            ids[id(node)] = f"n{len(ids)}"
        return ids[id(node)]

    out_label = tensor_label(y, "output")
    lines.append(f'  out [label="{_escape(out_label)}", shape=box, style="filled,bold", '
                 'fillcolor="#fde68a"];')
    if y.grad_fn is None:  # a leaf (or a constant): the graph is just this tensor
        lines.append("}")
        return "\n".join(lines) + "\n"

    root = y.grad_fn
    lines_edges = [f"  {node_id(root)} -> out;"]
    queue, seen, n_const = deque([root]), {id(root)}, 0
    while queue:  # breadth-first, iterative: deep graphs do not recurse
        node = queue.popleft()
        nid = node_id(node)
        if isinstance(node, AccumulateGrad):
            t = node.variable()
            if t is None:  # the leaf was garbage-collected; its shape is still known
                label = "leaf (freed)\n" + _shape(node._output_meta[0][0])
            else:
                label = tensor_label(t, "")
            lines.append(f'  {nid} [label="{_escape(label)}", shape=box, style=filled, fillcolor="#dbeafe"];')
            continue
        shapes = " ".join(_shape(s) for s, _ in node._output_meta)
        lines.append(f'  {nid} [label="{_escape(_op_name(node) + chr(10) + shapes)}", shape=ellipse, '
                     'style=filled, fillcolor="#e5e7eb"];')
        metas = node._input_meta or (None,) * len(node.next_functions)
        for (nxt, _), meta in zip(node.next_functions, metas):
            if nxt is None:
                if meta is not None:  # a Tensor argument that does not require grad
                    cid = f"c{n_const}"
                    n_const += 1
                    lines.append(f'  {cid} [label="const\\n{_shape(meta[0])}", shape=box, fontsize=9, '
                                 'color="#9ca3af", fontcolor="#6b7280"];')
                    lines_edges.append(f"  {cid} -> {nid};")
                continue
            lines_edges.append(f"  {node_id(nxt)} -> {nid};")
            if id(nxt) not in seen:
                seen.add(id(nxt))
                queue.append(nxt)
    return "\n".join(lines + lines_edges + ["}"]) + "\n"


def render(y, path, format: str = "png", **kwargs) -> Path:  # noqa: A002 (Graphviz's word)
    """Write the graph of ``y`` to ``path`` as PNG/SVG/PDF with Graphviz's ``dot`` program.

    ``kwargs`` go to ``to_dot``. Raises ``GraphvizNotFoundError`` when ``dot`` is not installed;
    ``to_dot`` needs no Graphviz and its text can be pasted into any DOT viewer.
    """
    if format not in _FORMATS:
        raise ValueError(f"render: format must be one of {_FORMATS}, got {format!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            "render: the Graphviz 'dot' program is not on PATH. Install Graphviz (apt install graphviz, "
            "brew install graphviz, conda install graphviz, or https://graphviz.org/download/). "
            "gradus.viz.graph.to_dot(y) works without it and returns the DOT text.")
    path = Path(path)
    result = subprocess.run([exe, f"-T{format}", "-o", str(path)], input=to_dot(y, **kwargs),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot failed with exit code {result.returncode}: {result.stderr.strip()}")
    return path
