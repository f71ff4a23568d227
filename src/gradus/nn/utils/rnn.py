"""Variable-length batches for recurrent layers, PyTorch's ``torch.nn.utils.rnn``:
``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``,
``PackedSequence``.

    >>> import gradus
    >>> from gradus.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
    >>> seqs = [gradus.ones(3, 2), gradus.ones(1, 2), gradus.ones(2, 2)]
    >>> padded = pad_sequence(seqs)                 # (T_max, B, *) = (3, 3, 2), zero padded
    >>> packed = pack_padded_sequence(padded, [3, 1, 2], enforce_sorted=False)
    >>> packed.batch_sizes                          # sequences still running at each time step
    tensor([3, 2, 1])
    >>> out, lengths = pad_packed_sequence(packed)
    >>> out.shape, lengths
    ((3, 3, 2), tensor([3, 1, 2]))

A ``PackedSequence`` stores the steps of a batch *sorted by decreasing length*, time-major:
``data`` ``(sum of lengths, *)`` holds step 0 of every sequence, then step 1 of those still running,
...; ``batch_sizes[t]`` says how many run at step t. ``sorted_indices`` maps sorted position ->
original batch index (None when the caller promised sorted input, ``enforce_sorted=True``) and
``unsorted_indices`` is its inverse. Packing and unpacking are one gather / one scatter each, so
gradients flow through them.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...errors import ShapeError
from ...ops.indexing import IndexAdd, index_select
from ...ops.movement import reshape
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence"]


class PackedSequence(NamedTuple):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as ``torch.nn.utils.rnn.PackedSequence``."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        return PackedSequence(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                              self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"


def _lengths_array(lengths, batch: int, who: str) -> np.ndarray:
    a = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ShapeError(f"{who}: lengths must be a 1-D sequence of integers, got {a.dtype} of shape "
                         f"{a.shape}")
    if len(a) != batch:
        raise ShapeError(f"{who}: got {len(a)} lengths for a batch of {batch} sequences")
    if len(a) and int(a.min()) <= 0:
        raise ValueError(f"{who}: every length must be positive, got {a.tolist()}")
    return a.astype(np.int64)


def flat_index(batch_sizes: np.ndarray, B: int, order: np.ndarray) -> np.ndarray:
    """Row of (T*B) for every packed element: step t, sorted position b -> t*B + order[b]."""
    return np.concatenate([t * B + order[:n] for t, n in enumerate(batch_sizes)])


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(L_max, B, *)`` (``batch_first``: ``(B, L_max, *)``),
    padded."""
    seqs = [s if isinstance(s, Tensor) else Tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trail = tuple(seqs[0].shape[1:])
    for k, s in enumerate(seqs):
        if s.ndim == 0 or tuple(s.shape[1:]) != trail:
            raise ShapeError(f"pad_sequence: sequence {k} has shape {tuple(s.shape)}; every sequence must be "
                             f"(L_i, *{trail})")
    from ...ops.movement import pad, stack

    L = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        extra = L - s.shape[0]
        spec = (0, 0) * len(trail) + ((0, extra) if padding_side == "right" else (extra, 0))
        rows.append(pad(s, spec, value=padding_value) if extra else s)
    return stack(rows, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``batch_first``: ``(B, T, *)``) of sequences of ``lengths``.

    With ``enforce_sorted=True`` the lengths must be in decreasing order; otherwise the batch is sorted
    here and ``sorted_indices`` / ``unsorted_indices`` record the permutation."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: expected input of at least 2 dims (T, B, *), got "
                         f"{tuple(x.shape)}")
    if batch_first:
        x = x.transpose(0, 1)
    T, B = x.shape[0], x.shape[1]
    lens = _lengths_array(lengths, B, "pack_padded_sequence")
    if int(lens.max()) > T:
        raise ValueError(f"pack_padded_sequence: a length of {int(lens.max())} exceeds the padded sequence "
                         f"length {T}")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order "
                               f"when `enforce_sorted` is True (got {lens.tolist()}); pass "
                               "enforce_sorted=False to sort inside")
        order, sorted_idx, unsorted_idx = np.arange(B), None, None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_idx = Tensor(order.astype(np.int64))
        unsorted_idx = Tensor(np.argsort(order, kind="stable").astype(np.int64))
    sl = lens[order]
    batch_sizes = (np.arange(int(sl[0]))[:, None] < sl[None, :]).sum(axis=1).astype(np.int64)
    flat = reshape(x, (T * B,) + tuple(x.shape[2:]))
    data = index_select(flat, 0, Tensor(flat_index(batch_sizes, B, order)))
    return PackedSequence(data, Tensor(batch_sizes), sorted_idx, unsorted_idx)


def padded_sorted(sequence: PackedSequence, total_length: int | None = None) -> tuple[Tensor, np.ndarray]:
    """(padded (T, B, *) in *sorted* order, zeros beyond each length; sorted lengths): what the
    recurrent layers run on."""
    bs = sequence.batch_sizes.numpy().astype(np.int64)
    B, T = int(bs[0]), len(bs)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is smaller than the longest "
                             f"sequence ({T})")
        T = total_length
    data = sequence.data
    rows = IndexAdd.apply(data, 0, flat_index(bs, B, np.arange(B)), T * B)
    lengths = (bs[:, None] > np.arange(B)[None, :]).sum(axis=0).astype(np.int64)  # per sorted position
    return reshape(rows, (T, B) + tuple(data.shape[1:])), lengths


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of ``pack_padded_sequence``: (padded ``(T, B, *)`` in the original batch order,
    lengths)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    x, lengths = padded_sorted(sequence, total_length)
    if padding_value != 0:
        T = x.shape[0]
        pad_mask = np.arange(T)[:, None] >= lengths[None, :]
        pad_mask = pad_mask.reshape((T, len(lengths)) + (1,) * (x.ndim - 2))
        x = x + Tensor(pad_mask.astype(x.data.dtype) * padding_value)
    if sequence.unsorted_indices is not None:
        x = index_select(x, 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.numpy()]
    if batch_first:
        x = x.transpose(0, 1)
    return x, Tensor(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    lengths = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
