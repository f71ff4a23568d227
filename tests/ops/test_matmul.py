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

test_forward, test_backward, test_double_backward = op_tests(CASES)


def test_matmul_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\)"):
        gradus.ones(2, 3) @ gradus.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: batch dimensions \(2,\) and \(3,\)"):
        gradus.ones(2, 2, 3) @ gradus.ones(3, 3, 4)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        gradus.tensor(2.0) @ gradus.ones(2)
