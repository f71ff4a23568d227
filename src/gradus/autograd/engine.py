"""The backward engine: iterative (never recursive) reverse-mode accumulation.

1. Walk the graph from the roots with an explicit stack and count, for every node, how many edges
   point into it (its number of consumers).
2. Process nodes whose consumers are all done (count 0), starting at the roots: sum the gradients
   that arrived for each output, run hooks, call ``Function.backward``, then reduce each returned
   gradient to its input's shape (``sum_to`` undoes broadcasting, centrally, here and only here),
   cast it to the input's dtype, and pass it to the next node.
3. Leaves accumulate into ``.grad``. Without ``retain_graph`` each node frees its saved values.

A chain of 100,000 ops backpropagates with no recursion at all.
"""
from __future__ import annotations

import gc

from ..errors import AnomalyError, AutogradError
from . import function as _function
from .anomaly import has_nonfinite
from .function import AccumulateGrad
from .grad_mode import state


def _sum_to(g, shape, create_graph: bool):
    """Reduce gradient ``g`` to ``shape`` by summing the broadcast dimensions (with the ``sum_to`` op
    only when the gradient's graph is recorded; else on the array)."""
    from ..ops.movement import sum_to, sum_to_array

    if create_graph:
        return sum_to(g, shape)
    return _function._Tensor._make(sum_to_array(g.data, shape))


def _add(a, b, create_graph: bool):
    """Two gradients of one output, summed (through the ``add`` op only when recording)."""
    if create_graph:
        return a + b
    return _function._Tensor._make(a.data + b.data)


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool,
                 inputs=None, allow_unused: bool = False):
    """Backpropagate ``root_grads`` from ``roots`` (lists of Tensors).

    With ``inputs`` (``autograd.grad``) the gradients w.r.t. those tensors are returned and nothing is
    accumulated into ``.grad``; otherwise leaves accumulate and ``None`` is returned.
    """
    Tensor = _function._Tensor  # (not imported: this runs once per backward, and tensor imports us)

    # -- where to capture gradients for autograd.grad ----------------------------------------
    capture = None
    if inputs is not None:
        capture = {}
        for k, t in enumerate(inputs):
            if not t.requires_grad:
                raise AutogradError(
                    f"autograd.grad: input {k} (shape {tuple(t.shape)}) does not require grad")
            node, nr = t._grad_edge()
            capture.setdefault(node, []).append((nr, k))
        captured = [None] * len(inputs)

    # -- seed the roots ------------------------------------------------------------------------
    buffers = {}  # node -> [grad per output]
    handed = {id(g.data) for g in root_grads}  # arrays a leaf must not take without copying
    for y, g in zip(roots, root_grads):
        node, nr = y._grad_edge()
        buf = buffers.setdefault(node, [None] * len(node._output_meta))
        buf[nr] = g if buf[nr] is None else _add(buf[nr], g, create_graph)

    # -- count consumers (iterative DFS) -------------------------------------------------------
    deps = {}
    seen = set(buffers)
    stack = list(buffers)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)

    ready = [n for n in buffers if deps.get(n, 0) == 0]
    prev_mode = state.enabled
    state.enabled = create_graph
    # Backward allocates many short-lived Tensors/Nodes and creates no reference cycles, yet each
    # allocation burst triggers the cyclic GC, which rescans the whole (large) graph: pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            # an output that received no gradient contributes zeros
            for i, g in enumerate(grads):
                if g is None:
                    shape, dtype = node._output_meta[i]
                    grads[i] = Tensor._zeros_like_meta(shape, dtype, _any_tensor(grads))

            if node._hooks:
                for i, hooks in node._hooks.items():
                    for hook in hooks:
                        r = hook(grads[i])
                        if r is not None:
                            grads[i] = r
            if node._retained:
                for i, ref in node._retained.items():
                    t = ref()
                    if t is not None:
                        g = grads[i] if create_graph else Tensor._make(grads[i].data.copy())  # own it
                        t.grad = g if t.grad is None else t.grad + g
            leaf = node.variable() if isinstance(node, AccumulateGrad) else None
            if leaf is not None and leaf._hooks:  # before capture: autograd.grad returns hooked grads
                for hook in leaf._hooks:
                    r = hook(grads[0])
                    if r is not None:
                        grads[0] = r
            if capture is not None and node in capture:
                for nr, k in capture[node]:
                    captured[k] = grads[nr]

            if isinstance(node, AccumulateGrad):
                if capture is None and leaf is not None:
                    _accumulate(leaf, grads[0], create_graph, handed)
                continue
            if node._released:
                raise AutogradError(
                    f"{node.name()}: trying to backward through the graph a second time (its saved "
                    "values were freed after the first backward). Pass retain_graph=True to the first "
                    "backward() / autograd.grad() if you need to backward twice.")

            if node._versions is not None:
                node._check_versions()
            if state.anomaly:
                # the ops inside a backward check their own outputs in anomaly mode; a NaN there must be
                # reported as this node's (e.g. SqrtBackward), so the per-op forward check is paused
                state.anomaly = False
                try:
                    gin = node.fn.backward(node, *grads)
                finally:
                    state.anomaly = True
            else:
                gin = node.fn.backward(node, *grads)
            if not isinstance(gin, tuple):
                gin = (gin,)
            if len(gin) != len(node.next_functions):
                raise AutogradError(
                    f"{node.name()}: backward returned {len(gin)} gradients but forward had "
                    f"{len(node.next_functions)} arguments")
            if state.anomaly:
                _check_anomaly_backward(node, gin)

            for (nxt, nr), g, meta in zip(node.next_functions, gin, node._input_meta):
                if nxt is None:
                    continue
                if g is not None:
                    if not isinstance(g, Tensor):
                        g = Tensor._make(g)
                    shape, dtype = meta
                    if g.shape != shape:
                        g = _reduce_grad(node, g, shape, create_graph)
                    if g.dtype != dtype:
                        g = g.to(dtype)
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * len(nxt._output_meta)
                    buf[nr] = g if buf[nr] is None else _add(buf[nr], g, create_graph)
                elif nxt not in buffers:
                    buffers[nxt] = [None] * len(nxt._output_meta)
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
            if not retain_graph:
                node._release()
    finally:
        state.enabled = prev_mode
        if gc_was_enabled:
            gc.enable()

    if capture is None:
        return None
    for k, g in enumerate(captured):
        if g is None and not allow_unused:
            raise AutogradError(
                f"autograd.grad: input {k} (shape {tuple(inputs[k].shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it")
    return tuple(captured)


def _any_tensor(grads):
    for g in grads:
        if g is not None:
            return g
    return None


def _reduce_grad(node, g, shape, create_graph: bool):
    """Undo broadcasting, or report an op whose backward returned a wrong shape."""
    try:
        return _sum_to(g, shape, create_graph)
    except ValueError as e:
        raise AutogradError(
            f"{node.name()}: backward returned a gradient of shape {tuple(g.shape)} for an input of shape "
            f"{tuple(shape)} (not broadcast-compatible)") from e


def _accumulate(t, g, create_graph: bool, handed: set) -> None:
    """Add gradient ``g`` into leaf ``t``'s ``.grad``.

    ``handed`` holds the ids of arrays already given away in this backward pass (to a leaf, or by the
    caller as a root ``gradient``)."""
    if not create_graph:
        # .grad must be a writeable array of the leaf's own (users and optimizers update it in place:
        # grad.zero_(), weight decay). The incoming one may be a read-only broadcast view (sum's
        # backward), a view into another array, the caller's `gradient`, or already another leaf's
        # (both sides of +): copy then. A fresh GEMM result (Linear's weight grad) is used as is.
        if t.grad is None:
            a = g.data
            if not a.flags.writeable or a.base is not None or id(a) in handed:
                a = a.copy()
            handed.add(id(a))
            t.grad = _function._Tensor._make(a)
        else:  # the arrays directly: no graph is recorded here, and an op call costs ~10 us
            t.grad = _function._Tensor._make(t.grad.data + g.data)
        return
    # Never in place: the same array may be the gradient of several leaves (e.g. both sides of +).
    t.grad = g if t.grad is None else t.grad + g


def _check_anomaly_backward(node, gin) -> None:
    from ..backend import get_array_module

    for i, g in enumerate(gin):
        if g is None:
            continue
        data = g.data if isinstance(g, _function._Tensor) else g  # a raw backward returns arrays
        if has_nonfinite(get_array_module(data), data):
            where = f"\nThe forward call that created this node:\n{node._stack}" if node._stack else ""
            raise AnomalyError(
                f"anomaly detected: {node.name()} returned NaN/Inf in the gradient of its input {i} "
                f"(shape {tuple(data.shape)}){where}")
