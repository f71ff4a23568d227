"""Wrong uses of the creation functions, the tensor constructor, ops and gradients: each raises an
error naming the function, the argument, what it got and what it expects."""

from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus.errors import DTypeError, ShapeError

from ._table import check


def _x():
    return gradus.ones(3)


def _leaf():
    return gradus.ones(3, requires_grad=True)


def _assign_grad(value):
    t = _leaf()
    t.grad = value


def _hook_backward(hook):
    x = _leaf()
    x.register_hook(hook)
    (x * 2).sum().backward()


def _nonleaf_hook_backward(hook):
    x = _leaf()
    y = x * 2
    y.register_hook(hook)
    y.sum().backward()


CASES = [
    # sizes: negative, float, string, None (never truncated)
    ("randn-negative", lambda: gradus.randn(-1, 3), ValueError, r"randn: size .*non-negative.*got -1"),
    (
        "randn-float",
        lambda: gradus.randn(2.5),
        TypeError,
        r"randn: size must be a sequence of ints, got "
        r"2\.5",
    ),
    ("randn-str", lambda: gradus.randn("3"), TypeError, r"randn: size .*ints, got '3' \(str\)"),
    ("rand-negative", lambda: gradus.rand(-2), ValueError, r"rand: size .*non-negative.*-2"),
    ("rand-tuple-float", lambda: gradus.rand((2, 1.5)), TypeError, r"rand: size .*ints.*1\.5"),
    ("zeros-float", lambda: gradus.zeros((2.5, 3)), TypeError, r"zeros: size .*ints, got 2\.5 \(float\)"),
    ("zeros-negative", lambda: gradus.zeros(-1), ValueError, r"zeros: size .*non-negative.*-1"),
    ("zeros-str", lambda: gradus.zeros("a"), TypeError, r"zeros: size .*ints.*'a'"),
    ("zeros-none", lambda: gradus.zeros([2, None]), TypeError, r"zeros: size .*ints.*None"),
    ("zeros-bool", lambda: gradus.zeros(True), TypeError, r"zeros: size .*ints.*True \(bool\)"),
    ("ones-negative-second", lambda: gradus.ones((2, -3)), ValueError, r"ones: size .*-3 at position 1"),
    ("ones-float-list", lambda: gradus.ones([1.0, 2.0]), TypeError, r"ones: size .*ints.*1\.0"),
    ("empty-float", lambda: gradus.empty(1.5), TypeError, r"empty: size .*ints.*1\.5"),
    ("empty-negative", lambda: gradus.empty(3, -1), ValueError, r"empty: size .*non-negative"),
    # fill values
    (
        "full-str",
        lambda: gradus.full((2,), "x"),
        TypeError,
        r"full: fill_value must be a number or a bool, "
        r"got 'x'",
    ),
    ("full-none", lambda: gradus.full((2,), None), TypeError, r"full: fill_value .*None"),
    ("full-list", lambda: gradus.full((2,), [1, 2]), TypeError, r"full: fill_value .*\[1, 2\]"),
    (
        "full-tensor-many",
        lambda: gradus.full((2,), gradus.ones(3)),
        ValueError,
        r"full: fill_value .*one-element tensor.*\(3,\)",
    ),
    ("full-size-negative", lambda: gradus.full(-1, 0.0), ValueError, r"full: size .*non-negative.*-1"),
    ("full-size-float", lambda: gradus.full((2.5,), 1.0), TypeError, r"full: size .*ints.*2\.5"),
    ("full_like-str", lambda: gradus.full_like(_x(), "x"), TypeError, r"full_like: fill_value .*'x'"),
    # ranges
    ("arange-step-zero", lambda: gradus.arange(0, 1, 0), ValueError, r"arange: step must be nonzero"),
    (
        "arange-step-zero-float",
        lambda: gradus.arange(0.0, 1.0, 0.0),
        ValueError,
        r"arange: step must be "
        r"nonzero",
    ),
    (
        "arange-wrong-sign",
        lambda: gradus.arange(0, 10, -1),
        ValueError,
        r"arange: .*inconsistent with the "
        r"sign",
    ),
    ("arange-backwards", lambda: gradus.arange(10, 0), ValueError, r"arange: the range \[10, 0\).*step"),
    ("arange-str", lambda: gradus.arange("a"), TypeError, r"arange: end must be a number, got 'a'"),
    ("arange-str-end", lambda: gradus.arange(0, "b"), TypeError, r"arange: end must be a number.*'b'"),
    (
        "arange-none-step",
        lambda: gradus.arange(0, 1, None),
        TypeError,
        r"arange: step must be a "
        r"number.*None",
    ),
    (
        "arange-nan",
        lambda: gradus.arange(0, float("nan")),
        ValueError,
        r"arange: end must be a number, got "
        r"nan",
    ),
    (
        "linspace-negative",
        lambda: gradus.linspace(0, 1, -1),
        ValueError,
        r"linspace: steps "
        r".*non-negative.*-1",
    ),
    (
        "linspace-float-steps",
        lambda: gradus.linspace(0, 1, 2.5),
        TypeError,
        r"linspace: steps must be an "
        r"int.*2\.5",
    ),
    ("linspace-str", lambda: gradus.linspace("a", 1, 3), TypeError, r"linspace: start must be a number.*'a'"),
    ("logspace-negative", lambda: gradus.logspace(0, 1, -2), ValueError, r"logspace: steps .*non-negative"),
    ("eye-negative", lambda: gradus.eye(-1), ValueError, r"eye: n .*non-negative.*-1"),
    ("eye-float", lambda: gradus.eye(2.5), TypeError, r"eye: n must be an int, got 2\.5"),
    ("eye-m-negative", lambda: gradus.eye(2, -1), ValueError, r"eye: m .*non-negative"),
    (
        "randint-empty-range",
        lambda: gradus.randint(5, 2, (3,)),
        ValueError,
        r"randint: high must be > "
        r"low.*low=5",
    ),
    ("randint-float-size", lambda: gradus.randint(0, 5, (2.5,)), TypeError, r"randint: size .*ints.*2\.5"),
    (
        "randint-float-low",
        lambda: gradus.randint(0.5, 3, (2,)),
        TypeError,
        r"randint: low must be an "
        r"int.*0\.5",
    ),
    ("randperm-negative", lambda: gradus.randperm(-1), ValueError, r"randperm: n .*non-negative.*-1"),
    ("randperm-float", lambda: gradus.randperm(2.5), TypeError, r"randperm: n must be an int.*2\.5"),
    (
        "tril_indices-negative",
        lambda: gradus.tril_indices(-1, 3),
        ValueError,
        r"tril_indices: row must be "
        r"non-negative",
    ),
    (
        "triu_indices-float",
        lambda: gradus.triu_indices(3, 2.5),
        TypeError,
        r"triu_indices: col must be an "
        r"int.*2\.5",
    ),
    (
        "normal-negative-std",
        lambda: gradus.normal(0.0, -1.0, (2,)),
        ValueError,
        r"normal: std must be >= "
        r"0.*-1",
    ),
    (
        "normal-negative-size",
        lambda: gradus.normal(0.0, 1.0, (-1,)),
        ValueError,
        r"normal: size "
        r".*non-negative",
    ),
    # tensor(): strings and ragged lists refused
    (
        "tensor-str",
        lambda: gradus.tensor("abc"),
        TypeError,
        r"tensor\(\): cannot build a tensor from "
        r"strings.*'abc'",
    ),
    (
        "tensor-str-list",
        lambda: gradus.tensor(["a", "b"]),
        TypeError,
        r"tensor\(\): .*strings.*numbers or "
        r"bools",
    ),
    ("tensor-bytes", lambda: gradus.tensor(b"xy"), TypeError, r"tensor\(\): .*strings or bytes"),
    ("tensor-str-array", lambda: gradus.tensor(np.array(["a"])), TypeError, r"tensor\(\): .*strings"),
    (
        "tensor-str-dtype",
        lambda: gradus.tensor(["1.5"], dtype=gradus.float32),
        TypeError,
        r"tensor\(\): "
        r".*strings",
    ),
    (
        "tensor-ragged",
        lambda: gradus.tensor([[1, 2], [3]]),
        ShapeError,
        r"tensor\(\): nested sequences "
        r"must be rectangular",
    ),
    ("tensor-ragged-mixed", lambda: gradus.tensor([1, [2, 3]]), ShapeError, r"tensor\(\): .*ragged list"),
    (
        "tensor-ragged-deep",
        lambda: gradus.tensor([[[1, 2]], [[3]]]),
        ShapeError,
        r"tensor\(\): "
        r".*rectangular",
    ),
    (
        "tensor-ragged-dtype",
        lambda: gradus.tensor([[1, 2], [3, 4, 5]], dtype=gradus.float32),
        ShapeError,
        r"tensor\(\): .*rectangular",
    ),
    ("as_tensor-str", lambda: gradus.as_tensor("abc"), TypeError, r"tensor\(\): .*strings"),
    ("tensor-objects", lambda: gradus.tensor([object()]), TypeError, r"tensor\(\): .*mixed objects"),
    # movement / reduction ops
    (
        "chunk-zero",
        lambda: _x().chunk(0),
        ValueError,
        r"chunk: chunks must be positive \(an int >= 1\), "
        r"got 0",
    ),
    ("chunk-negative", lambda: _x().chunk(-1), ValueError, r"chunk: chunks must be positive.*-1"),
    ("chunk-float", lambda: _x().chunk(2.5), TypeError, r"chunk: chunks must be an int, got 2\.5"),
    (
        "repeat_interleave-negative",
        lambda: gradus.repeat_interleave(_x(), -1),
        ValueError,
        r"repeat_interleave: repeats must be non-negative.*-1",
    ),
    (
        "repeat_interleave-float",
        lambda: gradus.repeat_interleave(_x(), 1.5),
        TypeError,
        r"repeat_interleave: repeats must be an int, got 1\.5",
    ),
    (
        "repeat_interleave-list",
        lambda: gradus.repeat_interleave(_x(), [1, 2, 3]),
        TypeError,
        r"repeat_interleave: repeats must be an int",
    ),
    (
        "argmax-empty",
        lambda: gradus.ones(0).argmax(),
        IndexError,
        r"argmax: cannot take the argmax of an "
        r"empty tensor",
    ),
    ("argmin-empty", lambda: gradus.ones(0).argmin(), IndexError, r"argmin: .*empty tensor"),
    (
        "argmax-empty-dim",
        lambda: gradus.ones(2, 0).argmax(dim=1),
        IndexError,
        r"argmax: .*dim 1 of a "
        r"tensor of shape \(2, 0\)",
    ),
    (
        "argmax-empty-2d",
        lambda: gradus.ones(0, 3).argmax(),
        IndexError,
        r"argmax: .*expected at least one "
        r"element",
    ),
    # integer division by zero: ZeroDivisionError as PyTorch
    (
        "floordiv-int-zero",
        lambda: gradus.tensor([1, 2]) // 0,
        ZeroDivisionError,
        r"floor_divide: integer "
        r"division by zero",
    ),
    (
        "floordiv-int-tensor-zero",
        lambda: gradus.tensor([1, 2]) // gradus.tensor([1, 0]),
        ZeroDivisionError,
        r"floor_divide: .*divisor of dtype int64",
    ),
    (
        "rfloordiv-int-zero",
        lambda: 5 // gradus.tensor([0, 1]),
        ZeroDivisionError,
        r"floor_divide: integer "
        r"division by zero",
    ),
    (
        "remainder-int-zero",
        lambda: gradus.tensor([5]) % 0,
        ZeroDivisionError,
        r"remainder: integer "
        r"division by zero",
    ),
    (
        "fmod-int-zero",
        lambda: gradus.fmod(gradus.tensor([5]), 0),
        ZeroDivisionError,
        r"fmod: integer "
        r"division by zero",
    ),
    (
        "div-trunc-int-zero",
        lambda: gradus.div(gradus.tensor([5]), 0, rounding_mode="trunc"),
        ZeroDivisionError,
        r"div\(rounding_mode='trunc'\): integer division by zero",
    ),
    (
        "floor_divide-fn-zero",
        lambda: gradus.floor_divide(gradus.tensor([3]), gradus.tensor([0])),
        ZeroDivisionError,
        r"floor_divide: .*use float tensors",
    ),
    # .grad assignment and hooks
    (
        "grad-wrong-shape",
        lambda: _assign_grad(gradus.ones(2)),
        ShapeError,
        r"assigned grad has shape \(2,\), but the tensor has shape \(3,\)",
    ),
    (
        "grad-broadcastable-shape",
        lambda: _assign_grad(gradus.ones(1)),
        ShapeError,
        r"assigned grad has "
        r"shape \(1,\)",
    ),
    (
        "grad-int-dtype",
        lambda: _assign_grad(gradus.ones(3, dtype=gradus.int64)),
        DTypeError,
        r"assigned grad has dtype int64; gradients must be floating point",
    ),
    (
        "grad-bool-dtype",
        lambda: _assign_grad(gradus.ones(3, dtype=gradus.bool)),
        DTypeError,
        r"assigned grad has dtype bool",
    ),
    (
        "grad-not-tensor",
        lambda: _assign_grad([1.0, 2.0, 3.0]),
        TypeError,
        r"assigned grad: expected a "
        r"Tensor or None, got list",
    ),
    (
        "grad-ndarray",
        lambda: _assign_grad(np.ones(3)),
        TypeError,
        r"assigned grad: expected a Tensor or "
        r"None, got ndarray",
    ),
    (
        "hook-wrong-shape",
        lambda: _hook_backward(lambda g: g[:1]),
        ShapeError,
        r"gradient returned by hook .*<lambda> has shape \(1,\), but the tensor has shape \(3,\)",
    ),
    (
        "hook-int-dtype",
        lambda: _hook_backward(lambda g: g.long()),
        DTypeError,
        r"gradient returned by hook "
        r".* dtype int64",
    ),
    (
        "hook-not-tensor",
        lambda: _hook_backward(lambda g: 1.0),
        TypeError,
        r"gradient returned by hook "
        r".*expected a Tensor",
    ),
    (
        "nonleaf-hook-wrong-shape",
        lambda: _nonleaf_hook_backward(lambda g: g.sum()),
        ShapeError,
        r"gradient returned by hook .*has shape \(\), but the tensor has shape \(3,\)",
    ),
    (
        "hook-not-callable",
        lambda: _leaf().register_hook(3),
        TypeError,
        r"register_hook: hook must be "
        r"callable, got int",
    ),
]


@pytest.mark.parametrize("fn,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_use_is_refused_clearly(fn, exc, pattern):
    check(fn, exc, pattern)


def test_valid_uses_still_work():
    assert gradus.zeros((2, 3)).shape == (2, 3) and gradus.randn(0, 3).shape == (0, 3)
    assert gradus.zeros(np.int64(2)).shape == (2,) and gradus.full((2,), gradus.tensor(3.0)).tolist() == [
        3.0,
        3.0,
    ]
    assert gradus.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75] and gradus.arange(
        5, 0, -2
    ).tolist() == [5, 3, 1]
    with np.errstate(divide="ignore"):
        assert (gradus.tensor([1.0, 2.0]) // 0).tolist() == [float("inf"), float("inf")]
    assert gradus.ones(0, 3).argmax(dim=1).shape == (0,)  # along a non-empty dim: no error
    assert gradus.repeat_interleave(gradus.tensor([1, 2]), 0).shape == (0,)
    x = gradus.ones(3, requires_grad=True)
    x.grad = gradus.zeros(3)
    x.grad = None
    assert x.grad is None


@pytest.mark.parametrize("eq, pattern", [
    ("ij->k", r"output subscript k does not appear in the equation for any input operand"),
    ("ij->ii", r"output subscript i appears more than once in the output"),
    ("ij->jik", r"output subscript k does not appear in the equation for any input operand"),
])
def test_einsum_output_index_must_come_from_an_input(eq, pattern):
    check(lambda: gradus.einsum(eq, gradus.ones(2, 3)), ValueError, rf"einsum: {pattern} \('{eq}'\)")
