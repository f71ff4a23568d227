"""Recurrent layers: ``RNN`` (tanh / relu), ``LSTM``, ``GRU`` and their cells, PyTorch's exactly.

    >>> import gradus
    >>> from gradus import nn
    >>> lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(gradus.zeros(4, 10, 8))      # (batch, time, features)
    >>> out.shape, h_n.shape, c_n.shape
    ((4, 10, 16), (2, 4, 16), (2, 4, 16))
    >>> [k for k in lstm.state_dict()][:4]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']

Same signatures, defaults, parameter names, shapes, gate orders (LSTM i, f, g, o; GRU r, z, n) and
initialisation (every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))) as
``torch.nn``, so a PyTorch ``state_dict`` loads and outputs and gradients match (tests/oracle).

A gradus extension, the course's residual connections between stacked recurrent layers:
``residual=True`` adds each layer's input to its output from the second layer on,
``y_k = layer_k(y_{k-1}) + y_{k-1}`` (the shapes agree there: D*H in and out), so gradients reach the
lower layers through the identity path as in a ResNet (Wu et al. 2016 use it in GNMT's 8-layer LSTMs).

How a layer runs (for input (T, B, I)): per layer and direction, the input projection of *all* time
steps is one GEMM, ``gi = x W_ih^T + b_ih`` (T, B, G*H); then per step one GEMM ``gh = h W_hh^T + b_hh``
and one fused cell op (``functional/recurrent.py``). The LSTM runs the whole recursion of a layer as
one fused node (``F.lstm_layer``), whose backward computes the recurrent weight gradient of all steps
as one GEMM. Backpropagation through time is the engine's
ordinary reverse pass over that unrolled graph. Packed sequences (``nn.utils.rnn``) run on the padded
batch with a per-step mask: a sequence that has ended keeps its state (so ``h_n`` is the state at its
last valid step) and its outputs are zero, exactly like PyTorch's packed kernels.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..errors import DTypeError, ShapeError
from ..functional.dropout import dropout
from ..functional.linear import linear
from ..functional.recurrent import gru_cell, lstm_cell, lstm_layer, rnn_relu_cell, rnn_tanh_cell
from ..ops.indexing import index_select
from ..ops.movement import cat, reshape, stack, unbind
from ..tensor import Tensor
from . import init
from .linear import _empty
from .module import Module, Parameter
from .utils.rnn import PackedSequence, flat_index, padded_sorted

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(x: Tensor, shape):
    """Zeros like ``x``'s array (its device and dtype)."""
    return get_array_module(x.data).zeros(shape, dtype=x.data.dtype)


def _step(mode: str, gi: Tensor, h: Tensor, c, w_hh: Tensor, b_hh):
    """One time step: (h', c') (c is None except for the LSTM)."""
    gh = linear(h, w_hh, b_hh)
    if mode == "LSTM":
        return lstm_cell(gi, gh, c)
    if mode == "GRU":
        return gru_cell(gi, gh, h), None
    return (rnn_tanh_cell(gi, gh) if mode == "RNN_TANH" else rnn_relu_cell(gi, gh)), None


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: arguments, parameters (PyTorch's names and order:
    per layer, per direction ``weight_ih_l{k}[_reverse]``, ``weight_hh_...``, ``bias_ih_...``,
    ``bias_hh_...``), initialisation, input checks and the unrolled forward."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, residual: bool = False):
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {v!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1] (the probability of an element "
                             f"to be zeroed), got {dropout!r}")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size (LSTM with projections) is not supported by gradus")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, 0
        self.residual = bool(residual)
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else hidden_size * dirs
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(Tensor._make(_empty(shape, dtype, device))))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.residual:
            s += ", residual=True"
        return s

    def _weights(self, layer: int, direction: int):
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda n: getattr(self, n + sfx)  # noqa: E731
        return (get("weight_ih"), get("weight_hh"), get("bias_ih") if self.bias else None,
                get("bias_hh") if self.bias else None)

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, input, hx=None):  # noqa: A002
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:  # run on the padded batch in sorted order, as PyTorch's packed kernels
            sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
            x, lengths = padded_sorted(input)                             # (T, B, I), sorted
            batched = True
            if hx is not None and sorted_indices is not None:
                hx = tuple(index_select(s, 1, sorted_indices) for s in hx) if self.mode == "LSTM" \
                    else index_select(hx, 1, sorted_indices)
        else:
            x = input if isinstance(input, Tensor) else Tensor(input)
            if x.ndim not in (2, 3):
                raise ShapeError(f"{name}: expected input of 3 dims (seq_len, batch, input_size) (or "
                                 f"(batch, seq_len, input_size) with batch_first=True) or 2 dims "
                                 f"(seq_len, input_size) unbatched, got shape {tuple(x.shape)}")
            batched = x.ndim == 3
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {x.shape[-1]} (input shape {tuple(x.shape)})")
        if x.dtype != self.weight_ih_l0.dtype:
            w = self.weight_ih_l0.dtype
            raise DTypeError(f"{name}: input dtype {x.dtype} does not match the layer's parameters ({w}); "
                             f"convert the input (.to({w})) or the layer (.to({x.dtype}))")
        T, B = x.shape[0], x.shape[1]
        dirs = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * dirs, B, self.hidden_size)
        h0, c0 = self._initial_state(hx, x, state_shape, batched, name)
        mask = None
        if lengths is not None:
            steps = np.arange(T)[:, None] < np.asarray(lengths)[None, :]          # (T, B) valid steps
            mask = [Tensor._make(steps[t][:, None].astype(x.data.dtype)) for t in range(T)]
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            layer_x = layer_in
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                k = layer * dirs + d
                h = h0[k]
                c = c0[k] if c0 is not None else None
                if self.mode == "LSTM" and mask is None:       # the whole layer in one fused node
                    # both biases added once, inside the layer (b_ih + b_hh is a (4H,) add): one pass
                    # over the (T, B, 4H) gates and one bias-gradient sum fewer than linear(.., b_ih)
                    gi_all = linear(layer_in, w_ih, None)      # (T, B, 4H): one GEMM for all steps
                    bias = b_hh if b_ih is None else (b_ih if b_hh is None else b_ih + b_hh)
                    out, h, c = lstm_layer(gi_all, h, c, w_hh, bias, reverse=bool(d))
                    outs.append(out)
                    h_n.append(h)
                    c_n.append(c)
                    continue
                gi_all = linear(layer_in, w_ih, b_ih)          # (T, B, G*H): one GEMM for all steps
                gis = unbind(gi_all, 0)
                order = range(T - 1, -1, -1) if d else range(T)
                ys = [None] * T
                for t in order:
                    h_new, c_new = _step(self.mode, gis[t], h, c, w_hh, b_hh)
                    if mask is not None:                        # finished sequences keep their state
                        m = mask[t]
                        h_new = h + (h_new - h) * m
                        if c_new is not None:
                            c_new = c + (c_new - c) * m
                        ys[t] = h_new * m
                    else:
                        ys[t] = h_new
                    h, c = h_new, c_new
                outs.append(stack(ys, 0))
                h_n.append(h)
                if c is not None:
                    c_n.append(c)
            layer_in = outs[0] if dirs == 1 else cat(outs, -1)
            if self.residual and layer > 0:          # gradus extension: y_k = layer_k(y_{k-1}) + y_{k-1}
                layer_in = layer_in + layer_x
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = dropout(layer_in, self.dropout, training=True)
        output = layer_in
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if c_n else None
        if packed:
            bs = input.batch_sizes.numpy()
            rows = reshape(output, (T * B, output.shape[-1]))
            output = PackedSequence(index_select(rows, 0, Tensor(flat_index(bs, B, np.arange(B)))),
                                    input.batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = index_select(h_n, 1, unsorted_indices)
                c_n = index_select(c_n, 1, unsorted_indices) if c_n is not None else None
        elif not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _initial_state(self, hx, x, shape, batched, name):
        def check(t, what):
            t = t if isinstance(t, Tensor) else Tensor(t)
            if not batched:
                if t.ndim != 2:
                    raise ShapeError(f"{name}: for unbatched input, {what} should be 2-D (num_layers * "
                                     f"num_directions, hidden_size) = {(shape[0], shape[2])}, got "
                                     f"{tuple(t.shape)}")
                t = t.unsqueeze(1)
            if tuple(t.shape) != shape:
                raise ShapeError(f"{name}: expected {what} of shape {shape} (num_layers * num_directions, "
                                 f"batch, hidden_size), got {tuple(t.shape)}")
            return unbind(t, 0)

        lstm = self.mode == "LSTM"
        if hx is None:
            z = Tensor._make(_zeros(x, shape))
            return unbind(z, 0), (unbind(z, 0) if lstm else None)
        if lstm:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            return check(hx[0], "h_0"), check(hx[1], "c_0")
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{name}: hx must be a Tensor h_0 (a tuple is for LSTM), got a tuple")
        return check(hx, "h_0"), None


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (``nonlinearity='relu'``: relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; ``forward(input, hx=None) -> (output, h_n)`` with output
    (T, B, D*H) (batch_first: (B, T, D*H)) and h_n (num_layers*D, B, H), D = 2 if bidirectional.
    """

    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs):
        if len(args) > 3:  # PyTorch's positional order: input, hidden, num_layers, nonlinearity, ...
            nonlinearity, args = args[3], args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's gate order i, f, g, o::

        i, f, o = sigmoid(...), g = tanh(...),  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)

    ``forward(input, hx=None) -> (output, (h_n, c_n))``; weights (4H, I) / (4H, H).
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's form and gate order r, z, n::

        r, z = sigmoid(...),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h_t = (1 - z) n + z h_{t-1}

    ``forward(input, hx=None) -> (output, h_n)``; weights (3H, I) / (3H, H).
    """

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# cells: one time step
# ---------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(Tensor._make(_empty((g, input_size), dtype, device)))
        self.weight_hh = Parameter(Tensor._make(_empty((g, hidden_size), dtype, device)))
        if bias:
            self.bias_ih = Parameter(Tensor._make(_empty((g,), dtype, device)))
            self.bias_hh = Parameter(Tensor._make(_empty((g,), dtype, device)))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _prepare(self, input, hx, n_states: int):  # noqa: A002
        name = type(self).__name__
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected input of shape (batch, input_size) or (input_size,), got "
                             f"{tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {x.shape[-1]} features, expected input_size="
                             f"{self.input_size} (input shape {tuple(x.shape)})")
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = [Tensor._make(_zeros(x, shape)) for _ in range(n_states)]
        else:
            hs = list(hx) if n_states == 2 else [hx]
            if n_states == 2 and len(hs) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h, c)")
            states = []
            for s in hs:
                s = s if isinstance(s, Tensor) else Tensor(s)
                if not batched:
                    s = s.unsqueeze(0)
                if tuple(s.shape) != shape:
                    raise ShapeError(f"{name}: expected hidden state of shape {shape}, got {tuple(s.shape)}")
                states.append(s)
        return x, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, 1)
        gi, gh = linear(x, self.weight_ih, self.bias_ih), linear(h, self.weight_hh, self.bias_hh)
        out = rnn_tanh_cell(gi, gh) if self.nonlinearity == "tanh" else rnn_relu_cell(gi, gh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') = one LSTM step (gates i, f, g, o); ``forward(input, hx=None)`` with hx = (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = lstm_cell(linear(x, self.weight_ih, self.bias_ih), linear(h, self.weight_hh, self.bias_hh), c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' = one GRU step (gates r, z, n)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), batched = self._prepare(input, hx, 1)
        out = gru_cell(linear(x, self.weight_ih, self.bias_ih), linear(h, self.weight_hh, self.bias_hh), h)
        return out if batched else out.squeeze(0)
