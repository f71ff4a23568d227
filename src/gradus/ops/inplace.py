"""The differentiable forms of in-place updates on tensors inside a graph (PyTorch records them).

``y.mul_(2)`` on a tensor computed by recorded ops is differentiated as ``y = y * 2``: the tensor
method computes the out-of-place result from a private copy of the old value (so the op that reads it
in backward is not disturbed by the write), writes the result into ``y``'s memory (views of ``y``
see it) and moves ``y`` to the new node.  Two updates have no out-of-place op of their own:

* :class:`Replace` — ``zero_`` / ``fill_`` / ``copy_`` / random fills: y = broadcast(v);
  dy/dold = 0, dy/dv = sum over the broadcast dims of g.
* :class:`SetItem` — ``y[idx] = v``: y = old with ``y[idx]`` replaced by v; d/dold = g with the
  assigned positions zeroed, d/dv = g[idx] summed to v's shape.
"""
from __future__ import annotations

from ..autograd.function import Function, once_differentiable
from ..backend import get_array_module
from .movement import sum_to, sum_to_array

__all__ = ["Replace", "SetItem", "replace", "set_item"]


class Replace(Function):
    @staticmethod
    def forward(ctx, old, value):
        xp = get_array_module(old)
        ctx.value_shape = xp.shape(value)
        return xp.broadcast_to(xp.asarray(value, dtype=old.dtype), old.shape).copy()

    @staticmethod
    def backward(ctx, g):
        return None, sum_to(g, ctx.value_shape)        # the old value does not reach the result


class SetItem(Function):
    @staticmethod
    def forward(ctx, old, value, np_idx, layout):
        xp = get_array_module(old)
        ctx.save_raw(np_idx=np_idx)  # may hold index arrays
        ctx.value_shape, ctx.layout = xp.shape(value), layout
        out = old.copy()
        out[np_idx] = value if layout is None else layout(value)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        gx = g.copy()
        gx[ctx.np_idx] = 0
        gv = g[ctx.np_idx]
        if ctx.layout is not None:      # NumPy's placement of the index-tensor dims -> PyTorch's
            gv = gv.reshape(ctx.layout.torch_shape)
        return gx, sum_to_array(gv, ctx.value_shape), None, None


def replace(old, value):
    return Replace.apply(old, value)


def set_item(old, np_idx, layout, value):
    return SetItem.apply(old, value, np_idx, layout)
