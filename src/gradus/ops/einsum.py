"""``einsum``: Einstein summation with PyTorch's equation language, built from differentiable ops
(diagonal, sum, permute, reshape, broadcast multiply, matmul), so it has gradients of any order.

Equation: comma-separated operand subscripts (letters a-z, A-Z; at most one ``...`` per operand),
optionally ``->`` and the output subscripts. Without ``->`` the output is ``...`` followed by the
letters that appear exactly once, in alphabetical order (upper case first). ``...`` stands for the
leading dims an operand has beyond its letters; these broadcast across operands, aligned from the
right, as do dims of size 1 under a shared letter. A letter repeated within an operand takes the
diagonal (``'ii->i'``, ``'ii->'`` is the trace). Letters (and ``...`` dims) absent from the output
are summed.

Evaluation, left to right over the operands: take each operand's diagonals, sum its letters no one
else needs, then contract it into the running result by one batched matmul over the shared letters
(a broadcast multiply when none is summed).
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor, promote_pair
from .movement import broadcast_to, permute, reshape

_LETTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _parse_term(term: str, where: str):
    """Subscripts of one term -> (letters before '...', has '...', letters after)."""
    if term.count("...") > 1 or term.replace("...", "").count("."):
        raise ValueError(f"einsum: {where} has more than one ellipsis or a stray '.' in {term!r}")
    head, dots, tail = term.partition("...")
    for c in head + tail:
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {where} ({term!r}); subscripts must be "
                             "letters a-z or A-Z")
    return list(head), bool(dots), list(tail)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (see the module docstring for the equation language).

    Shapes: each operand's dims are named by its subscripts; the output has the output subscripts'
    sizes (broadcast across operands). ``out[o] = sum over the other letters of prod_k op_k[...]``.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operand(s), got {len(operands)}")
    operands = _promote([x if isinstance(x, Tensor) else Tensor(x) for x in operands])

    # label each dim of each operand: a letter, or ('...', k) for the k-th of the broadcast dims
    parsed = [_parse_term(t, f"operand {i}") for i, t in enumerate(terms)]
    n_ell = 0
    for i, ((head, dots, tail), x) in enumerate(zip(parsed, operands)):
        k = x.ndim - len(head) - len(tail)
        if (not dots and k != 0) or k < 0:
            raise ShapeError(f"einsum: operand {i} has {x.ndim} dims (shape {tuple(x.shape)}) but its "
                             f"subscripts {terms[i]!r} name {len(head) + len(tail)}"
                             + ("" if dots else " and no ellipsis was given"))
        n_ell = max(n_ell, k)
    labels = []
    for (head, _, tail), x in zip(parsed, operands):
        k = x.ndim - len(head) - len(tail)
        labels.append(head + [("...", n_ell - k + j) for j in range(k)] + tail)
    ell = [("...", j) for j in range(n_ell)]

    counts: dict = {}
    for lab in labels:
        for c in lab:
            counts[c] = counts.get(c, 0) + 1
    if arrow:
        head, dots, tail = _parse_term(rhs, "the output")
        out = head + (ell if dots else []) + tail
        for c in head + tail:
            if c not in counts:
                raise ValueError(f"einsum: output subscript {c} does not appear in the equation for any "
                                 f"input operand ({equation!r})")
            if (head + tail).count(c) > 1:
                raise ValueError(f"einsum: output subscript {c} appears more than once in the output "
                                 f"({equation!r})")
    else:
        out = ell + sorted(c for c, n in counts.items() if isinstance(c, str) and n == 1)

    sizes: dict = {}
    for i, (lab, x) in enumerate(zip(labels, operands)):
        own: dict = {}
        for c, s in zip(lab, x.shape):
            if own.setdefault(c, s) != s:
                raise ShapeError(f"einsum: subscript {c} is repeated for operand {i} but the sizes don't "
                                 f"match, {own[c]} != {s}")
            prev = sizes.get(c, 1)
            if s != 1 and prev != 1 and s != prev:
                name = f"the ellipsis dim {c[1]}" if isinstance(c, tuple) else f"subscript {c}"
                raise ShapeError(f"einsum: {name} has size {s} for operand {i} which does not broadcast "
                                 f"with the previously seen size {prev}")
            sizes[c] = s if s != 1 else prev

    # per operand: diagonals of repeated letters, then sum the labels nobody else needs
    prepared = []
    for i, (lab, x) in enumerate(zip(labels, operands)):
        x, lab = _diagonals(x, list(lab), i)
        others = set(out)
        for j, other in enumerate(labels):
            if j != i:
                others.update(other)
        x, lab = _sum_labels(x, lab, [c for c in lab if c not in others])
        prepared.append((x, lab))

    cur, cl = prepared[0]
    for k in range(1, len(prepared)):
        x, xl = prepared[k]
        later = set(out)
        for _, lab in prepared[k + 1:]:
            later.update(lab)
        cur, cl = _contract(cur, cl, x, xl, later)
    cur, cl = _sum_labels(cur, cl, [c for c in cl if c not in out])
    # output order; a dim broadcast away in every operand (size 1 everywhere) keeps size 1
    cur = permute(cur, *[cl.index(c) for c in out]) if cur.ndim > 1 else cur
    return cur


def _promote(operands):
    """PyTorch-style promotion to one dtype (as ``matmul`` does)."""
    if all(o.dtype == operands[0].dtype for o in operands):
        return operands
    ref = operands[0]
    for o in operands[1:]:
        ref = promote_pair(ref, o)[0]
    return [o if o.dtype == ref.dtype else o.to(ref.dtype) for o in operands]


def _diagonals(x, lab, i):
    """Take the diagonal over every letter repeated within one operand ('ii' -> 'i'; the sizes
    were checked equal by einsum)."""
    from .diagonal import diagonal

    while True:
        dup = next((c for c in lab if lab.count(c) > 1), None)
        if dup is None:
            return x, lab
        p = lab.index(dup)
        q = lab.index(dup, p + 1)
        x = diagonal(x, 0, p, q)  # p and q removed, the diagonal appended last
        lab = [c for k, c in enumerate(lab) if k not in (p, q)] + [dup]


def _sum_labels(x, lab, drop):
    if not drop:
        return x, lab
    from .reduce import sum as _sum

    axes = tuple(lab.index(c) for c in drop)
    return _sum(x, axes), [c for c in lab if c not in drop]


def _contract(a, al, b, bl, later):
    """Contract two labelled tensors: shared letters still needed (``later``) are batch dims, the
    other shared ones are summed (by matmul), the rest are kept. Returns (tensor, labels)."""
    shared = [c for c in al if c in bl]
    batch = [c for c in shared if c in later]
    summed = [c for c in shared if c not in later]
    a_only = [c for c in al if c not in bl]
    b_only = [c for c in bl if c not in al]
    size = dict(zip(al, a.shape))
    for c, s in zip(bl, b.shape):
        size[c] = max(size.get(c, 1), s)  # sizes agree or one is 1 (checked by einsum)
    if not summed:  # no contraction: a broadcast multiply keeps it elementwise
        order = batch + a_only + b_only
        return _aligned(a, al, order) * _aligned(b, bl, order), order
    # broadcast a size-1 shared dim against the other operand's (matmul needs equal sizes)
    a = _expand_to(a, al, size, shared)
    b = _expand_to(b, bl, size, shared)
    nb = int(np.prod([size[c] for c in batch], dtype=np.int64))
    m = int(np.prod([size[c] for c in a_only], dtype=np.int64))
    n = int(np.prod([size[c] for c in b_only], dtype=np.int64))
    k = int(np.prod([size[c] for c in summed], dtype=np.int64))
    pa = _permuted(a, al, batch + a_only + summed)
    pb = _permuted(b, bl, batch + summed + b_only)
    from .matmul import matmul  # bound at call time: matmul re-exports einsum

    y = matmul(reshape(pa, (nb, m, k)), reshape(pb, (nb, k, n)))
    order = batch + a_only + b_only
    return reshape(y, tuple(size[c] for c in order)), order


def _expand_to(x, lab, size, shared):
    target = tuple(size[c] if c in shared else s for c, s in zip(lab, x.shape))
    return x if target == x.shape else broadcast_to(x, target)


def _permuted(x, lab, order):
    perm = [lab.index(c) for c in order]
    return permute(x, *perm) if x.ndim > 1 and perm != list(range(x.ndim)) else x


def _aligned(x, lab, order):
    """x permuted into ``order`` (its labels only) with size-1 dims for the labels it lacks."""
    present = [c for c in order if c in lab]
    x = _permuted(x, lab, present)
    shape = [x.shape[present.index(c)] if c in lab else 1 for c in order]
    return reshape(x, tuple(shape))
