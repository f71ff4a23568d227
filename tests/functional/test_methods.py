"""The Tensor methods attached by ``functional/methods.py`` (``softmax``, ``log_softmax``, ``hardshrink``,
``prelu``), their top-level names, and ``F.normalize`` with every p PyTorch takes (p = 0 included).
The op harness checks each against NumPy (forward, float64 gradcheck, gradgradcheck); the PyTorch
comparison is in tests/oracle/test_functional_extra_oracle.py."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.errors import GradIndexError
from gradus.functional import methods as M
from tests.ops.harness import distinct, nonzero, op, op_tests


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _normalize_ref(x, p, dim):
    a = np.abs(x)
    if p == 0:
        n = (x != 0).sum(axis=dim, keepdims=True).astype(x.dtype)
    elif p == np.inf:
        n = a.max(axis=dim, keepdims=True)
    elif p == -np.inf:
        n = a.min(axis=dim, keepdims=True)
    else:
        n = (a ** p).sum(axis=dim, keepdims=True) ** (1.0 / p)
    return x / np.maximum(n, 1e-12)


def _with_zeros(rng, shape):
    """Away from 0 (gradcheck never crosses it), with exact zeros that p = 0 must not count."""
    x = nonzero(rng, shape)
    x[..., 1] = 0.0
    return x


CASES = (
    op("Tensor.softmax", lambda x: x.softmax(1), lambda x: _softmax(x, 1), [(3, 4), (2, 3, 2)])
    + op("Tensor.log_softmax", lambda x: x.log_softmax(dim=0), lambda x: np.log(_softmax(x, 0)),
         [(3, 4), (5,)])
    + op("Tensor.hardshrink", lambda x: x.hardshrink(0.7), lambda x: np.where(np.abs(x) > 0.7, x, 0.0),
         [(3, 4)], lambda r, s: nonzero(r, s) * np.where(r.random(s) < 0.5, 0.3, 2.0))
    + op("Tensor.prelu", lambda x, w: x.prelu(w), lambda x, w: np.where(x > 0, x, w.reshape(1, -1, 1) * x),
         [((2, 3, 4), (3,))], (nonzero, nonzero))
    + op("gradus.softmax", lambda x: gradus.softmax(x, 0), lambda x: _softmax(x, 0), [(4, 2)])
    + op("gradus.log_softmax", lambda x: gradus.log_softmax(x, 1), lambda x: np.log(_softmax(x, 1)),
         [(4, 2)])
    + op("normalize_p0", lambda x: F.normalize(x, p=0), lambda x: _normalize_ref(x, 0, 1),
         [(3, 4), (2, 3, 2)], nonzero)
    # with exact zeros (which p = 0 does not count) finite differences would cross the step: forward only
    + op("normalize_p0_zeros", lambda x: F.normalize(x, p=0), lambda x: _normalize_ref(x, 0, 1),
         [(3, 4), (2, 3, 2)], _with_zeros, order=0)
    + op("normalize_p0_dim0", lambda x: F.normalize(x, p=0, dim=0), lambda x: _normalize_ref(x, 0, 0),
         [(3, 4)], _with_zeros, order=0)
    + op("normalize_p1", lambda x: F.normalize(x, p=1, dim=-1), lambda x: _normalize_ref(x, 1, -1),
         [(3, 4)], nonzero)
    + op("normalize_p2", lambda x: F.normalize(x), lambda x: _normalize_ref(x, 2, 1), [(3, 4)])
    + op("normalize_p3", lambda x: F.normalize(x, p=3), lambda x: _normalize_ref(x, 3, 1), [(3, 4)], nonzero)
    + op("normalize_pinf", lambda x: F.normalize(x, p=np.inf), lambda x: _normalize_ref(x, np.inf, 1),
         [(3, 4)], distinct)
    + op("normalize_pneginf", lambda x: F.normalize(x, p=-np.inf), lambda x: _normalize_ref(x, -np.inf, 1),
         [(3, 4)], distinct)
)

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_methods_are_the_functional_ops():
    x = gradus.randn(3, 5)
    w = gradus.tensor([0.25])
    np.testing.assert_array_equal(x.softmax(1).numpy(), F.softmax(x, 1).numpy())
    np.testing.assert_array_equal(x.log_softmax(0).numpy(), F.log_softmax(x, 0).numpy())
    np.testing.assert_array_equal(x.hardshrink().numpy(), F.hardshrink(x).numpy())
    np.testing.assert_array_equal(x.prelu(w).numpy(), F.prelu(x, w).numpy())
    assert set(M.METHODS) == {"softmax", "log_softmax", "hardshrink", "prelu"}
    for name in M.METHODS:
        assert getattr(gradus.Tensor, name) is M.METHODS[name]


def test_softmax_method_dtype():
    x = gradus.randn(3, 4)
    y = x.softmax(-1, dtype=gradus.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), _softmax(x.numpy().astype(np.float64), -1), rtol=1e-12)
    assert x.log_softmax(0, gradus.float64).dtype == np.float64


def test_softmax_method_requires_dim_as_pytorch():
    with pytest.raises(TypeError, match="dim"):
        gradus.randn(3).softmax()        # F.softmax warns and guesses; the method has no default


def test_methods_work_without_importing_functional():
    """The package root imports functional, which attaches the methods: a fresh interpreter that
    only imports gradus can call them."""
    code = ("import gradus, sys\n"
            "x = gradus.randn(2, 3)\n"
            "print(float(x.softmax(1).sum()), float(x.log_softmax(1).exp().sum()), x.hardshrink().shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    a, b, _ = out.split(maxsplit=2)
    assert abs(float(a) - 2.0) < 1e-5 and abs(float(b) - 2.0) < 1e-5


def test_top_level_names():
    for name in ("softmax", "log_softmax", "hardshrink", "prelu", "conv1d", "conv2d", "conv3d",
                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d",
                 "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d"):
        assert getattr(gradus, name) is getattr(F, name), name


def test_normalize_errors_and_zero_rows():
    with pytest.raises(GradIndexError, match=r"normalize: dim 2 is out of range for a tensor of shape"):
        F.normalize(gradus.randn(3, 4), dim=2)
    z = F.normalize(gradus.zeros(2, 3), p=0)
    assert np.array_equal(z.numpy(), np.zeros((2, 3)))
