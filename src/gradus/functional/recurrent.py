"""Recurrent cell steps, fused: one graph node per time step for the gate math of an LSTM or GRU.

The recurrent layers (``nn.RNN``/``nn.LSTM``/``nn.GRU``) run the input projection of all time steps
as one GEMM per layer and direction (``gi = x W_ih^T + b_ih``, shape (T, B, G*H)), then per step one
GEMM for the hidden projection (``gh = h W_hh^T + b_hh``) and one of these fused cell ops, whose
forward and backward are written on raw arrays (``backward_raw``) with a Tensor-op twin for double
backward (``backward_composed``, a ``FusedFunction``). Gate orders and formulas are PyTorch's:

LSTM (gates i, f, g, o)::

    [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](gi + gh)
    c' = f * c + i * g,   h' = o * tanh(c')

GRU (gates r, z, n; note the reset gate multiplies the *projected* hidden state, bias included)::

    r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),  n = tanh(gi_n + r * gh_n)
    h' = (1 - z) * n + z * h

``sigmoid(x) = 0.5 * tanh(x / 2) + 0.5``: one stable NumPy call (no overflow for any x).
"""
from __future__ import annotations

from .. import backend, kernels
from ..autograd.function import FusedFunction
from ..errors import ShapeError
from ..ops import elementwise as ew
from ..ops.movement import cat
from ..tensor import Tensor

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "lstm_layer"]

xp_of = backend.get_array_module


def _sigmoid_into(x, out):
    xp = xp_of(x)
    xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class LSTMCellStep(FusedFunction):
    """(h', c') from gate pre-activations gi, gh (B, 4H) and the cell state c (B, H)."""

    @staticmethod
    def forward(ctx, gi, gh, c):
        xp = xp_of(gi)
        H = c.shape[-1]
        act = gi + gh                                   # (B, 4H) pre-activations, then activations
        _sigmoid_into(act[..., :2 * H], act[..., :2 * H])
        xp.tanh(act[..., 2 * H:3 * H], out=act[..., 2 * H:3 * H])
        _sigmoid_into(act[..., 3 * H:], act[..., 3 * H:])
        i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
        c_new = f * c
        c_new += i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.save_for_backward(gi, gh, c)
        ctx.save_raw(act=act, tc=tc)
        return h_new, c_new

    @staticmethod
    def backward_raw(ctx, gh_out, gc_out):
        xp = xp_of(gh_out)
        _, _, c = ctx.saved_arrays
        act, tc = ctx.act, ctx.tc
        H = c.shape[-1]
        i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
        gc = gh_out * o
        gc *= 1 - tc * tc
        gc += gc_out                                    # total gradient of c'
        d = xp.empty_like(act)
        xp.multiply(gc, g, out=d[..., :H])
        d[..., :H] *= i * (1 - i)
        xp.multiply(gc, c, out=d[..., H:2 * H])
        d[..., H:2 * H] *= f * (1 - f)
        xp.multiply(gc, i, out=d[..., 2 * H:3 * H])
        d[..., 2 * H:3 * H] *= 1 - g * g
        xp.multiply(gh_out, tc, out=d[..., 3 * H:])
        d[..., 3 * H:] *= o * (1 - o)
        needs = ctx.needs_input_grad
        return (d if needs[0] else None, d if needs[1] else None, gc * f if needs[2] else None)

    @staticmethod
    def backward_composed(ctx, gh_out, gc_out):
        gi, gh, c = ctx.saved_tensors
        H = c.shape[-1]
        pre = gi + gh
        i, f = ew.sigmoid(pre[..., :H]), ew.sigmoid(pre[..., H:2 * H])
        g, o = ew.tanh(pre[..., 2 * H:3 * H]), ew.sigmoid(pre[..., 3 * H:])
        tc = ew.tanh(f * c + i * g)
        gc = gh_out * o * (1 - tc * tc) + gc_out
        d = cat([gc * g * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - g * g),
                 gh_out * tc * o * (1 - o)], -1)
        return d, d, gc * f


class GRUCellStep(FusedFunction):
    """h' from the projections gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (B, 3H) and h (B, H)."""

    @staticmethod
    def forward(ctx, gi, gh, h):
        xp = xp_of(gi)
        H = h.shape[-1]
        act = gi[..., :2 * H] + gh[..., :2 * H]         # r, z
        _sigmoid_into(act, act)
        r, z = act[..., :H], act[..., H:]
        n = r * gh[..., 2 * H:]
        n += gi[..., 2 * H:]
        xp.tanh(n, out=n)
        h_new = h - n
        h_new *= z
        h_new += n                                      # (1 - z) n + z h
        ctx.save_for_backward(gi, gh, h)
        ctx.save_raw(act=act, n=n)
        return h_new

    @staticmethod
    def backward_raw(ctx, g):
        xp = xp_of(g)
        _, gh, h = ctx.saved_arrays
        act, n = ctx.act, ctx.n
        H = h.shape[-1]
        r, z = act[..., :H], act[..., H:]
        dn = g * (1 - z)
        dn *= 1 - n * n                                 # d pre-activation of n
        shape = g.shape[:-1] + (3 * H,)
        d_gi = xp.empty(shape, dtype=g.dtype)
        xp.multiply(dn, gh[..., 2 * H:], out=d_gi[..., :H])
        d_gi[..., :H] *= r * (1 - r)
        xp.multiply(g, h - n, out=d_gi[..., H:2 * H])
        d_gi[..., H:2 * H] *= z * (1 - z)
        d_gi[..., 2 * H:] = dn
        d_gh = d_gi.copy()
        d_gh[..., 2 * H:] *= r
        needs = ctx.needs_input_grad
        return (d_gi if needs[0] else None, d_gh if needs[1] else None, g * z if needs[2] else None)

    @staticmethod
    def backward_composed(ctx, g):
        gi, gh, h = ctx.saved_tensors
        H = h.shape[-1]
        r = ew.sigmoid(gi[..., :H] + gh[..., :H])
        z = ew.sigmoid(gi[..., H:2 * H] + gh[..., H:2 * H])
        n = ew.tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
        dn = g * (1 - z) * (1 - n * n)
        dr = dn * gh[..., 2 * H:] * r * (1 - r)
        dz = g * (h - n) * z * (1 - z)
        return cat([dr, dz, dn], -1), cat([dr, dz, dn * r], -1), g * z


def _lstm_gate_consts(H, dtype, xp):
    """Per-gate constants of the fused LSTM layer, gate order [i, f, g, o], each (4H,) in ``dtype``:
    ``scale`` (1/2 for the sigmoid gates, 1 for g: both the pre-activation scale and the post-tanh
    scale, as sigmoid(x) = 0.5 tanh(x / 2) + 0.5 and g = tanh(x)), the post-tanh ``shift`` (1/2, 0)
    and the indicator of the tanh gate."""
    tanh_gate = xp.zeros(4 * H, dtype=dtype)
    tanh_gate[2 * H:3 * H] = 1
    shift = 0.5 * (1 - tanh_gate)                  # 0.5 on i, f, o; 0 on g
    return shift + tanh_gate, shift, tanh_gate


class LSTMLayer(FusedFunction):
    """A whole LSTM layer in one direction: T steps of ``LSTMCellStep`` in ONE graph node.

    gi (T, B, 4H) = x W_ih^T + b_ih for all steps (one GEMM, done by the caller), h0, c0 (B, H),
    W_hh (4H, H), b_hh (4H,) or None -> (output (T, B, H), h_T, c_T); ``reverse`` runs t = T-1 .. 0.
    Why one node: per step, backward then needs only the recurrent GEMM ``dh = d_t W_hh`` and the
    gate math; the weight gradient of all steps is ONE GEMM at the end,
    ``gW_hh = sum_t d_t^T h_{t-1}`` ((4H, T*B) @ (T*B, H)), instead of T small ones, and no per-step
    graph bookkeeping. The composed backward (create_graph) replays the same recursion with Tensor ops.
    """

    @staticmethod
    def forward(ctx, gi, h0, c0, w_hh, b_hh, reverse):
        xp = xp_of(gi)
        T, B, G = gi.shape
        H = G // 4
        order = range(T - 1, -1, -1) if reverse else range(T)
        scale, shift, _ = _lstm_gate_consts(H, gi.dtype, xp)
        # sigmoid(x) = 0.5 tanh(x / 2) + 0.5: with the i, f, o pre-activations halved up front (exact in
        # floating point), ONE tanh and one multiply-add per step activate all four gates
        acts = gi + b_hh if b_hh is not None else gi.copy()      # (T, B, 4H): pre-activations, then gates
        acts *= scale
        # (H, 4H) contiguous: the per-step GEMM measured ~20% faster than through W_hh's transposed view
        w_s = w_hh.T * scale
        gh = xp.empty((B, G), dtype=gi.dtype)
        ig = xp.empty((B, H), dtype=gi.dtype)
        tcs = xp.empty((T, B, H), dtype=gi.dtype)      # tanh(c_t)
        hs = xp.empty((T + 1, B, H), dtype=gi.dtype)   # states in processing order: hs[0] = h0
        cs = xp.empty((T + 1, B, H), dtype=gi.dtype)
        hs[0], cs[0] = h0, c0
        compiled = kernels.lstm_steps(acts, gh, scale, shift, cs, tcs, hs)
        for k, t in enumerate(order):
            a = acts[t]
            xp.matmul(hs[k], w_s, out=gh)
            if compiled is not None:                   # the gate math below in one compiled pass
                compiled[0](a, gh, scale, shift, cs[k], cs[k + 1], tcs[t], hs[k + 1])
                continue
            a += gh
            xp.tanh(a, out=a)
            a *= scale
            a += shift                                 # now [i, f, g, o]
            c = cs[k + 1]
            xp.multiply(a[:, H:2 * H], cs[k], out=c)
            xp.multiply(a[:, :H], a[:, 2 * H:3 * H], out=ig)
            c += ig
            xp.tanh(c, out=tcs[t])
            xp.multiply(a[:, 3 * H:], tcs[t], out=hs[k + 1])
        out = hs[:0:-1] if reverse else hs[1:]         # time order: one copy at the end
        ctx.save_for_backward(gi, h0, c0, w_hh, b_hh)
        ctx.save_raw(acts=acts, tcs=tcs, hs=hs, cs=cs)
        ctx.reverse = reverse
        return out.copy(), hs[T].copy(), cs[T].copy()

    @staticmethod
    def backward_raw(ctx, g_out, g_h, g_c):
        xp = xp_of(g_out)
        _, _, _, w_hh, b_hh = ctx.saved_arrays
        acts, tcs, hs, cs = ctx.acts, ctx.tcs, ctx.hs, ctx.cs
        T, B, G = acts.shape
        H = G // 4
        order = range(T - 1, -1, -1) if ctx.reverse else range(T)
        tanh_gate = _lstm_gate_consts(H, acts.dtype, xp)[2]
        D = xp.empty_like(acts)                        # d(gate pre-activations) per time step
        tmp = xp.empty((B, G), dtype=acts.dtype)
        omt = xp.empty((B, H), dtype=acts.dtype)
        dh, dc = g_h.copy(), g_c.copy()
        compiled = kernels.lstm_steps(acts, tcs, cs, dh, dc, D)
        if compiled is not None:
            g_out = xp.ascontiguousarray(g_out)        # e.g. the zeros of a loss on the last step only
            compiled = compiled if g_out.dtype == acts.dtype else None
        for k in range(T - 1, -1, -1):
            t = order[k]
            if compiled is not None:                   # the gate math below in one compiled pass
                compiled[1](acts[t], tcs[t], cs[k], dh, g_out[t], dc, D[t])
                xp.matmul(D[t], w_hh, out=dh)
                continue
            dh += g_out[t]
            a, tc = acts[t], tcs[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            gc = dh * o
            xp.multiply(tc, tc, out=omt)
            xp.subtract(1, omt, out=omt)
            gc *= omt
            gc += dc                                   # dL/dc_t
            d = D[t]                                   # dL/d[i, f, g, o] ...
            xp.multiply(gc, g, out=d[:, :H])
            xp.multiply(gc, cs[k], out=d[:, H:2 * H])
            xp.multiply(gc, i, out=d[:, 2 * H:3 * H])
            xp.multiply(dh, tc, out=d[:, 3 * H:])
            # ... times the activations' derivatives, all four at once: sigmoid' = s (1 - s) and
            # tanh' = 1 - g^2 = (1 - g)(1 + g), i.e. (1 - a)(a + [0, 0, 1, 0])
            xp.subtract(1, a, out=tmp)
            d *= tmp
            xp.add(a, tanh_gate, out=tmp)
            d *= tmp
            dc = gc * f
            dh = d @ w_hh
        needs = ctx.needs_input_grad
        gw = gb = None
        if needs[3]:
            Dp = D[::-1] if ctx.reverse else D         # in processing order, aligned with hs[:-1]
            gw = xp.matmul(Dp.reshape(T * B, G).T, hs[:-1].reshape(T * B, H))
        if b_hh is not None and needs[4]:
            gb = D.sum(axis=(0, 1))
        return (D if needs[0] else None, dh if needs[1] else None, dc if needs[2] else None, gw, gb, None)

    @staticmethod
    def backward_composed(ctx, g_out, g_h, g_c):
        gi, h0, c0, w_hh, b_hh = ctx.saved_tensors
        T, H = gi.shape[0], h0.shape[-1]
        order = list(range(T - 1, -1, -1) if ctx.reverse else range(T))
        hs, cs, gates = [h0], [c0], []
        for t in order:                                # replay the forward with Tensor ops
            pre = gi[t] + hs[-1] @ w_hh.T + (b_hh if b_hh is not None else 0.0)
            i, f = ew.sigmoid(pre[:, :H]), ew.sigmoid(pre[:, H:2 * H])
            g, o = ew.tanh(pre[:, 2 * H:3 * H]), ew.sigmoid(pre[:, 3 * H:])
            cs.append(f * cs[-1] + i * g)
            hs.append(o * ew.tanh(cs[-1]))
            gates.append((i, f, g, o))
        dh, dc = g_h, g_c
        D = [None] * T
        for k in range(T - 1, -1, -1):
            t = order[k]
            dh = dh + g_out[t]
            i, f, g, o = gates[k]
            tc = ew.tanh(cs[k + 1])
            gc = dh * o * (1 - tc * tc) + dc
            D[t] = cat([gc * g * i * (1 - i), gc * cs[k] * f * (1 - f), gc * i * (1 - g * g),
                        dh * tc * o * (1 - o)], -1)
            dc = gc * f
            dh = D[t] @ w_hh
        from ..ops.movement import stack

        Dt = stack(D, 0)
        Dp = stack([D[t] for t in order], 0)
        gw = Dp.reshape(-1, 4 * H).T @ stack(hs[:-1], 0).reshape(-1, H)
        gb = Dt.sum((0, 1)) if b_hh is not None else None
        return Dt, dh, dc, gw, gb, None


def lstm_layer(gi: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh=None, reverse: bool = False):
    """A whole LSTM layer (one direction) over gi (T, B, 4H) = x W_ih^T + b_ih -> (output (T, B, H),
    h_T, c_T); see ``LSTMLayer``."""
    if gi.ndim != 3 or gi.shape[-1] != 4 * h0.shape[-1] or tuple(h0.shape) != (gi.shape[1], h0.shape[-1]):
        raise ShapeError(f"lstm_layer: expected gi (T, B, 4H) and h0, c0 (B, H), got {tuple(gi.shape)}, "
                         f"{tuple(h0.shape)}")
    if b_hh is None:
        return LSTMLayer.apply(gi, h0, c0, w_hh, None, bool(reverse))
    return LSTMLayer.apply(gi, h0, c0, w_hh, b_hh, bool(reverse))


def _check(op, gi, gh, state, gates):
    H = state.shape[-1]
    if gi.shape[-1] != gates * H or gh.shape != gi.shape or gi.shape[:-1] != state.shape[:-1]:
        raise ShapeError(f"{op}: expected projections of shape (*, {gates}*{H}) = (*, {gates * H}) matching "
                         f"the state {tuple(state.shape)}, got {tuple(gi.shape)} and {tuple(gh.shape)}")


def lstm_cell(gi: Tensor, gh: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step from the projections gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (B, 4H), gates in
    PyTorch's order i, f, g, o, and the cell state c (B, H) -> (h', c')."""
    _check("lstm_cell", gi, gh, c, 4)
    return LSTMCellStep.apply(gi, gh, c)


def gru_cell(gi: Tensor, gh: Tensor, h: Tensor) -> Tensor:
    """One GRU step from the projections gi, gh (B, 3H), gates in PyTorch's order r, z, n -> h'."""
    _check("gru_cell", gi, gh, h, 3)
    return GRUCellStep.apply(gi, gh, h)


def rnn_tanh_cell(gi: Tensor, gh: Tensor) -> Tensor:
    """Elman step h' = tanh(gi + gh)."""
    return ew.tanh(gi + gh)


def rnn_relu_cell(gi: Tensor, gh: Tensor) -> Tensor:
    """Elman step h' = relu(gi + gh)."""
    return ew.relu(gi + gh)
