"""Tensor: construction and dtype rules, attributes and conversions, operators (reversed scalars,
NumPy operands), PyTorch-like promotion, repr, top-level functions, and clear errors."""
from types import SimpleNamespace

import numpy as np
import pytest

import gradus
from gradus import backend
from gradus.errors import DeviceError, DTypeError, GradIndexError, ShapeError


# -- construction ----------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype, shape", [
    (1.5, np.float32, ()), (2, np.int64, ()), (True, np.bool_, ()), ([1, 2.0], np.float32, (2,)),
    ([[1, 2], [3, 4]], np.int64, (2, 2)), ([[True, False]], np.bool_, (1, 2)), ([], np.float32, (0,)),
    (np.ones(2), np.float64, (2,)), (np.arange(3, dtype=np.int16), np.int16, (3,)),
    (np.float64(2.0), np.float64, ()), (np.int32(3), np.int32, ()),
    (np.ones((2, 1), np.float32), np.float32, (2, 1)),
])
def test_construction_dtype_rules(data, dtype, shape):
    t = gradus.tensor(data)
    assert t.dtype == dtype and t.shape == shape
    assert isinstance(t.data, np.ndarray)  # 0-d arrays, never NumPy scalars
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=dtype))


def test_construction_from_tensors_and_with_dtype():
    a = gradus.tensor([1.0, 2.0])
    b = gradus.tensor(a)
    assert b.dtype == np.float32 and b.data is not a.data  # tensor() copies
    assert gradus.tensor([gradus.tensor(1.0), gradus.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert gradus.tensor([1, 2], dtype=gradus.float64).dtype == np.float64
    assert gradus.tensor([1.7, 2.2], dtype="int64").tolist() == [1, 2]
    assert gradus.Tensor([1.0]).dtype == np.float32
    arr = np.ones(3)
    assert gradus.as_tensor(arr).data is arr and gradus.from_numpy(arr).data is arr  # no copy
    assert gradus.tensor(arr).data is not arr


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(DTypeError, match="only floating point tensors can require gradients.*int64"):
        gradus.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        gradus.ones(2, dtype=gradus.int64, requires_grad=True)


def test_mixed_object_lists_raise():
    with pytest.raises(TypeError):
        gradus.tensor([1, "a", None])


# -- attributes and conversions ----------------------------------------------------------------
def test_attributes_and_conversions():
    x = gradus.arange(6).reshape(2, 3)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.dtype == gradus.int64
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x.T.shape == (3, 2) and x.T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert gradus.ones(2, 3, 4).T.shape == (4, 3, 2)
    assert isinstance(x.numpy(), np.ndarray) and x.numpy() is x.data  # shares memory on CPU
    s = gradus.tensor(2.5)
    assert s.item() == 2.5 and isinstance(s.item(), float) and isinstance(gradus.tensor(2).item(), int)
    assert float(s) == 2.5 and int(gradus.tensor(3)) == 3 and bool(gradus.tensor([1.0]))
    with pytest.raises(ValueError, match=r"only one-element tensors.*\(2, 3\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gradus.ones(2))
    assert x.astype(gradus.float32).dtype == np.float32
    assert x.to(gradus.float64).dtype == np.float64 and x.to(dtype="float32").dtype == np.float32
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.float().long().dtype == np.int64
    assert x.to("cpu") is x and x.device == "cpu" and not x.is_cuda
    assert x.to(gradus.ones(1, dtype=gradus.float64)).dtype == np.float64
    assert [t.tolist() for t in gradus.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_detach_and_to_keep_or_cut_the_graph():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data and d.is_leaf
    y = x.to(gradus.float64) * gradus.tensor([3.0, 4.0], dtype=gradus.float64)
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 4.0]


def test_to_cuda_without_cupy_is_a_clear_device_error():
    if gradus.cuda_is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(DeviceError, match=r"CuPy.*pip install gradus\[gpu\].*device='cpu'"):
        gradus.ones(3).to("cuda")
    with pytest.raises(DeviceError, match="CuPy"):
        gradus.zeros(2, device="cuda")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        gradus.ones(2).to("tpu")


class _FakeCupyArray(np.ndarray):
    """A NumPy array that reports itself on cuda:0, to exercise the device checks without a GPU."""

    @property
    def device(self):
        return SimpleNamespace(id=0)


def test_device_mixing_names_both_devices(monkeypatch):
    monkeypatch.setattr(backend, "loaded_cupy", SimpleNamespace(ndarray=_FakeCupyArray))
    a = gradus.Tensor._make(np.ones(3).view(_FakeCupyArray))
    b = gradus.ones(3, 2)
    assert a.device == "cuda:0" and b.device == "cpu"
    with pytest.raises(DeviceError, match=r"MatMul: expected all tensors on the same device, got cuda:0 "
                                          r"\(shape \(3,\)\) and cpu \(shape \(3, 2\)\)"):
        a @ b


# -- repr ------------------------------------------------------------------------------------
@pytest.mark.parametrize("t, text", [
    (lambda: gradus.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: gradus.tensor([1.5, 2.25]), "tensor([1.5000, 2.2500])"),
    (lambda: gradus.tensor(3.0), "tensor(3.)"),
    (lambda: gradus.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: gradus.tensor([1.0, 100.0]), "tensor([  1., 100.])"),
    (lambda: gradus.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: gradus.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gradus.float64),
     "tensor([[1., 2.],\n        [3., 4.]], dtype=gradus.float64)"),
    (lambda: gradus.tensor([True, False]), "tensor([ True, False])"),
    (lambda: gradus.zeros(0), "tensor([])"),
    (lambda: gradus.zeros(2, 0, dtype=gradus.int64), "tensor([], size=(2, 0), dtype=gradus.int64)"),
    (lambda: gradus.tensor([2.0], requires_grad=True) * 2, "tensor([4.], grad_fn=<MulBackward>)"),
])
def test_repr_like_pytorch(t, text):
    assert repr(t()) == text


# -- operators ---------------------------------------------------------------------------------
def test_operators_with_reversed_python_scalars():
    x = gradus.tensor([1.0, 2.0, 4.0])
    cases = [(2 + x, [3, 4, 6]), (2 - x, [1, 0, -2]), (2 * x, [2, 4, 8]), (8 / x, [8, 4, 2]),
             (2 ** x, [2, 4, 16]), (x ** 2, [1, 4, 16]), (-x, [-1, -2, -4]), (7 // x, [7, 3, 1]),
             (7 % x, [0, 1, 3]), (x % 3, [1, 2, 1]), (abs(-x), [1, 2, 4])]
    for y, ref in cases:
        assert isinstance(y, gradus.Tensor) and y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), ref)


def test_operators_with_numpy_operands_return_tensors():
    x = gradus.tensor([1.0, 2.0, 4.0])
    a = np.array([1.0, 1.0, 2.0])
    for y, ref in [(a + x, [2, 3, 6]), (a - x, [0, -1, -2]), (a * x, [1, 2, 8]), (a / x, [1, 0.5, 0.5]),
                   (x + a, [2, 3, 6]), (a @ x, 11.0), (np.float32(2) * x, [2, 4, 8])]:
        assert isinstance(y, gradus.Tensor)
        np.testing.assert_allclose(y.numpy(), ref)
    assert isinstance(a > x, gradus.Tensor) and (a > x).dtype == np.bool_


def test_comparisons_and_logic_return_bool_tensors():
    x = gradus.tensor([1, 2, 3])
    for y in (x == 2, x != 2, x < 2, x <= 2, x > 2, x >= 2, (x > 1) & (x < 3), (x > 1) | (x < 0), ~(x > 1)):
        assert y.dtype == np.bool_
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]


def test_promotion_like_pytorch():
    i64, f32 = gradus.tensor([1, 2]), gradus.tensor([0.5, 1.5])
    assert (i64 + f32).dtype == np.float32          # not NumPy's float64
    assert (i64 * 2.5).dtype == np.float32
    assert (i64 * 2).dtype == np.int64
    assert (i64 / i64).dtype == np.float32          # true division of ints
    assert (f32 * 2).dtype == np.float32 and (f32 + 2.5).dtype == np.float32
    assert (f32 + gradus.tensor([1.0], dtype=gradus.float64)).dtype == np.float64
    assert (gradus.tensor([True]) + 1).dtype == np.int64
    assert gradus.exp(i64).dtype == np.float32 and gradus.sqrt(i64).dtype == np.float32
    assert (gradus.tensor([1, 2], dtype=gradus.int32) + f32).dtype == np.float32


def test_top_level_functions():
    a, b = gradus.tensor([1.0, 5.0]), gradus.tensor([3.0, 2.0])
    assert gradus.cat([a, b]).tolist() == [1, 5, 3, 2]
    assert gradus.stack([a, b]).shape == (2, 2)
    assert gradus.where(a > b, a, b).tolist() == [3, 5]
    assert gradus.maximum(a, b).tolist() == [3, 5] and gradus.minimum(a, b).tolist() == [1, 2]
    np.testing.assert_allclose(gradus.exp(a).numpy(), np.exp([1.0, 5.0]), rtol=1e-6)
    assert gradus.sum(a).item() == 6 and gradus.mean(a).item() == 3
    assert gradus.matmul(a, b).item() == 13
    assert gradus.clamp(a, 2, 4).tolist() == [2, 4]
    assert gradus.flatten(gradus.ones(2, 3)).shape == (6,)
    assert [t.tolist() for t in gradus.split(gradus.arange(5), 2)] == [[0, 1], [2, 3], [4]]


# -- errors (issue item 9) ---------------------------------------------------------------------
def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        gradus.ones(2, 3) + gradus.ones(4)
    with pytest.raises(ShapeError, match=r"mul: shapes \(2, 3\) and \(2, 2\)"):
        gradus.ones(2, 3) * gradus.ones(2, 2)
    with pytest.raises(ShapeError, match=r"sub: shapes \(3,\) and \(2,\)"):
        gradus.ones(3) - np.ones(2)
    with pytest.raises(ShapeError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(2, 3\)"):
        gradus.ones(2, 3) @ gradus.ones(2, 3)
    with pytest.raises(ShapeError, match=r"reshape: shape \(5,\) is invalid for a tensor of shape \(2, 3\)"):
        gradus.ones(2, 3).reshape(5)
    with pytest.raises(ShapeError, match=r"cat: .*shape \(2, 3\).*shape \(3, 2\)"):
        gradus.cat([gradus.ones(2, 3), gradus.ones(3, 2)])
    with pytest.raises(ValueError):  # ShapeError is a ValueError
        gradus.ones(2) + gradus.ones(3)


def test_index_errors_name_index_and_size():
    x = gradus.ones(2, 3)
    with pytest.raises(GradIndexError, match=r"index 2 is out of range for dimension 0 with size 2"):
        x[2]
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 1 with size 3"):
        x[0, 3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]


def test_setitem_updates_the_data_and_is_recorded_inside_a_graph():
    x = gradus.zeros(2, 3)
    x[0, 1] = 5
    x[x == 0] = -1.0
    x[:, gradus.tensor([2])] = gradus.tensor([[7.0], [8.0]])
    assert x.tolist() == [[-1, 5, 7], [-1, -1, 8]]
    w = gradus.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation"):
        w[0] = 3.0
    with gradus.no_grad():
        w[0] = 3.0
    assert w.tolist() == [3, 1] and w.requires_grad
    y = w * 2                    # inside a graph: recorded as PyTorch does (tests/autograd/test_inplace.py)
    y[0] = 1.0
    y.sum().backward()
    assert y.tolist() == [1, 2] and w.grad.tolist() == [0, 2]


def test_backward_gradient_is_cast_to_the_output_dtype():
    w = gradus.ones(2, requires_grad=True)
    w.backward(gradus.ones(2, dtype=gradus.float64))
    assert w.grad.dtype == np.float32
