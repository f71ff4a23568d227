"""matmul through the harness: 1-D, 2-D, batched, broadcast batch dims, 1-D x N-D."""
import numpy as np
import pytest

import gradus

from .harness import op, op_tests

MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
          ((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
          ((3,), (2, 3, 4)), ((2, 4, 3), (3,))]

CASES = [
    *op("matmul", lambda a, b: a @ b, np.matmul, MATMUL),
    *op("matmul_fn", gradus.matmul, np.matmul, [((2, 3), (3, 2))]),
    *op("mm", gradus.mm, np.matmul, [((2, 3), (3, 2))]),
    *op("bmm", lambda a, b: a.bmm(b), np.matmul, [((2, 1, 3), (2, 3, 2))]),
    *op("dot", gradus.dot, np.dot, [((3,), (3,))]),
    *op("mv", gradus.mv, np.matmul, [((2, 3), (3,))]),
    *op("outer", gradus.outer, np.outer, [((2,), (3,))]),
    *op("einsum", lambda a, b: gradus.einsum("bij,bjk->bik", a, b),
        lambda a, b: np.einsum("bij,bjk->bik", a, b), [((2, 1, 3), (2, 3, 2))]),
    *op("einsum_trace_free", lambda a: gradus.einsum("ij->j", a), lambda a: np.einsum("ij->j", a), [(2, 3)]),
]


def _einsum(eq, shapes, ref_eq=None):
    """One einsum case: gradus vs np.einsum (NumPy broadcasts ``...`` dims the same way, but cannot
    sum them away: ``ref_eq`` names them for NumPy then)."""
    return op(f"einsum[{eq}]", lambda *xs: gradus.einsum(eq, *xs),
              lambda *xs: np.einsum(ref_eq or eq, *xs), [shapes])


CASES += [
    c for eq, *shapes in [
        ("...id,...jd->...ij", ((2, 1, 3, 2), (4, 2, 2))),   # batch dims broadcast, aligned from the right
        ("ii->i", ((3, 3),)), ("ii->", ((3, 3),)), ("ii", ((2, 2),)), ("...ii->...i", ((2, 3, 3),)),
        ("...ii", ((2, 2, 2),)), ("iij->j", ((2, 2, 3),)), ("iji->j", ((2, 3, 2),)), ("iii->i", ((2, 2, 2),)),
        ("aab,bcc->ac", ((2, 2, 3), (3, 2, 2))), ("ii,i->i", ((3, 3), (3,))),
        ("...ij->ij", ((2, 2, 3),), "aij->ij"), ("...ij->j", ((2, 2, 3),), "aij->j"),
        ("ij->...ij", ((2, 3),)),
        ("i...->...i", ((3, 2),)), ("...,...->...", ((2, 3), (3,))), ("...", ((2, 3),)),
        ("bhqd,bhkd->bhqk", ((1, 2, 3, 2), (1, 2, 4, 2))), ("ij,jk,kl->il", ((2, 3), (3, 2), (2, 2))),
        ("i,j,k->ijk", ((2,), (3,), (2,))), ("ab,cd->", ((2, 3), (2, 2))), ("bi,bi->b", ((3, 2), (3, 2))),
        ("ijk,ikj->i", ((2, 3, 3), (2, 3, 3))), ("ba", ((3, 2),)), ("->", ((),)), (",i->i", ((), (3,))),
        ("iJ,Jk", ((2, 3), (3, 2))),
    ] for c in _einsum(eq, *shapes)
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_matmul_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\)"):
        gradus.ones(2, 3) @ gradus.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: batch dimensions \(2,\) and \(3,\)"):
        gradus.ones(2, 2, 3) @ gradus.ones(3, 3, 4)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        gradus.tensor(2.0) @ gradus.ones(2)


def test_einsum_errors():
    m = gradus.ones(3, 3)
    for eq, args, err, msg in [
        ("ij->k", (m,), ValueError, "output subscript k does not appear"),
        ("ij->ii", (m,), ValueError, "appears more than once in the output"),
        ("ii->i", (gradus.ones(2, 3),), ValueError, "repeated for operand 0 but the sizes don't match"),
        ("ij,jk->ik", (gradus.ones(2, 3), gradus.ones(4, 3)), ValueError, "does not broadcast"),
        ("ijk->i", (m,), ValueError, "no ellipsis was given"),
        ("...i...->i", (m,), ValueError, "more than one ellipsis"),
        ("i1->i", (m,), ValueError, "invalid subscript"),
        ("ij,jk->ik", (m,), ValueError, "names 2 operand"),
    ]:
        with pytest.raises(err, match=msg):
            gradus.einsum(eq, *args)
